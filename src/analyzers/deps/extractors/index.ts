// Every lockfile format, in one explicit list (no folder scanning). The first extractor that matches a path
// reads it.
import type { Extractor } from '../types.js';
import { bunLockExtractor } from './bun/index.js';
import { gemfileLockExtractor } from './bundler/index.js';
import { cargoLockExtractor } from './cargo/index.js';
import { composerLockExtractor } from './composer/index.js';
import { goModExtractor } from './gomod/index.js';
import { gradleLockfileExtractor } from './gradle/index.js';
import { pomExtractor } from './maven/index.js';
import { npmLockExtractor } from './npm/index.js';
import { nugetLockExtractor } from './nuget/index.js';
import { pdmLockExtractor } from './pdm/index.js';
import { requirementsExtractor } from './pip/index.js';
import { pipfileLockExtractor } from './pipenv/index.js';
import { pnpmLockExtractor } from './pnpm/index.js';
import { poetryLockExtractor } from './poetry/index.js';
import { uvLockExtractor } from './uv/index.js';
import { yarnLockExtractor } from './yarn/index.js';

export const EXTRACTORS: readonly Extractor[] = [
  npmLockExtractor,
  yarnLockExtractor,
  pnpmLockExtractor,
  bunLockExtractor,
  requirementsExtractor,
  pipfileLockExtractor,
  poetryLockExtractor,
  uvLockExtractor,
  pdmLockExtractor,
  goModExtractor,
  cargoLockExtractor,
  gemfileLockExtractor,
  composerLockExtractor,
  nugetLockExtractor,
  gradleLockfileExtractor,
  pomExtractor,
];

export function extractorFor(path: string): Extractor | undefined {
  return EXTRACTORS.find((e) => e.matches(path));
}
