// The HTTP API in-process (app.inject) and once over a real loopback port for server-sent events: access
// per role, loopback reads without a token, validation, the one error mapping, metrics, logs, events.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Plan } from '../gitops/types.js';
import { type ControllerStore, openControllerStore, type Role } from '../store/controller-store.js';
import { buildServer, type PlumblineServer } from './app.js';
import { createToken } from './auth.js';
import {
  type AppStatus,
  CONTROLLER_EVENT,
  type ControllerApi,
  type ControllerEvent,
  type EnvironmentStatus,
  type LogLine,
  type SyncAccepted,
  type SyncRecord,
} from './controller-api.js';
import { ConflictError } from './errors.js';
import { createLogger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';

/**
 * A test double of our own `ControllerApi` (state the tests set, an EventEmitter they drive). Acceptable
 * here because the interface is ours and the real controller is integration-tested with the server later.
 */
class FakeController implements ControllerApi {
  readonly events = new EventEmitter();
  readonly environments = new Map<string, EnvironmentStatus>();
  readonly apps = new Map<string, AppStatus[]>();
  readonly records: SyncRecord[] = [];
  readonly syncRequests: { environment: string; app: string | undefined }[] = [];
  readonly historyCalls: number[] = [];
  isReady = true;
  failDiff: Error | undefined;
  failSync: Error | undefined;

  async listEnvironments(): Promise<readonly EnvironmentStatus[]> {
    return [...this.environments.values()];
  }
  async getEnvironment(name: string): Promise<EnvironmentStatus | undefined> {
    return this.environments.get(name);
  }
  async listApps(environment: string): Promise<readonly AppStatus[]> {
    return this.apps.get(environment) ?? [];
  }
  async history(environment: string, limit: number): Promise<readonly SyncRecord[]> {
    this.historyCalls.push(limit);
    return this.records.filter((record) => record.environment === environment).slice(0, limit);
  }
  async requestSync(environment: string, app?: string): Promise<SyncAccepted> {
    if (this.failSync !== undefined) throw this.failSync;
    this.syncRequests.push({ environment, app });
    return { accepted: true, syncId: `sync-${this.syncRequests.length}` };
  }
  async diff(environment: string): Promise<Plan> {
    if (this.failDiff !== undefined) throw this.failDiff;
    return {
      environment,
      revision: 'abc',
      steps: [{ action: 'create', app: 'web', changes: ['+ replicas: 2'] }],
      withheld: [],
    };
  }
  async logs(_environment: string, app: string, tail: number): Promise<readonly LogLine[]> {
    const lines = Array.from({ length: 500 }, (_, index) => ({
      at: '2025-01-01T00:00:00.000Z',
      stream: 'stdout' as const,
      instance: `${app}-0`,
      line: `line ${index}`,
    }));
    return lines.slice(-tail);
  }
  ready(): boolean {
    return this.isReady;
  }
}

function environment(name: string): EnvironmentStatus {
  return {
    name,
    desiredRevision: 'abc',
    liveRevision: 'abc',
    phase: 'Synced',
    conditions: [{ type: 'Ready', status: 'True', reason: 'Synced', message: 'all apps healthy', at: 'now' }],
    updatedAt: '2025-01-01T00:00:00.000Z',
  };
}

const webApp: AppStatus = {
  environment: 'prod',
  name: 'web',
  desiredRevision: 'abc',
  liveRevision: 'abc',
  phase: 'Synced',
  message: '',
  specHash: 'h1',
  updatedAt: '2025-01-01T00:00:00.000Z',
};

/** Log lines the server wrote, as text. */
function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

let dir: string;
let store: ControllerStore;
let controller: FakeController;
let metrics: Metrics;
let logs: ReturnType<typeof capture>;
let server: PlumblineServer;
const tokens = {} as Record<Role, string>;
/** Every response body of the suite, checked for stack traces at the end. */
const bodies: string[] = [];

async function setup(options: { tokenRequired?: boolean; heartbeatMs?: number } = {}): Promise<void> {
  logs = capture();
  metrics = createMetrics();
  server = buildServer({
    store,
    controller,
    metrics,
    logger: createLogger({ level: 'debug', destination: logs.stream }),
    ...options,
  });
  await server.ready();
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'plumbline-server-'));
  store = await openControllerStore({ dataDir: dir });
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    tokens[role] = (await createToken(store, { name: role, role })).token;
  }
  controller = new FakeController();
  controller.environments.set('prod', environment('prod'));
  controller.environments.set('dev', environment('dev'));
  controller.apps.set('prod', [webApp]);
  await setup();
});

afterEach(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

afterAll(() => {
  expect(bodies.length).toBeGreaterThan(30);
  for (const body of bodies) {
    expect(body).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|"stack"/);
  }
});

async function call(
  options: InjectOptions & { role?: Role; remote?: boolean },
): Promise<LightMyRequestResponse> {
  const { role, remote, ...rest } = options;
  const headers = { ...(rest.headers ?? {}) };
  if (role !== undefined) headers.authorization = `Bearer ${tokens[role]}`;
  const response = await server.inject({
    ...rest,
    headers,
    ...(remote === true ? { remoteAddress: '192.0.2.10' } : {}),
  });
  bodies.push(response.body);
  return response;
}

describe('access by role', () => {
  it('a viewer reads everything and may not sync or create tokens', async () => {
    for (const url of [
      '/api/v1/environments',
      '/api/v1/environments/prod',
      '/api/v1/environments/prod/apps',
      '/api/v1/environments/prod/history',
      '/api/v1/environments/prod/diff',
      '/api/v1/environments/prod/apps/web/logs',
      '/metrics',
    ]) {
      const response = await call({ method: 'GET', url, role: 'viewer', remote: true });
      expect(response.statusCode, url).toBe(200);
    }
    const sync = await call({
      method: 'POST',
      url: '/api/v1/environments/prod/sync',
      role: 'viewer',
      remote: true,
    });
    expect(sync.statusCode).toBe(403);
    expect(sync.json()).toMatchObject({
      code: 'PLUMBLINE_E_FORBIDDEN',
      message: expect.stringMatching(/operator/),
    });
    expect(controller.syncRequests).toEqual([]);
    const token = await call({
      method: 'POST',
      url: '/api/v1/tokens',
      role: 'viewer',
      remote: true,
      payload: { name: 'x', role: 'viewer' },
    });
    expect(token.statusCode).toBe(403);
  });

  it('an operator syncs (an environment or one app) and may not create tokens', async () => {
    const whole = await call({
      method: 'POST',
      url: '/api/v1/environments/prod/sync',
      role: 'operator',
      remote: true,
    });
    expect(whole.statusCode).toBe(202);
    expect(whole.json()).toEqual({ accepted: true, syncId: 'sync-1' });
    const one = await call({
      method: 'POST',
      url: '/api/v1/environments/prod/sync',
      role: 'operator',
      remote: true,
      payload: { app: 'web' },
    });
    expect(one.statusCode).toBe(202);
    expect(controller.syncRequests).toEqual([
      { environment: 'prod', app: undefined },
      { environment: 'prod', app: 'web' },
    ]);
    const token = await call({
      method: 'POST',
      url: '/api/v1/tokens',
      role: 'operator',
      remote: true,
      payload: { name: 'x', role: 'viewer' },
    });
    expect(token.statusCode).toBe(403);
  });

  it('an admin creates a token, shown once, that then works with its role', async () => {
    const created = await call({
      method: 'POST',
      url: '/api/v1/tokens',
      role: 'admin',
      remote: true,
      payload: { name: 'deploy bot', role: 'operator' },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json<{ id: string; name: string; role: string; token: string }>();
    expect(body).toMatchObject({
      name: 'deploy bot',
      role: 'operator',
      token: expect.stringMatching(/^plb_/),
    });
    const sync = await call({
      method: 'POST',
      url: '/api/v1/environments/dev/sync',
      headers: { authorization: `Bearer ${body.token}` },
      remote: true,
    });
    expect(sync.statusCode).toBe(202);
    expect(logs.text()).toContain('token created');
    expect(logs.text()).not.toContain(body.token);
    const admin = await call({
      method: 'POST',
      url: '/api/v1/environments/dev/sync',
      role: 'admin',
      remote: true,
    });
    expect(admin.statusCode).toBe(202);
  });

  it('without a token, loopback may read but not sync; other addresses may do neither', async () => {
    expect((await call({ method: 'GET', url: '/api/v1/environments' })).statusCode).toBe(200);
    expect((await call({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    const sync = await call({ method: 'POST', url: '/api/v1/environments/prod/sync' });
    expect(sync.statusCode).toBe(401);
    expect(sync.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await call({ method: 'GET', url: '/api/v1/environments', remote: true })).statusCode).toBe(401);
    expect((await call({ method: 'GET', url: '/healthz', remote: true })).statusCode).toBe(200);
    // A forwarded header does not make a remote caller local.
    const forwarded = await call({
      method: 'GET',
      url: '/api/v1/environments',
      remote: true,
      headers: { 'x-forwarded-for': '127.0.0.1' },
    });
    expect(forwarded.statusCode).toBe(401);
  });

  it('with tokenRequired, loopback needs a token too', async () => {
    await server.close();
    await setup({ tokenRequired: true });
    expect((await call({ method: 'GET', url: '/api/v1/environments' })).statusCode).toBe(401);
    expect((await call({ method: 'GET', url: '/api/v1/environments', role: 'viewer' })).statusCode).toBe(200);
    expect((await call({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('a bad or malformed token is 401, even from loopback and on read-only routes', async () => {
    const last = tokens.admin.at(-1) === 'A' ? 'B' : 'A';
    for (const authorization of [
      `Bearer ${tokens.admin.slice(0, -1)}${last}`,
      'Bearer plb_nope',
      `Basic ${tokens.admin}`,
      'Bearer',
      tokens.admin,
    ]) {
      const response = await call({ method: 'GET', url: '/api/v1/environments', headers: { authorization } });
      expect(response.statusCode, authorization).toBe(401);
      expect(response.json()).toMatchObject({
        code: 'PLUMBLINE_E_UNAUTHORIZED',
        requestId: expect.any(String),
      });
    }
  });
});

describe('validation and errors', () => {
  it('a malformed body, param or query is 400 with a message naming the field', async () => {
    const cases: [InjectOptions, RegExp][] = [
      [{ method: 'POST', url: '/api/v1/tokens', payload: { name: 'x', role: 'root' } }, /role/],
      [
        { method: 'POST', url: '/api/v1/tokens', payload: { name: 'x', role: 'viewer', extra: 1 } },
        /additional/,
      ],
      [{ method: 'POST', url: '/api/v1/tokens', payload: { role: 'viewer' } }, /name/],
      [
        {
          method: 'POST',
          url: '/api/v1/tokens',
          payload: '{"name":',
          headers: { 'content-type': 'application/json' },
        },
        /JSON/,
      ],
      [{ method: 'POST', url: '/api/v1/environments/prod/sync', payload: { app: 'Not An App' } }, /app/],
      [{ method: 'GET', url: '/api/v1/environments/Bad_Name' }, /params\/env/],
      [{ method: 'GET', url: '/api/v1/environments/prod/apps/web/logs?tail=0' }, /tail/],
      [{ method: 'GET', url: '/api/v1/environments/prod/apps/web/logs?tail=lots' }, /tail/],
      [{ method: 'GET', url: '/api/v1/environments/prod/history?limit=101' }, /limit/],
      [{ method: 'GET', url: '/api/v1/environments/prod/history?since=yesterday' }, /additional/],
    ];
    for (const [options, message] of cases) {
      const response = await call({ ...options, role: 'admin' });
      expect(response.statusCode, String(options.url)).toBe(400);
      expect(response.json(), String(options.url)).toMatchObject({
        statusCode: 400,
        code: 'PLUMBLINE_E_INPUT',
        error: 'Bad Request',
        message: expect.stringMatching(message),
      });
    }
    expect(controller.syncRequests).toEqual([]);
  });

  it('an unknown environment, app or route is 404', async () => {
    for (const url of [
      '/api/v1/environments/staging',
      '/api/v1/environments/staging/apps',
      '/api/v1/environments/staging/history',
      '/api/v1/environments/staging/diff',
      '/api/v1/environments/prod/apps/api/logs',
      '/api/v1/nothing-here',
    ]) {
      const response = await call({ method: 'GET', url, role: 'viewer' });
      expect(response.statusCode, url).toBe(404);
      expect(response.json()).toMatchObject({ code: 'PLUMBLINE_E_INPUT', error: 'Not Found' });
    }
    const sync = await call({ method: 'POST', url: '/api/v1/environments/staging/sync', role: 'operator' });
    expect(sync.statusCode).toBe(404);
    expect(sync.json().message).toBe('environment "staging" does not exist');
    const app = await call({
      method: 'POST',
      url: '/api/v1/environments/prod/sync',
      role: 'operator',
      payload: { app: 'api' },
    });
    expect(app.statusCode).toBe(404);
    expect(controller.syncRequests).toEqual([]);
  });

  it('maps domain errors in the one handler: ConflictError is 409', async () => {
    controller.failSync = new ConflictError('a sync of prod is already running', 'wait for it to finish');
    const response = await call({ method: 'POST', url: '/api/v1/environments/prod/sync', role: 'operator' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({
      message: 'a sync of prod is already running',
      hint: 'wait for it to finish',
    });
  });

  it('an unexpected failure is 500 with a generic message and the request id; the stack goes to the log', async () => {
    controller.failDiff = new Error('database at /secret/path exploded');
    const response = await call({ method: 'GET', url: '/api/v1/environments/prod/diff', role: 'viewer' });
    expect(response.statusCode).toBe(500);
    const body = response.json<{ requestId: string; message: string; code: string }>();
    expect(body.code).toBe('PLUMBLINE_E_INTERNAL');
    expect(response.body).not.toContain('/secret/path');
    expect(body.requestId).toBe(response.headers['x-request-id']);
    expect(logs.text()).toContain('database at /secret/path exploded');
    expect(logs.text()).toMatch(/"stack":/);
  });
});

describe('routes', () => {
  it('serves environments, apps, history (limit passed on, default 20), diff and logs (tail)', async () => {
    const list = await call({ method: 'GET', url: '/api/v1/environments' });
    expect(list.json()).toEqual([environment('prod'), environment('dev')]);
    expect((await call({ method: 'GET', url: '/api/v1/environments/prod' })).json()).toEqual(
      environment('prod'),
    );
    expect((await call({ method: 'GET', url: '/api/v1/environments/prod/apps' })).json()).toEqual([webApp]);
    await call({ method: 'GET', url: '/api/v1/environments/prod/history' });
    await call({ method: 'GET', url: '/api/v1/environments/prod/history?limit=5' });
    expect(controller.historyCalls).toEqual([20, 5]);
    const diff = await call({ method: 'GET', url: '/api/v1/environments/prod/diff' });
    expect(diff.json()).toMatchObject({ environment: 'prod', steps: [{ action: 'create', app: 'web' }] });
    const tail = await call({ method: 'GET', url: '/api/v1/environments/prod/apps/web/logs?tail=3' });
    expect(tail.json<LogLine[]>().map((line) => line.line)).toEqual(['line 497', 'line 498', 'line 499']);
    const byDefault = await call({ method: 'GET', url: '/api/v1/environments/prod/apps/web/logs' });
    expect(byDefault.json()).toHaveLength(100);
  });

  it('sends only the fields the response schema lists', async () => {
    controller.apps.set('prod', [{ ...webApp, spec: { secret: 'hunter2' } } as AppStatus]);
    const response = await call({ method: 'GET', url: '/api/v1/environments/prod/apps' });
    expect(response.body).not.toContain('hunter2');
  });

  it('answers /healthz always and /readyz as the controller says', async () => {
    expect((await call({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await call({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    controller.isReady = false;
    const notReady = await call({ method: 'GET', url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ status: 'not ready' });
  });

  it('/metrics shows the controller metrics in the Prometheus text format', async () => {
    metrics.observeSync('prod', 'succeeded', 1.5);
    metrics.observeSync('prod', 'failed', 0.2);
    metrics.recordDrift('prod');
    metrics.setAppPhase('prod', 'web', 'Degraded');
    metrics.setInstances('prod', 'web', 2);
    metrics.setAppPhase('prod', 'old', 'Synced');
    metrics.forgetApp('prod', 'old');
    const response = await call({ method: 'GET', url: '/metrics', role: 'viewer' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.body;
    expect(text).toContain('plumbline_sync_duration_seconds_bucket{le="2.5",environment="prod"} 2');
    expect(text).toContain('plumbline_sync_duration_seconds_count{environment="prod"} 2');
    expect(text).toContain('plumbline_syncs_total{result="succeeded"} 1');
    expect(text).toContain('plumbline_syncs_total{result="failed"} 1');
    expect(text).toContain('plumbline_syncs_total{result="skipped"} 0');
    expect(text).toContain('plumbline_drift_total{environment="prod"} 1');
    expect(text).toContain('plumbline_app_health{environment="prod",app="web",phase="Degraded"} 1');
    expect(text).toContain('plumbline_app_health{environment="prod",app="web",phase="Synced"} 0');
    expect(text).toContain('plumbline_instances{environment="prod",app="web"} 2');
    expect(text).not.toContain('app="old"');
  });

  it('logs each request with its id, returns the id in x-request-id, and never logs a token', async () => {
    const response = await call({ method: 'GET', url: '/api/v1/environments', role: 'admin' });
    const id = response.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const lines = logs
      .text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { requestId?: string; msg: string });
    expect(lines.filter((line) => line.requestId === id).map((line) => line.msg)).toEqual([
      'incoming request',
      'request completed',
    ]);
    for (const token of Object.values(tokens)) {
      expect(logs.text()).not.toContain(token);
      expect(logs.text()).not.toContain(token.slice(4));
    }
  });

  it('refuses a heartbeat that would flood the stream, when built', () => {
    expect(() =>
      buildServer({ store, controller, logger: createLogger({ level: 'silent' }), heartbeatMs: 0 }),
    ).toThrow(/heartbeatMs/);
  });
});

describe('server-sent events over a real loopback port', () => {
  /** Opens the stream and collects what arrives. */
  async function open(
    port: number,
    path: string,
  ): Promise<{ response: IncomingMessage; received: () => string; close: () => void }> {
    return new Promise((resolve, reject) => {
      let text = '';
      const request = httpRequest({
        host: '127.0.0.1',
        port,
        path,
        headers: { accept: 'text/event-stream' },
      });
      request.on('response', (response) => {
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('error', () => {});
        resolve({ response, received: () => text, close: () => request.destroy() });
      });
      request.on('error', reject);
      request.end();
    });
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  function event(type: string, environmentName?: string): ControllerEvent {
    return {
      type,
      at: '2025-01-01T00:00:00.000Z',
      ...(environmentName === undefined ? {} : { environment: environmentName }),
      message: `${type} happened`,
      data: { multi: 'line\nvalue' },
    };
  }

  it('delivers events as they are emitted, sends heartbeats, filters, and cleans up on disconnect', async () => {
    await server.close();
    await setup({ heartbeatMs: 50 });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.server.address() as AddressInfo;

    const all = await open(port, '/api/v1/events');
    const prodOnly = await open(port, '/api/v1/events?environment=prod');
    expect(all.response.statusCode).toBe(200);
    expect(all.response.headers['content-type']).toMatch(/^text\/event-stream/);
    await until(() => controller.events.listenerCount(CONTROLLER_EVENT) === 2, 'two listeners');

    controller.events.emit(CONTROLLER_EVENT, event('sync.started', 'prod'));
    await until(() => all.received().includes('sync.started'), 'the first event');
    controller.events.emit(CONTROLLER_EVENT, event('sync.succeeded', 'dev'));
    await until(() => all.received().includes('sync.succeeded'), 'the second event');
    await until(() => all.received().includes(': heartbeat'), 'a heartbeat');

    const frames = all
      .received()
      .split('\n\n')
      .filter((frame) => frame.startsWith('id: '));
    expect(frames).toHaveLength(2);
    expect(frames[0]?.split('\n')[0]).toBe('id: 1');
    const data = JSON.parse(frames[0]?.split('\n')[1]?.replace(/^data: /, '') ?? '') as ControllerEvent;
    expect(data).toEqual(event('sync.started', 'prod'));
    expect(prodOnly.received()).toContain('sync.started');
    expect(prodOnly.received()).not.toContain('sync.succeeded');

    all.close();
    prodOnly.close();
    await until(() => controller.events.listenerCount(CONTROLLER_EVENT) === 0, 'listeners removed');
  });

  it('needs a token from a non-loopback caller, like every read', async () => {
    const response = await call({ method: 'GET', url: '/api/v1/events', remote: true });
    expect(response.statusCode).toBe(401);
  });

  it('ends open streams when the server closes, so close() does not hang', async () => {
    await server.close();
    await setup({ heartbeatMs: 1000 });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.server.address() as AddressInfo;
    const stream = await open(port, '/api/v1/events');
    await until(() => controller.events.listenerCount(CONTROLLER_EVENT) === 1, 'a listener');
    const ended = new Promise<void>((resolve) => stream.response.on('end', resolve));
    await server.close();
    await ended;
    expect(controller.events.listenerCount(CONTROLLER_EVENT)).toBe(0);
  });
});
