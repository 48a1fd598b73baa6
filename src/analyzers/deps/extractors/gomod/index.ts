// The go.mod extractor.
import type { Extractor } from '../../types.js';
import { extractGoMod } from './extract.js';

export const goModExtractor: Extractor = {
  name: 'go-mod',
  ecosystem: 'Go',
  matches: (path) => /(?:^|[\\/])go\.mod$/.test(path),
  extract: extractGoMod,
};
