// The SemVer 2.0.0 core shared by npm, Go and crates.io: parsing `X.Y.Z[-pre][+build]` and precedence.
import { compareNumeric, compareStrings, type Numeric, toNumeric } from './numeric.js';

/** A parsed SemVer version. Build metadata is dropped: it never affects precedence. */
export interface SemVer {
  readonly major: Numeric;
  readonly minor: Numeric;
  readonly patch: Numeric;
  /** Prerelease identifiers, numeric ones as numbers; empty for a release. */
  readonly prerelease: readonly (Numeric | string)[];
}

const NUMBER = '0|[1-9]\\d*';
const PRERELEASE_ID = `(?:${NUMBER}|\\d*[A-Za-z-][0-9A-Za-z-]*)`;
const BUILD_ID = '[0-9A-Za-z-]+';
// The grammar of semver.org: no leading zeros in numbers, no empty identifiers; build identifiers are free.
const SEMVER = new RegExp(
  `^(${NUMBER})\\.(${NUMBER})\\.(${NUMBER})` +
    `(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?` +
    `(?:\\+${BUILD_ID}(?:\\.${BUILD_ID})*)?$`,
);
const DIGITS = /^\d+$/;

/**
 * Parses strict SemVer 2.0.0 (no prefix, no surrounding space). `maxCore` bounds major, minor and patch for
 * ecosystems that store them in fixed-size integers; prerelease numbers are compared exactly at any size.
 */
export function parseSemVer(text: string, maxCore?: Numeric): SemVer | undefined {
  const match = SEMVER.exec(text);
  if (match === null) return undefined;
  const [, majorText = '', minorText = '', patchText = '', prereleaseText] = match;
  const major = toNumeric(majorText);
  const minor = toNumeric(minorText);
  const patch = toNumeric(patchText);
  if (
    maxCore !== undefined &&
    (compareNumeric(major, maxCore) > 0 ||
      compareNumeric(minor, maxCore) > 0 ||
      compareNumeric(patch, maxCore) > 0)
  ) {
    return undefined;
  }
  return { major, minor, patch, prerelease: parsePrerelease(prereleaseText) };
}

/** Splits a prerelease into identifiers, numeric ones as numbers. */
export function parsePrerelease(text: string | undefined): (Numeric | string)[] {
  if (text === undefined || text === '') return [];
  return text.split('.').map((id) => (DIGITS.test(id) ? toNumeric(id) : id));
}

/** SemVer precedence (semver.org §11): numbers, then a release above its prereleases, then identifiers. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  return (
    compareNumeric(a.major, b.major) ||
    compareNumeric(a.minor, b.minor) ||
    compareNumeric(a.patch, b.patch) ||
    comparePrerelease(a.prerelease, b.prerelease)
  );
}

function comparePrerelease(a: readonly (Numeric | string)[], b: readonly (Numeric | string)[]): number {
  if (a.length === 0 || b.length === 0) return Math.sign(b.length - a.length);
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i++) {
    const result = compareIdentifier(a[i] ?? '', b[i] ?? '');
    if (result !== 0) return result;
  }
  return Math.sign(a.length - b.length);
}

/** Numeric identifiers compare numerically and below alphanumeric ones, which compare in ASCII order. */
function compareIdentifier(a: Numeric | string, b: Numeric | string): number {
  if (typeof a === 'string') return typeof b === 'string' ? compareStrings(a, b) : 1;
  return typeof b === 'string' ? -1 : compareNumeric(a, b);
}
