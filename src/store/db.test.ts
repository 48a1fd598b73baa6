// The controller database: a fresh file migrates, migrating again is a no-op, WAL and foreign keys are on.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { CONTROLLER_DB_FILE, openDatabase } from './db.js';
import { MIGRATIONS, migrateToLatest } from './migrations.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'plumbline-db-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('openDatabase and migrations', () => {
  it('creates the data directory and file, and runs every migration once on a fresh database', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const db = openDatabase({ dataDir });
    try {
      expect(await migrateToLatest(db)).toEqual(Object.keys(MIGRATIONS));
      const tables = await db.introspection.getTables();
      expect(tables.map((table) => table.name).sort()).toEqual(
        expect.arrayContaining([
          'api_tokens',
          'apps',
          'audit_checkpoints',
          'audit_entries',
          'audit_head',
          'audit_nodes',
          'environments',
          'inventory',
          'sync_history',
        ]),
      );
      const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
      expect(journal.rows[0]?.journal_mode).toBe('wal');
      const keys = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
      expect(keys.rows[0]?.foreign_keys).toBe(1);
    } finally {
      await db.destroy();
    }
  });

  it('is idempotent: migrating again, in the same or a new connection, runs nothing and keeps the data', async () => {
    const first = openDatabase({ dataDir: dir });
    await migrateToLatest(first);
    await first
      .insertInto('environments')
      .values({
        name: 'prod',
        desired_revision: null,
        live_revision: null,
        phase: 'Synced',
        conditions: '[]',
        updated_at: 'x',
      })
      .execute();
    expect(await migrateToLatest(first)).toEqual([]);
    await first.destroy();

    const second = openDatabase({ dataDir: dir, file: CONTROLLER_DB_FILE });
    try {
      expect(await migrateToLatest(second)).toEqual([]);
      const rows = await second.selectFrom('environments').select('name').execute();
      expect(rows).toEqual([{ name: 'prod' }]);
    } finally {
      await second.destroy();
    }
  });

  it('refuses a data directory it cannot use with an input error, not a crash', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    expect(() => openDatabase({ dataDir: join(file, 'data') })).toThrow(InputError);
    expect(() => openDatabase({ dataDir: join(file, 'data') })).toThrow(
      /cannot open the data directory's database/,
    );
    const garbage = join(dir, 'garbage');
    mkdirSync(garbage);
    writeFileSync(join(garbage, CONTROLLER_DB_FILE), Buffer.alloc(4096, 0x41));
    expect(() => openDatabase({ dataDir: garbage })).toThrow(/not a database/);
  });

  it('enforces foreign keys: an app needs its environment', async () => {
    const db = openDatabase({ dataDir: dir });
    try {
      await migrateToLatest(db);
      await expect(
        db
          .insertInto('apps')
          .values({
            environment: 'missing',
            name: 'web',
            desired_revision: null,
            live_revision: null,
            phase: 'Synced',
            message: '',
            spec: null,
            spec_hash: null,
            updated_at: 'x',
          })
          .execute(),
      ).rejects.toThrow(/FOREIGN KEY/);
    } finally {
      await db.destroy();
    }
  });
});
