// The pdm.lock extractor.
import type { Extractor } from '../../types.js';
import { extractPdmLock } from './extract.js';

export const pdmLockExtractor: Extractor = {
  name: 'pdm-lock',
  ecosystem: 'PyPI',
  matches: (path) => /(?:^|[\\/])pdm\.lock$/.test(path),
  extract: extractPdmLock,
};
