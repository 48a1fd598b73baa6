// The Gemfile.lock extractor (also Bundler's other name for it, gems.locked).
import type { Extractor } from '../../types.js';
import { extractGemfileLock } from './extract.js';

export const gemfileLockExtractor: Extractor = {
  name: 'gemfile-lock',
  ecosystem: 'RubyGems',
  matches: (path) => /(?:^|[\\/])(?:Gemfile\.lock|gems\.locked)$/.test(path),
  extract: extractGemfileLock,
};
