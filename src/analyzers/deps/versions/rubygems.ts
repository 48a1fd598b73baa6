// RubyGems version ordering: Gem::Version (rubygems lib/rubygems/version.rb), canonical segments and all.
import { compareNumeric, compareStrings, type Numeric, toNumeric } from './numeric.js';
import { createScheme } from './scheme.js';

/** Gem::Version's canonical segments: numbers and letter runs, trailing zeros removed. */
export type GemVersion = readonly (Numeric | string)[];

// Gem::Version::ANCHORED_VERSION_PATTERN (Ruby's \s is [ \t\r\n\f\v]); the empty version is not accepted here.
const GEM_VERSION =
  /^[ \t\r\n\f\v]*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)[ \t\r\n\f\v]*$/;
const TRAILING_ZEROS = /(?<=[a-zA-Z.])[.0]+$/;
const ZEROS_BEFORE_FIRST_LETTER = /(?<=\.|^)[0.]+(?=[a-zA-Z])/;
const LETTER = /[a-zA-Z]/;
const SEGMENT = /\d+|[a-z]+/gi;
const DIGIT = /^\d/;

/**
 * `1.2.3`, `1.0.a`, `1.0.0.beta2`, `2.0.0-rc1` (a `-` reads as `.pre.`). Segments split on dots and on
 * letter/digit boundaries; a version with a letter is a prerelease and sorts before the release.
 * The empty string, which Gem::Version reads as `0`, is rejected: no lockfile names a gem version that way.
 */
export function parseGemVersion(version: string): GemVersion | undefined {
  const match = GEM_VERSION.exec(version);
  if (match === null) return undefined;
  const text = (match[1] ?? '').replaceAll('-', '.pre.');
  let canonical = text.replace(TRAILING_ZEROS, '');
  if (LETTER.test(text)) canonical = canonical.replace(ZEROS_BEFORE_FIRST_LETTER, '');
  return (canonical.match(SEGMENT) ?? []).map((segment) =>
    DIGIT.test(segment) ? toNumeric(segment) : segment,
  );
}

/** Gem::Version#<=>: segment by segment, a missing segment is 0, a string sorts below a number. */
export function compareGemVersions(a: GemVersion, b: GemVersion): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const left = a[i] ?? 0;
    const right = b[i] ?? 0;
    if (typeof left === 'string') {
      if (typeof right !== 'string') return -1;
      const result = compareStrings(left, right);
      if (result !== 0) return result;
    } else {
      if (typeof right === 'string') return 1;
      const result = compareNumeric(left, right);
      if (result !== 0) return result;
    }
  }
  return 0;
}

export const rubygemsScheme = createScheme('RubyGems', parseGemVersion, compareGemVersions);
