// The router as a process (built with tsc, then spawned): started by a controller that exits, killed and
// restarted from its state file, drained by SIGTERM, and strict with malformed admin requests.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRouter, RouterClient } from './client.js';
import { send, startBackend, type TestBackend } from './router.test-helper.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const MAIN = join(ROOT, 'dist/targets/local/router/main.js');
const CLIENT = join(ROOT, 'dist/targets/local/router/client.js');

let dir: string;
let backend: TestBackend;
/** Routers this file started, to kill if a test left one behind. */
const started = new Set<number>();

beforeAll(async () => {
  const buildStart = Date.now();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  // Other modules' type errors do not stop tsc emitting; what matters is a fresh main.js and client.js.
  for (const file of [MAIN, CLIENT]) {
    if (!existsSync(file) || statSync(file).mtimeMs < buildStart - 1_000) {
      throw new Error(`the build did not produce ${file}: ${build.stdout}${build.stderr}`);
    }
  }
  dir = await mkdtemp(join(tmpdir(), 'plumbline-router-proc-'));
  backend = await startBackend('A');
}, 180_000);

afterAll(async () => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await backend?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function rawAdmin(
  socket: string,
  method: string,
  path: string,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { socketPath: socket, method, path, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((wake) => setTimeout(wake, 25));
  }
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolvePromise) =>
    child.once('exit', (code, signal) => resolvePromise({ code, signal })),
  );
}

describe('the router process', () => {
  it('outlives the controller that started it, and serves again after a kill and restart', async () => {
    const socket = join(dir, 'a', 'router.sock');
    const state = join(dir, 'a', 'routes.json');
    // A controller process that ensures the router and exits at once.
    const controller = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        'const { ensureRouter } = await import(process.argv[1]);' +
          'const r = await ensureRouter({ socket: process.argv[2], state: process.argv[3] });' +
          'console.log(JSON.stringify({ pid: r.pid, started: r.started }));',
        pathToFileURL(CLIENT).href,
        socket,
        state,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    controller.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    expect(await exitOf(controller)).toEqual({ code: 0, signal: null });
    const first = JSON.parse(out) as { pid: number; started: boolean };
    started.add(first.pid);
    expect(first.started).toBe(true);

    const client = new RouterClient({ socket });
    expect((await client.health()).pid).toBe(first.pid);
    expect((await statSync(join(dir, 'a', 'router.pid'))).isFile()).toBe(true);
    const { port, generation } = await client.setRoutes(0, 'web', [
      { id: 'a1', url: backend.url, revision: 'r1' },
    ]);
    expect((await send(`http://127.0.0.1:${port}/`)).body).toBe('A');

    // A crash: the socket file stays behind, the state file has the table.
    process.kill(first.pid, 'SIGKILL');
    await until(async () => (await client.health().catch(() => undefined)) === undefined);
    expect(existsSync(socket)).toBe(true);

    const again = await ensureRouter({ socket, state, script: MAIN });
    started.add(again.pid);
    expect(again.started).toBe(true);
    expect(again.pid).not.toBe(first.pid);
    const table = await again.client.routes();
    expect(table.generation).toBe(generation);
    expect(table.routes.map((route) => [route.port, route.app, route.backends[0]?.url])).toEqual([
      [port, 'web', backend.url],
    ]);
    expect((await send(`http://127.0.0.1:${port}/`)).body).toBe('A');

    // A second ensure finds it running.
    expect(await ensureRouter({ socket, state, script: MAIN })).toMatchObject({
      pid: again.pid,
      started: false,
    });

    const log = await readFile(join(dir, 'a', 'router.log'), 'utf8');
    const events = log
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { event: string }).event);
    expect(events).toContain('admin.stale_socket_removed');
    expect(events).toContain('state.restored');

    process.kill(again.pid, 'SIGTERM');
    await until(async () => !existsSync(socket));
    started.delete(again.pid);
  });

  it('drains in-flight requests on SIGTERM, then exits 0 and removes its socket and pid file', async () => {
    const socket = join(dir, 'b', 'router.sock');
    const state = join(dir, 'b', 'routes.json');
    const child = spawn(process.execPath, [MAIN, '--admin-socket', socket, '--state', state], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (child.pid !== undefined) started.add(child.pid);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = exitOf(child);
    const client = new RouterClient({ socket });
    await until(async () => (await client.health().catch(() => undefined)) !== undefined);

    const { port } = await client.setRoutes(0, 'web', [{ id: 'a1', url: backend.url, revision: 'r1' }]);
    const seenBefore = backend.seen.length;
    const slow = send(`http://127.0.0.1:${port}/slow?ms=700`);
    await until(async () => backend.seen.length > seenBefore);
    child.kill('SIGTERM');
    await until(async () => {
      try {
        await send(`http://127.0.0.1:${port}/`);
        return false;
      } catch {
        return true;
      }
    });
    expect(await slow).toMatchObject({ status: 200, body: 'A' });
    expect(await exited).toEqual({ code: 0, signal: null });
    if (child.pid !== undefined) started.delete(child.pid);
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(join(dir, 'b', 'router.pid'))).toBe(false);
    // The table outlives the process for the next start.
    expect(JSON.parse(await readFile(state, 'utf8'))).toMatchObject({ generation: 1, routes: [{ port }] });
    const lines = stderr.trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.map((line) => (JSON.parse(line) as { event: string }).event)).toEqual(
      expect.arrayContaining(['started', 'signal', 'shutdown', 'unlisten', 'stopped']),
    );
  });

  it('answers a malformed admin request with 400, and a bad command line with exit 2', async () => {
    const socket = join(dir, 'c', 'router.sock');
    const { pid, client } = await ensureRouter({
      socket,
      state: join(dir, 'c', 'routes.json'),
      script: MAIN,
    });
    started.add(pid);
    const answer = await rawAdmin(socket, 'PUT', '/v1/routes/8080', '{"app": 3}');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: 'bad_request',
      message: expect.stringMatching(/^app: /),
    });
    expect((await client.routes()).routes).toEqual([]);
    process.kill(pid, 'SIGTERM');
    await until(async () => !existsSync(socket));
    started.delete(pid);

    const bad = spawnSync(process.execPath, [MAIN, '--state', 'x'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(JSON.parse(bad.stderr.trim())).toMatchObject({ level: 'error', event: 'usage' });
  });
});
