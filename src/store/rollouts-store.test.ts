// The store's progressive-delivery repositories on a real SQLite file: applied revisions (what a rollback goes
// back to), rollout records, pins and quarantined revisions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppSpec } from '../gitops/types.js';
import { type ControllerStore, openControllerStore, REVISIONS_KEPT } from './controller-store.js';

const spec: AppSpec = {
  process: { command: ['node', 'server.js'], cwd: 'app', env: {} },
  port: 8080,
  replicas: 1,
  health: { http: { path: '/healthz' }, intervalMs: 1000, timeoutMs: 500 },
  dependsOn: [],
};

let dir: string;
let store: ControllerStore;
let clock: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plumbline-store-'));
  clock = Date.parse('2026-01-01T00:00:00.000Z');
  store = await openControllerStore({
    dataDir: dir,
    now: () => {
      clock += 1000;
      return new Date(clock);
    },
  });
  await store.putEnvironment({
    name: 'prod',
    desiredRevision: null,
    liveRevision: null,
    phase: 'Synced',
    conditions: [],
  });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('applied revisions', () => {
  it('keeps every revision applied to an app, newest first, once each in a row', async () => {
    for (const revision of ['r1', 'r2', 'r2', 'r3']) {
      await store.putApplied({ environment: 'prod', name: 'web', revision, specHash: `h-${revision}`, spec });
    }
    await store.putApplied({ environment: 'prod', name: 'api', revision: 'r1', specHash: 'x', spec });
    const history = await store.listAppliedRevisions('prod', 'web');
    expect(history.map((h) => h.revision)).toEqual(['r3', 'r2', 'r1']);
    expect(history[0]).toMatchObject({ specHash: 'h-r3', spec });
    expect((await store.listApplied('prod')).map((a) => [a.name, a.revision])).toEqual([
      ['api', 'r1'],
      ['web', 'r3'],
    ]);
  });

  it(`keeps the last ${REVISIONS_KEPT}`, async () => {
    for (let i = 0; i < REVISIONS_KEPT + 5; i++) {
      await store.putApplied({
        environment: 'prod',
        name: 'web',
        revision: `r${i}`,
        specHash: `h${i}`,
        spec,
      });
    }
    const history = await store.listAppliedRevisions('prod', 'web');
    expect(history).toHaveLength(REVISIONS_KEPT);
    expect(history.at(-1)?.revision).toBe('r5');
  });
});

describe('rollouts, pins and quarantine', () => {
  it('stores a rollout record per app, replaced by the next', async () => {
    await store.putRollout({
      environment: 'prod',
      app: 'web',
      record: { step: 1 },
      desired: { name: 'web' },
    });
    await store.putRollout({
      environment: 'prod',
      app: 'web',
      record: { step: 2 },
      desired: { name: 'web' },
    });
    expect(await store.getRollout('prod', 'web')).toMatchObject({
      record: { step: 2 },
      desired: { name: 'web' },
    });
    expect(await store.listRollouts()).toHaveLength(1);
    await store.deleteRollout('prod', 'web');
    expect(await store.getRollout('prod', 'web')).toBeUndefined();
  });

  it('pins an app, and unpins it once', async () => {
    const pin = await store.putPin({
      environment: 'prod',
      app: 'web',
      revision: 'r1',
      pinnedBy: 'token:x',
      reason: 'bad',
    });
    expect(await store.getPin('prod', 'web')).toEqual(pin);
    expect(await store.deletePin('prod', 'web')).toBe(true);
    expect(await store.deletePin('prod', 'web')).toBe(false);
  });

  it('quarantines revisions by spec hash, newest first, and lifts one or all', async () => {
    await store.putQuarantine({
      environment: 'prod',
      app: 'web',
      revision: 'r1',
      specHash: 'h1',
      reason: 'one',
    });
    await store.putQuarantine({
      environment: 'prod',
      app: 'web',
      revision: 'r2',
      specHash: 'h2',
      reason: 'two',
    });
    expect((await store.listQuarantine('prod', 'web')).map((q) => q.specHash)).toEqual(['h2', 'h1']);
    expect(await store.deleteQuarantine('prod', 'web', 'h2')).toBe(1);
    expect(await store.deleteQuarantine('prod', 'web')).toBe(1);
    expect(await store.listQuarantine('prod', 'web')).toEqual([]);
  });

  it('goes with its environment', async () => {
    await store.putPin({ environment: 'prod', app: 'web', revision: 'r1', pinnedBy: 'x', reason: 'y' });
    await store.putRollout({ environment: 'prod', app: 'web', record: {}, desired: {} });
    await store.deleteEnvironment('prod');
    expect(await store.getPin('prod', 'web')).toBeUndefined();
    expect(await store.listRollouts()).toEqual([]);
  });
});
