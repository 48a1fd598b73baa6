// The router service in-process: the admin API through RouterClient and raw requests, the socket's mode,
// the state file, stale sockets and a second router on the same socket.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RouterClient } from './client.js';
import { RouterError, stateSchema } from './protocol.js';
import { send, startBackend, type TestBackend } from './router.test-helper.js';
import { type RouterService, startRouterService } from './service.js';

let dir: string;
let service: RouterService | undefined;
let backend: TestBackend;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plumbline-router-'));
  backend = await startBackend('A');
});

afterEach(async () => {
  await service?.close();
  service = undefined;
  await backend.close();
  await rm(dir, { recursive: true, force: true });
});

/** A raw admin request, for what RouterClient never sends. */
function raw(
  socket: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the admin API', () => {
  it('programs the router, confirms the generation, and persists the table', async () => {
    const socket = join(dir, 'router.sock');
    const state = join(dir, 'state', 'routes.json');
    service = await startRouterService({ socket, state });
    expect((await stat(socket)).mode & 0o777).toBe(0o600);
    expect((await readFile(join(dir, 'router.pid'), 'utf8')).trim()).toBe(String(process.pid));

    const client = new RouterClient({ socket });
    expect(await client.health()).toMatchObject({ ok: true, pid: process.pid, generation: 0, routes: 0 });
    const set = await client.setRoutes(0, 'web', [{ id: 'a1', url: backend.url, revision: 'r1' }]);
    expect(set.generation).toBe(1);
    expect(set.port).toBeGreaterThan(0);
    expect((await send(`http://127.0.0.1:${set.port}/`)).body).toBe('A');

    const table = await client.routes();
    expect(table).toEqual({
      generation: 1,
      routes: [
        {
          port: set.port,
          app: 'web',
          generation: 1,
          backends: [{ id: 'a1', url: backend.url, revision: 'r1', weight: 1, inflight: 0 }],
        },
      ],
      draining: [],
    });
    const saved = stateSchema.parse(JSON.parse(await readFile(state, 'utf8')));
    expect(saved).toEqual({
      version: 1,
      generation: 1,
      routes: [
        { port: set.port, app: 'web', backends: [{ id: 'a1', url: backend.url, revision: 'r1', weight: 1 }] },
      ],
    });

    const metrics = await client.metrics();
    expect(metrics).toContain(
      `plumbline_router_requests_total{app="web",port="${set.port}",revision="r1"} 1`,
    );

    expect(await client.removeRoute(set.port)).toEqual({ generation: 2, port: set.port, removed: true });
    expect(await client.removeRoute(set.port)).toEqual({ generation: 2, port: set.port, removed: false });
    expect(stateSchema.parse(JSON.parse(await readFile(state, 'utf8'))).routes).toEqual([]);
  });

  it('answers bad requests with 400 and a message, never a stack trace', async () => {
    const socket = join(dir, 'router.sock');
    service = await startRouterService({ socket, state: join(dir, 'state.json') });
    const cases: [string, string, string | undefined, number, RegExp][] = [
      ['PUT', '/v1/routes/8080', '{not json', 400, /the body is not JSON/],
      ['PUT', '/v1/routes/8080', '', 400, /no JSON body/],
      ['PUT', '/v1/routes/8080', '{"app":"web"}', 400, /^backends: /],
      [
        'PUT',
        '/v1/routes/8080',
        '{"app":"web","backends":[{"id":"a","url":"ftp://x:1","revision":"r"}]}',
        400,
        /^backends\[0\]\.url: /,
      ],
      [
        'PUT',
        '/v1/routes/8080',
        '{"app":"web","backends":[{"id":"a","url":"http://127.0.0.1:1","revision":"r","weight":-1}]}',
        400,
        /^backends\[0\]\.weight: /,
      ],
      [
        'PUT',
        '/v1/routes/8080',
        '{"app":"web","backends":[{"id":"a","url":"http://127.0.0.1:1","revision":"r"},{"id":"a","url":"http://127.0.0.1:2","revision":"r"}]}',
        400,
        /duplicate backend id/,
      ],
      ['PUT', '/v1/routes/70000', '{"app":"web","backends":[]}', 400, /not between 0 and 65535/],
      ['POST', '/v1/routes', '{}', 405, /POST is not allowed/],
      ['GET', '/v2/nothing', undefined, 404, /no such endpoint/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const answer = await raw(socket, method, path, body);
      expect(answer.status, `${method} ${path} ${body}`).toBe(status);
      const json = JSON.parse(answer.body) as { error: string; message: string };
      expect(json.message).toMatch(message);
      expect(answer.body).not.toMatch(/\n\s+at /);
    }
    const wrongType = await raw(socket, 'PUT', '/v1/routes/1', 'x', { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(400);
    expect((await new RouterClient({ socket }).routes()).routes).toEqual([]);
  });

  it('reports a port in use as a 409 the client throws with the message', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      const socket = join(dir, 'router.sock');
      service = await startRouterService({ socket, state: join(dir, 'state.json') });
      const error = await new RouterClient({ socket })
        .setRoutes(port, 'web', [])
        .catch((caught: unknown) => caught as RouterError);
      expect(error).toBeInstanceOf(RouterError);
      expect(error).toMatchObject({ status: 409, kind: 'conflict' });
      expect((error as RouterError).message).toContain('already in use');
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  it('restores the saved table on start and refuses a second router on the same socket', async () => {
    const socket = join(dir, 'router.sock');
    const state = join(dir, 'state.json');
    const first = await startRouterService({ socket, state });
    const { port } = await new RouterClient({ socket }).setRoutes(0, 'web', [
      { id: 'a', url: backend.url, revision: 'r1' },
    ]);
    await expect(startRouterService({ socket, state })).rejects.toThrow(
      /another router is already listening/,
    );
    await first.close();
    await expect(stat(socket)).rejects.toThrow(/ENOENT/);

    // (A socket file left by a killed router is covered by main.test.ts, with SIGKILL.)
    service = await startRouterService({ socket, state });
    expect(await new RouterClient({ socket }).health()).toMatchObject({ generation: 1, routes: 1 });
    expect((await send(`http://127.0.0.1:${port}/`)).body).toBe('A');
  });

  it('refuses to start over something that is not a socket, and survives a corrupt state file', async () => {
    const socket = join(dir, 'router.sock');
    await writeFile(socket, 'not a socket');
    await expect(startRouterService({ socket, state: join(dir, 'state.json') })).rejects.toThrow(
      /not a socket/,
    );
    await rm(socket);
    await writeFile(join(dir, 'state.json'), '{"version":1,');
    const events: string[] = [];
    service = await startRouterService({
      socket,
      state: join(dir, 'state.json'),
      log: (_level, event) => events.push(event),
    });
    expect(events).toContain('state.invalid');
    expect((await new RouterClient({ socket }).routes()).routes).toEqual([]);
  });

  it('throws a clear error when no router answers', async () => {
    const client = new RouterClient({ socket: join(dir, 'nobody.sock'), timeoutMs: 500 });
    await expect(client.health()).rejects.toThrow(/cannot be reached: ENOENT/);
  });
});
