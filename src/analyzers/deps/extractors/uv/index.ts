// The uv.lock extractor.
import type { Extractor } from '../../types.js';
import { extractUvLock } from './extract.js';

export const uvLockExtractor: Extractor = {
  name: 'uv-lock',
  ecosystem: 'PyPI',
  matches: (path) => /(?:^|[\\/])uv\.lock$/.test(path),
  extract: extractUvLock,
};
