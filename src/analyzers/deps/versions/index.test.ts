// The registry of version schemes, and the bounded parse cache every scheme shares.
import { describe, expect, it } from 'vitest';
import { ECOSYSTEMS, InvalidVersionError } from '../types.js';
import { schemeFor, VERSION_SCHEMES } from './index.js';
import { createScheme, PARSE_CACHE_LIMIT } from './scheme.js';

describe('VERSION_SCHEMES', () => {
  it('has a scheme for every ecosystem, named after it', () => {
    expect(Object.keys(VERSION_SCHEMES).sort()).toEqual([...ECOSYSTEMS].sort());
    for (const ecosystem of ECOSYSTEMS) expect(VERSION_SCHEMES[ecosystem].ecosystem).toBe(ecosystem);
    expect(Object.isFrozen(VERSION_SCHEMES)).toBe(true);
  });

  it('finds a scheme by its exact OSV name only', () => {
    expect(schemeFor('PyPI')).toBe(VERSION_SCHEMES.PyPI);
    expect(schemeFor('crates.io')).toBe(VERSION_SCHEMES['crates.io']);
    for (const name of ['pypi', 'Debian', 'Go:stdlib', '', '__proto__', 'toString', 'constructor']) {
      expect(schemeFor(name)).toBeUndefined();
    }
  });

  it('throws InvalidVersionError naming the version and ecosystem', () => {
    expect(() => VERSION_SCHEMES.npm.compare('1.0.0', 'not-a-version')).toThrow(
      new InvalidVersionError('npm', 'not-a-version'),
    );
    expect(() => VERSION_SCHEMES.npm.compare('^1', '^1')).toThrow(InvalidVersionError);
  });

  it('returns -1, 0 or 1', () => {
    expect(VERSION_SCHEMES.Maven.compare('1', '999')).toBe(-1);
    expect(VERSION_SCHEMES.Maven.compare('999', '1')).toBe(1);
    expect(Object.is(VERSION_SCHEMES.Maven.compare('1-0', '1'), 0)).toBe(true);
  });
});

describe('createScheme', () => {
  it('parses each version once and empties its cache when it is full', () => {
    const parsed: string[] = [];
    const scheme = createScheme(
      'npm',
      (version) => {
        parsed.push(version);
        return version === 'bad' ? undefined : Number(version);
      },
      (a: number, b: number) => a - b,
      3,
    );
    expect(scheme.compare('1', '2')).toBe(-1);
    expect(scheme.compare('2', '1')).toBe(1);
    expect(scheme.isValid('bad')).toBe(false);
    expect(() => scheme.compare('bad', '1')).toThrow(InvalidVersionError);
    expect(parsed).toEqual(['1', '2', 'bad']);
    expect(scheme.compare('3', '1')).toBe(1); // the fourth entry empties the cache first
    expect(parsed).toEqual(['1', '2', 'bad', '3', '1']);
  });

  it('bounds the cache at 50,000 versions by default', () => {
    expect(PARSE_CACHE_LIMIT).toBe(50_000);
    const scheme = VERSION_SCHEMES.npm;
    let valid = 0;
    for (let i = 0; i < PARSE_CACHE_LIMIT + 10; i++) if (scheme.isValid(`1.0.${i}`)) valid++;
    expect(valid).toBe(PARSE_CACHE_LIMIT + 10);
    expect(scheme.compare('1.0.2', '1.0.10')).toBe(-1);
  });
});
