// The Cargo.lock extractor.
import type { Extractor } from '../../types.js';
import { extractCargoLock } from './extract.js';

export const cargoLockExtractor: Extractor = {
  name: 'cargo-lock',
  ecosystem: 'crates.io',
  matches: (path) => /(?:^|[\\/])Cargo\.lock$/.test(path),
  extract: extractCargoLock,
};
