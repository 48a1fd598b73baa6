// The supervisor with real processes and signals: start, health on PORT, crash loops with backoff, stops
// with SIGTERM then SIGKILL of the whole group, log rotation, idempotent starts and commands that cannot start.
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitHealthy } from '../health.js';
import {
  freePort,
  isAlive,
  Reaper,
  removeDir,
  type TestApps,
  waitFor,
  writeTestApps,
} from './apps.test-helper.js';
import { rotatedPath, splitPoint, tailFile } from './logs.js';
import { canonicalJson, type InstanceSpec, parseInstanceId, sameSpec } from './protocol.js';
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  instanceEnv,
  nextAttempt,
  SpecConflictError,
  Supervisor,
  type SupervisorEvent,
  type SupervisorOptions,
} from './supervisor.js';

describe('pure decisions', () => {
  it('doubles the backoff from the base to the cap, with jitter taken off', () => {
    const options = { ...DEFAULT_BACKOFF, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, options))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
    expect(backoffDelay(3, { ...DEFAULT_BACKOFF, jitter: 0.2 }, () => 1)).toBe(6400);
    expect(backoffDelay(3, { ...DEFAULT_BACKOFF, jitter: 0.2 }, () => 0)).toBe(8000);
  });

  it('resets the failure counter after the instance stayed up long enough', () => {
    expect(nextAttempt(4, 29_999, 30_000)).toBe(5);
    expect(nextAttempt(4, 30_000, 30_000)).toBe(0);
  });

  it('parses instance ids and refuses ones that could escape the log folder', () => {
    expect(parseInstanceId('prod/web/abc123/2')).toEqual({
      environment: 'prod',
      app: 'web',
      revision: 'abc123',
      index: 2,
    });
    expect(parseInstanceId('prod/web/abc123')).toHaveProperty('error');
    expect(parseInstanceId('prod/../abc/0')).toHaveProperty('error');
    expect(parseInstanceId('prod/web/a..b/0')).toHaveProperty('error');
    expect(parseInstanceId('prod/web/abc/01')).toHaveProperty('error');
    expect(parseInstanceId('prod/web/abc/-1')).toHaveProperty('error');
  });

  it('compares specs canonically', () => {
    const a: InstanceSpec = { command: ['node'], cwd: '/', env: { A: '1', B: '2' }, port: 1 };
    expect(sameSpec(a, { ...a, env: { B: '2', A: '1' } })).toBe(true);
    expect(sameSpec(a, { ...a, port: 2 })).toBe(false);
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });

  it('builds an environment from a few basics, the spec, PORT and the id', () => {
    const env = instanceEnv(
      'e/a/r/0',
      { command: ['x'], cwd: '/', env: { PORT: '1', X: 'y' }, port: 8080 },
      '/data/sup',
      {
        PATH: '/bin',
        SECRET: 'no',
      },
    );
    expect(env).toEqual({
      PATH: '/bin',
      X: 'y',
      PORT: '8080',
      PLUMBLINE_INSTANCE: 'e/a/r/0',
      PLUMBLINE_SUPERVISOR_DIR: '/data/sup',
    });
  });

  it('splits writes at line ends so files stay within the limit', () => {
    const bytes = Buffer.from('aaaa\nbbbb\ncc');
    expect(splitPoint(bytes, 0, 100)).toBe(12);
    expect(splitPoint(bytes, 0, 11)).toBe(10);
    expect(splitPoint(bytes, 95, 100)).toBe(5);
    expect(splitPoint(bytes, 97, 100)).toBe(0);
    expect(splitPoint(bytes, 0, 3)).toBe(3);
    expect(rotatedPath('/x.log', 0)).toBe('/x.log');
    expect(rotatedPath('/x.log', 2)).toBe('/x.log.2');
  });
});

describe('Supervisor', () => {
  let apps: TestApps;
  let dir: string;
  let supervisor: Supervisor | undefined;
  let events: SupervisorEvent[];
  const reaper = new Reaper();

  beforeAll(async () => {
    apps = await writeTestApps();
  });
  afterAll(async () => {
    await removeDir(apps.dir);
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plumbline-supervisor-'));
    events = [];
  });
  afterEach(async () => {
    for (const instance of supervisor?.list() ?? []) reaper.group(instance.pid);
    await supervisor?.close().catch(() => {});
    supervisor = undefined;
    reaper.reap();
    await removeDir(dir);
  });

  function make(options: Partial<SupervisorOptions> = {}): Supervisor {
    supervisor = new Supervisor({
      dir,
      backoff: { baseMs: 50, maxMs: 1000, jitter: 0 },
      defaultGraceMs: 2000,
      onEvent: (event) => {
        events.push(event);
        if (event.event === 'spawned') reaper.group(event.pid as number);
      },
      ...options,
    });
    return supervisor;
  }

  function spec(script: string, port: number, extra: Partial<InstanceSpec> = {}): InstanceSpec {
    return { command: [process.execPath, script], cwd: apps.dir, env: {}, port, ...extra };
  }

  it('starts an instance that runs and answers its health probe on PORT', async () => {
    const sup = make();
    const port = await freePort();
    const { created, instance } = await sup.start('dev/web/abc/0', spec(apps.server, port));
    expect(created).toBe(true);
    expect(instance.state).toBe('running');
    expect(instance.pid).toBeGreaterThan(0);
    const probe = await waitHealthy(`http://127.0.0.1:${port}/healthz`, {
      intervalMs: 50,
      timeoutMs: 500,
      deadlineMs: 10_000,
    });
    expect(probe.ok).toBe(true);
    expect(probe.status).toBe(200);
    expect(sup.list().map((i) => i.id)).toEqual(['dev/web/abc/0']);
    await waitFor(
      async () => (await sup.logs('dev/web/abc/0', 10))?.includes(`listening on ${port}`),
      5000,
      'log line',
    );
    expect(instance.logFile).toBe(join(dir, 'logs', 'dev', 'web', 'abc-0.log'));
  });

  it('restarts a crashing instance with growing backoff and counts the restarts', async () => {
    const sup = make();
    await sup.start('dev/crash/abc/0', spec(apps.crash, await freePort()));
    const status = await waitFor(
      () => {
        const s = sup.get('dev/crash/abc/0');
        return s !== undefined && s.restarts >= 3 ? s : undefined;
      },
      15_000,
      'three restarts',
    );
    expect(status.lastExit?.code).toBe(3);
    const delays = events.filter((e) => e.event === 'backoff').map((e) => e.delayMs);
    expect(delays.slice(0, 3)).toEqual([50, 100, 200]);
    const lines = (await sup.logs('dev/crash/abc/0', 100)) ?? [];
    expect(lines.filter((l) => l === 'crash!').length).toBeGreaterThanOrEqual(3);
    const backoff = await waitFor(
      () => {
        const s = sup.get('dev/crash/abc/0');
        return s?.state === 'backoff' ? s : undefined;
      },
      5000,
      'backoff state',
    );
    expect(backoff.reason).toBe('exited with code 3');
    expect(backoff.nextRestartAt).toBeDefined();
    expect(backoff.pid).toBeUndefined();
  });

  it('stops with SIGTERM when the app honours it', async () => {
    const sup = make();
    const port = await freePort();
    await sup.start('dev/web/abc/0', spec(apps.server, port));
    await waitHealthy(`http://127.0.0.1:${port}/healthz`, {
      intervalMs: 50,
      timeoutMs: 500,
      deadlineMs: 10_000,
    });
    const pid = sup.get('dev/web/abc/0')?.pid as number;
    const started = Date.now();
    const stopped = await sup.stop('dev/web/abc/0');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(stopped?.state).toBe('stopped');
    expect(stopped?.lastExit).toMatchObject({ code: 0, signal: null });
    expect(isAlive(pid)).toBe(false);
    expect(sup.get('dev/web/abc/0')).toBeUndefined();
    expect(await sup.logs('dev/web/abc/0', 5)).toContain('got SIGTERM');
    expect(events.some((e) => e.event === 'killed')).toBe(false);
  });

  it('SIGKILLs the whole process group after the grace when SIGTERM is ignored', async () => {
    const sup = make();
    const childPidFile = join(dir, 'child.pid');
    await sup.start(
      'dev/stubborn/abc/0',
      spec(apps.stubborn, await freePort(), { env: { CHILD_PID_FILE: childPidFile }, graceMs: 5000 }),
    );
    const childPid = await waitFor(
      async () => Number(await readFile(childPidFile, 'utf8').catch(() => '')) || undefined,
      5000,
      'child pid',
    );
    reaper.pid(childPid);
    await waitFor(
      async () => (await sup.logs('dev/stubborn/abc/0', 5))?.some((l) => l.startsWith('stubborn up')),
      5000,
      'up',
    );
    const pid = sup.get('dev/stubborn/abc/0')?.pid as number;
    const started = Date.now();
    const stopped = await sup.stop('dev/stubborn/abc/0', 300);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(3000);
    expect(stopped?.lastExit?.signal).toBe('SIGKILL');
    expect(events.some((e) => e.event === 'killed')).toBe(true);
    expect(isAlive(pid)).toBe(false);
    await waitFor(() => !isAlive(childPid), 2000, 'the child to die');
    expect(await sup.logs('dev/stubborn/abc/0', 5)).toContain('ignoring SIGTERM');
  });

  it('rotates the log by size as it pipes, keeping whole lines', async () => {
    const sup = make({ rotation: { maxBytes: 10_000, files: 3 } });
    await sup.start('dev/chatty/abc/0', spec(apps.chatty, await freePort(), { env: { LINES: '500' } }));
    const last = `line 000499 ${'x'.repeat(87)}`;
    await waitFor(async () => (await sup.logs('dev/chatty/abc/0', 1))?.[0] === last, 10_000, 'the last line');
    const log = sup.get('dev/chatty/abc/0')?.logFile as string;
    const sizes = await Promise.all(
      [0, 1, 2, 3].map((n) =>
        stat(rotatedPath(log, n)).then(
          (s) => s.size,
          () => -1,
        ),
      ),
    );
    expect(sizes[3]).toBe(-1);
    for (const size of sizes.slice(0, 3)) {
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThanOrEqual(10_000);
      expect(size % 100).toBe(0);
    }
    // 500 lines of 100 bytes; only the last three files' worth remain, and the tail reads across them.
    const tail = (await sup.logs('dev/chatty/abc/0', 250)) ?? [];
    expect(tail).toHaveLength(250);
    expect(tail[0]).toMatch(/^line 000250 /);
    expect(tail.at(-1)).toBe(last);
    expect(await tailFile(rotatedPath(log, 2), 1)).toHaveLength(1);
  });

  it('treats the same spec again as a no-op and a different spec as a conflict', async () => {
    const sup = make();
    const port = await freePort();
    const first = await sup.start('dev/web/abc/0', spec(apps.server, port, { env: { A: '1', B: '2' } }));
    const again = await sup.start('dev/web/abc/0', spec(apps.server, port, { env: { B: '2', A: '1' } }));
    expect(again.created).toBe(false);
    expect(again.instance.pid).toBe(first.instance.pid);
    await expect(sup.start('dev/web/abc/0', spec(apps.server, port + 1))).rejects.toBeInstanceOf(
      SpecConflictError,
    );
    expect(events.filter((e) => e.event === 'spawned')).toHaveLength(1);
  });

  it('marks a command that cannot start as failed with a reason, and retries it', async () => {
    const sup = make();
    const { instance } = await sup.start('dev/missing/abc/0', {
      command: ['/nonexistent/plumbline-no-such-binary', '--flag'],
      cwd: apps.dir,
      env: {},
      port: 1,
    });
    expect(instance.state).toBe('failed');
    expect(instance.reason).toContain('command not found (ENOENT)');
    expect(instance.reason).toContain('plumbline-no-such-binary');
    expect(instance.pid).toBeUndefined();
    const later = await waitFor(
      () => {
        const s = sup.get('dev/missing/abc/0');
        return s !== undefined && s.restarts >= 2 && s.state === 'failed' ? s : undefined;
      },
      5000,
      'retries',
    );
    expect(later.reason).toContain('ENOENT');
    expect(later.nextRestartAt).toBeDefined();
    const stopped = await sup.stop('dev/missing/abc/0');
    expect(stopped?.state).toBe('stopped');
  });

  it('reports a missing cwd as the reason', async () => {
    const sup = make();
    const { instance } = await sup.start('dev/nocwd/abc/0', {
      command: [process.execPath],
      cwd: join(dir, 'nope'),
      env: {},
      port: 1,
    });
    expect(instance.state).toBe('failed');
    expect(instance.reason).toContain('does not exist');
  });

  it('gives an instance its secrets, but never persists or shows them', async () => {
    const saved: string[] = [];
    const sup = make({ persist: async (specs) => void saved.push(JSON.stringify([...specs.values()])) });
    const port = await freePort();
    const planted = 'planted-secret-value-6f1c';
    const { instance } = await sup.start(
      'dev/web/abc/0',
      spec(apps.server, port, { env: { PLAIN: 'p' }, secretEnv: { DB_PASSWORD: planted } }),
    );
    expect(JSON.stringify(instance)).not.toContain(planted);
    expect(JSON.stringify(sup.list())).not.toContain(planted);
    expect(JSON.stringify(sup.get('dev/web/abc/0'))).not.toContain(planted);
    expect(saved.join('\n')).not.toContain(planted);
    expect(saved.join('\n')).toContain('PLAIN');
    await waitHealthy(`http://127.0.0.1:${port}/healthz`, {
      intervalMs: 50,
      timeoutMs: 500,
      deadlineMs: 10_000,
    });
    const answer = await fetch(`http://127.0.0.1:${port}/env/DB_PASSWORD`);
    expect(await answer.text()).toBe(planted);
    // The same spec again (secrets included) is the same instance, not a conflict.
    const again = await sup.start(
      'dev/web/abc/0',
      spec(apps.server, port, { env: { PLAIN: 'p' }, secretEnv: { DB_PASSWORD: planted } }),
    );
    expect(again.created).toBe(false);
  });

  it('persists the specs that should run, before answering', async () => {
    const saved: string[][] = [];
    const sup = make({ persist: async (specs) => void saved.push([...specs.keys()]) });
    await sup.start('dev/web/abc/0', spec(apps.server, await freePort()));
    await sup.start('dev/web/abc/1', spec(apps.server, await freePort()));
    await sup.stop('dev/web/abc/0', 1000);
    expect(saved).toEqual([['dev/web/abc/0'], ['dev/web/abc/0', 'dev/web/abc/1'], ['dev/web/abc/1']]);
    await sup.close();
    expect(saved).toHaveLength(3);
  });
});
