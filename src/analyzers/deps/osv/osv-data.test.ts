// Matching on real OSV data: the shared PyPI and Go exports imported into a temporary store.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdvisoryStore } from '../../../store/advisories.js';
import type { VersionScheme } from '../types.js';
import { schemeFor } from '../versions/index.js';
import { severityOf } from './cvss.js';
import {
  fixedVersions,
  isAffected,
  matchVulnerability,
  mergeAliases,
  type PackageVersion,
  smallestFix,
} from './match.js';

/** The repository root (this file is src/analyzers/deps/osv/…); the data lives beside it in ../shared/data. */
const REPOSITORY_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const OSV_DIR = resolve(REPOSITORY_ROOT, '../shared/data/osv');
const ZIPS = [join(OSV_DIR, 'PyPI.zip'), join(OSV_DIR, 'Go.zip')];
const present = ZIPS.every((zip) => existsSync(zip));

function scheme(ecosystem: string): VersionScheme {
  const found = schemeFor(ecosystem);
  if (found === undefined) throw new Error(`no scheme for ${ecosystem}`);
  return found;
}

/**
 * Expected matches, read from the data (PyPA advisory database snapshot 2024-10-10, Go vulnerability database
 * snapshot 2026-08-21): id → [fixed versions of the package's ranges, smallest fix for the installed version].
 */
const DJANGO_2_2_0: Record<string, readonly [string[], string]> = {
  'PYSEC-2019-10': [['2.1.10', '2.2.3', '1.11.22'], '2.2.3'],
  'PYSEC-2019-11': [['1.11.23', '2.1.11', '2.2.4'], '2.2.4'],
  'PYSEC-2019-12': [['2.1.11', '2.2.4', '1.11.23'], '2.2.4'],
  'PYSEC-2019-13': [['2.1.11', '1.11.23', '2.2.4'], '2.2.4'],
  'PYSEC-2019-14': [['2.2.4', '1.11.23', '2.1.11'], '2.2.4'],
  'PYSEC-2019-15': [['2.1.15', '2.2.8'], '2.2.8'],
  'PYSEC-2019-16': [['1.11.27', '2.2.9'], '2.2.9'],
  'PYSEC-2019-79': [['2.1.9', '1.11.21', '2.2.2'], '2.2.2'],
  'PYSEC-2020-31': [['2.2.13', '3.0.7'], '2.2.13'],
  'PYSEC-2020-32': [['2.2.13', '3.0.7'], '2.2.13'],
  'PYSEC-2020-33': [['2.2.16', '3.0.10', '3.1.1'], '2.2.16'],
  'PYSEC-2020-34': [['2.2.16', '3.0.10', '3.1.1'], '2.2.16'],
  'PYSEC-2020-35': [['1.11.28', '2.2.10', '3.0.3'], '2.2.10'],
  'PYSEC-2020-36': [['1.11.29', '2.2.11', '3.0.4'], '2.2.11'],
  'PYSEC-2021-439': [['2.2.25', '3.1.14', '3.2.10'], '2.2.25'],
  'PYSEC-2021-6': [['2.2.20', '3.0.14', '3.1.8'], '2.2.20'],
  'PYSEC-2021-7': [['2.2.21', '3.1.9', '3.2.1'], '2.2.21'],
  'PYSEC-2021-8': [['2.2.22', '3.1.10', '3.2.2'], '2.2.22'],
  'PYSEC-2021-9': [['2.2.18', '3.0.12', '3.1.6'], '2.2.18'],
  'PYSEC-2021-98': [['2.2.24', '3.1.12', '3.2.4'], '2.2.24'],
  'PYSEC-2021-99': [['2.2.24', '3.1.12', '3.2.4'], '2.2.24'],
  'PYSEC-2022-1': [['2.2.26', '3.2.11', '4.0.1'], '2.2.26'],
  'PYSEC-2022-19': [['2.2.27', '3.2.12', '4.0.2'], '2.2.27'],
  'PYSEC-2022-190': [['4.0.4', '3.2.13', '2.2.28'], '2.2.28'],
  'PYSEC-2022-191': [['4.0.4', '3.2.13', '2.2.28'], '2.2.28'],
  'PYSEC-2022-2': [['2.2.26', '3.2.11', '4.0.1'], '2.2.26'],
  'PYSEC-2022-20': [['2.2.27', '3.2.12', '4.0.2'], '2.2.27'],
  'PYSEC-2022-3': [['2.2.26', '3.2.11', '4.0.1'], '2.2.26'],
};

const REQUESTS_2_19_0: Record<string, readonly [string[], string]> = {
  'PYSEC-2018-28': [['2.20.0'], '2.20.0'], // CVE-2018-18074: Authorization header kept on an https→http redirect
  'PYSEC-2023-74': [['2.31.0'], '2.31.0'], // CVE-2023-32681: Proxy-Authorization leaked to the destination
};

const X_NET: Record<string, readonly [string[], string]> = {
  'GO-2021-0238': [['0.0.0-20210520170846-37e1c6afe023'], '0.0.0-20210520170846-37e1c6afe023'],
  'GO-2022-0236': [['0.0.0-20210428140749-89ef3d95e781'], '0.0.0-20210428140749-89ef3d95e781'],
  'GO-2022-0288': [['0.0.0-20211209124913-491a49abca63'], '0.0.0-20211209124913-491a49abca63'],
  'GO-2022-0969': [['0.0.0-20220906165146-f3363e06e74c'], '0.0.0-20220906165146-f3363e06e74c'],
  'GO-2022-1144': [['0.4.0'], '0.4.0'],
  'GO-2023-1571': [['0.7.0'], '0.7.0'],
  'GO-2023-1988': [['0.13.0'], '0.13.0'],
  'GO-2023-2102': [['0.17.0'], '0.17.0'],
  'GO-2024-2687': [['0.23.0'], '0.23.0'],
  'GO-2024-3333': [['0.33.0'], '0.33.0'],
  'GO-2025-3503': [['0.36.0'], '0.36.0'],
  'GO-2025-3595': [['0.38.0'], '0.38.0'],
  'GO-2026-4440': [['0.45.0'], '0.45.0'],
  'GO-2026-4441': [['0.45.0'], '0.45.0'],
  'GO-2026-4918': [['0.53.0'], '0.53.0'],
  'GO-2026-5025': [['0.55.0'], '0.55.0'],
  'GO-2026-5026': [['0.55.0'], '0.55.0'],
  'GO-2026-5027': [['0.55.0'], '0.55.0'],
  'GO-2026-5028': [['0.55.0'], '0.55.0'],
  'GO-2026-5029': [['0.55.0'], '0.55.0'],
  'GO-2026-5030': [['0.55.0'], '0.55.0'],
  'GO-2026-5942': [['0.56.0'], '0.56.0'],
};

describe.skipIf(!present)('OSV matching on the shared PyPI and Go exports', () => {
  let tmp: string;
  let store: AdvisoryStore;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'plumbline-osv-data-'));
    store = AdvisoryStore.open(tmp);
    const started = performance.now();
    const record = store.importPaths(ZIPS);
    const ms = performance.now() - started;
    console.log(`imported ${record.documents} documents from PyPI.zip and Go.zip in ${ms.toFixed(0)} ms`);
  });

  afterAll(() => {
    store?.close();
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  });

  function affecting(pkg: PackageVersion): Record<string, readonly [string[], string | undefined]> {
    const s = scheme(pkg.ecosystem);
    const out: Record<string, readonly [string[], string | undefined]> = {};
    for (const vuln of store.lookup(pkg.ecosystem, pkg.name)) {
      const result = matchVulnerability(vuln, pkg, s);
      expect(result.status).not.toBe('unknown');
      if (result.status === 'affected') out[vuln.id] = [fixedVersions(vuln, pkg), smallestFix(vuln, pkg, s)];
    }
    return out;
  }

  it('imported every document of both exports', () => {
    const status = store.status();
    expect(status.byEcosystem).toEqual({ Go: 4291, PyPI: 2661 });
    expect(status.documents).toBe(6952);
    expect(status.withdrawn).toBe(27);
    expect(status.lastImport?.skipped).toBe(0);
    expect(status.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('django 2.2.0 is affected by exactly its 28 PyPA advisories, each with a fix on the 2.2 line', () => {
    expect(affecting({ ecosystem: 'PyPI', name: 'django', version: '2.2.0' })).toEqual(DJANGO_2_2_0);
    // The name as a requirements file may spell it.
    expect(Object.keys(affecting({ ecosystem: 'PyPI', name: 'Django', version: '2.2.0' }))).toHaveLength(28);
  });

  it('requests 2.19.0 is affected by CVE-2018-18074 (fixed in 2.20.0) and CVE-2023-32681', () => {
    expect(affecting({ ecosystem: 'PyPI', name: 'requests', version: '2.19.0' })).toEqual(REQUESTS_2_19_0);
    const [group] = mergeAliases(store.lookup('PyPI', 'requests').filter((v) => v.id === 'PYSEC-2018-28'));
    expect(group?.aliases).toEqual(['GHSA-x84v-xcm2-53pg', 'CVE-2018-18074']);
  });

  it('rates real documents: from their CVSS vector, or medium when they carry none', () => {
    const rated = store.get('PYSEC-2024-71'); // flask-cors, CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N
    expect(rated === undefined ? undefined : severityOf(rated)).toEqual({
      severity: 'high',
      score: 7.5,
      source: 'cvss_v3',
      vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
    });
    const unrated = store.get('PYSEC-2018-28');
    expect(unrated === undefined ? undefined : severityOf(unrated)).toEqual({
      severity: 'medium',
      source: 'none',
    });
  });

  it('golang.org/x/net at a 2021 pseudo-version is affected by its 22 Go advisories', () => {
    expect(
      affecting({ ecosystem: 'Go', name: 'golang.org/x/net', version: 'v0.0.0-20210226172049-e18ecbb05110' }),
    ).toEqual(X_NET);
  });

  it('a version after every fix is not affected', () => {
    for (const [ecosystem, name, version] of [
      ['PyPI', 'django', '5.1.2'],
      ['PyPI', 'requests', '2.32.3'],
      ['Go', 'golang.org/x/net', 'v0.56.0'],
    ] as const) {
      const s = scheme(ecosystem);
      const vulns = store.lookup(ecosystem, name);
      expect(vulns.length).toBeGreaterThan(0);
      // Every fix of every advisory is at or below the version…
      for (const vuln of vulns) {
        for (const fix of fixedVersions(vuln, { ecosystem, name }))
          expect(s.compare(fix, version)).toBeLessThanOrEqual(0);
      }
      // …and nothing matches it.
      expect(vulns.filter((v) => isAffected(v, { ecosystem, name, version }, s)).map((v) => v.id)).toEqual(
        [],
      );
    }
  });

  it('withdrawn advisories never match', () => {
    // PYSEC-2023-73 (redis, introduced 0, no fix) was withdrawn on 2023-06-06.
    const withdrawn = store.get('PYSEC-2023-73');
    expect(withdrawn?.withdrawn).toBe('2023-06-06T10:37:00Z');
    expect(store.lookup('PyPI', 'redis').map((v) => v.id)).not.toContain('PYSEC-2023-73');
    if (withdrawn !== undefined) {
      expect(
        isAffected(withdrawn, { ecosystem: 'PyPI', name: 'redis', version: '4.5.0' }, scheme('PyPI')),
      ).toBe(false);
    }
    // Seven github.com/lib/pq advisories of 2026 were all withdrawn: none remains to match.
    const pq = store.lookup('Go', 'github.com/lib/pq');
    expect(pq.filter((v) => v.id.startsWith('GO-2026-61'))).toEqual([]);
    expect(store.get('GO-2026-6170')?.withdrawn).toBe('2026-08-18T20:22:49Z');
  });
});

describe.skipIf(present)('OSV matching on the shared exports', () => {
  it(`needs ${ZIPS.join(' and ')}; skipped: the shared OSV data is not checked out here`, () => {
    expect(present).toBe(false);
  });
});
