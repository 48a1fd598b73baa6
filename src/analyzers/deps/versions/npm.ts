// npm version ordering: SemVer 2.0.0 as node-semver reads a version, with its loose leading `v` and `=`.
import { createScheme } from './scheme.js';
import { compareSemVer, parseSemVer, type SemVer } from './semver.js';

/** node-semver refuses longer version strings. */
const MAX_LENGTH = 256;
/** node-semver refuses major, minor or patch above Number.MAX_SAFE_INTEGER. */
const MAX_CORE = Number.MAX_SAFE_INTEGER;
/** What node-semver's loose mode skips before the numbers: any run of `v`, `=` and spaces. */
const LOOSE_PREFIX = /^[v=\s]+/;

/**
 * `1.2.3`, `1.2.3-beta.1+build`, `v1.2.3`, `=1.2.3`, with surrounding space trimmed. Everything else about the
 * version is strict SemVer: ranges (`^1.2.3`, `1.x`, `>=1`), partial versions (`1.2`), leading zeros and
 * extra parts (`1.2.3.4`) are rejected, as node-semver rejects them.
 */
export function parseNpmVersion(version: string): SemVer | undefined {
  if (version.length > MAX_LENGTH) return undefined;
  return parseSemVer(version.trim().replace(LOOSE_PREFIX, ''), MAX_CORE);
}

export const npmScheme = createScheme('npm', parseNpmVersion, compareSemVer);
