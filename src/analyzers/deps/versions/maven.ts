// Maven version ordering: a port of maven-artifact's ComparableVersion (3.9.x), item for item.
import { compareNumeric, compareStrings, type Numeric, toNumeric } from './numeric.js';
import { createScheme } from './scheme.js';

/**
 * A number item. Maven keeps numbers of up to 9 digits as int, up to 18 as long and longer ones as BigInteger
 * (after stripping leading zeros, except that an all-zero run keeps its length), and an item of a smaller
 * kind is always less than one of a larger kind. `kind` reproduces that.
 */
interface MavenNumber {
  readonly kind: 0 | 1 | 2;
  readonly value: Numeric;
}
/** A qualifier, stored as Maven's comparable form: '0'…'6' for the known ones, '7-<name>' for the rest. */
type MavenString = string;
/** A sub-list, opened by `-` or by a transition between letters and digits. */
type MavenList = MavenItem[];
type MavenItem = MavenNumber | MavenString | MavenList;

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const ALIASES = new Map([
  ['ga', ''],
  ['final', ''],
  ['release', ''],
  ['cr', 'rc'],
]);
/** The comparable form of the release qualifier '' (and of ga, final, release). */
const RELEASE = String(QUALIFIERS.indexOf(''));
const ZERO: MavenNumber = { kind: 0, value: 0 };

/**
 * What a version may contain: printable ASCII, without whitespace, the characters Maven's model validator
 * bans in versions (`\ / : " < > | ? *`), range syntax (`[ ] ( ) ,`) or an unresolved property (`$ { }`).
 */
const VALID = /^[^\s\\/:"<>|?*[\](),${}]+$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

function isDigit(char: string): boolean {
  return char >= '0' && char <= '9';
}

function stringItem(text: string, followedByDigit: boolean): MavenString {
  let value = text;
  if (followedByDigit && value.length === 1) {
    // a1 = alpha-1, b1 = beta-1, m1 = milestone-1
    if (value === 'a') value = 'alpha';
    else if (value === 'b') value = 'beta';
    else if (value === 'm') value = 'milestone';
  }
  value = ALIASES.get(value) ?? value;
  const index = QUALIFIERS.indexOf(value);
  return index === -1 ? `${QUALIFIERS.length}-${value}` : String(index);
}

function numberItem(digits: string): MavenNumber {
  const stripped = digits.replace(/^0+/, '') || digits;
  const kind = stripped.length <= 9 ? 0 : stripped.length <= 18 ? 1 : 2;
  return { kind, value: toNumeric(stripped) };
}

function parseItem(isDigitRun: boolean, text: string): MavenItem {
  return isDigitRun ? numberItem(text) : stringItem(text, false);
}

function isNull(item: MavenItem): boolean {
  if (typeof item === 'string') return item === RELEASE;
  if (Array.isArray(item)) return item.length === 0;
  return compareNumeric(item.value, 0) === 0;
}

/** Drops trailing null items (0, '', empty lists), looking past non-null sub-lists as Maven does. */
function normalize(list: MavenList): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i];
    if (item === undefined) continue;
    if (isNull(item)) list.splice(i, 1);
    else if (!Array.isArray(item)) break;
  }
}

/**
 * Any Maven version string (`1.0`, `1.0-SNAPSHOT`, `2.0.0.RELEASE`, `1.0-alpha-1`, `20190126.230843`), split
 * into items as ComparableVersion.parseVersion splits it: on `.` and `-`, and between letters and digits.
 */
export function parseMavenVersion(version: string): MavenList | undefined {
  if (!PRINTABLE_ASCII.test(version) || !VALID.test(version)) return undefined;
  const text = version.toLowerCase();
  const items: MavenList = [];
  let list = items;
  const stack: MavenList[] = [list];
  let digitRun = false;
  let start = 0;

  function openList(): void {
    const child: MavenList = [];
    list.push(child);
    list = child;
    stack.push(child);
  }

  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (char === '.' || char === '-') {
      list.push(i === start ? ZERO : parseItem(digitRun, text.slice(start, i)));
      start = i + 1;
      if (char === '-') openList();
    } else if (isDigit(char)) {
      if (!digitRun && i > start) {
        // 1.0.0.X1 < 1.0.0-X2: treat .X as -X for any string qualifier X
        if (list.length > 0) openList();
        list.push(stringItem(text.slice(start, i), true));
        start = i;
        openList();
      }
      digitRun = true;
    } else {
      if (digitRun && i > start) {
        list.push(parseItem(true, text.slice(start, i)));
        start = i;
        openList();
      }
      digitRun = false;
    }
  }
  if (text.length > start) {
    if (!digitRun && list.length > 0) openList();
    list.push(parseItem(digitRun, text.slice(start)));
  }
  for (let i = stack.length - 1; i >= 0; i--) {
    const pending = stack[i];
    if (pending !== undefined) normalize(pending);
  }
  return items;
}

/** An item against a missing one (the shorter list ran out). */
function compareWithNothing(item: MavenItem): number {
  if (typeof item === 'string') return compareStrings(item, RELEASE); // 1-rc < 1, 1-sp > 1
  if (Array.isArray(item)) {
    for (const child of item) {
      const result = compareWithNothing(child);
      if (result !== 0) return result;
    }
    return 0;
  }
  return compareNumeric(item.value, 0) === 0 ? 0 : 1;
}

function compareItems(a: MavenItem, b: MavenItem): number {
  if (typeof a === 'string') return typeof b === 'string' ? compareStrings(a, b) : -1; // 1.any < 1.1, 1-1
  if (Array.isArray(a)) {
    if (typeof b === 'string') return 1; // 1-1 > 1-sp
    return Array.isArray(b) ? compareMavenVersions(a, b) : -1; // 1-1 < 1.0.x
  }
  if (typeof b === 'string' || Array.isArray(b)) return 1; // 1.1 > 1-sp, 1.1 > 1-1
  return Math.sign(a.kind - b.kind) || compareNumeric(a.value, b.value);
}

/** ListItem.compareTo: item by item, a missing item compared as null. */
export function compareMavenVersions(a: MavenList, b: MavenList): number {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const left = a[i];
    const right = b[i];
    let result: number;
    if (left === undefined) result = right === undefined ? 0 : -compareWithNothing(right);
    else result = right === undefined ? compareWithNothing(left) : compareItems(left, right);
    if (result !== 0) return result;
  }
  return 0;
}

export const mavenScheme = createScheme('Maven', parseMavenVersion, compareMavenVersions);
