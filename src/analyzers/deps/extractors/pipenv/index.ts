// The Pipfile.lock extractor.
import type { Extractor } from '../../types.js';
import { extractPipfileLock } from './extract.js';

export const pipfileLockExtractor: Extractor = {
  name: 'pipfile-lock',
  ecosystem: 'PyPI',
  matches: (path) => /(?:^|[\\/])Pipfile\.lock$/.test(path),
  extract: extractPipfileLock,
};
