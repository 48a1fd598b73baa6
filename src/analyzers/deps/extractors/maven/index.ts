// The Maven pom.xml extractor.
import type { Extractor } from '../../types.js';
import { extractPom } from './extract.js';

export const pomExtractor: Extractor = {
  name: 'pom-xml',
  ecosystem: 'Maven',
  matches: (path) => /(?:^|[\\/])pom\.xml$/.test(path),
  extract: extractPom,
};
