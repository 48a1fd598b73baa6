// The supervisor as its own process (the built dist/…/main.js): it outlives the controller that started it,
// stops its instances on SIGTERM, and a new supervisor re-spawns them from the state file.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
import { ensureSupervisor, SupervisorClient } from './client.js';
import { parseMainArgs } from './main.js';
import { environMatches, pgidFromStat } from './orphans.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const MAIN = join(ROOT, 'dist/targets/local/supervisor/main.js');
const CLIENT = join(ROOT, 'dist/targets/local/supervisor/client.js');

/** A stand-in controller: ensures the supervisor, starts one instance, prints what it got, then idles. */
const CONTROLLER = `
import { ensureSupervisor } from ${JSON.stringify(CLIENT)};
const [dir, id, spec] = process.argv.slice(2);
const { client, started, pid } = await ensureSupervisor({ dir, script: ${JSON.stringify(MAIN)} });
const { instance } = await client.start(id, JSON.parse(spec));
console.log(JSON.stringify({ started, pid, instance }));
setInterval(() => {}, 1000);
`;

describe('orphans', () => {
  it('recognises an environment block and a stat line', () => {
    expect(environMatches('A=1\0PLUMBLINE_SUPERVISOR_DIR=/d\0B=2', '/d')).toBe(true);
    expect(environMatches('PLUMBLINE_SUPERVISOR_DIR=/d/e\0', '/d')).toBe(false);
    expect(pgidFromStat('123 (node (weird) x) S 1 120 120 0 -1')).toBe(120);
    expect(pgidFromStat('123 (node) Z 1 120 120 0 -1')).toBeUndefined();
  });
});

describe('parseMainArgs', () => {
  it('needs --dir and takes tuning flags', () => {
    expect(parseMainArgs(['--dir', '/x', '--log-max-bytes', '1000', '--log-files', '2'])).toEqual({
      dir: '/x',
      rotation: { maxBytes: 1000, files: 2 },
    });
    expect(parseMainArgs(['--dir', '/x', '--grace-ms', '5', '--backoff-base-ms', '7'])).toMatchObject({
      defaultGraceMs: 5,
      backoff: { baseMs: 7 },
    });
    expect(() => parseMainArgs([])).toThrow(/--dir/);
    expect(() => parseMainArgs(['--dir', '/x', '--log-files', '0'])).toThrow(/positive/);
  });
});

describe('the supervisor process', () => {
  let apps: TestApps;
  let dir: string;
  const reaper = new Reaper();
  const supervisorPids = new Set<number>();

  beforeAll(async () => {
    // tsc emits even if files elsewhere in the tree have type errors; what matters is that main.js exists.
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    } catch {}
    expect(existsSync(MAIN)).toBe(true);
    apps = await writeTestApps();
    dir = await mkdtemp(join(tmpdir(), 'plumbline-supervisor-proc-'));
  }, 120_000);

  afterEach(async () => {
    // Whatever a failed test left: supervisors gracefully first (they stop their instances), then by force.
    for (const pid of supervisorPids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
    }
    await waitFor(() => [...supervisorPids].every((pid) => !isAlive(pid)), 5000, 'supervisors to exit').catch(
      () => {},
    );
    for (const pid of supervisorPids) reaper.group(pid);
    supervisorPids.clear();
    reaper.reap();
  });

  afterAll(async () => {
    await removeDir(apps.dir);
    await removeDir(dir);
  });

  it('outlives its controller, stops instances on SIGTERM and re-spawns them from its state file', async () => {
    const port = await freePort();
    const id = 'dev/web/abc123/0';
    const spec = { command: [process.execPath, apps.server], cwd: apps.dir, env: { GREETING: 'hi' }, port };
    const controllerScript = join(apps.dir, 'controller.mjs');
    await writeFile(controllerScript, CONTROLLER);

    // 1. A controller process starts the supervisor and an instance, then dies with SIGKILL.
    const controller: ChildProcess = spawn(
      process.execPath,
      [controllerScript, dir, id, JSON.stringify(spec)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    reaper.pid(controller.pid);
    let output = '';
    controller.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    controller.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const first = await waitFor(
      () => {
        const line = output.split('\n').find((l) => l.startsWith('{'));
        return line === undefined
          ? undefined
          : (JSON.parse(line) as { started: boolean; pid: number; instance: { pid: number } });
      },
      20_000,
      `the controller's answer (output so far: ${output})`,
    );
    supervisorPids.add(first.pid);
    reaper.group(first.instance.pid);
    expect(first.started).toBe(true);
    controller.kill('SIGKILL');
    await waitFor(
      () => controller.exitCode !== null || controller.signalCode !== null,
      5000,
      'the controller to die',
    );

    // 2. Reconnecting finds the same supervisor and the same process: nothing restarted.
    const again = await ensureSupervisor({ dir, script: MAIN });
    expect(again.started).toBe(false);
    expect(again.pid).toBe(first.pid);
    const instance = await again.client.get(id);
    expect(instance).toMatchObject({ state: 'running', pid: first.instance.pid, restarts: 0 });
    expect(
      (
        await waitHealthy(`http://127.0.0.1:${port}/healthz`, {
          intervalMs: 50,
          timeoutMs: 500,
          deadlineMs: 10_000,
        })
      ).ok,
    ).toBe(true);

    // 3. SIGTERM stops every instance gracefully, then the supervisor exits and cleans up its socket.
    process.kill(first.pid, 'SIGTERM');
    await waitFor(() => !isAlive(first.pid), 15_000, 'the supervisor to exit');
    expect(isAlive(first.instance.pid)).toBe(false);
    expect(existsSync(join(dir, 'supervisor.sock'))).toBe(false);
    expect(existsSync(join(dir, 'supervisor.pid'))).toBe(false);
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as {
      instances: Record<string, unknown>;
    };
    expect(Object.keys(state.instances)).toEqual([id]);
    const log = await readFile(join(dir, 'supervisor.log'), 'utf8');
    const records = log
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string });
    expect(records.map((r) => r.msg)).toContain('supervisor stopped');
    expect(
      await new SupervisorClient({ socketPath: join(dir, 'supervisor.sock') })
        .health()
        .catch((e: unknown) => e),
    ).toMatchObject({
      kind: 'unreachable',
    });

    // 4. A new supervisor on the same directory starts the instance again from the state file.
    const second = await ensureSupervisor({ dir, script: MAIN });
    supervisorPids.add(second.pid);
    expect(second.started).toBe(true);
    expect(second.pid).not.toBe(first.pid);
    const respawned = await waitFor(
      async () => {
        const s = await second.client.get(id);
        return s?.state === 'running' ? s : undefined;
      },
      10_000,
      're-spawned instance',
    );
    reaper.group(respawned.pid);
    expect(respawned.pid).not.toBe(first.instance.pid);
    expect(respawned.spec).toEqual(spec);
    expect(
      (
        await waitHealthy(`http://127.0.0.1:${port}/healthz`, {
          intervalMs: 50,
          timeoutMs: 500,
          deadlineMs: 10_000,
        })
      ).ok,
    ).toBe(true);

    // 5. A supervisor killed outright leaves its instance running; the next one stops it and starts anew.
    process.kill(second.pid, 'SIGKILL');
    await waitFor(() => !isAlive(second.pid), 5000, 'the second supervisor to die');
    expect(isAlive(respawned.pid as number)).toBe(true);
    const third = await ensureSupervisor({ dir, script: MAIN });
    supervisorPids.add(third.pid);
    expect(third.started).toBe(true);
    const replaced = await waitFor(
      async () => {
        const s = await third.client.get(id);
        return s?.state === 'running' ? s : undefined;
      },
      10_000,
      'the instance started by the third supervisor',
    );
    reaper.group(replaced.pid);
    expect(isAlive(respawned.pid as number)).toBe(false);
    expect(replaced.pid).not.toBe(respawned.pid);
    expect(
      (
        await waitHealthy(`http://127.0.0.1:${port}/healthz`, {
          intervalMs: 50,
          timeoutMs: 500,
          deadlineMs: 10_000,
        })
      ).ok,
    ).toBe(true);

    // 6. Stopping through the API removes it from the state file, so a later supervisor starts nothing.
    await third.client.stop(id, 2000);
    const after = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as {
      instances: Record<string, unknown>;
    };
    expect(after.instances).toEqual({});
    process.kill(third.pid, 'SIGTERM');
    await waitFor(() => !isAlive(third.pid), 15_000, 'the third supervisor to exit');
  });
});
