// The advisory store: imports from zips (ZIP64 too) and folders, upserts, withdrawn documents, status, errors.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';
import { strToU8, zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import type { OsvVuln } from '../analyzers/deps/osv/schema.js';
import { InputError } from '../errors.js';
import { ADVISORIES_FILE, AdvisoryStore, type ImportProgress } from './advisories.js';

function doc(id: string, name: string, options: Partial<OsvVuln> & { ecosystem?: string } = {}): OsvVuln {
  const { ecosystem = 'PyPI', ...rest } = options;
  return {
    id,
    modified: '2024-01-01T00:00:00Z',
    affected: [
      {
        package: { ecosystem, name },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.0' }] }],
      },
    ],
    ...rest,
  };
}

const json = (value: unknown): Uint8Array => strToU8(JSON.stringify(value));

/** The error `fn` throws, or undefined. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A zip of stored entries written by hand; with `zip64`, every size and offset lives in ZIP64 records. */
function handMadeZip(entries: Array<{ name: string; data: Uint8Array }>, zip64: boolean): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(zip64 ? 45 : 20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    parts.push(local, nameBytes, Buffer.from(data));
    const extra = Buffer.alloc(zip64 ? 28 : 0);
    if (zip64) {
      extra.writeUInt16LE(0x0001, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(data.length), 4);
      extra.writeBigUInt64LE(BigInt(data.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(45, 4);
    header.writeUInt16LE(zip64 ? 45 : 20, 6);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(zip64 ? 0xffffffff : data.length, 20);
    header.writeUInt32LE(zip64 ? 0xffffffff : data.length, 24);
    header.writeUInt16LE(nameBytes.length, 28);
    header.writeUInt16LE(extra.length, 30);
    header.writeUInt32LE(zip64 ? 0xffffffff : offset, 42);
    central.push(header, nameBytes, extra);
    offset += local.length + nameBytes.length + data.length;
  }
  const cd = Buffer.concat(central);
  const tail: Buffer[] = [];
  if (zip64) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(entries.length), 24);
    record.writeBigUInt64LE(BigInt(entries.length), 32);
    record.writeBigUInt64LE(BigInt(cd.length), 40);
    record.writeBigUInt64LE(BigInt(offset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    locator.writeUInt32LE(1, 16);
    tail.push(record, locator);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(zip64 ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(zip64 ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(zip64 ? 0xffffffff : cd.length, 12);
  eocd.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  return Buffer.concat([...parts, cd, ...tail, eocd]);
}

describe('AdvisoryStore', () => {
  let tmp: string;
  let store: AdvisoryStore;

  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'plumbline-advisories-'));
    store = AdvisoryStore.open(join(tmp, 'data'));
  });

  afterEach(() => {
    store.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  function file(relative: string, content: string | Uint8Array): string {
    const path = join(tmp, relative);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, content);
    return path;
  }

  it('creates advisories.db with its schema (WAL, user_version 1) and an empty status', () => {
    const status = store.status();
    expect(status).toEqual({
      path: join(tmp, 'data', ADVISORIES_FILE),
      documents: 0,
      withdrawn: 0,
      byEcosystem: {},
      lastImport: undefined,
      contentHash: createHash('sha256').update('').digest('hex'),
      newestModified: undefined,
    });
    store.close();
    const db = new Database(status.path, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
    store = AdvisoryStore.open(join(tmp, 'data'));
    expect(store.status().documents).toBe(0);
  });

  it('imports a folder of .json, .yaml and .yml documents recursively, counting what it skips', () => {
    file('osv/a/PYSEC-1.json', JSON.stringify(doc('PYSEC-1', 'Django')));
    file('osv/a/b/GHSA-2.yaml', toYaml(doc('GHSA-2', 'requests', { aliases: ['CVE-2'] })));
    file('osv/GHSA-3.yml', toYaml(doc('GHSA-3', 'left-pad', { ecosystem: 'npm' })));
    file('osv/bad.json', '{"id": "X"');
    file('osv/bad.yaml', 'id: [unclosed');
    file('osv/nomodified.json', JSON.stringify({ id: 'X-1' }));
    file('osv/badtime.json', JSON.stringify({ id: 'X-2', modified: 'yesterday' }));
    file('osv/README.txt', 'not an advisory');
    file('osv/.git/HEAD.json', '{}');
    const progress: ImportProgress[] = [];
    const record = store.importPaths([join(tmp, 'osv')], { onProgress: (p) => progress.push(p) });
    expect(record).toMatchObject({
      documents: 3,
      inserted: 3,
      updated: 0,
      unchanged: 0,
      stale: 0,
      skipped: 4,
      skippedReasons: {
        'not valid JSON': 1,
        'not valid YAML': 1,
        'modified: Invalid input: expected string, received undefined': 1,
        'modified: not an RFC 3339 timestamp': 1,
      },
    });
    expect(record.sources).toHaveLength(1);
    expect(record.sources[0]).toMatchObject({
      path: join(tmp, 'osv'),
      kind: 'folder',
      files: 7,
      documents: 3,
      skipped: 4,
    });
    expect(progress.at(-1)).toEqual({ path: join(tmp, 'osv'), done: 7, total: 7 });
    expect(store.lookup('PyPI', 'django').map((v) => v.id)).toEqual(['PYSEC-1']);
    expect(store.lookup('PyPI', 'Requests').map((v) => v.aliases)).toEqual([['CVE-2']]);
    expect(store.lookup('npm', 'left-pad').map((v) => v.id)).toEqual(['GHSA-3']);
    expect(store.status().byEcosystem).toEqual({ PyPI: 2, npm: 1 });
  });

  it('imports an OSV export zip entry by entry: only .json entries, deflated or stored', () => {
    const zip = file(
      'PyPI.zip',
      zipSync({
        'PYSEC-1.json': json(doc('PYSEC-1', 'django')),
        'nested/PYSEC-2.json': [json(doc('PYSEC-2', 'django')), { level: 0 }],
        'nested/': new Uint8Array(0),
        'notes.md': strToU8('# not OSV'),
        'broken.json': strToU8('[1, 2'),
      }),
    );
    const record = store.importPaths([zip]);
    expect(record.sources[0]).toEqual({
      path: zip,
      kind: 'zip',
      sha256: createHash('sha256').update(readFileSync(zip)).digest('hex'),
      files: 3,
      documents: 2,
      skipped: 1,
      skippedReasons: { 'not valid JSON': 1 },
    });
    expect(store.lookup('PyPI', 'django').map((v) => v.id)).toEqual(['PYSEC-1', 'PYSEC-2']);
    expect(store.status().lastImport).toEqual(record);
  });

  it('reads ZIP64 archives (exports of more than 65,535 documents)', () => {
    const entries = [1, 2, 3].map((n) => ({
      name: `GHSA-${n}.json`,
      data: json(doc(`GHSA-${n}`, 'pkg', { ecosystem: 'npm' })),
    }));
    const plain = file('plain.zip', handMadeZip(entries, false));
    const zip64 = file('zip64.zip', handMadeZip(entries, true));
    expect(store.importPaths([plain]).inserted).toBe(3);
    expect(store.importPaths([zip64])).toMatchObject({ documents: 3, unchanged: 3 });
  });

  it('upserts by id: newer replaces, older is kept out, identical is unchanged, equal-time changes replace', () => {
    const write = (name: string, vuln: OsvVuln): string =>
      file(`in/${name}/${vuln.id}.json`, JSON.stringify(vuln));
    store.importPaths([write('1', doc('GHSA-1', 'django', { summary: 'first' }))]);
    const first = store.status().contentHash;

    const newer = store.importPaths([
      write('2', doc('GHSA-1', 'flask', { summary: 'second', modified: '2024-02-01T00:00:00Z' })),
    ]);
    expect(newer).toMatchObject({ updated: 1, inserted: 0 });
    expect(store.lookup('PyPI', 'django')).toEqual([]);
    expect(store.lookup('PyPI', 'flask').map((v) => v.summary)).toEqual(['second']);
    const second = store.status().contentHash;
    expect(second).not.toBe(first);

    const older = store.importPaths([
      write('3', doc('GHSA-1', 'django', { summary: 'stale', modified: '2023-01-01T00:00:00Z' })),
    ]);
    expect(older).toMatchObject({ stale: 1, updated: 0 });
    expect(store.get('GHSA-1')?.summary).toBe('second');

    const same = store.importPaths([
      write('4', doc('GHSA-1', 'flask', { summary: 'second', modified: '2024-02-01T00:00:00Z' })),
    ]);
    expect(same).toMatchObject({ unchanged: 1 });
    expect(store.status().contentHash).toBe(second);

    const sameTime = store.importPaths([
      write('5', doc('GHSA-1', 'flask', { summary: 'third', modified: '2024-02-01T00:00:00Z' })),
    ]);
    expect(sameTime).toMatchObject({ updated: 1 });
    expect(store.lookup('PyPI', 'flask').map((v) => v.summary)).toEqual(['third']);
    expect(store.status().documents).toBe(1);
    expect(store.status().newestModified).toBe('2024-02-01T00:00:00Z');
  });

  it('stores withdrawn documents but never returns them from lookup', () => {
    const folder = join(tmp, 'w');
    file('w/GHSA-1.json', JSON.stringify(doc('GHSA-1', 'django', { withdrawn: '2024-03-01T00:00:00Z' })));
    file('w/GHSA-2.json', JSON.stringify(doc('GHSA-2', 'django')));
    store.importPaths([folder]);
    expect(store.lookup('PyPI', 'django').map((v) => v.id)).toEqual(['GHSA-2']);
    expect(store.get('GHSA-1')?.withdrawn).toBe('2024-03-01T00:00:00Z');
    expect(store.status()).toMatchObject({ documents: 2, withdrawn: 1 });
    // A later un-withdrawn version matches again.
    file('w2/GHSA-1.json', JSON.stringify(doc('GHSA-1', 'django', { modified: '2024-04-01T00:00:00Z' })));
    store.importPaths([join(tmp, 'w2')]);
    expect(store.lookup('PyPI', 'django').map((v) => v.id)).toEqual(['GHSA-1', 'GHSA-2']);
  });

  it('indexes by base ecosystem and the ecosystem’s normalised name', () => {
    file('e/DSA-1.json', JSON.stringify(doc('DSA-1', 'openssl', { ecosystem: 'Debian:11' })));
    file('e/PYSEC-1.json', JSON.stringify(doc('PYSEC-1', 'Zope.Interface')));
    file('e/NUGET-1.json', JSON.stringify(doc('NUGET-1', 'Newtonsoft.Json', { ecosystem: 'NuGet' })));
    file('e/GHSA-1.json', JSON.stringify(doc('GHSA-1', 'Lodash', { ecosystem: 'npm' })));
    store.importPaths([join(tmp, 'e')]);
    expect(store.lookup('Debian', 'openssl').map((v) => v.id)).toEqual(['DSA-1']);
    expect(store.lookup('Debian:12', 'openssl').map((v) => v.id)).toEqual(['DSA-1']);
    expect(store.lookup('PyPI', 'zope_interface').map((v) => v.id)).toEqual(['PYSEC-1']);
    expect(store.lookup('NuGet', 'newtonsoft.json').map((v) => v.id)).toEqual(['NUGET-1']);
    expect(store.lookup('npm', 'lodash')).toEqual([]);
    expect(store.status().byEcosystem).toEqual({ Debian: 1, NuGet: 1, PyPI: 1, npm: 1 });
  });

  it('looks up many packages at once, aligned with the input, through a bounded cache', () => {
    store.close();
    store = AdvisoryStore.open(join(tmp, 'data'), { cacheSize: 2 });
    for (let i = 0; i < 5; i++)
      file(`m/GHSA-${i}.json`, JSON.stringify(doc(`GHSA-${i}`, `pkg${i % 3}`, { ecosystem: 'npm' })));
    store.importPaths([join(tmp, 'm')]);
    const packages = [0, 1, 2, 0, 9].map((i) => ({ ecosystem: 'npm', name: `pkg${i}` }));
    for (let round = 0; round < 2; round++) {
      expect(store.lookupMany(packages).map((list) => list.map((v) => v.id))).toEqual([
        ['GHSA-0', 'GHSA-3'],
        ['GHSA-1', 'GHSA-4'],
        ['GHSA-2'],
        ['GHSA-0', 'GHSA-3'],
        [],
      ]);
    }
    expect(store.lookupMany([])).toEqual([]);
  });

  it('names the same content with the same hash, however it was imported', () => {
    const docs = [doc('GHSA-1', 'a'), doc('GHSA-2', 'b'), doc('PYSEC-3', 'c')];
    docs.forEach((d) => {
      file(`same/${d.id}.json`, JSON.stringify(d));
    });
    // The zip holds the same documents with their keys in another order.
    const reordered = Object.fromEntries(
      docs.map((d) => [`${d.id}.json`, json(Object.fromEntries(Object.entries(d).reverse()))] as const),
    );
    const zip = file('same.zip', zipSync(reordered));
    store.importPaths([join(tmp, 'same')]);
    const other = AdvisoryStore.open(join(tmp, 'other'));
    try {
      other.importPaths([zip]);
      expect(other.status().contentHash).toBe(store.status().contentHash);
      expect(store.importPaths([zip])).toMatchObject({ unchanged: 3 });
    } finally {
      other.close();
    }
  });

  describe('bad input', () => {
    beforeEach(() => {
      file('good/GHSA-1.json', JSON.stringify(doc('GHSA-1', 'django')));
    });

    function expectUnchanged(): void {
      expect(store.status()).toMatchObject({ documents: 0, lastImport: undefined });
    }

    it('a missing path: an InputError naming it, and nothing imported', () => {
      const missing = join(tmp, 'nope.zip');
      const error = thrown(() => store.importPaths([join(tmp, 'good'), missing]));
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toBe(`cannot import ${missing}: no such file or folder`);
      expect((error as InputError).hint).toContain('all.zip');
      expectUnchanged();
    });

    it('no paths at all', () => {
      expect(() => store.importPaths([])).toThrow(InputError);
    });

    it('a file that is not a zip', () => {
      const notZip = file('random.zip', Buffer.from('definitely not a zip archive'));
      expect(() => store.importPaths([notZip])).toThrow(
        `cannot import ${notZip}: not a zip file, a folder, or an OSV .json/.yaml file`,
      );
    });

    it('a truncated zip', () => {
      const whole = zipSync({
        'GHSA-1.json': json(doc('GHSA-1', 'a')),
        'GHSA-2.json': json(doc('GHSA-2', 'b')),
      });
      const truncated = file('truncated.zip', whole.subarray(0, Math.floor(whole.length / 2)));
      const error = thrown(() => store.importPaths([join(tmp, 'good'), truncated]));
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).message).toBe(
        `${truncated} is not a readable zip file: no end of central directory record (truncated, or not a zip)`,
      );
      expect((error as InputError).hint).toContain('OSV export');
      expectUnchanged();
    });

    it('a zip whose data is damaged: the import is rolled back', () => {
      const content = JSON.stringify(doc('GHSA-9', 'django', { details: 'x'.repeat(2000) }));
      const bytes = Buffer.from(zipSync({ 'GHSA-9.json': [strToU8(content), { level: 0 }] }));
      const at = bytes.indexOf('xxxxxxxx');
      bytes.write('yyyy', at);
      const damaged = file('damaged.zip', bytes);
      expect(() => store.importPaths([join(tmp, 'good'), damaged])).toThrow(
        `${damaged} is not a readable zip file: GHSA-9.json fails its CRC check`,
      );
      expectUnchanged();
      const deflated = Buffer.from(zipSync({ 'GHSA-9.json': strToU8(content) }));
      deflated.fill(0xff, 40, 60);
      const broken = file('broken.zip', deflated);
      expect(() => store.importPaths([broken])).toThrow(InputError);
      expectUnchanged();
    });

    it('a database written by a newer Plumbline, or a file that is no database', () => {
      store.close();
      const dir = join(tmp, 'newer');
      mkdirSync(dir);
      const db = new Database(join(dir, ADVISORIES_FILE));
      db.pragma('user_version = 99');
      db.close();
      expect(() => AdvisoryStore.open(dir)).toThrow(
        'was written by a newer Plumbline (schema 99, this one knows 1)',
      );
      const junk = join(tmp, 'junk');
      mkdirSync(junk);
      writeFileSync(
        join(junk, ADVISORIES_FILE),
        'this is not SQLite, not even close to it, at all: '.repeat(20),
      );
      expect(() => AdvisoryStore.open(junk)).toThrow(InputError);
      store = AdvisoryStore.open(join(tmp, 'data'));
    });
  });
});
