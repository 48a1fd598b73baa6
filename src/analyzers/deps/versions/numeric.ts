// Exact whole numbers for version parts: a plain number while it is safe, a bigint beyond, compared exactly.

/** A non-negative whole number of any size (version parts are unbounded in most ecosystems). */
export type Numeric = number | bigint;

/** Up to 15 digits always fit a double exactly; longer runs become bigints. */
const SAFE_DIGITS = 15;

/** The value of a run of ASCII digits (leading zeros allowed). */
export function toNumeric(digits: string): Numeric {
  return digits.length <= SAFE_DIGITS ? Number(digits) : BigInt(digits);
}

/** -1, 0 or 1; mixes numbers and bigints (and ±Infinity, used as sentinels) exactly. */
export function compareNumeric(a: Numeric, b: Numeric): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** -1, 0 or 1 by UTF-16 code units (byte order for the ASCII strings versions are made of). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
