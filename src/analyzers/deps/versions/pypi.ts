// PyPI version ordering: PEP 440, as pypa/packaging's Version parses and orders it (no legacy versions).
import { compareNumeric, compareStrings, type Numeric, toNumeric } from './numeric.js';
import { createScheme } from './scheme.js';

/** A PEP 440 version reduced to packaging's comparison key. */
export interface Pep440Version {
  readonly epoch: Numeric;
  /** The release segment without trailing zeros (`1.0.0` and `1` are the same release). */
  readonly release: readonly Numeric[];
  /**
   * Rank of the pre-release: 0 `a`, 1 `b`, 2 `rc`; -1 for a bare dev release (`1.0.dev1`, which sorts before
   * every pre-release of 1.0); 3 for no pre-release.
   */
  readonly preRank: number;
  readonly preNumber: Numeric;
  /** -1 without a post-release. */
  readonly post: Numeric;
  /** Infinity without a dev release. */
  readonly dev: Numeric;
  /** Local segments (`+ubuntu.1` → ['ubuntu', 1]), undefined without a local version. */
  readonly local: readonly (Numeric | string)[] | undefined;
}

// packaging's VERSION_PATTERN, case-insensitive, with surrounding whitespace allowed as packaging allows it.
const PEP440 =
  /^\s*v?(?:(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?)(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;
const DIGITS = /^\d+$/;
const NO_PRE_RELEASE = 3;
const DEV_ONLY = -1;

function preRank(letter: string): number {
  switch (letter.toLowerCase()) {
    case 'a':
    case 'alpha':
      return 0;
    case 'b':
    case 'beta':
      return 1;
    default: // c, rc, pre, preview
      return 2;
  }
}

/**
 * Any PEP 440 spelling: `1!2.0`, `1.0a1`, `1.0-alpha.1`, `1.0c1` (= rc1), `1.0-1` and `1.0.rev1` (post),
 * `1.0.dev0`, `1.0+ubuntu.1`, `V1.0`; letters and separators are normalised, and a missing number is 0.
 * Legacy versions that packaging no longer accepts (`0.1-bulbasaur`, `2004d`) are rejected.
 */
export function parsePypiVersion(version: string): Pep440Version | undefined {
  const match = PEP440.exec(version);
  if (match === null) return undefined;
  const [
    ,
    epoch,
    release = '',
    preLetter,
    preNumber,
    postImplicit,
    postLetter,
    postNumber,
    devLetter,
    devNumber,
    local,
  ] = match;

  const parts = release.split('.').map(toNumeric);
  while (parts.length > 0 && compareNumeric(parts[parts.length - 1] ?? 0, 0) === 0) parts.pop();

  let post: Numeric = -1;
  if (postImplicit !== undefined) post = toNumeric(postImplicit);
  else if (postLetter !== undefined) post = toNumeric(postNumber ?? '0');
  const dev: Numeric = devLetter === undefined ? Number.POSITIVE_INFINITY : toNumeric(devNumber ?? '0');

  let rank = NO_PRE_RELEASE;
  if (preLetter !== undefined) rank = preRank(preLetter);
  else if (post === -1 && devLetter !== undefined) rank = DEV_ONLY;

  return {
    epoch: toNumeric(epoch ?? '0'),
    release: parts,
    preRank: rank,
    preNumber: toNumeric(preNumber ?? '0'),
    post,
    dev,
    local:
      local === undefined
        ? undefined
        : local.split(/[-_.]/).map((part) => (DIGITS.test(part) ? toNumeric(part) : part.toLowerCase())),
  };
}

/** packaging's `_cmpkey` order: epoch, release, pre, post, dev, local. */
export function comparePypiVersions(a: Pep440Version, b: Pep440Version): number {
  return (
    compareNumeric(a.epoch, b.epoch) ||
    compareRelease(a.release, b.release) ||
    Math.sign(a.preRank - b.preRank) ||
    compareNumeric(a.preNumber, b.preNumber) ||
    compareNumeric(a.post, b.post) ||
    compareNumeric(a.dev, b.dev) ||
    compareLocal(a.local, b.local)
  );
}

function compareRelease(a: readonly Numeric[], b: readonly Numeric[]): number {
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i++) {
    const result = compareNumeric(a[i] ?? 0, b[i] ?? 0);
    if (result !== 0) return result;
  }
  return Math.sign(a.length - b.length);
}

/** No local version sorts first; then segment by segment, a number above any string. */
function compareLocal(a: Pep440Version['local'], b: Pep440Version['local']): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    let result: number;
    if (typeof x === 'string') result = typeof y === 'string' ? compareStrings(x, y) : -1;
    else result = typeof y === 'string' ? 1 : compareNumeric(x, y);
    if (result !== 0) return result;
  }
  return Math.sign(a.length - b.length);
}

export const pypiScheme = createScheme('PyPI', parsePypiVersion, comparePypiVersions);
