// The composer.lock extractor.
import type { Extractor } from '../../types.js';
import { extractComposerLock } from './extract.js';

export const composerLockExtractor: Extractor = {
  name: 'composer-lock',
  ecosystem: 'Packagist',
  matches: (path) => /(?:^|[\\/])composer\.lock$/.test(path),
  extract: extractComposerLock,
};
