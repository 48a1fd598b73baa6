// Unit tests of OSV matching: event semantics, name normalisation, fixes, alias groups.
import { describe, expect, it } from 'vitest';
import type { VersionScheme } from '../types.js';
import { schemeFor } from '../versions/index.js';
import {
  fixedVersions,
  idRank,
  isAffected,
  majorOf,
  matchVulnerability,
  mergeAliases,
  normalisePackageName,
  packageMatches,
  smallestFix,
} from './match.js';
import type { OsvRange, OsvVuln } from './schema.js';

function scheme(ecosystem: string): VersionScheme {
  const found = schemeFor(ecosystem);
  if (found === undefined) throw new Error(`no scheme for ${ecosystem}`);
  return found;
}

const npm = scheme('npm');

/** One npm advisory about `pkg` with the given ranges and versions. */
function advisory(ranges: OsvRange[], extra: Partial<OsvVuln> = {}, versions?: string[]): OsvVuln {
  return {
    id: 'GHSA-test-0000-0000',
    modified: '2024-01-01T00:00:00Z',
    affected: [
      { package: { ecosystem: 'npm', name: 'pkg' }, ranges, ...(versions === undefined ? {} : { versions }) },
    ],
    ...extra,
  };
}

function range(...events: Array<Record<string, string>>): OsvRange {
  return { type: 'SEMVER', events };
}

function affected(vuln: OsvVuln, version: string, name = 'pkg', ecosystem = 'npm'): boolean {
  return isAffected(vuln, { ecosystem, name, version }, scheme(ecosystem));
}

describe('isAffected: event semantics', () => {
  it('introduced opens and fixed closes (fixed itself is not affected)', () => {
    const v = advisory([range({ introduced: '1.0.0' }, { fixed: '1.0.2' })]);
    expect(affected(v, '0.9.9')).toBe(false);
    expect(affected(v, '1.0.0')).toBe(true);
    expect(affected(v, '1.0.1')).toBe(true);
    expect(affected(v, '1.0.2-beta.1')).toBe(true);
    expect(affected(v, '1.0.2')).toBe(false);
    expect(affected(v, '2.0.0')).toBe(false);
  });

  it('introduced "0" is below every version, with or without a fix', () => {
    const open = advisory([range({ introduced: '0' })]);
    expect(affected(open, '0.0.0')).toBe(true);
    expect(affected(open, '99.0.0')).toBe(true);
    const fixed = advisory([range({ introduced: '0' }, { fixed: '1.0.2' })]);
    expect(affected(fixed, '0.0.1-alpha')).toBe(true);
    expect(affected(fixed, '1.0.2')).toBe(false);
  });

  it('last_affected is inclusive', () => {
    const v = advisory([range({ introduced: '0' }, { last_affected: '2.1.214' })]);
    expect(affected(v, '2.1.214')).toBe(true);
    expect(affected(v, '2.1.215')).toBe(false);
  });

  it('limit caps the range: a version must be below some limit; "*" is infinity', () => {
    const capped = advisory([range({ introduced: '1.0.0' }, { limit: '2.0.0' })]);
    expect(affected(capped, '1.5.0')).toBe(true);
    expect(affected(capped, '2.0.0')).toBe(false);
    expect(affected(capped, '3.0.0')).toBe(false);
    const star = advisory([range({ introduced: '1.0.0' }, { limit: '*' })]);
    expect(affected(star, '9.0.0')).toBe(true);
    const two = advisory([range({ introduced: '1.0.0' }, { limit: '1.2.0' }, { limit: '3.0.0' })]);
    expect(affected(two, '2.5.0')).toBe(true);
    expect(affected(two, '3.0.0')).toBe(false);
    // A limit does not re-open what a fix closed.
    const both = advisory([range({ introduced: '1.0.0' }, { fixed: '1.1.0' }, { limit: '2.0.0' })]);
    expect(affected(both, '1.5.0')).toBe(false);
  });

  it('several intervals in one range, and several ranges, are OR-ed', () => {
    const oneRange = advisory([
      range({ introduced: '1.0.0' }, { fixed: '1.0.2' }, { introduced: '3.0.0' }, { fixed: '3.2.5' }),
    ]);
    const twoRanges = advisory([
      range({ introduced: '1.0.0' }, { fixed: '1.0.2' }),
      range({ introduced: '3.0.0' }, { fixed: '3.2.5' }),
    ]);
    for (const v of [oneRange, twoRanges]) {
      expect(affected(v, '1.0.1')).toBe(true);
      expect(affected(v, '2.0.0')).toBe(false);
      expect(affected(v, '3.2.4')).toBe(true);
      expect(affected(v, '3.2.5')).toBe(false);
    }
  });

  it('sorts unsorted events before evaluating them', () => {
    const v = advisory([
      range({ fixed: '3.2.5' }, { introduced: '3.0.0' }, { fixed: '1.0.2' }, { introduced: '1.0.0' }),
    ]);
    expect(affected(v, '0.5.0')).toBe(false);
    expect(affected(v, '1.0.1')).toBe(true);
    expect(affected(v, '2.0.0')).toBe(false);
    expect(affected(v, '3.1.0')).toBe(true);
    expect(affected(v, '3.2.5')).toBe(false);
  });

  it('an introduced and a fixed at the same version make an empty interval', () => {
    const v = advisory([range({ fixed: '1.0.0' }, { introduced: '1.0.0' })]);
    expect(affected(v, '1.0.0')).toBe(false);
  });

  it('the versions list counts on its own and alongside ranges', () => {
    const onlyList = advisory([], {}, ['1.5.0', '1.7.0']);
    expect(affected(onlyList, '1.5.0')).toBe(true);
    expect(affected(onlyList, '1.6.0')).toBe(false);
    const both = advisory([range({ introduced: '2.0.0' }, { fixed: '2.1.0' })], {}, ['1.5.0']);
    expect(affected(both, '1.5.0')).toBe(true);
    expect(affected(both, '2.0.5')).toBe(true);
  });

  it('ignores GIT ranges, but the versions list of the same entry still counts', () => {
    const git: OsvRange = {
      type: 'GIT',
      repo: 'https://github.com/example/pkg',
      events: [{ introduced: '0' }, { fixed: 'c45d7c49ea75133e52ab22a8e9e13173938e36ff' }],
    };
    expect(affected(advisory([git]), '1.0.0')).toBe(false);
    expect(affected(advisory([git], {}, ['1.0.0']), '1.0.0')).toBe(true);
    // A GIT fixed commit is no fixed version either.
    expect(fixedVersions(advisory([git]), { ecosystem: 'npm', name: 'pkg' })).toEqual([]);
  });

  it('matches only the entries about this package', () => {
    const v: OsvVuln = {
      id: 'GHSA-two',
      modified: '2024-01-01T00:00:00Z',
      affected: [
        { package: { ecosystem: 'npm', name: 'other' }, ranges: [range({ introduced: '0' })] },
        {
          package: { ecosystem: 'PyPI', name: 'pkg' },
          ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
        },
        { ranges: [range({ introduced: '0' })] },
      ],
    };
    expect(affected(v, '1.0.0')).toBe(false);
    expect(affected(v, '1.0.0', 'other')).toBe(true);
    expect(affected(v, '1.0.0', 'pkg', 'PyPI')).toBe(true);
  });

  it('a withdrawn document never matches', () => {
    const v = advisory([range({ introduced: '0' })], { withdrawn: '2024-02-01T00:00:00Z' });
    expect(affected(v, '1.0.0')).toBe(false);
    expect(matchVulnerability(v, { ecosystem: 'npm', name: 'pkg', version: '1.0.0' }, npm)).toEqual({
      status: 'not-affected',
      reason: 'withdrawn 2024-02-01T00:00:00Z',
    });
  });
});

describe('matchVulnerability: unknown answers', () => {
  const v = advisory([range({ introduced: '0' }, { fixed: '2.0.0' })]);

  it('an installed version the scheme rejects is unknown, not affected, and says why', () => {
    const result = matchVulnerability(v, { ecosystem: 'npm', name: 'pkg', version: 'not a version' }, npm);
    expect(result).toEqual({ status: 'unknown', reason: '"not a version" is not a valid npm version' });
    expect(isAffected(v, { ecosystem: 'npm', name: 'pkg', version: 'not a version' }, npm)).toBe(false);
  });

  it('an invalid installed version listed verbatim in versions is affected', () => {
    const listed = advisory([range({ introduced: '0' })], {}, ['weird-build']);
    expect(
      matchVulnerability(listed, { ecosystem: 'npm', name: 'pkg', version: 'weird-build' }, npm).status,
    ).toBe('affected');
  });

  it('an event version the scheme rejects makes the range unknown', () => {
    const bad = advisory([range({ introduced: '0' }, { fixed: 'banana' })]);
    const result = matchVulnerability(bad, { ecosystem: 'npm', name: 'pkg', version: '1.0.0' }, npm);
    expect(result.status).toBe('unknown');
    expect(result.reason).toContain('"banana"');
    // …unless another range answers.
    const other = advisory([range({ introduced: '0' }, { fixed: 'banana' }), range({ introduced: '0.5.0' })]);
    expect(affected(other, '1.0.0')).toBe(true);
  });

  it('an unknown package is simply not affected', () => {
    expect(matchVulnerability(v, { ecosystem: 'npm', name: 'nope', version: '??' }, npm)).toEqual({
      status: 'not-affected',
    });
  });
});

describe('package names per ecosystem', () => {
  it('normalises PyPI per PEP 503, NuGet and Packagist case-insensitively, the rest exactly', () => {
    expect(normalisePackageName('PyPI', 'Zope.Interface')).toBe('zope-interface');
    expect(normalisePackageName('PyPI', 'typing__extensions')).toBe('typing-extensions');
    expect(normalisePackageName('PyPI', 'Django')).toBe('django');
    expect(normalisePackageName('NuGet', 'Newtonsoft.Json')).toBe('newtonsoft.json');
    expect(normalisePackageName('Packagist', 'Symfony/Http-Kernel')).toBe('symfony/http-kernel');
    expect(normalisePackageName('npm', 'Lodash')).toBe('Lodash');
    expect(normalisePackageName('Maven', 'org.apache.logging.log4j:log4j-core')).toBe(
      'org.apache.logging.log4j:log4j-core',
    );
  });

  it('matches advisory packages accordingly, across ecosystem suffixes', () => {
    expect(
      packageMatches(
        { ecosystem: 'PyPI', name: 'zope-interface' },
        { ecosystem: 'PyPI', name: 'Zope_Interface' },
      ),
    ).toBe(true);
    expect(
      packageMatches(
        { ecosystem: 'NuGet', name: 'newtonsoft.json' },
        { ecosystem: 'NuGet', name: 'Newtonsoft.Json' },
      ),
    ).toBe(true);
    expect(packageMatches({ ecosystem: 'npm', name: 'lodash' }, { ecosystem: 'npm', name: 'Lodash' })).toBe(
      false,
    );
    expect(
      packageMatches(
        { ecosystem: 'Go', name: 'github.com/Foo/bar' },
        { ecosystem: 'Go', name: 'github.com/foo/bar' },
      ),
    ).toBe(false);
    expect(
      packageMatches({ ecosystem: 'RubyGems', name: 'Rails' }, { ecosystem: 'RubyGems', name: 'rails' }),
    ).toBe(false);
    expect(
      packageMatches(
        { ecosystem: 'Maven:https://maven.google.com', name: 'a:b' },
        { ecosystem: 'Maven', name: 'a:b' },
      ),
    ).toBe(true);
    expect(packageMatches({ ecosystem: 'PyPI', name: 'pkg' }, { ecosystem: 'npm', name: 'pkg' })).toBe(false);
    expect(packageMatches(undefined, { ecosystem: 'npm', name: 'pkg' })).toBe(false);
  });

  it('compares Go versions with and without their v, and PyPI versions by PEP 440 equality in versions lists', () => {
    const go: OsvVuln = {
      id: 'GO-2099-0001',
      modified: '2024-01-01T00:00:00Z',
      affected: [{ package: { ecosystem: 'Go', name: 'example.com/mod' }, versions: ['1.2.3'] }],
    };
    expect(affected(go, 'v1.2.3', 'example.com/mod', 'Go')).toBe(true);
    const py: OsvVuln = {
      id: 'PYSEC-2099-1',
      modified: '2024-01-01T00:00:00Z',
      affected: [{ package: { ecosystem: 'PyPI', name: 'pkg' }, versions: ['1.0'] }],
    };
    expect(affected(py, '1.0.0', 'pkg', 'PyPI')).toBe(true);
    expect(affected(py, '1.0.1', 'pkg', 'PyPI')).toBe(false);
  });
});

describe('fixes', () => {
  const django: OsvVuln = {
    id: 'PYSEC-2021-6',
    modified: '2024-01-01T00:00:00Z',
    affected: [
      {
        package: { ecosystem: 'PyPI', name: 'django' },
        ranges: [
          {
            type: 'ECOSYSTEM',
            events: [
              { introduced: '2.2' },
              { fixed: '2.2.20' },
              { introduced: '3.0' },
              { fixed: '3.0.14' },
              { introduced: '3.1' },
              { fixed: '3.1.8' },
            ],
          },
          {
            type: 'GIT',
            repo: 'https://github.com/django/django',
            events: [{ introduced: '0' }, { fixed: 'abc' }],
          },
        ],
      },
    ],
  };
  const pypi = scheme('PyPI');

  it('fixedVersions lists the fixed events of the version ranges of this package', () => {
    expect(fixedVersions(django, { ecosystem: 'PyPI', name: 'Django' })).toEqual([
      '2.2.20',
      '3.0.14',
      '3.1.8',
    ]);
    expect(fixedVersions(django, { ecosystem: 'PyPI', name: 'flask' })).toEqual([]);
  });

  it('smallestFix prefers the installed major line', () => {
    expect(smallestFix(django, { ecosystem: 'PyPI', name: 'django', version: '2.2.0' }, pypi)).toBe('2.2.20');
    expect(smallestFix(django, { ecosystem: 'PyPI', name: 'django', version: '3.0.5' }, pypi)).toBe('3.0.14');
    expect(smallestFix(django, { ecosystem: 'PyPI', name: 'django', version: '3.1.2' }, pypi)).toBe('3.1.8');
  });

  it('smallestFix takes a higher major when the installed line has no fix', () => {
    const v = advisory([range({ introduced: '0' }, { fixed: '2.0.1' })]);
    expect(smallestFix(v, { ecosystem: 'npm', name: 'pkg', version: '1.4.0' }, npm)).toBe('2.0.1');
    const lines = advisory([
      range({ introduced: '0' }, { fixed: '1.4.5' }, { introduced: '2.0.0' }, { fixed: '2.0.3' }),
    ]);
    expect(smallestFix(lines, { ecosystem: 'npm', name: 'pkg', version: '1.4.0' }, npm)).toBe('1.4.5');
    expect(smallestFix(lines, { ecosystem: 'npm', name: 'pkg', version: '2.0.0' }, npm)).toBe('2.0.3');
  });

  it('smallestFix skips a fix that another range still covers', () => {
    const v = advisory([
      range({ introduced: '0' }, { fixed: '1.4.5' }),
      range({ introduced: '1.4.3' }, { fixed: '1.6.0' }),
    ]);
    expect(smallestFix(v, { ecosystem: 'npm', name: 'pkg', version: '1.4.4' }, npm)).toBe('1.6.0');
  });

  it('0.x semver lines: the minor is the major line', () => {
    const v = advisory([
      range(
        { introduced: '0' },
        { fixed: '0.3.9' },
        { introduced: '0.4.0' },
        { fixed: '0.4.2' },
        { introduced: '1.0.0' },
        { fixed: '1.0.1' },
      ),
    ]);
    expect(smallestFix(v, { ecosystem: 'npm', name: 'pkg', version: '0.3.1' }, npm)).toBe('0.3.9');
    expect(smallestFix(v, { ecosystem: 'npm', name: 'pkg', version: '0.4.0' }, npm)).toBe('0.4.2');
  });

  it('smallestFix is undefined without a fix above the installed version, or for an invalid version', () => {
    const unfixed = advisory([range({ introduced: '0' }, { last_affected: '1.2.0' })]);
    expect(smallestFix(unfixed, { ecosystem: 'npm', name: 'pkg', version: '1.0.0' }, npm)).toBeUndefined();
    const v = advisory([range({ introduced: '0' }, { fixed: '1.0.0' })]);
    expect(smallestFix(v, { ecosystem: 'npm', name: 'pkg', version: 'garbage' }, npm)).toBeUndefined();
    expect(smallestFix(v, { ecosystem: 'npm', name: 'pkg', version: '1.0.0' }, npm)).toBeUndefined();
  });

  it('majorOf: first release segment; PyPI epochs; the 0.x minor in npm, crates.io and Go', () => {
    expect(majorOf('npm', '1.2.3')).toBe('1');
    expect(majorOf('npm', '0.3.1')).toBe('0.3');
    expect(majorOf('crates.io', '0.0.7')).toBe('0.0');
    expect(majorOf('Go', 'v0.0.0-20210226172049-e18ecbb05110')).toBe('0.0');
    expect(majorOf('Go', 'v2.1.0+incompatible')).toBe('2');
    expect(majorOf('PyPI', '2.2.0')).toBe('2');
    expect(majorOf('PyPI', '1!2.0')).toBe('1!2');
    expect(majorOf('PyPI', '0!3.1')).toBe('3');
    expect(majorOf('RubyGems', '0.9.1')).toBe('0');
    expect(majorOf('Maven', '2.17.1')).toBe('2');
    expect(majorOf('NuGet', '013.0.1')).toBe('13');
    expect(majorOf('npm', 'latest')).toBeUndefined();
  });
});

describe('mergeAliases', () => {
  const doc = (id: string, aliases: string[] = [], modified = '2024-01-01T00:00:00Z'): OsvVuln => ({
    id,
    modified,
    aliases,
  });

  it('groups documents whose ids or aliases intersect, transitively, and picks GHSA, then databases, then CVE', () => {
    const groups = mergeAliases([
      doc('PYSEC-2018-28', ['CVE-2018-18074', 'GHSA-x84v-xcm2-53pg']),
      doc('GHSA-x84v-xcm2-53pg', ['CVE-2018-18074']),
      doc('CVE-2020-0001'),
      doc('GO-2022-0001', ['CVE-2022-0003']),
      doc('GHSA-aaaa-bbbb-cccc', ['CVE-2022-0003']),
      // RUSTSEC ↔ OSV share CVE-4; OSV ↔ CVE-5 doc share CVE-5: one group though RUSTSEC and CVE-5 share nothing.
      doc('RUSTSEC-2024-0001', ['CVE-2024-0004']),
      doc('OSV-2024-1', ['CVE-2024-0004', 'CVE-2024-0005']),
      doc('CVE-2024-0005'),
    ]);
    expect(groups.map((g) => [g.id, g.aliases, g.vulns.map((v) => v.id)])).toEqual([
      ['CVE-2020-0001', [], ['CVE-2020-0001']],
      ['GHSA-aaaa-bbbb-cccc', ['GO-2022-0001', 'CVE-2022-0003'], ['GHSA-aaaa-bbbb-cccc', 'GO-2022-0001']],
      ['GHSA-x84v-xcm2-53pg', ['PYSEC-2018-28', 'CVE-2018-18074'], ['GHSA-x84v-xcm2-53pg', 'PYSEC-2018-28']],
      [
        'RUSTSEC-2024-0001',
        ['OSV-2024-1', 'CVE-2024-0004', 'CVE-2024-0005'],
        ['RUSTSEC-2024-0001', 'OSV-2024-1', 'CVE-2024-0005'],
      ],
    ]);
  });

  it('keeps one document per id (the newest) and ignores related ids', () => {
    const groups = mergeAliases([
      doc('GHSA-1', ['CVE-1'], '2024-01-01T00:00:00Z'),
      doc('GHSA-1', ['CVE-1', 'CVE-9'], '2024-06-01T00:00:00Z'),
      { id: 'GHSA-2', modified: '2024-01-01T00:00:00Z', related: ['GHSA-1'] },
    ]);
    expect(groups).toHaveLength(2);
    expect(groups[0]?.aliases).toEqual(['CVE-1', 'CVE-9']);
    expect(groups[0]?.vulns).toHaveLength(1);
  });

  it('ranks ids', () => {
    expect(idRank('GHSA-x84v-xcm2-53pg')).toBe(0);
    expect(idRank('PYSEC-2018-28')).toBe(1);
    expect(idRank('GO-2022-0236')).toBe(1);
    expect(idRank('RUSTSEC-2024-0001')).toBe(1);
    expect(idRank('GSD-2024-1')).toBe(2);
    expect(idRank('CVE-2018-18074')).toBe(3);
    expect(mergeAliases([])).toEqual([]);
  });
});
