// The controller database's migrations, in order, as code (no folder scanning): one set for SQLite and
// PostgreSQL, so only portable column types and constraints through Kysely's schema builder.
import { type Kysely, type Migration, type MigrationProvider, type MigrationResult, Migrator } from 'kysely';
import { PlumblineError } from '../errors.js';

// Kysely's migrations are untyped by design: a migration sees the schema as it was then, not `Database`.
// biome-ignore lint/suspicious/noExplicitAny: the Migration contract of Kysely takes Kysely<any>.
type AnyDb = Kysely<any>;

/** Ordered by name: append new ones with the next number, never edit one that has shipped. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_initial': {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable('environments')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('desired_revision', 'text')
        .addColumn('live_revision', 'text')
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('conditions', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('apps')
        .addColumn('environment', 'text', (c) =>
          c.notNull().references('environments.name').onDelete('cascade'),
        )
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('desired_revision', 'text')
        .addColumn('live_revision', 'text')
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('spec', 'text')
        .addColumn('spec_hash', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('apps_pk', ['environment', 'name'])
        .execute();

      await db.schema
        .createTable('inventory')
        .addColumn('environment', 'text', (c) =>
          c.notNull().references('environments.name').onDelete('cascade'),
        )
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('spec_hash', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('inventory_pk', ['environment', 'name'])
        .execute();

      await db.schema
        .createTable('sync_history')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('environment', 'text', (c) =>
          c.notNull().references('environments.name').onDelete('cascade'),
        )
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('plan_summary', 'text', (c) => c.notNull())
        .addUniqueConstraint('sync_history_environment_seq', ['environment', 'seq'])
        .execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .execute();
    },
    async down(db: AnyDb): Promise<void> {
      for (const table of ['api_tokens', 'sync_history', 'inventory', 'apps', 'environments']) {
        await db.schema.dropTable(table).execute();
      }
    },
  },
  // The audit ledger (src/audit/store.ts). `integer primary key` makes the id SQLite's rowid (PostgreSQL
  // will want bigint). Hashes are hex text: portable, and readable with the sqlite3 shell.
  '0002_audit_ledger': {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable('audit_entries')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor_kind', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('environment', 'text')
        .addColumn('app', 'text')
        .addColumn('revision', 'text')
        .addColumn('commit_sha', 'text')
        .addColumn('before_json', 'text')
        .addColumn('after_json', 'text')
        .addColumn('reason', 'text')
        .addColumn('evidence_json', 'text', (c) => c.notNull())
        .addColumn('canonical', 'text', (c) => c.notNull())
        .addColumn('leaf_hash', 'text', (c) => c.notNull())
        .execute();
      // `audit log` filters, newest first.
      for (const column of ['environment', 'app', 'actor', 'at']) {
        await db.schema
          .createIndex(`audit_entries_${column}`)
          .on('audit_entries')
          .columns([column, 'id'])
          .execute();
      }
      await db.schema
        .createTable('audit_nodes')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('size', 'integer', (c) => c.notNull())
        .execute();
      await db.insertInto('audit_head').values({ id: 1, size: 0 }).execute();
      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('size', 'integer', (c) => c.primaryKey())
        .addColumn('root', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(db: AnyDb): Promise<void> {
      for (const table of ['audit_checkpoints', 'audit_head', 'audit_nodes', 'audit_entries']) {
        await db.schema.dropTable(table).execute();
      }
    },
  },
  // Progressive delivery (src/gitops/rollouts.ts): rollout records, pins, quarantined revisions, and the
  // revisions applied per app that a rollback goes back to.
  '0003_rollouts': {
    async up(db: AnyDb): Promise<void> {
      await db.schema
        .createTable('rollouts')
        .addColumn('environment', 'text', (c) =>
          c.notNull().references('environments.name').onDelete('cascade'),
        )
        .addColumn('app', 'text', (c) => c.notNull())
        .addColumn('record', 'text', (c) => c.notNull())
        .addColumn('desired', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('rollouts_pk', ['environment', 'app'])
        .execute();
      await db.schema
        .createTable('pins')
        .addColumn('environment', 'text', (c) =>
          c.notNull().references('environments.name').onDelete('cascade'),
        )
        .addColumn('app', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('pinned_by', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pins_pk', ['environment', 'app'])
        .execute();
      await db.schema
        .createTable('quarantine')
        .addColumn('environment', 'text', (c) =>
          c.notNull().references('environments.name').onDelete('cascade'),
        )
        .addColumn('app', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('spec_hash', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('quarantine_pk', ['environment', 'app', 'spec_hash'])
        .execute();
      await db.schema
        .createTable('app_revisions')
        .addColumn('environment', 'text', (c) =>
          c.notNull().references('environments.name').onDelete('cascade'),
        )
        .addColumn('app', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('spec_hash', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('app_revisions_pk', ['environment', 'app', 'seq'])
        .execute();
    },
    async down(db: AnyDb): Promise<void> {
      for (const table of ['app_revisions', 'quarantine', 'pins', 'rollouts']) {
        await db.schema.dropTable(table).execute();
      }
    },
  },
};

/** Kysely's provider over the inline list above. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { ...MIGRATIONS };
  },
};

/** Brings the database to the newest schema; running it again does nothing. Returns the migrations it ran. */
export async function migrateToLatest(db: AnyDb): Promise<readonly string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result: MigrationResult) => result.status === 'Error');
    throw new PlumblineError(
      'PLUMBLINE_E_INTERNAL',
      `migrating the controller database failed${failed === undefined ? '' : ` at ${failed.migrationName}`}`,
      { cause: error, hint: 'the database was left at the last migration that succeeded; see the cause' },
    );
  }
  return (results ?? [])
    .filter((result) => result.status === 'Success')
    .map((result) => result.migrationName);
}
