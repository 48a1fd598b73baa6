// Measures the advisory store at scale: 100,000 synthetic advisories shaped like the real ones, 10,000 lookups.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strToU8, unzipSync, Zip, ZipPassThrough } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import type { OsvVuln } from '../analyzers/deps/osv/schema.js';
import { AdvisoryStore } from './advisories.js';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OSV_DIR = resolve(REPOSITORY_ROOT, '../shared/data/osv');
const ZIPS = [join(OSV_DIR, 'PyPI.zip'), join(OSV_DIR, 'Go.zip')];
const present = ZIPS.every((zip) => existsSync(zip));

const ADVISORIES = 100_000;
const PER_ZIP = 50_000;
const NAMES = 25_000;
const LOOKUPS = 10_000;

/** Writes documents into a zip file entry by entry (fflate's streaming writer), never holding the archive. */
function writeZip(path: string, docs: Iterable<OsvVuln>): void {
  const fd = openSync(path, 'w');
  try {
    const zip = new Zip((error, chunk) => {
      if (error !== null) throw error;
      writeSync(fd, chunk);
    });
    for (const doc of docs) {
      const entry = new ZipPassThrough(`${doc.id}.json`);
      zip.add(entry);
      entry.push(strToU8(JSON.stringify(doc)), true);
    }
    zip.end();
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!present)('AdvisoryStore at scale (prints times; no timing asserts)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'plumbline-advisories-perf-'));

  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('imports 100,000 advisories and answers 10,000 package lookups', { timeout: 600_000 }, () => {
    // Templates: the real PyPI and Go documents, as they are (ranges, versions lists, GIT ranges, severity…).
    const templates: OsvVuln[] = [];
    for (const zip of ZIPS) {
      for (const bytes of Object.values(unzipSync(readFileSync(zip)))) {
        templates.push(JSON.parse(Buffer.from(bytes).toString('utf8')) as OsvVuln);
      }
    }
    const existing = new Set<string>();
    function* synthetic(from: number, to: number): Generator<OsvVuln> {
      for (let i = from; i < to; i++) {
        const template = templates[i % templates.length] as OsvVuln;
        const name = `syn-${i % NAMES}`;
        yield {
          ...template,
          id: `SYN-${i}`,
          aliases: [`CVE-9999-${i}`],
          withdrawn: undefined,
          affected: (template.affected ?? []).map((entry, j) => {
            const ecosystem = entry.package?.ecosystem ?? 'PyPI';
            const pkgName = j === 0 ? name : `${name}-${j}`;
            existing.add(`${ecosystem}\0${pkgName}`);
            return { ...entry, package: { ecosystem, name: pkgName } };
          }),
        };
      }
    }
    let started = performance.now();
    const zips: string[] = [];
    for (let from = 0; from < ADVISORIES; from += PER_ZIP) {
      const path = join(tmp, `synthetic-${from}.zip`);
      writeZip(path, synthetic(from, Math.min(ADVISORIES, from + PER_ZIP)));
      zips.push(path);
    }
    const writeMs = performance.now() - started;

    const store = AdvisoryStore.open(join(tmp, 'data'));
    try {
      started = performance.now();
      const record = store.importPaths(zips);
      const importMs = performance.now() - started;
      expect(record.documents).toBe(ADVISORIES);

      // Half the packages have advisories (spread over all names), half have none.
      const known = [...existing];
      const packages = Array.from({ length: LOOKUPS }, (_, i) => {
        if (i % 2 === 1) return { ecosystem: 'PyPI', name: `no-such-package-${i}` };
        const [ecosystem = '', name = ''] = (known[(i * 7919) % known.length] ?? '').split('\0');
        return { ecosystem, name };
      });
      started = performance.now();
      const cold = store.lookupMany(packages);
      const coldMs = performance.now() - started;
      started = performance.now();
      const warm = store.lookupMany(packages);
      const warmMs = performance.now() - started;
      const found = cold.reduce((n, list) => n + list.length, 0);
      expect(warm.reduce((n, list) => n + list.length, 0)).toBe(found);
      expect(cold.filter((list, i) => i % 2 === 0 && list.length === 0)).toEqual([]);

      console.log(
        [
          `synthetic zips: ${ADVISORIES} advisories written in ${writeMs.toFixed(0)} ms`,
          `import: ${ADVISORIES} advisories in ${importMs.toFixed(0)} ms`,
          `lookupMany: ${LOOKUPS} packages (${found} advisories returned) cold ${coldMs.toFixed(0)} ms, warm ${warmMs.toFixed(0)} ms`,
        ].join('\n'),
      );
    } finally {
      store.close();
    }
  });
});

describe.skipIf(present)('AdvisoryStore at scale', () => {
  it(`needs ${ZIPS.join(' and ')} for realistic shapes; skipped: the shared OSV data is not checked out here`, () => {
    expect(present).toBe(false);
  });
});
