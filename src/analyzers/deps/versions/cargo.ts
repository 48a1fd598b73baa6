// crates.io version ordering: strict SemVer 2.0.0 as Cargo's `semver` crate parses it.
import { createScheme } from './scheme.js';
import { compareSemVer, parseSemVer, type SemVer } from './semver.js';

/** The `semver` crate stores major, minor and patch as u64. */
const U64_MAX = 18_446_744_073_709_551_615n;

/**
 * `1.2.3`, `1.0.0-alpha.1+build.5`: no `v`, no surrounding space, no leading zeros, exactly three numbers.
 * Build metadata is ignored, as SemVer precedence requires (the crate's own `Ord` would order by it as a
 * last resort; no advisory range depends on that).
 */
export function parseCargoVersion(version: string): SemVer | undefined {
  return parseSemVer(version, U64_MAX);
}

export const cargoScheme = createScheme('crates.io', parseCargoVersion, compareSemVer);
