// The controller with two environments: dependsOn order, a process that crashes at start, prune on and
// off, drift without self-heal, and one environment's failure leaving the other alone. Real Git, real
// processes, real HTTP on loopback.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, up } from '../src/gitops/up.js';
import { SupervisorClient } from '../src/targets/local/supervisor/client.js';
import { freePort } from '../src/targets/local/target.js';
import { DEMO_APP, getText, SCRIPTS, stopLocalTarget, until } from './helpers/controller.js';
import { gitRepo, type TempDir, tempDir } from './helpers/repo.js';

function environments(): string {
  const env = (name: string, prune: boolean, selfHeal: boolean): string => `apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: { name: ${name} }
spec:
  path: deploy/${name}
  target: { local: {} }
  sync: { auto: true, prune: ${prune}, selfHeal: ${selfHeal}, interval: 1s }
`;
  return `${env('dev', true, true)}---\n${env('prod', false, false)}`;
}

function app(
  name: string,
  port: number,
  options: { greeting?: string; dependsOn?: string[]; crash?: boolean } = {},
): string {
  const command = options.crash === true ? '["node", "-e", "process.exit(3)"]' : '["node", "server.js"]';
  return `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: ${name} }
spec:
  process: { command: ${command}, cwd: app, env: { GREETING: ${options.greeting ?? name} } }
  port: ${port}
  replicas: 1
  health: { http: { path: /healthz }, interval: 1s, timeout: 1s }
  dependsOn: [${(options.dependsOn ?? []).join(', ')}]
`;
}

describe('plumbline up with two environments', () => {
  let repo: TempDir;
  let data: TempDir;
  let running: Running;
  let supervisor: SupervisorClient;
  const ports = { migrate: 0, web: 0, prod: 0 };

  beforeAll(async () => {
    repo = gitRepo();
    data = tempDir('plumbline-data-');
    ports.migrate = await freePort();
    ports.web = await freePort();
    ports.prod = await freePort();
    repo.commit('initial', {
      'plumbline.yaml': environments(),
      'deploy/dev/migrate.yaml': app('db-migrate', ports.migrate),
      'deploy/dev/web.yaml': app('web', ports.web, { dependsOn: ['db-migrate'] }),
      'deploy/prod/web.yaml': app('web', ports.prod, { greeting: 'prod' }),
      'app/server.js': DEMO_APP,
      'app/package.json': '{ "type": "module" }\n',
    });
    running = await up({
      repo: repo.path,
      branch: 'main',
      dataDir: data.path,
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'silent' }),
      intervalMs: 500,
      releaseCheckMs: 0,
      healthDeadlineMs: 3000,
      scripts: SCRIPTS,
    });
    supervisor = new SupervisorClient({ socketPath: join(data.path, 'supervisor', 'supervisor.sock') });
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    await stopLocalTarget(data.path);
    repo.remove();
    data.remove();
  }, 30_000);

  it('starts an app only after what it depends on is healthy', async () => {
    await until('dev web', async () => getText(`http://127.0.0.1:${ports.web}/`));
    await until('prod web', async () => getText(`http://127.0.0.1:${ports.prod}/`));
    const instances = await supervisor.list();
    const started = (prefix: string) =>
      Date.parse(instances.find((i) => i.id.startsWith(prefix))?.startedAt ?? '');
    expect(started('dev/db-migrate/')).toBeLessThan(started('dev/web/'));
  }, 60_000);

  it('keeps the old revision when a process crashes at start, and holds back what depends on it', async () => {
    repo.commit('a broken migration and a new web', {
      'deploy/dev/migrate.yaml': app('db-migrate', ports.migrate, { crash: true }),
      'deploy/dev/web.yaml': app('web', ports.web, { dependsOn: ['db-migrate'], greeting: 'web-v2' }),
    });
    const migrate = await until('db-migrate Degraded', async () => {
      const a = (await running.store.listApps('dev')).find((x) => x.name === 'db-migrate');
      return a?.phase === 'Degraded' ? a : undefined;
    });
    expect(migrate.message).toMatch(/did not pass its health check .* exited with code 3/);
    expect(migrate.message).toMatch(/previous revision keeps serving/);
    const web = (await running.store.listApps('dev')).find((x) => x.name === 'web');
    expect(web?.phase).toBe('Progressing');
    expect(web?.message).toMatch(/waiting for db-migrate to become healthy/);
    expect(await getText(`http://127.0.0.1:${ports.migrate}/`)).toMatch(/^db-migrate from/); // old revision
    expect(await getText(`http://127.0.0.1:${ports.web}/`)).toMatch(/^web from/); // old web, not web-v2
    await until('dev Degraded', async () =>
      (await running.store.getEnvironment('dev'))?.phase === 'Degraded' ? true : undefined,
    );
    // The other environment is not affected.
    const prodEnv = await running.store.getEnvironment('prod');
    expect(prodEnv?.phase, JSON.stringify(prodEnv?.conditions)).toBe('Synced');
    repo.commit('fix the migration', {
      'deploy/dev/migrate.yaml': app('db-migrate', ports.migrate, { greeting: 'migrate-v2' }),
    });
    await until('web-v2 live', async () =>
      (await getText(`http://127.0.0.1:${ports.web}/`))?.startsWith('web-v2') ? true : undefined,
    );
  }, 90_000);

  it('prunes with prune on, and withholds deletes with prune off', async () => {
    repo.git('rm', '-q', 'deploy/dev/web.yaml', 'deploy/prod/web.yaml');
    repo.commit('remove both webs', { 'deploy/prod/keep.yaml': app('keep', await freePort()) });
    await until('dev web pruned', async () =>
      (await getText(`http://127.0.0.1:${ports.web}/`)) === undefined ? true : undefined,
    );
    await until('dev web gone from the status', async () => {
      const names = (await running.store.listApps('dev')).map((a) => a.name);
      return names.length === 1 && names[0] === 'db-migrate' ? true : undefined;
    });
    await until('prod keep running', async () =>
      (await running.store.listApps('prod')).some((a) => a.name === 'keep' && a.phase === 'Synced')
        ? true
        : undefined,
    );
    expect(await getText(`http://127.0.0.1:${ports.prod}/`)).toMatch(/^prod from/);
    const history = await running.store.listHistory('prod', 5);
    expect(
      history.some((h) => h.planSummary.withheld === 1),
      JSON.stringify(history),
    ).toBe(true);
  }, 60_000);

  it('fails only the App whose port something else holds, and never hands a declared port to an instance', async () => {
    const holder = createNetServer();
    const held = await freePort();
    await new Promise<void>((resolve) => holder.listen(held, '127.0.0.1', resolve));
    try {
      repo.commit('an app on a port that is taken', { 'deploy/prod/blocked.yaml': app('blocked', held) });
      const blocked = await until('blocked Degraded', async () => {
        const a = (await running.store.listApps('prod')).find((x) => x.name === 'blocked');
        return a?.phase === 'Degraded' ? a : undefined;
      });
      expect(blocked.message).toMatch(/already in use/);
      expect(blocked.message).toMatch(/previous revision keeps serving/);
      // The instance it started was stopped again; the rest of the environment is untouched.
      expect((await supervisor.list()).some((i) => i.id.startsWith('prod/blocked/'))).toBe(false);
      expect(await getText(`http://127.0.0.1:${ports.prod}/`)).toMatch(/^prod from/);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    // Instance ports keep clear of what the caller excludes (the target passes every declared App port).
    for (let i = 0; i < 20; i++)
      expect(await freePort((port) => port < 32_000)).toBeGreaterThanOrEqual(32_000);
  }, 60_000);

  it('reports drift without self-heal instead of repairing it', async () => {
    const prodWeb = (await supervisor.list()).find((i) => i.id.startsWith('prod/web/'));
    expect(prodWeb).toBeDefined();
    await supervisor.stop((prodWeb as { id: string }).id, 1000);
    const env = await until('prod OutOfSync', async () => {
      const e = await running.store.getEnvironment('prod');
      return e?.phase === 'OutOfSync' ? e : undefined;
    });
    expect(env.conditions[0]?.reason).toBe('Drift');
    expect(env.conditions[0]?.message).toMatch(/web: no instances/);
    // A changed release folder is drift too; without self-heal it is reported, not repaired.
    const keep = (await running.store.listApplied('prod')).find((a) => a.name === 'keep');
    const file = join(data.path, 'releases', keep?.revision ?? '', 'app', 'server.js');
    writeFileSync(file, '// tampered\n');
    await until('the release drift reported', async () => {
      const e = await running.store.getEnvironment('prod');
      return e?.conditions[0]?.message.includes('keep: release folder changed (app/server.js)') === true
        ? true
        : undefined;
    });
    expect(readFileSync(file, 'utf8')).toBe('// tampered\n');
    await new Promise((r) => setTimeout(r, 1500));
    expect((await supervisor.list()).some((i) => i.id.startsWith('prod/web/'))).toBe(false);
  }, 60_000);
});
