// The npm lockfile extractor: package-lock.json and npm-shrinkwrap.json.
import { posix } from 'node:path';
import type { Extractor } from '../../types.js';
import { extractNpmLock } from './extract.js';

const FILES = new Set(['package-lock.json', 'npm-shrinkwrap.json']);

export const npmLockExtractor: Extractor = {
  name: 'npm-lock',
  ecosystem: 'npm',
  matches(path: string): boolean {
    return FILES.has(posix.basename(path.replaceAll('\\', '/')));
  },
  extract(content, context) {
    return extractNpmLock(content, context).packages;
  },
};
