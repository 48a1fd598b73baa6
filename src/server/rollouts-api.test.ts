// The rollout routes in-process (app.inject): viewers read an App's rollout, operators act on it, bodies are
// validated strictly, `who` reaches the action, the engine's conflicts are 409s, and a controller without
// rollouts says so.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ControllerStore, openControllerStore } from '../store/controller-store.js';
import { buildServer, type PlumblineServer } from './app.js';
import { createToken } from './auth.js';
import type {
  AppRolloutStatus,
  AppStatus,
  ControllerApi,
  EnvironmentStatus,
  RollbackRequest,
  RolloutApi,
} from './controller-api.js';
import { ConflictError } from './errors.js';
import { createLogger } from './logger.js';

const status: AppRolloutStatus = {
  environment: 'prod',
  app: 'web',
  desiredRevision: 'b'.repeat(40),
  liveRevision: 'a'.repeat(40),
  phase: 'Progressing',
  message: 'canary of bbbbbbbbbbbb, step 2/4 (pause until promoted): paused until promoted',
  active: true,
  rollout: {
    environment: 'prod',
    app: 'web',
    strategy: 'canary',
    revision: 'b'.repeat(40),
    label: 'bbbbbbbbbbbb',
    stableRevision: 'aaaaaaaaaaaa',
    phase: 'Paused',
    message: 'paused until promoted',
    step: { index: 2, total: 4, name: 'pause until promoted' },
    weights: { aaaaaaaaaaaa: 80, bbbbbbbbbbbb: 20 },
    pause: { reason: 'step' },
    analysis: [
      {
        step: 1,
        templates: ['success-rate'],
        port: 8080,
        phase: 'Successful',
        message: 'Successful',
        metrics: [{ name: 'success-rate', measurements: [{ value: 1 }] }],
        at: 't',
      },
    ],
    attempt: 1,
    startedAt: 't',
    updatedAt: 't',
  },
  pin: null,
  quarantine: [],
};

/** Our own RolloutApi, recording calls: the real one runs in test/controller-rollouts.e2e.test.ts. */
class FakeRollouts implements RolloutApi {
  readonly calls: unknown[][] = [];
  conflict: ConflictError | undefined;
  async status(environment: string, app: string): Promise<AppRolloutStatus> {
    this.calls.push(['status', environment, app]);
    return status;
  }
  async promote(environment: string, app: string, options: { full?: boolean }, by: string) {
    if (this.conflict !== undefined) throw this.conflict;
    this.calls.push(['promote', environment, app, options, by]);
    return status;
  }
  async abort(environment: string, app: string, by: string) {
    this.calls.push(['abort', environment, app, by]);
    return status;
  }
  async retry(environment: string, app: string, by: string) {
    this.calls.push(['retry', environment, app, by]);
    return status;
  }
  async rollback(environment: string, app: string, request: RollbackRequest, by: string) {
    this.calls.push(['rollback', environment, app, request, by]);
    return { ...status, revert: { commit: 'c'.repeat(40), branch: 'main' } };
  }
  async unpin(environment: string, app: string, by: string) {
    this.calls.push(['unpin', environment, app, by]);
    return status;
  }
}

const environment: EnvironmentStatus = {
  name: 'prod',
  desiredRevision: null,
  liveRevision: null,
  phase: 'Synced',
  conditions: [],
  updatedAt: 't',
};
const web: AppStatus = {
  environment: 'prod',
  name: 'web',
  desiredRevision: null,
  liveRevision: null,
  phase: 'Synced',
  message: '',
  specHash: null,
  updatedAt: 't',
};

function controllerWith(rollouts: RolloutApi | undefined): ControllerApi {
  return {
    events: new EventEmitter(),
    ...(rollouts === undefined ? {} : { rollouts }),
    listEnvironments: async () => [environment],
    getEnvironment: async (name) => (name === 'prod' ? environment : undefined),
    listApps: async (env) => (env === 'prod' ? [web] : []),
    history: async () => [],
    requestSync: async () => ({ accepted: true, syncId: 's' }),
    diff: async () => ({ environment: 'prod', revision: 'r', steps: [], withheld: [] }),
    logs: async () => [],
    ready: () => true,
  };
}

let dir: string;
let store: ControllerStore;
let rollouts: FakeRollouts;
let server: PlumblineServer;
let viewer: string;
let operator: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plumbline-api-'));
  store = await openControllerStore({ dataDir: dir });
  rollouts = new FakeRollouts();
  server = buildServer({
    store,
    controller: controllerWith(rollouts),
    logger: createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) }),
    tokenRequired: true,
  });
  await server.ready();
  viewer = (await createToken(store, { name: 'v', role: 'viewer' })).token;
  operator = (await createToken(store, { name: 'o', role: 'operator' })).token;
});
afterEach(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const APP = '/api/v1/environments/prod/apps/web';

async function call(method: 'GET' | 'POST', url: string, token: string, payload?: unknown) {
  const response = await server.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

describe('the rollout routes', () => {
  it('lets a viewer read the rollout, with its step, weights and analysis', async () => {
    const read = await call('GET', `${APP}/rollout`, viewer);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(status);
    expect((await call('GET', '/api/v1/environments/prod/apps/nope/rollout', viewer)).status).toBe(404);
  });

  it('needs an operator to act, and passes who asked', async () => {
    for (const path of ['rollout/promote', 'rollout/abort', 'rollout/retry', 'rollback', 'unpin']) {
      expect((await call('POST', `${APP}/${path}`, viewer, {})).status).toBe(403);
      expect((await call('POST', `${APP}/${path}`, operator)).status).toBe(200);
    }
    const by = rollouts.calls.find((c) => c[0] === 'abort')?.[3];
    expect(by).toMatch(/^token:/);
    await call('POST', `${APP}/rollout/promote`, operator, { full: true });
    expect(rollouts.calls.at(-1)).toEqual(['promote', 'prod', 'web', { full: true }, by]);
  });

  it('validates a rollback strictly and answers with the revert', async () => {
    const done = await call('POST', `${APP}/rollback`, operator, {
      to: 'abc123',
      revert: true,
      reason: 'bad',
    });
    expect(done.status).toBe(200);
    expect(done.body.revert).toEqual({ commit: 'c'.repeat(40), branch: 'main' });
    expect(rollouts.calls.at(-1)?.slice(0, 4)).toEqual([
      'rollback',
      'prod',
      'web',
      { to: 'abc123', revert: true, reason: 'bad' },
    ]);
    expect((await call('POST', `${APP}/rollback`, operator, { to: 'main~1' })).status).toBe(400);
    expect((await call('POST', `${APP}/rollback`, operator, { force: true })).status).toBe(400);
  });

  it("maps the engine's conflicts to 409 with their hint", async () => {
    rollouts.conflict = new ConflictError('nothing to promote', 'wait for a pause');
    const refused = await call('POST', `${APP}/rollout/promote`, operator, {});
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ message: 'nothing to promote', hint: 'wait for a pause' });
  });

  it('says so when the controller runs no rollouts', async () => {
    await server.close();
    server = buildServer({
      store,
      controller: controllerWith(undefined),
      logger: createLogger({
        level: 'silent',
        destination: new Writable({ write: (_c, _e, done) => done() }),
      }),
      tokenRequired: true,
    });
    const refused = await call('GET', `${APP}/rollout`, viewer);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toBe('this controller runs no rollouts');
  });
});
