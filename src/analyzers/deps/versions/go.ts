// Go module version ordering: golang.org/x/mod/semver, where pseudo-versions are ordinary prereleases.
import { toNumeric } from './numeric.js';
import { createScheme } from './scheme.js';
import { compareSemVer, parseSemVer, type SemVer } from './semver.js';

/** `vMAJOR` and `vMAJOR.MINOR`, which x/mod/semver reads as `vMAJOR.0.0` and `vMAJOR.MINOR.0`. */
const SHORTHAND = /^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$/;

/**
 * `v1.2.3`, `v1.2.3-pre`, `v2.0.0+incompatible` (build metadata is ignored), and pseudo-versions
 * (`v0.0.0-20210226172049-e18ecbb05110`, `v1.2.3-pre.0.20210226172049-e18ecbb05110`,
 * `v1.2.4-0.20210226172049-e18ecbb05110`), which sort as the prereleases they are: by base version, then
 * timestamp. Numbers have no size limit.
 *
 * The leading `v` is optional: go.mod and go.sum always write it, but OSV's Go advisories
 * (`"introduced": "0.0.0-2021…"`, `"fixed": "1.2.3"`) never do, and both sides must compare.
 */
export function parseGoVersion(version: string): SemVer | undefined {
  const text = version.startsWith('v') ? version.slice(1) : version;
  const shorthand = SHORTHAND.exec(text);
  if (shorthand !== null) {
    const [, major = '', minor = '0'] = shorthand;
    return { major: toNumeric(major), minor: toNumeric(minor), patch: 0, prerelease: [] };
  }
  return parseSemVer(text);
}

export const goScheme = createScheme('Go', parseGoVersion, compareSemVer);
