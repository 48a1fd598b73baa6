// The local advisory database: OSV documents imported from export zips or folders into one SQLite file.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3';
import { inflateSync } from 'fflate';
import { parse as parseYaml } from 'yaml';
import { normalisePackageName, type PackageRef } from '../analyzers/deps/osv/match.js';
import { normaliseEcosystem, type OsvVuln, parseOsvDocument } from '../analyzers/deps/osv/schema.js';
import { InputError } from '../errors.js';

export const ADVISORIES_FILE = 'advisories.db';

export interface ImportProgress {
  /** The path being imported, as given. */
  readonly path: string;
  /** Entries (zip) or files (folder) handled so far in this path. */
  readonly done: number;
  readonly total: number;
}

export interface ImportOptions {
  /** Called every few hundred documents and at the end of each path. */
  readonly onProgress?: (progress: ImportProgress) => void;
}

export interface ImportSource {
  /** Absolute path of the zip, folder or file. */
  readonly path: string;
  readonly kind: 'zip' | 'folder' | 'file';
  /**
   * sha256 of the file; for a folder, sha256 over its sorted `relative/path\0<sha256 of the file>\n` lines,
   * so a folder's digest changes with any of its OSV files.
   */
  readonly sha256: string;
  /** `.json` entries of the zip, OSV files of the folder (1 for a file). */
  readonly files: number;
  /** Valid documents read. */
  readonly documents: number;
  readonly skipped: number;
  /** Why documents were skipped, with counts (`not valid JSON`, `id: Invalid input: …`). */
  readonly skippedReasons: Readonly<Record<string, number>>;
}

export interface ImportRecord {
  /** ISO 8601 time the import started. */
  readonly at: string;
  readonly sources: readonly ImportSource[];
  readonly documents: number;
  /** New ids. */
  readonly inserted: number;
  /** Stored documents replaced by one with a newer (or equal, but different) `modified`. */
  readonly updated: number;
  /** Identical to the stored document. */
  readonly unchanged: number;
  /** Older than the stored document: kept the stored one. */
  readonly stale: number;
  readonly skipped: number;
  readonly skippedReasons: Readonly<Record<string, number>>;
  /** The store's content hash after the import. */
  readonly contentHash: string;
}

export interface AdvisoryStatus {
  /** The SQLite file. */
  readonly path: string;
  /** Stored documents, withdrawn ones included. */
  readonly documents: number;
  readonly withdrawn: number;
  /** Documents per base ecosystem (a document about two ecosystems counts in both). */
  readonly byEcosystem: Readonly<Record<string, number>>;
  readonly lastImport: ImportRecord | undefined;
  /** sha256 over the sorted `id\0modified\0<sha256 of the canonical document>\n` lines: names the snapshot. */
  readonly contentHash: string;
  /** The newest `modified` of any stored document. */
  readonly newestModified: string | undefined;
}

export interface OpenOptions {
  /** Parsed documents kept in memory, most recently used first. Default 20,000. */
  readonly cacheSize?: number;
}

/** Schema steps; `PRAGMA user_version` is the number of steps applied. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE vulns (
     id TEXT NOT NULL UNIQUE,
     modified TEXT NOT NULL,
     modified_ms INTEGER NOT NULL,
     withdrawn INTEGER NOT NULL,
     doc_sha256 TEXT NOT NULL,
     json TEXT NOT NULL
   );
   CREATE TABLE affected (
     ecosystem TEXT NOT NULL,
     name TEXT NOT NULL,
     vuln_id TEXT NOT NULL,
     withdrawn INTEGER NOT NULL,
     PRIMARY KEY (ecosystem, name, vuln_id)
   ) WITHOUT ROWID;
   CREATE INDEX affected_by_vuln ON affected (vuln_id);
   CREATE TABLE imports (
     id INTEGER PRIMARY KEY,
     at TEXT NOT NULL,
     record TEXT NOT NULL
   );
   CREATE TABLE import_sources (
     import_id INTEGER NOT NULL REFERENCES imports (id),
     position INTEGER NOT NULL,
     path TEXT NOT NULL,
     kind TEXT NOT NULL,
     sha256 TEXT NOT NULL,
     documents INTEGER NOT NULL,
     skipped INTEGER NOT NULL,
     PRIMARY KEY (import_id, position)
   );
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];

const IMPORT_HINT =
  'download an OSV export (https://osv-vulnerabilities.storage.googleapis.com/<ecosystem>/all.zip) and pass its path';

/** JSON with object keys sorted at every level: equal documents have equal text and hash. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function sha256OfFile(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

function count(reasons: Record<string, number>, reason: string): void {
  reasons[reason] = (reasons[reason] ?? 0) + 1;
}

// ---------------------------------------------------------------------------------------------------------
// Zip reading: the central directory is read from the end of the file, then each entry is read with
// positional reads and inflated on its own (fflate), so memory holds one entry at a time. ZIP64 is supported
// (exports of more than 65,535 documents).

interface ZipEntry {
  readonly name: string;
  readonly flags: number;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? buffer : buffer.subarray(0, done);
}

function corrupt(path: string, what: string): InputError {
  return new InputError(`${path} is not a readable zip file: ${what}`, IMPORT_HINT);
}

function readU64(buffer: Buffer, offset: number): number {
  return Number(buffer.readBigUInt64LE(offset));
}

function readZipDirectory(fd: number, fileSize: number, path: string): ZipEntry[] {
  const tailLength = Math.min(fileSize, 22 + 0xffff + 20);
  const tailStart = fileSize - tailLength;
  const tail = readAt(fd, tailStart, tailLength);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50 && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw corrupt(path, 'no end of central directory record (truncated, or not a zip)');
  let total = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator >= 0 && tail.readUInt32LE(locator) === 0x07064b50) {
      const zip64 = readAt(fd, readU64(tail, locator + 8), 56);
      if (zip64.length < 56 || zip64.readUInt32LE(0) !== 0x06064b50) throw corrupt(path, 'bad ZIP64 record');
      total = readU64(zip64, 32);
      cdSize = readU64(zip64, 40);
      cdOffset = readU64(zip64, 48);
    }
  }
  if (cdOffset + cdSize > fileSize) throw corrupt(path, 'the central directory lies outside the file');
  const cd = readAt(fd, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < total; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50)
      throw corrupt(path, 'bad central directory entry');
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLength);
    // ZIP64 extended information: the 64-bit values of the fields that are 0xFFFFFFFF, in this order.
    let x = p + 46 + nameLength;
    const extraEnd = x + extraLength;
    while (x + 4 <= extraEnd) {
      const id = cd.readUInt16LE(x);
      const length = cd.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        const end = x + 4 + length;
        if (size === 0xffffffff && q + 8 <= end) {
          size = readU64(cd, q);
          q += 8;
        }
        if (compressedSize === 0xffffffff && q + 8 <= end) {
          compressedSize = readU64(cd, q);
          q += 8;
        }
        if (localOffset === 0xffffffff && q + 8 <= end) localOffset = readU64(cd, q);
      }
      x += 4 + length;
    }
    entries.push({ name, flags, method, crc, compressedSize, size, localOffset });
    p = extraEnd + commentLength;
  }
  return entries;
}

function readZipEntry(fd: number, entry: ZipEntry, path: string): Uint8Array {
  const header = readAt(fd, entry.localOffset, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== 0x04034b50) {
    throw corrupt(path, `bad local header for ${entry.name}`);
  }
  const start = entry.localOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const compressed = readAt(fd, start, entry.compressedSize);
  if (compressed.length < entry.compressedSize) throw corrupt(path, `${entry.name} is truncated`);
  let data: Uint8Array;
  if (entry.method === 0) data = compressed;
  else {
    try {
      data = inflateSync(compressed, { out: new Uint8Array(entry.size) });
    } catch (error) {
      throw corrupt(path, `${entry.name} does not inflate (${(error as Error).message})`);
    }
  }
  if (data.length !== entry.size || crc32(data) >>> 0 !== entry.crc >>> 0) {
    throw corrupt(path, `${entry.name} fails its CRC check`);
  }
  return data;
}

// ---------------------------------------------------------------------------------------------------------

/** A document text from a source, or the reason it could not even be read. */
type SourceItem = { readonly text: string; readonly yaml: boolean } | { readonly reason: string };

interface OpenedSource {
  readonly record: Pick<ImportSource, 'path' | 'kind' | 'sha256' | 'files'>;
  items(): Generator<SourceItem>;
}

const DOC_EXTENSIONS = new Set(['.json', '.yaml', '.yml']);

function isZip(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = readAt(fd, 0, 4);
    return head.length === 4 && (head.readUInt32LE(0) === 0x04034b50 || head.readUInt32LE(0) === 0x06054b50);
  } finally {
    closeSync(fd);
  }
}

function listDocumentFiles(root: string): string[] {
  const out: string[] = [];
  function walk(dir: string): void {
    for (const dirent of readdirSync(dir, { withFileTypes: true })) {
      if (dirent.name.startsWith('.')) continue;
      const full = join(dir, dirent.name);
      if (dirent.isDirectory()) walk(full);
      else if (dirent.isFile() && DOC_EXTENSIONS.has(extname(dirent.name).toLowerCase())) out.push(full);
    }
  }
  walk(root);
  return out.sort();
}

function decode(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function openSource(given: string): OpenedSource {
  const path = resolve(given);
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch {
    throw new InputError(`cannot import ${given}: no such file or folder`, IMPORT_HINT);
  }
  if (stat.isDirectory()) {
    const files = listDocumentFiles(path);
    const digests = files.map((f) => `${relative(path, f).split(sep).join('/')}\0${sha256OfFile(f)}\n`);
    return {
      record: { path, kind: 'folder', sha256: sha256(digests.join('')), files: files.length },
      *items() {
        for (const file of files) {
          yield { text: decode(readFileSync(file)), yaml: extname(file).toLowerCase() !== '.json' };
        }
      },
    };
  }
  if (!isZip(path)) {
    const ext = extname(path).toLowerCase();
    if (!DOC_EXTENSIONS.has(ext)) {
      throw new InputError(
        `cannot import ${given}: not a zip file, a folder, or an OSV .json/.yaml file`,
        IMPORT_HINT,
      );
    }
    return {
      record: { path, kind: 'file', sha256: sha256OfFile(path), files: 1 },
      *items() {
        yield { text: decode(readFileSync(path)), yaml: ext !== '.json' };
      },
    };
  }
  const fd = openSync(path, 'r');
  let entries: ZipEntry[];
  try {
    entries = readZipDirectory(fd, stat.size, path).filter(
      (e) => !e.name.endsWith('/') && e.name.toLowerCase().endsWith('.json'),
    );
  } finally {
    closeSync(fd);
  }
  return {
    record: { path, kind: 'zip', sha256: sha256OfFile(path), files: entries.length },
    *items() {
      const handle = openSync(path, 'r');
      try {
        for (const entry of entries) {
          if ((entry.flags & 1) !== 0) {
            yield { reason: 'encrypted zip entry' };
            continue;
          }
          if (entry.method !== 0 && entry.method !== 8) {
            yield { reason: `unsupported zip compression method ${entry.method}` };
            continue;
          }
          yield { text: decode(readZipEntry(handle, entry, path)), yaml: false };
        }
      } finally {
        closeSync(handle);
      }
    },
  };
}

function parseItem(item: SourceItem): { ok: true; vuln: OsvVuln } | { ok: false; reason: string } {
  if ('reason' in item) return { ok: false, reason: item.reason };
  let value: unknown;
  try {
    value = item.yaml ? parseYaml(item.text) : JSON.parse(item.text);
  } catch {
    return { ok: false, reason: item.yaml ? 'not valid YAML' : 'not valid JSON' };
  }
  return parseOsvDocument(value);
}

type Row = { id: string; modified_ms: number; doc_sha256: string };

/** An OSV advisory database in `<dataDir>/advisories.db` (SQLite, WAL). Not safe to share across threads. */
export class AdvisoryStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly cache = new Map<string, OsvVuln>();
  private readonly cacheSize: number;
  private readonly idsFor: Database.Statement<[string, string], string>;
  private readonly jsonOf: Database.Statement<[string], string>;

  private constructor(path: string, db: Database.Database, cacheSize: number) {
    this.path = path;
    this.db = db;
    this.cacheSize = cacheSize;
    this.idsFor = db
      .prepare<[string, string], string>(
        'SELECT vuln_id FROM affected WHERE ecosystem = ? AND name = ? AND withdrawn = 0 ORDER BY vuln_id',
      )
      .pluck();
    this.jsonOf = db.prepare<[string], string>('SELECT json FROM vulns WHERE id = ?').pluck();
  }

  /** Opens (creating, or migrating) `<dataDir>/advisories.db`. */
  static open(dataDir: string, options: OpenOptions = {}): AdvisoryStore {
    const dir = resolve(dataDir);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new InputError(`cannot use ${dataDir} as the data directory: ${(error as Error).message}`);
    }
    const path = join(dir, ADVISORIES_FILE);
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      AdvisoryStore.migrate(db, path);
    } catch (error) {
      if (db?.open === true) db.close();
      if (error instanceof InputError) throw error;
      throw new InputError(
        `cannot open the advisory database ${path}: ${(error as Error).message}`,
        'delete the file and run `plumbline db import` again',
      );
    }
    const store = new AdvisoryStore(path, db, options.cacheSize ?? 20_000);
    if (store.meta('content_hash') === undefined) store.setMeta('content_hash', store.computeContentHash());
    return store;
  }

  private static migrate(db: Database.Database, path: string): void {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new InputError(
        `${path} was written by a newer Plumbline (schema ${version}, this one knows ${MIGRATIONS.length})`,
        'upgrade Plumbline, or use another data directory',
      );
    }
    for (let step = version; step < MIGRATIONS.length; step++) {
      const sql = MIGRATIONS[step] ?? '';
      db.transaction(() => {
        db.exec(sql);
        db.pragma(`user_version = ${step + 1}`);
      })();
    }
  }

  close(): void {
    this.cache.clear();
    if (this.db.open) this.db.close();
  }

  private meta(key: string): string | undefined {
    return this.db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck().get(key);
  }

  private setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  private computeContentHash(): string {
    const hash = createHash('sha256');
    const rows = this.db
      .prepare<[], { id: string; modified: string; doc_sha256: string }>(
        'SELECT id, modified, doc_sha256 FROM vulns ORDER BY id',
      )
      .iterate();
    for (const row of rows) hash.update(`${row.id}\0${row.modified}\0${row.doc_sha256}\n`);
    return hash.digest('hex');
  }

  /**
   * Imports OSV export zips, folders of `.json`/`.yaml`/`.yml` documents (recursively) and single document files,
   * in one transaction: a missing path or a corrupt zip raises an InputError and leaves the store as it was.
   * Documents are upserted by id: a newer `modified` replaces the stored one, an equal `modified` with other
   * content replaces it too (last import wins: some databases never bump `modified`), an older one is kept out.
   * Malformed documents are skipped and counted by reason.
   */
  importPaths(paths: readonly string[], options: ImportOptions = {}): ImportRecord {
    if (paths.length === 0)
      throw new InputError('nothing to import: give OSV export zips or folders', IMPORT_HINT);
    const at = new Date().toISOString();
    // Every path is checked (and hashed, and its zip directory read) before anything is written.
    const opened = paths.map(openSource);

    const select = this.db.prepare<[string], Row>(
      'SELECT id, modified_ms, doc_sha256 FROM vulns WHERE id = ?',
    );
    const insertVuln = this.db.prepare(
      'INSERT INTO vulns (id, modified, modified_ms, withdrawn, doc_sha256, json) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const updateVuln = this.db.prepare(
      'UPDATE vulns SET modified = ?, modified_ms = ?, withdrawn = ?, doc_sha256 = ?, json = ? WHERE id = ?',
    );
    const deleteAffected = this.db.prepare('DELETE FROM affected WHERE vuln_id = ?');
    const insertAffected = this.db.prepare(
      'INSERT OR IGNORE INTO affected (ecosystem, name, vuln_id, withdrawn) VALUES (?, ?, ?, ?)',
    );

    const totals = { documents: 0, inserted: 0, updated: 0, unchanged: 0, stale: 0, skipped: 0 };
    const allReasons: Record<string, number> = {};
    const sources: ImportSource[] = [];

    function indexAffected(vuln: OsvVuln, withdrawn: number): void {
      for (const entry of vuln.affected ?? []) {
        if (entry.package === undefined) continue;
        const ecosystem = normaliseEcosystem(entry.package.ecosystem);
        insertAffected.run(
          ecosystem,
          normalisePackageName(ecosystem, entry.package.name),
          vuln.id,
          withdrawn,
        );
      }
    }

    const run = this.db.transaction(() => {
      for (const source of opened) {
        const reasons: Record<string, number> = {};
        let documents = 0;
        let skipped = 0;
        let done = 0;
        for (const item of source.items()) {
          done += 1;
          const parsed = parseItem(item);
          const modifiedMs = parsed.ok ? Date.parse(parsed.vuln.modified) : Number.NaN;
          if (!parsed.ok || Number.isNaN(modifiedMs)) {
            skipped += 1;
            count(reasons, parsed.ok ? 'modified: not an RFC 3339 timestamp' : parsed.reason);
          } else {
            documents += 1;
            const vuln = parsed.vuln;
            const json = canonicalJson(vuln);
            const docSha = sha256(json);
            const withdrawn = vuln.withdrawn === undefined ? 0 : 1;
            const existing = select.get(vuln.id);
            if (existing === undefined) {
              insertVuln.run(vuln.id, vuln.modified, modifiedMs, withdrawn, docSha, json);
              indexAffected(vuln, withdrawn);
              totals.inserted += 1;
            } else if (existing.doc_sha256 === docSha) {
              totals.unchanged += 1;
            } else if (modifiedMs < existing.modified_ms) {
              totals.stale += 1;
            } else {
              updateVuln.run(vuln.modified, modifiedMs, withdrawn, docSha, json, vuln.id);
              deleteAffected.run(vuln.id);
              indexAffected(vuln, withdrawn);
              totals.updated += 1;
            }
          }
          if (done % 500 === 0)
            options.onProgress?.({ path: source.record.path, done, total: source.record.files });
        }
        options.onProgress?.({ path: source.record.path, done, total: source.record.files });
        totals.documents += documents;
        totals.skipped += skipped;
        for (const [reason, n] of Object.entries(reasons)) allReasons[reason] = (allReasons[reason] ?? 0) + n;
        sources.push({ ...source.record, documents, skipped, skippedReasons: reasons });
      }
      const contentHash = this.computeContentHash();
      this.setMeta('content_hash', contentHash);
      this.#saveSnapshotFigures();
      const record: ImportRecord = { at, sources, ...totals, skippedReasons: allReasons, contentHash };
      const importId = this.db
        .prepare('INSERT INTO imports (at, record) VALUES (?, ?)')
        .run(at, JSON.stringify(record)).lastInsertRowid;
      const insertSource = this.db.prepare(
        'INSERT INTO import_sources (import_id, position, path, kind, sha256, documents, skipped) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      sources.forEach((s, i) => {
        insertSource.run(importId, i, s.path, s.kind, s.sha256, s.documents, s.skipped);
      });
      return record;
    });
    try {
      return run();
    } finally {
      this.cache.clear();
    }
  }

  status(): AdvisoryStatus {
    const counts = this.db
      .prepare<[], { documents: number; withdrawn: number | null }>(
        'SELECT COUNT(*) AS documents, SUM(withdrawn) AS withdrawn FROM vulns',
      )
      .get() ?? { documents: 0, withdrawn: 0 };
    const byEcosystem: Record<string, number> = {};
    const rows = this.db
      .prepare<[], { ecosystem: string; n: number }>(
        'SELECT ecosystem, COUNT(DISTINCT vuln_id) AS n FROM affected GROUP BY ecosystem ORDER BY ecosystem',
      )
      .all();
    for (const row of rows) byEcosystem[row.ecosystem] = row.n;
    const last = this.db
      .prepare<[], string>('SELECT record FROM imports ORDER BY id DESC LIMIT 1')
      .pluck()
      .get();
    const newest = this.db
      .prepare<[], string>('SELECT modified FROM vulns ORDER BY modified_ms DESC, modified DESC LIMIT 1')
      .pluck()
      .get();
    return {
      path: this.path,
      documents: counts.documents,
      withdrawn: counts.withdrawn ?? 0,
      byEcosystem,
      lastImport: last === undefined ? undefined : (JSON.parse(last) as ImportRecord),
      contentHash: this.meta('content_hash') ?? this.computeContentHash(),
      newestModified: newest,
    };
  }

  /**
   * What a report needs to name the snapshot: the content hash, the document count and the newest
   * `modified`, kept in the meta table at import so a scan does not pay for `status()`'s full passes.
   */
  snapshot(): {
    readonly contentHash: string;
    readonly documents: number;
    readonly newestModified: string | undefined;
  } {
    if (this.meta('snapshot_documents') === undefined) this.#saveSnapshotFigures();
    const newest = this.meta('snapshot_newest');
    return {
      contentHash: this.meta('content_hash') ?? this.computeContentHash(),
      documents: Number(this.meta('snapshot_documents') ?? 0),
      newestModified: newest === '' ? undefined : newest,
    };
  }

  #saveSnapshotFigures(): void {
    const documents = this.db.prepare<[], number>('SELECT COUNT(*) FROM vulns').pluck().get() ?? 0;
    const newest = this.db
      .prepare<[], string>('SELECT modified FROM vulns ORDER BY modified_ms DESC, modified DESC LIMIT 1')
      .pluck()
      .get();
    this.setMeta('snapshot_documents', String(documents));
    this.setMeta('snapshot_newest', newest ?? '');
  }

  /** One stored document by id (withdrawn ones too), or undefined. */
  get(id: string): OsvVuln | undefined {
    return this.load(id);
  }

  private load(id: string): OsvVuln | undefined {
    const cached = this.cache.get(id);
    if (cached !== undefined) {
      // Most recently used last: the first key is the one to evict.
      this.cache.delete(id);
      this.cache.set(id, cached);
      return cached;
    }
    const json = this.jsonOf.get(id);
    if (json === undefined) return undefined;
    const vuln = JSON.parse(json) as OsvVuln;
    this.cache.set(id, vuln);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    return vuln;
  }

  /**
   * The documents (withdrawn ones excluded) with an `affected` entry for this package, by base ecosystem and
   * the ecosystem's normalised name, sorted by id. Documents are shared with the cache: treat them as read-only.
   */
  lookup(ecosystem: string, name: string): OsvVuln[] {
    const eco = normaliseEcosystem(ecosystem);
    const out: OsvVuln[] = [];
    for (const id of this.idsFor.all(eco, normalisePackageName(eco, name))) {
      const vuln = this.load(id);
      if (vuln !== undefined) out.push(vuln);
    }
    return out;
  }

  /** `lookup` for many packages in one read transaction; results are aligned with `packages`. */
  lookupMany(packages: readonly PackageRef[]): OsvVuln[][] {
    return this.db.transaction(() => {
      const seen = new Map<string, OsvVuln[]>();
      return packages.map((pkg) => {
        const eco = normaliseEcosystem(pkg.ecosystem);
        const key = `${eco}\0${normalisePackageName(eco, pkg.name)}`;
        let found = seen.get(key);
        if (found === undefined) {
          found = this.lookup(eco, pkg.name);
          seen.set(key, found);
        }
        return found;
      });
    })();
  }
}
