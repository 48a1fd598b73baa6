// The poetry.lock extractor.
import type { Extractor } from '../../types.js';
import { extractPoetryLock } from './extract.js';

export const poetryLockExtractor: Extractor = {
  name: 'poetry-lock',
  ecosystem: 'PyPI',
  matches: (path) => /(?:^|[\\/])poetry\.lock$/.test(path),
  extract: extractPoetryLock,
};
