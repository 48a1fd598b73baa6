// The bun lockfile extractor: bun.lock (text); the binary bun.lockb is recognised and refused with advice.
import { posix } from 'node:path';
import type { Extractor } from '../../types.js';
import { extractBunLock } from './extract.js';

const FILES = new Set(['bun.lock', 'bun.lockb']);

export const bunLockExtractor: Extractor = {
  name: 'bun-lock',
  ecosystem: 'npm',
  matches(path: string): boolean {
    return FILES.has(posix.basename(path.replaceAll('\\', '/')));
  },
  extract(content, context) {
    return extractBunLock(content, context).packages;
  },
};
