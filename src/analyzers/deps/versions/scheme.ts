// Builds a VersionScheme from a parser and a comparator of parsed versions, with a bounded parse cache.
import { type Ecosystem, InvalidVersionError, type VersionScheme } from '../types.js';

/** Parsed versions kept per scheme; the cache is emptied when it would grow past this. */
export const PARSE_CACHE_LIMIT = 50_000;

/**
 * A scheme that parses each distinct version string once (until the cache is emptied) and compares the parsed
 * forms. `parse` returns undefined for a version the ecosystem rejects; `compare` then throws
 * InvalidVersionError, and `isValid` is false. `compare` returns exactly -1, 0 or 1.
 */
export function createScheme<T>(
  ecosystem: Ecosystem,
  parse: (version: string) => T | undefined,
  compareParsed: (a: T, b: T) => number,
  cacheLimit: number = PARSE_CACHE_LIMIT,
): VersionScheme {
  // null marks a version known to be invalid, so rejected inputs are not parsed again either.
  const cache = new Map<string, T | null>();

  function lookup(version: string): T | null {
    const hit = cache.get(version);
    if (hit !== undefined) return hit;
    const parsed = typeof version === 'string' ? (parse(version) ?? null) : null;
    if (cache.size >= cacheLimit) cache.clear();
    cache.set(version, parsed);
    return parsed;
  }

  function parsedOrThrow(version: string): T {
    const parsed = lookup(version);
    if (parsed === null) throw new InvalidVersionError(ecosystem, String(version));
    return parsed;
  }

  return {
    ecosystem,
    compare(a: string, b: string): number {
      const left = parsedOrThrow(a);
      const right = parsedOrThrow(b);
      if (a === b) return 0;
      const result = compareParsed(left, right);
      return result < 0 ? -1 : result > 0 ? 1 : 0;
    },
    isValid(version: string): boolean {
      return lookup(version) !== null;
    },
  };
}
