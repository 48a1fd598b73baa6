// The yarn lockfile extractor: yarn.lock, classic (v1) and Berry (v2+).
import { posix } from 'node:path';
import type { Extractor } from '../../types.js';
import { extractYarnLock } from './extract.js';

export const yarnLockExtractor: Extractor = {
  name: 'yarn-lock',
  ecosystem: 'npm',
  matches(path: string): boolean {
    return posix.basename(path.replaceAll('\\', '/')) === 'yarn.lock';
  },
  extract(content, context) {
    return extractYarnLock(content, context).packages;
  },
};
