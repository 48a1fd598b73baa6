// The controller end to end: a real Git repository, the controller in this process, the supervisor and
// router as real detached processes, real app processes and HTTP on loopback.
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, up } from '../src/gitops/up.js';
import { freePort } from '../src/targets/local/target.js';
import { DEMO_APP, SCRIPTS, stopLocalTarget, until } from './helpers/controller.js';
import { gitRepo, plumblineAsync as plumbline, type TempDir, tempDir } from './helpers/repo.js';

const HOOK_SECRET = 'a-webhook-secret-for-tests';
// The supervisor and router run as separate processes from the build (make test builds first).

function environmentYaml(): string {
  return `apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: { name: staging }
spec:
  path: deploy/staging
  target: { local: {} }
  sync: { auto: true, prune: true, selfHeal: true, interval: 1s }
`;
}

function appYaml(port: number, greeting: string, replicas = 2): string {
  return `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: web }
spec:
  process: { command: ["node", "server.js"], cwd: app, env: { GREETING: ${greeting} } }
  port: ${port}
  replicas: ${replicas}
  health: { http: { path: /healthz }, interval: 1s, timeout: 1s }
`;
}

async function get(url: string): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Requests in a loop until stopped; counts failures (anything but a 200). */
function load(url: string): { stop(): Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  const failed: string[] = [];
  let ok = 0;
  const loop = (async () => {
    while (running) {
      const r = await get(url);
      if ('error' in r || r.status !== 200) failed.push('error' in r ? r.error : `HTTP ${r.status}`);
      else ok++;
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ok, failed };
    },
  };
}

describe('plumbline up on the local target', () => {
  let repo: TempDir;
  let data: TempDir;
  let port: number;
  let running: Running;
  const silent = pino({ level: 'silent' });

  beforeAll(async () => {
    repo = gitRepo();
    data = tempDir('plumbline-data-');
    port = await freePort();
    repo.commit('initial', {
      'plumbline.yaml': environmentYaml(),
      'deploy/staging/web.yaml': appYaml(port, 'hello'),
      'app/server.js': DEMO_APP,
      'app/package.json': '{ "type": "module" }\n',
    });
    running = await up({
      repo: repo.path,
      branch: 'main',
      dataDir: data.path,
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      intervalMs: 500,
      releaseCheckMs: 0,
      scripts: SCRIPTS,
      webhookSecret: HOOK_SECRET,
    });
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    // The supervisor and router outlive the controller on purpose; the test ends them.
    await stopLocalTarget(data.path);
    repo.remove();
    data.remove();
  }, 30_000);

  it('deploys the app behind the router and reports it Synced', async () => {
    const body = await until('the app to answer', async () => {
      const r = await get(`http://127.0.0.1:${port}/`);
      return 'body' in r && r.status === 200 ? r.body : undefined;
    });
    expect(body).toMatch(/^hello from pid \d+/);
    const env = await until('Synced', async () => {
      const e = await running.store.getEnvironment('staging');
      return e?.phase === 'Synced' ? e : undefined;
    });
    expect(env.liveRevision).toBe(repo.git('rev-parse', 'HEAD').trim());
    const apps = await running.store.listApps('staging');
    expect(apps.map((a) => [a.name, a.phase])).toEqual([['web', 'Synced']]);
  }, 60_000);

  it('rolls out a new commit with no failed request', async () => {
    const traffic = load(`http://127.0.0.1:${port}/`);
    repo.commit('bonjour', { 'deploy/staging/web.yaml': appYaml(port, 'bonjour') });
    await until('the new revision to serve', async () => {
      const r = await get(`http://127.0.0.1:${port}/`);
      return 'body' in r && r.body.startsWith('bonjour') ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 1500)); // old instances drain and stop under load
    const { ok, failed } = await traffic.stop();
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(10);
  }, 60_000);

  it('keeps the old revision on a bad commit and says why', async () => {
    repo.commit('broken', { 'deploy/staging/web.yaml': 'kind: App\nspec: [unclosed\n' });
    const env = await until('Failed', async () => {
      const e = await running.store.getEnvironment('staging');
      return e?.phase === 'Failed' ? e : undefined;
    });
    expect(env.conditions[0]?.message).toMatch(/web\.yaml:\d+/);
    expect(env.conditions[0]?.message).toMatch(/previous revision keeps running/);
    const r = await get(`http://127.0.0.1:${port}/`);
    expect('body' in r && r.body.startsWith('bonjour')).toBe(true);
    repo.commit('fixed', { 'deploy/staging/web.yaml': appYaml(port, 'bonjour') });
    await until('Synced again', async () =>
      (await running.store.getEnvironment('staging'))?.phase === 'Synced' ? true : undefined,
    );
  }, 60_000);

  it('heals drift: an instance removed behind its back comes back', async () => {
    const { SupervisorClient } = await import('../src/targets/local/supervisor/client.js');
    const supervisor = new SupervisorClient({ socketPath: join(data.path, 'supervisor', 'supervisor.sock') });
    const before = (await supervisor.list()).filter((i) => i.id.startsWith('staging/web/'));
    expect(before).toHaveLength(2);
    await supervisor.stop((before[0] as { id: string }).id, 1000);
    await until('two running instances again', async () => {
      const now = (await supervisor.list()).filter(
        (i) => i.id.startsWith('staging/web/') && i.state === 'running',
      );
      return now.length === 2 ? true : undefined;
    });
    const r = await get(`http://127.0.0.1:${port}/`);
    expect('body' in r && r.status).toBe(200);
  }, 60_000);

  it('verifies webhook signatures and refuses API changes without the right role', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/main', after: repo.git('rev-parse', 'HEAD').trim() });
    const post = (signature: string) =>
      fetch(`${running.url}/api/v1/webhooks/git`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-hub-signature-256': signature,
        },
        body,
      });
    expect((await post('sha256=0000')).status).toBe(401);
    const good = `sha256=${createHmac('sha256', HOOK_SECRET).update(body).digest('hex')}`;
    expect((await post(good)).status).toBe(202);
    // From loopback without a token: reading is allowed, syncing is not.
    expect((await fetch(`${running.url}/api/v1/environments/staging`)).status).toBe(200);
    const sync = await fetch(`${running.url}/api/v1/environments/staging/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect([401, 403]).toContain(sync.status);
    const { createToken } = await import('../src/server/auth.js');
    const viewer = await createToken(running.store, { name: 'test', role: 'viewer' });
    const asViewer = await fetch(`${running.url}/api/v1/environments/staging/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer.token}` },
      body: '{}',
    });
    expect(asViewer.status).toBe(403);
    const operator = await createToken(running.store, { name: 'test', role: 'operator' });
    const asOperator = await fetch(`${running.url}/api/v1/environments/staging/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${operator.token}` },
      body: '{}',
    });
    expect(asOperator.status).toBe(202);
  }, 30_000);

  it('restores a release folder changed behind its back', async () => {
    const applied = (await running.store.listApplied('staging'))[0];
    const file = join(data.path, 'releases', applied?.revision ?? '', 'app', 'server.js');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, '// tampered\n');
    writeFileSync(join(data.path, 'releases', applied?.revision ?? '', 'app', 'extra.js'), 'x');
    await until('the release restored', async () =>
      readFileSync(file, 'utf8') === original ? true : undefined,
    );
    expect(existsSync(join(data.path, 'releases', applied?.revision ?? '', 'app', 'extra.js'))).toBe(false);
  }, 30_000);

  it('answers the CLI: status, diff, history and logs', async () => {
    const status = await plumbline(['status', 'staging', '--server', running.url, '--json']);
    expect(status.status).toBe(0);
    const parsed = JSON.parse(status.stdout) as { environment: { phase: string }; apps: { name: string }[] };
    expect(parsed.apps.map((a) => a.name)).toEqual(['web']);
    const text = await plumbline(['status', '--server', running.url]);
    expect(text.stdout).toMatch(/^staging\s+\w+/);
    const diff = await plumbline(['diff', 'staging', '--server', running.url]);
    expect(diff.status).toBe(0);
    expect(diff.stdout).toMatch(/web/);
    const history = await plumbline(['history', 'staging', '--server', running.url, '--json']);
    expect((JSON.parse(history.stdout) as unknown[]).length).toBeGreaterThan(2);
    const logs = await plumbline(['logs', 'staging', 'web', '--server', running.url]);
    expect(logs.stdout).toMatch(/listening on \d+ with greeting/);
    const down = await plumbline(['status', '--server', 'http://127.0.0.1:9']);
    expect(down.status).toBe(2);
    expect(down.stderr).toMatch(/cannot reach the controller/);
  }, 30_000);

  it('restarts the controller with no downtime: the app keeps serving and is re-adopted', async () => {
    const traffic = load(`http://127.0.0.1:${port}/`);
    await running.stop();
    await new Promise((r) => setTimeout(r, 500));
    running = await up({
      repo: repo.path,
      branch: 'main',
      dataDir: data.path,
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      intervalMs: 500,
      releaseCheckMs: 0,
      scripts: SCRIPTS,
      webhookSecret: HOOK_SECRET,
    });
    await until('Synced after restart', async () =>
      (await running.store.getEnvironment('staging'))?.phase === 'Synced' ? true : undefined,
    );
    const { ok, failed } = await traffic.stop();
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(5);
  }, 60_000);
});
