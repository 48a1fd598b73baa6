// Packagist (Composer) version ordering: PHP's version_compare, run on the version without its leading `v`.
import { compareNumeric, type Numeric, toNumeric } from './numeric.js';
import { createScheme } from './scheme.js';

/**
 * One part of a canonical version: a number, or a word ranked as a special form (dev 0 < alpha = a 1 <
 * beta = b 2 < RC = rc 3 < # 4 < pl = p 5; any other word -1). `empty` marks the empty part a trailing
 * separator leaves (`1.0.` → `1`, `0`, ``), the only place an empty part can occur.
 */
interface Part {
  readonly number: Numeric | undefined;
  readonly rank: number;
  readonly empty: boolean;
}
export type PackagistVersion = readonly Part[];

/** What a number ranks as when it meets a word: the special form `#`. */
const NUMBER_RANK = 4;
/** PHP's `#N#`, the placeholder an extra word is compared with. */
const NUMBER_PLACEHOLDER: PackagistVersion = [{ number: undefined, rank: NUMBER_RANK, empty: false }];
/** Letters, digits and the separators Composer versions and branch names use; no spaces or constraint syntax. */
const VALID = /^[0-9A-Za-z][0-9A-Za-z._+#/-]*$/;
const LEADING_V = /^[vV](?=\d)/;

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

function isAlphanumeric(char: string): boolean {
  return isDigit(char) || (char >= 'a' && char <= 'z') || (char >= 'A' && char <= 'Z');
}

/**
 * php_canonicalize_version: `-`, `_`, `+` and every other non-alphanumeric character become a single `.`, and a
 * `.` goes between a digit and a non-digit. (`1.0rc1` → `1.0.rc.1`, `4.3-2RC1` → `4.3.2.RC.1`.)
 */
function canonicalize(version: string): string {
  let out = version.charAt(0);
  let previous = out;
  for (let i = 1; i < version.length; i++) {
    const char = version.charAt(i);
    const last = out.charAt(out.length - 1);
    const charIsDigit = isDigit(char);
    const previousIsDigit = isDigit(previous);
    if (char === '-' || char === '_' || char === '+') {
      if (last !== '.') out += '.';
    } else if (
      (!previousIsDigit && previous !== '.' && charIsDigit) ||
      (previousIsDigit && !charIsDigit && char !== '.')
    ) {
      if (last !== '.') out += '.';
      out += char;
    } else if (!isAlphanumeric(char)) {
      if (last !== '.') out += '.';
    } else {
      out += char;
    }
    previous = char;
  }
  return out;
}

/** compare_special_version_forms: the first form the word starts with, case-sensitively. */
function specialRank(word: string): number {
  if (word.startsWith('dev')) return 0;
  if (word.startsWith('a')) return 1;
  if (word.startsWith('b')) return 2;
  if (word.startsWith('RC') || word.startsWith('rc')) return 3;
  if (word.startsWith('#')) return 4;
  if (word.startsWith('p')) return 5;
  return -1;
}

/**
 * `1.2.3`, `v1.2.3`, `1.0RC1`, `1.0-beta2`, `1.0pl1`, `2.1.x-dev`, `dev-main`. Anything made of letters,
 * digits and `. _ + - # /` that starts with a letter or digit is accepted, as version_compare accepts it.
 */
export function parsePackagistVersion(version: string): PackagistVersion | undefined {
  if (!VALID.test(version)) return undefined;
  return canonicalize(version.replace(LEADING_V, ''))
    .split('.')
    .map((part) => {
      if (isDigit(part.charAt(0))) return { number: toNumeric(part), rank: NUMBER_RANK, empty: false };
      return { number: undefined, rank: specialRank(part), empty: part === '' };
    });
}

/**
 * php_version_compare, part by part: numbers numerically (exactly, where PHP's strtol would saturate at
 * 2^63-1), words by special form, a number against a word as `#`. When one side has parts left, a number
 * makes it greater and a word is compared with `#`.
 */
export function comparePackagistVersions(a: PackagistVersion, b: PackagistVersion): number {
  // The empty string (only ever a remainder here): less than anything else.
  const aIsEmpty = a.length === 1 && a[0]?.empty === true;
  const bIsEmpty = b.length === 1 && b[0]?.empty === true;
  if (aIsEmpty || bIsEmpty) return aIsEmpty && bIsEmpty ? 0 : aIsEmpty ? -1 : 1;

  let i = 0;
  for (; i < a.length && i < b.length; i++) {
    const left = a[i];
    const right = b[i];
    // PHP stops at the end of either string, which a trailing empty part is.
    if (left === undefined || right === undefined || left.empty || right.empty) break;
    const result =
      left.number !== undefined && right.number !== undefined
        ? compareNumeric(left.number, right.number)
        : Math.sign(left.rank - right.rank);
    if (result !== 0) return result;
  }
  if (i < a.length) {
    return a[i]?.number !== undefined ? 1 : comparePackagistVersions(a.slice(i), NUMBER_PLACEHOLDER);
  }
  if (i < b.length) {
    return b[i]?.number !== undefined ? -1 : comparePackagistVersions(NUMBER_PLACEHOLDER, b.slice(i));
  }
  return 0;
}

export const packagistScheme = createScheme('Packagist', parsePackagistVersion, comparePackagistVersions);
