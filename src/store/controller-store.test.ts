// The controller's repositories on a real SQLite file: environments, apps, inventory, history, tokens.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppliedApp, AppSpec, Plan } from '../gitops/types.js';
import {
  type ControllerStore,
  HISTORY_LIMIT,
  openControllerStore,
  summarisePlan,
} from './controller-store.js';

const spec: AppSpec = {
  process: { command: ['node', 'server.js'], cwd: 'apps/web', env: { GREETING: 'hello' } },
  port: 8080,
  replicas: 2,
  health: { http: { path: '/healthz' }, intervalMs: 5000, timeoutMs: 1000 },
  dependsOn: [],
};

let dir: string;
let store: ControllerStore;
let clock: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plumbline-store-'));
  clock = Date.parse('2025-01-01T00:00:00.000Z');
  store = await openControllerStore({ dataDir: dir, now: () => new Date(clock) });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function putProd(): Promise<void> {
  await store.putEnvironment({
    name: 'prod',
    desiredRevision: 'abc',
    liveRevision: null,
    phase: 'OutOfSync',
    conditions: [{ type: 'Ready', status: 'False', reason: 'NotApplied', message: 'waiting', at: 'then' }],
  });
}

describe('environments and apps', () => {
  it('upserts, reads back with parsed conditions, lists in name order, and stamps updated_at', async () => {
    await putProd();
    clock += 1000;
    await store.putEnvironment({
      name: 'dev',
      desiredRevision: null,
      liveRevision: null,
      phase: 'Synced',
      conditions: [],
    });
    const updated = await store.putEnvironment({
      name: 'prod',
      desiredRevision: 'abc',
      liveRevision: 'abc',
      phase: 'Synced',
      conditions: [],
    });
    expect(updated.updatedAt).toBe('2025-01-01T00:00:01.000Z');
    expect(await store.getEnvironment('prod')).toEqual(updated);
    expect((await store.listEnvironments()).map((env) => env.name)).toEqual(['dev', 'prod']);
    expect(await store.getEnvironment('nope')).toBeUndefined();
  });

  it('stores apps with their spec and hash, and cascades an environment delete to apps, inventory and history', async () => {
    await putProd();
    await store.putApp({
      environment: 'prod',
      name: 'web',
      desiredRevision: 'abc',
      liveRevision: null,
      phase: 'Progressing',
      message: 'starting',
      spec,
      specHash: 'h1',
    });
    await store.putApp({
      environment: 'prod',
      name: 'web',
      desiredRevision: 'abc',
      liveRevision: 'abc',
      phase: 'Synced',
      message: '',
      spec,
      specHash: 'h1',
    });
    const app = await store.getApp('prod', 'web');
    expect(app).toMatchObject({ phase: 'Synced', liveRevision: 'abc', spec, specHash: 'h1' });
    expect(await store.listApps('prod')).toHaveLength(1);

    await store.putApplied({ environment: 'prod', name: 'web', revision: 'abc', specHash: 'h1', spec });
    await store.recordSync(sync('abc'));
    expect(await store.deleteEnvironment('prod')).toBe(true);
    expect(await store.listApps('prod')).toEqual([]);
    expect(await store.listApplied('prod')).toEqual([]);
    expect(await store.listHistory('prod')).toEqual([]);
    expect(await store.deleteApp('prod', 'web')).toBe(false);
  });
});

describe('inventory', () => {
  it('keeps what was applied as AppliedApp, replaces it whole, and rolls back a failed replacement', async () => {
    await putProd();
    const web: AppliedApp = { environment: 'prod', name: 'web', revision: 'abc', specHash: 'h1', spec };
    const api: AppliedApp = { ...web, name: 'api', specHash: 'h2' };
    await store.putApplied(web);
    await store.putApplied({ ...web, revision: 'def' });
    expect(await store.listApplied('prod')).toEqual([{ ...web, revision: 'def' }]);

    await store.replaceInventory('prod', [api]);
    expect(await store.listApplied('prod')).toEqual([api]);

    await expect(store.replaceInventory('prod', [web, { ...api, environment: 'dev' }])).rejects.toThrow(
      /dev/,
    );
    expect(await store.listApplied('prod')).toEqual([api]);

    await store.removeApplied('prod', 'api');
    expect(await store.listApplied('prod')).toEqual([]);
  });

  it('commits a transaction together or not at all', async () => {
    await putProd();
    await expect(
      store.transaction(async (trx) => {
        await trx.putApp({
          environment: 'prod',
          name: 'web',
          desiredRevision: 'abc',
          liveRevision: 'abc',
          phase: 'Synced',
          message: '',
          spec: null,
          specHash: null,
        });
        // Nested: joins the outer transaction instead of opening another.
        await trx.replaceInventory('prod', []);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.listApps('prod')).toEqual([]);
  });
});

function sync(revision: string, index = 0): Parameters<ControllerStore['recordSync']>[0] {
  return {
    environment: 'prod',
    revision,
    // The same start time for all: order must come from insertion, not from the clock.
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:01.000Z',
    result: index % 3 === 0 ? 'succeeded' : index % 3 === 1 ? 'failed' : 'skipped',
    reason: 'Applied',
    message: `sync ${index}`,
    planSummary: { create: 1, update: 0, delete: 0, unchanged: 2, withheld: 0 },
  };
}

describe('sync history', () => {
  it(`keeps only the last ${HISTORY_LIMIT} per environment, newest first`, async () => {
    await putProd();
    await store.putEnvironment({
      name: 'dev',
      desiredRevision: null,
      liveRevision: null,
      phase: 'Synced',
      conditions: [],
    });
    await store.recordSync({ ...sync('d1'), environment: 'dev' });
    const ids: string[] = [];
    for (let index = 0; index < HISTORY_LIMIT + 30; index++) {
      ids.push((await store.recordSync(sync(`r${index}`, index))).id);
    }
    const history = await store.listHistory('prod');
    expect(history).toHaveLength(HISTORY_LIMIT);
    expect(history[0]?.revision).toBe(`r${HISTORY_LIMIT + 29}`);
    expect(history.at(-1)?.revision).toBe('r30');
    expect(history.map((entry) => entry.id)).toEqual(ids.slice(30).reverse());
    expect(history[0]).toMatchObject({ result: 'succeeded', planSummary: { create: 1, unchanged: 2 } });
    expect(await store.listHistory('prod', 5)).toHaveLength(5);
    // Another environment's history is untouched by prod's pruning.
    expect((await store.listHistory('dev')).map((entry) => entry.revision)).toEqual(['d1']);
    const count = await store.db
      .selectFrom('sync_history')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(HISTORY_LIMIT + 1);
  });

  it('keeps the id it was given (the API hands out sync ids before the sync runs)', async () => {
    await putProd();
    const record = await store.recordSync({ ...sync('abc'), id: 'sync-1' });
    expect(record.id).toBe('sync-1');
    expect((await store.listHistory('prod'))[0]?.id).toBe('sync-1');
  });

  it('summarises a plan', () => {
    const plan: Plan = {
      environment: 'prod',
      revision: 'abc',
      steps: [
        { action: 'create', app: 'a', changes: [] },
        { action: 'update', app: 'b', changes: [] },
        { action: 'unchanged', app: 'c', changes: [] },
        { action: 'unchanged', app: 'd', changes: [] },
      ],
      withheld: [{ app: 'e', reason: 'prune is off' }],
    };
    expect(summarisePlan(plan)).toEqual({ create: 1, update: 1, delete: 0, unchanged: 2, withheld: 1 });
  });
});

describe('tokens', () => {
  it('stores a token by hash, finds it by hash, touches and deletes it', async () => {
    const stored = await store.insertToken({
      id: 't1',
      name: 'ci',
      role: 'operator',
      tokenHash: 'ab'.repeat(32),
    });
    expect(stored).toEqual({
      id: 't1',
      name: 'ci',
      role: 'operator',
      createdAt: '2025-01-01T00:00:00.000Z',
      lastUsedAt: null,
    });
    expect(await store.findTokenByHash('ab'.repeat(32))).toMatchObject({
      id: 't1',
      tokenHash: 'ab'.repeat(32),
    });
    expect(await store.findTokenByHash('cd'.repeat(32))).toBeUndefined();
    clock += 60_000;
    await store.touchToken('t1');
    expect((await store.listTokens())[0]?.lastUsedAt).toBe('2025-01-01T00:01:00.000Z');
    expect(await store.deleteToken('t1')).toBe(true);
    expect(await store.listTokens()).toEqual([]);
  });

  it('refuses a role it does not know when reading back', async () => {
    await store.db
      .insertInto('api_tokens')
      .values({ id: 't2', name: 'x', role: 'root', token_hash: 'h', created_at: 'now', last_used_at: null })
      .execute();
    await expect(store.listTokens()).rejects.toThrow(/unknown role "root"/);
  });
});
