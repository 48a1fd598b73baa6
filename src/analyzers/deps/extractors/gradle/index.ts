// The Gradle lockfile extractor: `gradle.lockfile` (and `buildscript-gradle.lockfile`,
// `settings-gradle.lockfile`), and `*.lockfile` under `gradle/dependency-locks/`.
import type { Extractor } from '../../types.js';
import { extractGradleLockfile } from './extract.js';

/** True for Gradle's dependency lockfiles. */
export function isGradleLockfile(path: string): boolean {
  const normalized = path.replace(/\\/g, '/');
  return (
    /(?:^|\/)(?:[a-z]+-)?gradle\.lockfile$/.test(normalized) ||
    /(?:^|\/)gradle\/dependency-locks\/[^/]+\.lockfile$/.test(normalized)
  );
}

export const gradleLockfileExtractor: Extractor = {
  name: 'gradle-lockfile',
  ecosystem: 'Maven',
  matches: isGradleLockfile,
  extract: extractGradleLockfile,
};
