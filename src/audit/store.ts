// The audit ledger over the controller's database (Kysely): entries, the Merkle tree's complete subtrees
// (written as each completes, so a root or a proof is O(log n) reads), the head (the size, which appenders
// claim ids from) and signed checkpoints. Appends run in the caller's transaction when given one, so an entry
// and the state change it describes commit together or not at all.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import { InputError, PlumblineError } from '../errors.js';
import {
  type AuditCheckpointsTable,
  type AuditEntriesTable,
  CONTROLLER_DB_FILE,
  type Database,
  openDatabase,
} from '../store/db.js';
import { migrateToLatest } from '../store/migrations.js';
import {
  type AuditEntry,
  type AuditEntryInput,
  buildEntry,
  entryFromRow,
  prepareRow,
  withId,
} from './entry.js';
import {
  CompactRange,
  consistencyProof,
  inclusionProof,
  type NodeId,
  type NodeReader,
  nodeKey,
  rangeNodes,
  treeRoot,
} from './merkle.js';

/** A stored signed checkpoint. */
export interface Checkpoint {
  readonly size: number;
  /** Hex. */
  readonly root: string;
  /** The signed note text (C2SP tlog-checkpoint). */
  readonly note: string;
  readonly createdAt: string;
}

export interface EntryFilter {
  readonly environment?: string;
  readonly app?: string;
  /** Matches the actor's id exactly. */
  readonly actor?: string;
  readonly action?: string;
  /** ISO 8601: entries at or after. */
  readonly since?: string;
}

export interface EntryPage {
  /** Newest first: entries with an id below this (the previous page's `next`). */
  readonly before?: number;
  /** Default 50, at most 1000. */
  readonly limit?: number;
  /** Oldest first instead (exports): entries with an id at or above `after`. */
  readonly order?: 'newest' | 'oldest';
  readonly after?: number;
}

export interface EntriesResult {
  readonly entries: readonly AuditEntry[];
  /** Pass as `before` (newest first) or `after` (oldest first) for the next page; absent on the last. */
  readonly next?: number;
}

/** What signs checkpoints (`checkpointSigner` in checkpoint.ts): the signed note for a size and root. */
export interface CheckpointSigner {
  signCheckpoint(size: number, root: Uint8Array): string;
}

export interface AuditLedgerOptions {
  /** The clock for entry times and checkpoints (tests pin it). */
  readonly now?: () => Date;
}

/** Rows per multi-row INSERT: SQLite allows 32,766 bound parameters; an entry row has 15. */
const INSERT_CHUNK = 1000;
/** IDs per `IN (…)` read. */
const READ_CHUNK = 500;

/** The ledger's tables in one database; every method can run on a transaction via its `db` argument. */
export class AuditLedger {
  readonly db: Kysely<Database>;
  readonly #now: () => Date;

  constructor(db: Kysely<Database>, options: AuditLedgerOptions = {}) {
    this.db = db;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Appends one entry and returns it with its id. With `db` a transaction (the controller's
   * `ControllerStore.transaction`), the entry commits with the caller's other writes; otherwise in its own.
   */
  async append(input: AuditEntryInput, db: Kysely<Database> = this.db): Promise<AuditEntry> {
    const [entry] = await this.appendMany([input], db);
    return entry as AuditEntry;
  }

  /** Appends entries in order, all in one transaction; returns them with their ids. */
  async appendMany(
    inputs: readonly AuditEntryInput[],
    db: Kysely<Database> = this.db,
  ): Promise<AuditEntry[]> {
    if (inputs.length === 0) return [];
    const run = (trx: Kysely<Database>): Promise<AuditEntry[]> => this.#appendIn(trx, inputs);
    return db.isTransaction ? run(db) : db.transaction().execute((trx) => run(trx));
  }

  async #appendIn(trx: Kysely<Database>, inputs: readonly AuditEntryInput[]): Promise<AuditEntry[]> {
    // Everything that can fail happens before ids are claimed: a caller that catches the error and commits
    // its transaction anyway must not leave a claimed id without its entry.
    const drafts = inputs.map((input) => buildEntry(input, 0, this.#now));
    const prepared = drafts.map(prepareRow);
    // The first statement writes, so the transaction holds the write lock before it reads anything: two
    // appenders (the controller and a CLI) can never claim the same ids.
    const head = await trx
      .updateTable('audit_head')
      .set((eb) => ({ size: eb('size', '+', inputs.length) }))
      .where('id', '=', 1)
      .returning('size')
      .executeTakeFirst();
    if (head === undefined) throw ledgerMissing();
    const first = head.size - inputs.length;
    const range = new CompactRange(first, await new StoredNodes(trx).readNodes(rangeNodes(0, first)));
    const entries: AuditEntry[] = [];
    const rows: AuditEntriesTable[] = [];
    const nodes: { id: number; hash: string }[] = [];
    drafts.forEach((draft, i) => {
      const entry: AuditEntry = { ...draft, id: first + i };
      const row = withId(prepared[i] as AuditEntriesTable, entry.id);
      entries.push(entry);
      rows.push(row);
      range.push(Buffer.from(row.leaf_hash, 'hex'), (id, hash) =>
        nodes.push({ id: nodeKey(id), hash: hash.toString('hex') }),
      );
    });
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await trx
        .insertInto('audit_entries')
        .values(rows.slice(i, i + INSERT_CHUNK))
        .execute();
    }
    for (let i = 0; i < nodes.length; i += INSERT_CHUNK) {
      await trx
        .insertInto('audit_nodes')
        .values(nodes.slice(i, i + INSERT_CHUNK))
        .execute();
    }
    return entries;
  }

  /** The number of entries (committed, as seen by `db`). */
  async size(db: Kysely<Database> = this.db): Promise<number> {
    const head = await db.selectFrom('audit_head').select('size').where('id', '=', 1).executeTakeFirst();
    if (head === undefined) throw ledgerMissing();
    return head.size;
  }

  // Reads need no transaction: the nodes of a tree of a size at or below the current one were written
  // before that size was committed and never change (append-only), so a later append cannot disturb them.

  /** The root hash of the first `size` entries (default: all). */
  async root(size?: number): Promise<Buffer> {
    const current = await this.size();
    const at = size ?? current;
    requireSize(at, current);
    return treeRoot(at, new StoredNodes(this.db));
  }

  /** The inclusion proof of entry `id` in the tree of `size` entries. */
  async inclusionProof(id: number, size: number): Promise<Buffer[]> {
    requireSize(size, await this.size());
    if (!Number.isSafeInteger(id) || id < 0 || id >= size) {
      throw new InputError(`entry ${id} is not in the first ${size} entries of the ledger`);
    }
    return inclusionProof(id, size, new StoredNodes(this.db));
  }

  /** The consistency proof between the trees of `size1` and `size2` entries. */
  async consistencyProof(size1: number, size2: number): Promise<Buffer[]> {
    requireSize(size2, await this.size());
    if (!Number.isSafeInteger(size1) || size1 < 0 || size1 > size2) {
      throw new InputError(`no consistency proof from size ${size1} to size ${size2}`);
    }
    return consistencyProof(size1, size2, new StoredNodes(this.db));
  }

  async entry(id: number): Promise<AuditEntry | undefined> {
    const row = await this.db.selectFrom('audit_entries').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : entryFromRow(row);
  }

  /** The stored leaf of an entry: its canonical text and hex leaf hash. */
  async leaf(id: number): Promise<{ canonical: string; leafHash: string } | undefined> {
    const row = await this.db
      .selectFrom('audit_entries')
      .select(['canonical', 'leaf_hash'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : { canonical: row.canonical, leafHash: row.leaf_hash };
  }

  #filtered(filter: EntryFilter) {
    let query = this.db.selectFrom('audit_entries').selectAll();
    if (filter.environment !== undefined) query = query.where('environment', '=', filter.environment);
    if (filter.app !== undefined) query = query.where('app', '=', filter.app);
    if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
    if (filter.action !== undefined) query = query.where('action', '=', filter.action);
    if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
    return query;
  }

  /** A page of entries matching `filter`, newest first by default. */
  async entries(filter: EntryFilter = {}, page: EntryPage = {}): Promise<EntriesResult> {
    const limit = Math.max(1, Math.min(page.limit ?? 50, 1000));
    const oldest = page.order === 'oldest';
    let query = this.#filtered(filter);
    if (oldest && page.after !== undefined) query = query.where('id', '>=', page.after);
    if (!oldest && page.before !== undefined) query = query.where('id', '<', page.before);
    const rows = await query
      .orderBy('id', oldest ? 'asc' : 'desc')
      .limit(limit + 1)
      .execute();
    const entries = rows.slice(0, limit).map(entryFromRow);
    const last = entries[entries.length - 1];
    if (rows.length <= limit || last === undefined) return { entries };
    return { entries, next: oldest ? last.id + 1 : last.id };
  }

  /** Every entry matching `filter` with its stored leaf hash, oldest first, read in batches. */
  async *stream(
    filter: EntryFilter = {},
    batch = 1000,
  ): AsyncGenerator<{ entry: AuditEntry; leafHash: string }> {
    let after = 0;
    for (;;) {
      const rows = await this.#filtered(filter).where('id', '>=', after).orderBy('id').limit(batch).execute();
      for (const row of rows) yield { entry: entryFromRow(row), leafHash: row.leaf_hash };
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < batch) return;
      after = last.id + 1;
    }
  }

  /** Stores a checkpoint of the current size signed by `signer`, unless one of that size exists already. */
  async checkpoint(signer: CheckpointSigner): Promise<Checkpoint> {
    return this.db.transaction().execute(async (trx) => {
      const size = await this.size(trx);
      const existing = await trx
        .selectFrom('audit_checkpoints')
        .selectAll()
        .where('size', '=', size)
        .executeTakeFirst();
      if (existing !== undefined) return checkpointFromRow(existing);
      const root = await treeRoot(size, new StoredNodes(trx));
      const note = signer.signCheckpoint(size, root);
      const row: AuditCheckpointsTable = {
        size,
        root: root.toString('hex'),
        note,
        created_at: this.#now().toISOString(),
      };
      await trx.insertInto('audit_checkpoints').values(row).execute();
      return checkpointFromRow(row);
    });
  }

  async latestCheckpoint(): Promise<Checkpoint | undefined> {
    const row = await this.db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : checkpointFromRow(row);
  }

  /** Every stored checkpoint, smallest size first. */
  async checkpoints(): Promise<Checkpoint[]> {
    const rows = await this.db.selectFrom('audit_checkpoints').selectAll().orderBy('size').execute();
    return rows.map(checkpointFromRow);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** Reads node hashes: leaves from `audit_entries.leaf_hash`, the rest from `audit_nodes`. */
class StoredNodes implements NodeReader {
  readonly #db: Kysely<Database> | Transaction<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async readNodes(ids: readonly NodeId[]): Promise<readonly Buffer[]> {
    const leaves = ids.filter((id) => id.level === 0).map((id) => id.index);
    const inner = ids.filter((id) => id.level > 0).map(nodeKey);
    const found = new Map<string, string>();
    for (let i = 0; i < leaves.length; i += READ_CHUNK) {
      const rows = await this.#db
        .selectFrom('audit_entries')
        .select(['id', 'leaf_hash'])
        .where('id', 'in', leaves.slice(i, i + READ_CHUNK))
        .execute();
      for (const row of rows) found.set(`0/${row.id}`, row.leaf_hash);
    }
    for (let i = 0; i < inner.length; i += READ_CHUNK) {
      const rows = await this.#db
        .selectFrom('audit_nodes')
        .select(['id', 'hash'])
        .where('id', 'in', inner.slice(i, i + READ_CHUNK))
        .execute();
      for (const row of rows) found.set(`n/${row.id}`, row.hash);
    }
    return ids.map((id) => {
      const hex = found.get(id.level === 0 ? `0/${id.index}` : `n/${nodeKey(id)}`);
      if (hex === undefined || !/^[0-9a-f]{64}$/.test(hex)) {
        throw new PlumblineError(
          'PLUMBLINE_E_INTERNAL',
          `the audit ledger's tree is missing or has a damaged node (level ${id.level}, index ${id.index})`,
          { hint: 'run `plumbline audit verify` to see what was changed' },
        );
      }
      return Buffer.from(hex, 'hex');
    });
  }
}

function requireSize(size: number, current: number): void {
  if (!Number.isSafeInteger(size) || size < 0 || size > current) {
    throw new InputError(`the ledger has ${current} entries; there is no tree of size ${size}`);
  }
}

function ledgerMissing(): PlumblineError {
  return new InputError(
    'the database holds no audit ledger (its migration has not run)',
    'open it with openAuditLedger, or run the controller once',
  );
}

function checkpointFromRow(row: Selectable<AuditCheckpointsTable>): Checkpoint {
  return { size: row.size, root: row.root, note: row.note, createdAt: row.created_at };
}

export interface OpenAuditLedgerOptions extends AuditLedgerOptions {
  /** The data directory holding the controller database. */
  readonly dataDir: string;
  /** Create the database and its tables when missing (default true). The CLI reads with false. */
  readonly create?: boolean;
  /**
   * SQLite's `synchronous` for this connection (default `FULL`): with FULL, a commit returns only after the
   * WAL is on disk, so an acknowledged entry survives a power loss; NORMAL survives crashes of the process
   * but may lose the last commits on power loss.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

/** Opens the ledger in the controller database under `dataDir` (migrated to the newest schema). */
export async function openAuditLedger(options: OpenAuditLedgerOptions): Promise<AuditLedger> {
  const file = join(options.dataDir, CONTROLLER_DB_FILE);
  if (options.create === false && !existsSync(file)) {
    throw new InputError(
      `${file} does not exist`,
      'point --data-dir at the controller data directory (the folder `plumbline up --data-dir` used)',
    );
  }
  const db = openDatabase({ dataDir: options.dataDir });
  try {
    if (options.create === false) await requireLedgerTables(db, file);
    else await migrateToLatest(db);
    await setDurability(db, options.synchronous ?? 'FULL');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new AuditLedger(db, options);
}

/**
 * Makes ledger commits durable on this connection (see `OpenAuditLedgerOptions.synchronous`). The controller
 * calls it on its store's connection when it wires the ledger in: its own commits then pay the same fsync,
 * which at its rate of writes costs nothing noticeable.
 */
export async function setDurability(db: Kysely<Database>, mode: 'FULL' | 'NORMAL'): Promise<void> {
  await sql.raw(`PRAGMA synchronous = ${mode === 'FULL' ? 'FULL' : 'NORMAL'}`).execute(db);
}

async function requireLedgerTables(db: Kysely<Database>, file: string): Promise<void> {
  try {
    await db.selectFrom('audit_head').select('size').limit(1).execute();
  } catch {
    throw new InputError(
      `${file} holds no audit ledger`,
      'the ledger is created when a controller with the ledger starts; check --data-dir',
    );
  }
}
