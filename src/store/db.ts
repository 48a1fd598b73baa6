// The controller's state database: Kysely over better-sqlite3 (one file under the data directory) today,
// over PostgreSQL later. Only this file knows the engine; repositories stay in portable SQL through Kysely.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';

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

export interface Database {
  environments: EnvironmentsTable;
  apps: AppsTable;
  inventory: InventoryTable;
  sync_history: SyncHistoryTable;
  api_tokens: ApiTokensTable;
}

export interface OpenDatabaseOptions {
  /** The data directory; created when missing. */
  readonly dataDir: string;
  /** The file name inside it (default `controller.db`). */
  readonly file?: string;
}

/** Opens (creating when missing) the SQLite file with WAL and foreign keys on. Run migrations before use. */
export function openDatabase(options: OpenDatabaseOptions): Kysely<Database> {
  mkdirSync(options.dataDir, { recursive: true });
  const sqlite = new SqliteDatabase(join(options.dataDir, options.file ?? CONTROLLER_DB_FILE));
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  // WAL with synchronous=NORMAL is durable across application crashes; a power loss may drop the last commits.
  sqlite.pragma('synchronous = NORMAL');
  // Another process (the CLI creating a token) may hold the write lock for a moment.
  sqlite.pragma('busy_timeout = 5000');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
}
