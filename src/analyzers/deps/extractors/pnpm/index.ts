// The pnpm lockfile extractor: pnpm-lock.yaml (lockfile versions 5.x, 6.x, 9.x).
import { posix } from 'node:path';
import type { Extractor } from '../../types.js';
import { extractPnpmLock } from './extract.js';

export const pnpmLockExtractor: Extractor = {
  name: 'pnpm-lock',
  ecosystem: 'npm',
  matches(path: string): boolean {
    return posix.basename(path.replaceAll('\\', '/')) === 'pnpm-lock.yaml';
  },
  extract(content, context) {
    return extractPnpmLock(content, context).packages;
  },
};
