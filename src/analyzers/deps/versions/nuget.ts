// NuGet version ordering: NuGet.Versioning's NuGetVersion and VersionComparer (SemVer 2 with a 4th part).
import { compareStrings } from './numeric.js';
import { createScheme } from './scheme.js';

export interface NuGetVersion {
  /** Major, minor, patch, revision; missing parts are 0. */
  readonly parts: readonly [number, number, number, number];
  /**
   * Release labels, undefined for a release. A label that .NET's int.TryParse reads (`5`, `-5`) is a number;
   * the others are lower-cased for NuGet's case-insensitive ordinal comparison.
   */
  readonly labels: readonly (number | string)[] | undefined;
}

const INT32_MAX = 2_147_483_647;
const INT32_MIN = -2_147_483_648;
const DIGITS = /^\d+$/;
const SIGNED_DIGITS = /^-?\d+$/;
/** A label or metadata identifier: letters, digits and `-`. */
const IDENTIFIER = /^[0-9A-Za-z-]+$/;

/** SemanticVersion.IsValidPart: non-empty, [0-9A-Za-z-], and no leading zero on an all-digit label. */
function isValidIdentifier(part: string, allowLeadingZeros: boolean): boolean {
  if (!IDENTIFIER.test(part)) return false;
  return allowLeadingZeros || part.length === 1 || part[0] !== '0' || !DIGITS.test(part);
}

function labelKey(label: string): number | string {
  if (SIGNED_DIGITS.test(label)) {
    const value = Number(label);
    if (value >= INT32_MIN && value <= INT32_MAX) return value;
  }
  return label.toLowerCase();
}

/**
 * `1.0`, `1.0.0.1`, `1.0.0-beta.2`, `1.0.0-BETA+build.5`, surrounding space trimmed. One to four dot-separated
 * numeric parts (leading zeros allowed, each a .NET int, none empty), then an optional `-` release label and
 * `+` metadata as NuGet validates them. Metadata is ignored for ordering.
 */
export function parseNuGetVersion(version: string): NuGetVersion | undefined {
  const text = version.trim();
  const separator = text.search(/[-+]/);
  const core = separator === -1 ? text : text.slice(0, separator);
  let labelText: string | undefined;
  let metadata: string | undefined;
  if (separator !== -1) {
    const rest = text.slice(separator + 1);
    if (text[separator] === '+') metadata = rest;
    else {
      const plus = rest.indexOf('+');
      labelText = plus === -1 ? rest : rest.slice(0, plus);
      metadata = plus === -1 ? undefined : rest.slice(plus + 1);
    }
  }

  const numbers = core.split('.');
  if (numbers.length > 4) return undefined;
  const parts: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < numbers.length; i++) {
    const digits = numbers[i] ?? '';
    if (!DIGITS.test(digits)) return undefined;
    const value = Number(digits);
    if (value > INT32_MAX) return undefined;
    parts[i] = value;
  }

  const labels = labelText?.split('.');
  if (labels?.some((label) => !isValidIdentifier(label, false))) return undefined;
  if (metadata?.split('.').some((part) => !isValidIdentifier(part, true))) return undefined;
  return { parts, labels: labels?.map(labelKey) };
}

/** VersionComparer.Default: the four numbers, then a release above a prerelease, then label by label. */
export function compareNuGetVersions(a: NuGetVersion, b: NuGetVersion): number {
  for (let i = 0; i < 4; i++) {
    const result = Math.sign((a.parts[i] ?? 0) - (b.parts[i] ?? 0));
    if (result !== 0) return result;
  }
  if (a.labels === undefined || b.labels === undefined) {
    return a.labels === b.labels ? 0 : a.labels === undefined ? 1 : -1;
  }
  const shorter = Math.min(a.labels.length, b.labels.length);
  for (let i = 0; i < shorter; i++) {
    const result = compareLabel(a.labels[i] ?? '', b.labels[i] ?? '');
    if (result !== 0) return result;
  }
  return Math.sign(a.labels.length - b.labels.length);
}

/** Numbers compare as numbers and before words; words compare case-insensitively, ordinally. */
function compareLabel(a: number | string, b: number | string): number {
  if (typeof a === 'number') return typeof b === 'number' ? Math.sign(a - b) : -1;
  return typeof b === 'number' ? 1 : compareStrings(a, b);
}

export const nugetScheme = createScheme('NuGet', parseNuGetVersion, compareNuGetVersions);
