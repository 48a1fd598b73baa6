// The controller's state database: Kysely over better-sqlite3 (one file under the data directory) today,
// over PostgreSQL later. Only this file knows the engine; repositories stay in portable SQL through Kysely.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { InputError } from '../errors.js';

export const CONTROLLER_DB_FILE = 'controller.db';

// Times are ISO 8601 UTC strings (they sort as text on every engine); JSON is stored as text so the same
// rows read the same on SQLite and PostgreSQL.

export interface EnvironmentsTable {
  name: string;
  desired_revision: string | null;
  live_revision: string | null;
  phase: string;
  /** JSON: `Condition[]`. */
  conditions: string;
  updated_at: string;
}

export interface AppsTable {
  environment: string;
  name: string;
  desired_revision: string | null;
  live_revision: string | null;
  phase: string;
  message: string;
  /** JSON: `AppSpec`, or null before the app was first rendered. */
  spec: string | null;
  spec_hash: string | null;
  updated_at: string;
}

/** What was applied last, per environment and app (`AppliedApp`). */
export interface InventoryTable {
  environment: string;
  name: string;
  revision: string;
  spec_hash: string;
  /** JSON: `AppSpec`. */
  spec: string;
  applied_at: string;
}

export interface SyncHistoryTable {
  id: string;
  environment: string;
  /** 1, 2, 3… per environment, assigned in the inserting transaction: the order of syncs, ties impossible. */
  seq: number;
  revision: string;
  started_at: string;
  finished_at: string;
  result: string;
  reason: string;
  message: string;
  /** JSON: `PlanSummary`. */
  plan_summary: string;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  role: string;
  /** Hex sha256 of the token; the token itself is never stored. */
  token_hash: string;
  created_at: string;
  last_used_at: string | null;
}

/** One audit ledger entry (src/audit): its id is its leaf index in the ledger's Merkle tree. */
export interface AuditEntriesTable {
  id: number;
  at: string;
  actor_kind: string;
  actor: string;
  action: string;
  environment: string | null;
  app: string | null;
  revision: string | null;
  commit_sha: string | null;
  /** Canonical JSON, or null when absent. */
  before_json: string | null;
  after_json: string | null;
  reason: string | null;
  /** Canonical JSON: `EvidenceRef[]`. */
  evidence_json: string;
  /** The leaf's exact bytes: the canonical JSON of the whole entry (UTF-8). */
  canonical: string;
  /** Hex SHA-256(0x00 ‖ canonical). */
  leaf_hash: string;
}

/** Complete subtrees of the ledger's tree above the leaves, keyed by in-order position (`nodeKey`). */
export interface AuditNodesTable {
  id: number;
  /** Hex. */
  hash: string;
}

/** One row (id 1): the ledger's size; appenders claim their ids by incrementing it. */
export interface AuditHeadTable {
  id: number;
  size: number;
}

export interface AuditCheckpointsTable {
  size: number;
  /** Hex root hash at `size`. */
  root: string;
  /** The signed note (C2SP tlog-checkpoint). */
  note: string;
  created_at: string;
}

/** A progressive rollout's state (src/rollouts/record.ts), one per app: the current or the last one. */
export interface RolloutsTable {
  environment: string;
  app: string;
  /** JSON: `RolloutRecord`. */
  record: string;
  /** JSON: the `DesiredApp` being rolled out, without its secret values (resolved again on resume). */
  desired: string;
  updated_at: string;
}

/** An app held at a revision by `plumbline rollback`: auto-sync leaves it there until `unpin`. */
export interface PinsTable {
  environment: string;
  app: string;
  revision: string;
  pinned_by: string;
  reason: string;
  created_at: string;
}

/** A revision (by its spec hash) that failed its rollout: auto-sync does not deploy it again. */
export interface QuarantineTable {
  environment: string;
  app: string;
  revision: string;
  spec_hash: string;
  reason: string;
  created_at: string;
}

/** The revisions applied per app, newest last (`seq`): what `plumbline rollback` goes back to. */
export interface AppRevisionsTable {
  environment: string;
  app: string;
  seq: number;
  revision: string;
  spec_hash: string;
  /** JSON: `AppSpec`. */
  spec: string;
  applied_at: string;
}

export interface Database {
  environments: EnvironmentsTable;
  apps: AppsTable;
  inventory: InventoryTable;
  sync_history: SyncHistoryTable;
  api_tokens: ApiTokensTable;
  audit_entries: AuditEntriesTable;
  audit_nodes: AuditNodesTable;
  audit_head: AuditHeadTable;
  audit_checkpoints: AuditCheckpointsTable;
  rollouts: RolloutsTable;
  pins: PinsTable;
  quarantine: QuarantineTable;
  app_revisions: AppRevisionsTable;
}

export interface OpenDatabaseOptions {
  /** The data directory; created when missing. */
  readonly dataDir: string;
  /** The file name inside it (default `controller.db`). */
  readonly file?: string;
}

/** Opens (creating when missing) the SQLite file with WAL and foreign keys on. Run migrations before use. */
export function openDatabase(options: OpenDatabaseOptions): Kysely<Database> {
  const file = join(options.dataDir, options.file ?? CONTROLLER_DB_FILE);
  let sqlite: SqliteDatabase.Database;
  try {
    mkdirSync(options.dataDir, { recursive: true });
    sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    // WAL with synchronous=NORMAL is durable across application crashes; a power loss may drop the last commits.
    sqlite.pragma('synchronous = NORMAL');
    // Another process (the CLI creating a token) may hold the write lock for a moment.
    sqlite.pragma('busy_timeout = 5000');
  } catch (error) {
    // A path that is not a folder, no permission, a file that is not a database: the user's to fix.
    throw new InputError(
      `cannot open the data directory's database ${file}: ${(error as Error).message}`,
      'give --data-dir a folder Plumbline can create and write (e.g. .plumbline)',
    );
  }
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}
