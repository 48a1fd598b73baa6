// The admin API over its Unix socket, through SupervisorClient and raw HTTP: statuses, idempotent PUT, 409 on
// a different spec, 400s with messages and no stack traces, stops that answer when stopped, log tails.
import { spawnSync } from 'node:child_process';
import { mkdtemp, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AdminServer, route, socketAnswers, startAdminServer } from './admin.js';
import {
  freePort,
  isAlive,
  Reaper,
  removeDir,
  type TestApps,
  waitFor,
  writeTestApps,
} from './apps.test-helper.js';
import { instancePath, SupervisorClient, SupervisorError } from './client.js';
import type { InstanceSpec } from './protocol.js';
import { Supervisor } from './supervisor.js';

function raw(
  socketPath: string,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('route', () => {
  it('decodes a URL-encoded id', () => {
    expect(route('/v1/health')).toEqual({ kind: 'health' });
    expect(route('/v1/instances')).toEqual({ kind: 'instances' });
    expect(route(instancePath('dev/web/abc/0'))).toEqual({ kind: 'instance', id: 'dev/web/abc/0' });
    expect(route(`${instancePath('dev/web/abc/0')}/logs`)).toEqual({ kind: 'logs', id: 'dev/web/abc/0' });
    expect(route('/v1/instances/dev/web/abc/0')).toEqual({ kind: 'unknown' });
    expect(route('/v2/health')).toEqual({ kind: 'unknown' });
  });
});

describe('admin API', () => {
  let apps: TestApps;
  let dir: string;
  let supervisor: Supervisor;
  let admin: AdminServer;
  let client: SupervisorClient;
  let socketPath: string;
  const reaper = new Reaper();

  beforeAll(async () => {
    apps = await writeTestApps();
  });
  afterAll(async () => {
    await removeDir(apps.dir);
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plumbline-admin-'));
    socketPath = join(dir, 'supervisor.sock');
    supervisor = new Supervisor({
      dir,
      backoff: { baseMs: 50, jitter: 0 },
      defaultGraceMs: 2000,
      onEvent: (event) => {
        if (event.event === 'spawned') reaper.group(event.pid as number);
      },
    });
    admin = await startAdminServer({ supervisor, socketPath });
    client = new SupervisorClient({ socketPath, timeoutMs: 5000 });
  });
  afterEach(async () => {
    await supervisor.close().catch(() => {});
    await admin.close();
    reaper.reap();
    await removeDir(dir);
  });

  function spec(script: string, port: number, extra: Partial<InstanceSpec> = {}): InstanceSpec {
    return { command: [process.execPath, script], cwd: apps.dir, env: {}, port, ...extra };
  }

  it('listens on a socket only its owner can use and answers health', async () => {
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
    const health = await client.health();
    expect(health).toMatchObject({ ok: true, pid: process.pid, dir, instances: 0 });
  });

  it('starts, lists, gets, tails and stops an instance', async () => {
    const port = await freePort();
    const id = 'dev/web/abc/0';
    const started = await client.start(id, spec(apps.server, port));
    expect(started.created).toBe(true);
    expect(started.instance.state).toBe('running');
    const again = await client.start(id, spec(apps.server, port));
    expect(again.created).toBe(false);
    expect(again.instance.pid).toBe(started.instance.pid);

    expect((await client.list()).map((i) => i.id)).toEqual([id]);
    expect((await client.get(id))?.spec.port).toBe(port);
    expect(await client.get('dev/web/abc/9')).toBeUndefined();
    await waitFor(async () => (await client.logs(id, 1))[0] === `listening on ${port}`, 5000, 'log');

    const stopped = await client.stop(id, 1000);
    expect(stopped?.state).toBe('stopped');
    expect(isAlive(started.instance.pid as number)).toBe(false);
    expect(await client.get(id)).toBeUndefined();
    expect(await client.stop(id)).toBeUndefined();
    expect(await client.logs(id, 5)).toContain('got SIGTERM');
  });

  it('answers 409 for a different spec under the same id', async () => {
    const id = 'dev/web/abc/0';
    await client.start(id, spec(apps.server, await freePort()));
    const error = await client.start(id, spec(apps.server, await freePort())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupervisorError);
    expect(error).toMatchObject({ status: 409, kind: 'conflict' });
    expect((error as Error).message).toContain('different spec');
  });

  it('answers 400 with a message, never a stack trace, for bad input', async () => {
    const path = instancePath('dev/web/abc/0');
    const cases: [string, string, string | undefined, RegExp][] = [
      ['PUT', path, '{not json', /not JSON/],
      ['PUT', path, JSON.stringify({ command: [], cwd: 'relative', env: {}, port: 0 }), /command.*cwd.*port/],
      ['PUT', path, JSON.stringify({ command: ['x'], cwd: '/', env: {}, port: 80, shell: true }), /shell/],
      ['PUT', instancePath('dev/../abc/0'), JSON.stringify(spec(apps.server, 1)), /app must match/],
      [
        'PUT',
        instancePath('only-one-segment'),
        JSON.stringify(spec(apps.server, 1)),
        /env\/app\/revision\/index/,
      ],
      ['GET', '/v1/instances/%E0%A4%A', undefined, /URL encoding/],
      ['GET', `${path}/logs?tail=-1`, undefined, /tail/],
      ['GET', `${path}/logs?tail=abc`, undefined, /tail/],
      ['DELETE', `${path}?graceMs=soon`, undefined, /graceMs/],
    ];
    for (const [method, target, body, message] of cases) {
      const response = await raw(socketPath, method, target, body);
      expect(response.status, `${method} ${target}`).toBe(400);
      const parsed = JSON.parse(response.body) as { error: string; message: string };
      expect(parsed.error).toBe('bad_request');
      expect(parsed.message).toMatch(message);
      expect(response.body).not.toMatch(/\n\s+at /);
    }
    expect(supervisor.list()).toEqual([]);
  });

  it('answers 404 for unknown routes and 405 for wrong methods', async () => {
    expect((await raw(socketPath, 'GET', '/nope')).status).toBe(404);
    expect((await raw(socketPath, 'POST', '/v1/instances')).status).toBe(405);
    expect((await raw(socketPath, 'GET', instancePath('dev/web/abc/0'))).status).toBe(404);
  });

  it('answers a DELETE only once the instance is stopped, honouring graceMs', async () => {
    const id = 'dev/stubborn/abc/0';
    const childPidFile = join(dir, 'child.pid');
    const { instance } = await client.start(
      id,
      spec(apps.stubborn, await freePort(), { env: { CHILD_PID_FILE: childPidFile } }),
    );
    await waitFor(
      async () => (await client.logs(id, 5)).some((l) => l.startsWith('stubborn up')),
      5000,
      'up',
    );
    const started = Date.now();
    const stopped = await client.stop(id, 200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(stopped?.lastExit?.signal).toBe('SIGKILL');
    expect(isAlive(instance.pid as number)).toBe(false);
  });

  it('removes its socket on close, and a client then reports the supervisor unreachable', async () => {
    await admin.close();
    expect(await socketAnswers(socketPath)).toBe(false);
    const error = await client.health().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unreachable' });
  });

  it('refuses to start over a live socket but replaces a stale one', async () => {
    await expect(startAdminServer({ supervisor, socketPath })).rejects.toThrow(/already answers/);
    // A socket file left by a process that died without cleaning up.
    const stalePath = join(dir, 'stale.sock');
    const script = `require('node:net').createServer().listen(${JSON.stringify(stalePath)}, () => process.kill(process.pid, 'SIGKILL'))`;
    spawnSync(process.execPath, ['-e', script]);
    expect((await stat(stalePath)).isSocket()).toBe(true);
    expect(await socketAnswers(stalePath)).toBe(false);
    const other = await startAdminServer({ supervisor, socketPath: stalePath });
    expect(await new SupervisorClient({ socketPath: stalePath }).health()).toMatchObject({ ok: true });
    await other.close();
  });
});
