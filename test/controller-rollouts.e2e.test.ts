// Progressive delivery end to end: a real Git repository, the controller in this process (`up()`), the
// supervisor and router as real detached processes, real app processes, real HTTP on loopback, and the real
// analysis engine judging the router's per-revision counters. A good canary walks every step (a manual pause
// promoted through the CLI, across a controller restart); a bad canary (500s when FAIL=1 is set in the
// commit) rolls back on its own and is quarantined while the old revision serves; blue-green serves a preview,
// promotes, and rolls back within the scale-down delay; a pin holds against new commits; a revert is pushed.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, up } from '../src/gitops/up.js';
import type { AppRolloutStatus } from '../src/server/controller-api.js';
import { freePort } from '../src/targets/local/target.js';
import { SCRIPTS, stopLocalTarget, until } from './helpers/controller.js';
import { gitRepo, plumblineAsync as plumbline, type TempDir, tempDir } from './helpers/repo.js';

// The supervisor and router run from the build (npm run build first).

/** Answers `<GREETING> from pid N`, or a 500 on every path but /healthz when the commit sets FAIL=1. */
const APP = `import { createServer } from 'node:http';
const greeting = process.env.GREETING ?? 'hello';
const fail = process.env.FAIL === '1';
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\\n');
    return;
  }
  if (fail) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(greeting + ' failed\\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(greeting + ' from pid ' + process.pid + '\\n');
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
});
`;

const TEMPLATES = `apiVersion: plumbline.dev/v1alpha1
kind: AnalysisTemplate
metadata: { name: success-rate }
spec:
  metrics:
    - name: success-rate
      interval: 1s
      count: 2
      failureLimit: 0
      noData: inconclusive
      successCondition: "result >= 0.95"
      provider:
        router: { query: success-rate }
`;

function environmentYaml(hooks: number): string {
  return `apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: { name: staging }
spec:
  path: deploy/staging
  target: { local: {} }
  sync: { auto: true, prune: true, selfHeal: true, interval: 1s }
  notifications:
    - webhook: { url: "http://127.0.0.1:${hooks}/generic" }
    - webhook: { url: "http://127.0.0.1:${hooks}/slack", format: slack }
`;
}

function appYaml(name: string, port: number, env: Record<string, string>, strategy = ''): string {
  const vars = Object.entries(env)
    .map(([k, v]) => `${k}: "${v}"`)
    .join(', ');
  return `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: ${name} }
spec:
  process: { command: ["node", "server.js"], cwd: app, env: { ${vars} } }
  port: ${port}
  replicas: 1
  health: { http: { path: /healthz }, interval: 1s, timeout: 1s }
${strategy}`;
}

const GOOD_CANARY = `  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: {}
        - setWeight: 50
        - analysis: { templates: [success-rate] }
        - setWeight: 80
`;

const SHORT_CANARY = `  strategy:
    canary:
      steps:
        - setWeight: 50
        - analysis: { templates: [success-rate] }
`;

function blueGreen(previewPort: number): string {
  return `  strategy:
    blueGreen:
      previewPort: ${previewPort}
      autoPromote: manual
      scaleDownDelay: 10m
`;
}

type Answer = { status: number; body: string } | { error: string };

async function get(url: string): Promise<Answer> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Requests in a loop until stopped, every answer kept. */
function load(url: string): { answers: Answer[]; stop(): Promise<Answer[]> } {
  let running = true;
  const answers: Answer[] = [];
  const loop = (async () => {
    while (running) {
      answers.push(await get(url));
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  return {
    answers,
    async stop() {
      running = false;
      await loop;
      return answers;
    },
  };
}

const waitFor = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> =>
  until(what, probe, timeoutMs);

describe('progressive delivery in plumbline up', () => {
  let repo: TempDir;
  let data: TempDir;
  let running: Running;
  let hooks: Server;
  const received: { path: string; body: Record<string, unknown> }[] = [];
  const ports = { web: 0, shop: 0, bg: 0, preview: 0, api: 0 };
  const commits: Record<string, string> = {};
  // PLUMBLINE_TEST_LOG=file keeps the controller's log for a failing run.
  const logFile = process.env.PLUMBLINE_TEST_LOG;
  const silent =
    logFile === undefined ? pino({ level: 'silent' }) : pino({ level: 'debug' }, pino.destination(logFile));
  /** An operator token: acting needs one, even from loopback. */
  let token = '';

  const start = (): Promise<Running> =>
    up({
      repo: repo.path,
      branch: 'main',
      dataDir: data.path,
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      intervalMs: 500,
      scripts: SCRIPTS,
    });

  async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  const rollout = async (app: string): Promise<AppRolloutStatus> =>
    (await api<AppRolloutStatus>('GET', `/api/v1/environments/staging/apps/${app}/rollout`)).body;

  const app = async (name: string) => (await running.store.getApp('staging', name)) ?? undefined;

  /** Answers of `port` until `match` holds for one. */
  const serving = (port: number, match: RegExp, path = '/') =>
    until(`port ${port} to answer ${match}`, async () => {
      const r = await get(`http://127.0.0.1:${port}${path}`);
      return 'body' in r && match.test(r.body) ? r.body : undefined;
    });

  beforeAll(async () => {
    hooks = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          path: req.url ?? '',
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        res.writeHead(204).end();
      });
    });
    hooks.listen(0, '127.0.0.1');
    await once(hooks, 'listening');
    for (const key of Object.keys(ports) as (keyof typeof ports)[]) {
      let port = await freePort();
      while (Object.values(ports).includes(port)) port = await freePort();
      ports[key] = port;
    }
    repo = gitRepo();
    // So the controller can push a revert to the checked-out branch of this (non-bare) repository.
    repo.git('config', 'receive.denyCurrentBranch', 'updateInstead');
    data = tempDir('plumbline-data-');
    commits.initial = repo.commit('initial', {
      'plumbline.yaml': environmentYaml((hooks.address() as AddressInfo).port),
      'deploy/staging/templates.yaml': TEMPLATES,
      'deploy/staging/web.yaml': appYaml('web', ports.web, { GREETING: 'web-v1' }, GOOD_CANARY),
      'deploy/staging/shop.yaml': appYaml('shop', ports.shop, { GREETING: 'shop-v1' }, SHORT_CANARY),
      'deploy/staging/bg.yaml': appYaml('bg', ports.bg, { GREETING: 'bg-v1' }, blueGreen(ports.preview)),
      'deploy/staging/api.yaml': appYaml('api', ports.api, { GREETING: 'api-v1' }),
      'app/server.js': APP,
      'app/package.json': '{ "type": "module" }\n',
    });
    running = await start();
    const { createToken } = await import('../src/server/auth.js');
    token = (await createToken(running.store, { name: 'test', role: 'operator' })).token;
    await waitFor('every app Synced', async () => {
      const apps = await running.store.listApps('staging');
      return apps.length === 4 && apps.every((a) => a.phase === 'Synced') ? true : undefined;
    });
  }, 90_000);

  afterAll(async () => {
    await running?.stop();
    // The supervisor and router outlive the controller on purpose; the test ends them.
    hooks?.close();
    await stopLocalTarget(data.path);
    repo?.remove();
    data?.remove();
  }, 30_000);

  it('walks a good canary through every step, a manual pause promoted by the CLI across a restart', async () => {
    const traffic = load(`http://127.0.0.1:${ports.web}/`);
    commits.web2 = repo.commit('web v2', {
      'deploy/staging/web.yaml': appYaml('web', ports.web, { GREETING: 'web-v2' }, GOOD_CANARY),
    });
    const paused = await waitFor('the canary paused at 20%', async () => {
      const s = await rollout('web');
      return s.active && s.rollout?.phase === 'Paused' ? s : undefined;
    });
    const stable = commits.initial?.slice(0, 12) as string;
    const canary = commits.web2?.slice(0, 12) as string;
    expect(paused.rollout?.weights).toEqual({ [stable]: 80, [canary]: 20 });
    expect(paused.rollout?.step).toEqual({ index: 2, total: 6, name: 'pause until promoted' });
    expect(paused.phase).toBe('Progressing');
    expect(paused.liveRevision).toBe(commits.initial);
    // The environment is not at the new commit while one of its Apps is mid-rollout.
    const env = await waitFor('staging Progressing', async () => {
      const e = await running.store.getEnvironment('staging');
      return e?.phase === 'Progressing' ? e : undefined;
    });
    expect(env.conditions[0]?.reason).toBe('RolloutInProgress');
    expect(env.conditions[0]?.message).toMatch(/rolling out web/);
    // Both revisions serve: the router splits new requests 80/20.
    await serving(ports.web, /^web-v2 from/);
    await serving(ports.web, /^web-v1 from/);

    // A restart suspends the rollout (no rollback) and resumes it from the stored record.
    await running.stop();
    running = await start();
    const resumed = await waitFor('the rollout resumed and paused again', async () => {
      const s = await rollout('web');
      return s.active && s.rollout?.phase === 'Paused' ? s : undefined;
    });
    expect(resumed.rollout?.step.index).toBe(2);

    const cli = await plumbline([
      'rollout',
      'status',
      'staging',
      'web',
      '--server',
      running.url,
      '--token',
      token,
    ]);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/step\s+2\/6\s+pause until promoted/);
    expect(cli.stdout).toContain(`${stable} 80%`);
    const promote = await plumbline([
      'rollout',
      'promote',
      'staging',
      'web',
      '--server',
      running.url,
      '--token',
      token,
    ]);
    expect(promote.stderr).toBe('');
    expect(promote.status).toBe(0);

    const synced = await waitFor('web Synced at v2', async () => {
      const a = await app('web');
      return a?.phase === 'Synced' && a.liveRevision === commits.web2 ? a : undefined;
    });
    expect(synced.message).toMatch(/running 1 instance\(s\) of/);
    await serving(ports.web, /^web-v2 from/);
    const answers = await traffic.stop();
    // Zero failed requests across the canary (restart included), and nothing of v1 after the promotion.
    expect(answers.filter((a) => !('status' in a) || a.status !== 200)).toEqual([]);
    const done = await rollout('web');
    expect(done.rollout?.phase).toBe('Healthy');
    expect(done.rollout?.weights).toEqual({ [canary]: 100 });
    expect(done.rollout?.analysis.map((a) => [a.step, a.phase])).toEqual([[4, 'Successful']]);
    expect((await running.store.listApplied('staging')).find((a) => a.name === 'web')?.revision).toBe(
      commits.web2,
    );
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    expect(metrics).toContain('plumbline_rollout_phase{environment="staging",app="web",phase="Healthy"} 1');
    expect(metrics).toContain('plumbline_rollout_canary_weight{environment="staging",app="web"} 100');
    expect(metrics).toMatch(
      /plumbline_rollout_analysis_total\{environment="staging",app="web",phase="Successful"\} 1/,
    );
    const generic = received.filter((r) => r.path === '/generic').map((r) => r.body.type);
    expect(generic).toEqual(
      expect.arrayContaining(['rollout.started', 'rollout.paused', 'rollout.completed']),
    );
  }, 180_000);

  it('rolls a bad canary back on its own, quarantines it, and goes on with retry or a newer commit', async () => {
    const events: { type: string; app?: string }[] = [];
    const stream = new AbortController();
    const reading = (async () => {
      const response = await fetch(`${running.url}/api/v1/events?environment=staging`, {
        signal: stream.signal,
      });
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
          const data = buffered
            .slice(0, end)
            .split('\n')
            .find((line) => line.startsWith('data: '));
          buffered = buffered.slice(end + 2);
          if (data !== undefined) events.push(JSON.parse(data.slice(6)) as { type: string; app?: string });
        }
      }
    })().catch(() => undefined);

    const traffic = load(`http://127.0.0.1:${ports.shop}/`);
    commits.shop2 = repo.commit('shop v2 (broken)', {
      'deploy/staging/shop.yaml': appYaml(
        'shop',
        ports.shop,
        { GREETING: 'shop-v2', FAIL: '1' },
        SHORT_CANARY,
      ),
    });
    const degraded = await waitFor('shop Degraded', async () => {
      const a = await app('shop');
      return a?.phase === 'Degraded' ? a : undefined;
    });
    const bad = commits.shop2?.slice(0, 12) as string;
    expect(degraded.message).toContain(
      `revision ${bad} failed analysis success-rate at step 2; waiting for a newer commit`,
    );
    expect(degraded.liveRevision).toBe(commits.initial);
    // Once rolled back (the bad instances stopped), every answer is the old revision's.
    const rolledBackAt = traffic.answers.length + 1;
    await waitFor('ten answers after the rollback', async () =>
      traffic.answers.length >= rolledBackAt + 10 ? true : undefined,
    );
    const answers = await traffic.stop();
    // The old revision served throughout: every failure is the bad revision's own 500, no connection error.
    const failures = answers.filter((a) => !('status' in a) || a.status !== 200);
    expect(failures.length).toBeGreaterThan(0);
    expect(
      failures.every((a) => 'status' in a && a.status === 500 && a.body.startsWith('shop-v2 failed')),
    ).toBe(true);
    const after = answers.slice(rolledBackAt);
    expect(after.filter((a) => !('body' in a) || !a.body.startsWith('shop-v1 from'))).toEqual([]);

    // Quarantined: later passes leave it (history grows, the rollout does not start again).
    const status = await rollout('shop');
    expect(status.active).toBe(false);
    expect(status.rollout?.phase).toBe('Degraded');
    expect(status.rollout?.failure?.reason).toBe('analysis');
    expect(status.quarantine.map((q) => q.revision)).toEqual([commits.shop2]);
    const mark = new Date().toISOString();
    await waitFor('two more syncs', async () =>
      (await running.store.listHistory('staging', 100)).filter((h) => h.startedAt > mark).length >= 2
        ? true
        : undefined,
    );
    const still = await rollout('shop');
    expect(still.active).toBe(false);
    expect(still.rollout?.startedAt).toBe(status.rollout?.startedAt);
    expect(still.phase).toBe('Degraded');

    // retry lifts the quarantine and starts it again (it fails again: the flag is still set).
    const retry = await plumbline([
      'rollout',
      'retry',
      'staging',
      'shop',
      '--server',
      running.url,
      '--token',
      token,
      '--json',
    ]);
    expect(retry.stderr).toBe('');
    expect((JSON.parse(retry.stdout) as AppRolloutStatus).active).toBe(true);
    const retraffic = load(`http://127.0.0.1:${ports.shop}/`);
    await waitFor('shop rolled back again', async () => {
      const s = await rollout('shop');
      return !s.active && s.rollout?.phase === 'Degraded' && s.rollout.startedAt !== status.rollout?.startedAt
        ? s
        : undefined;
    });
    await retraffic.stop();

    // A newer commit with the flag gone rolls out and is promoted.
    const fixed = load(`http://127.0.0.1:${ports.shop}/`);
    commits.shop3 = repo.commit('shop v3 (fixed)', {
      'deploy/staging/shop.yaml': appYaml('shop', ports.shop, { GREETING: 'shop-v3' }, SHORT_CANARY),
    });
    await waitFor('shop Synced at v3', async () => {
      const a = await app('shop');
      return a?.phase === 'Synced' && a.liveRevision === commits.shop3 ? true : undefined;
    });
    const fixedAnswers = await fixed.stop();
    expect(fixedAnswers.filter((a) => !('status' in a) || a.status !== 200)).toEqual([]);
    await serving(ports.shop, /^shop-v3 from/);

    stream.abort();
    await reading;
    const shopEvents = events.filter((e) => e.app === 'shop').map((e) => e.type);
    expect(shopEvents).toEqual(
      expect.arrayContaining([
        'rollout.started',
        'rollout.analysis',
        'rollout.rolledBack',
        'rollout.completed',
      ]),
    );
    const slack = received.filter((r) => r.path === '/slack').map((r) => String(r.body.text));
    expect(slack.some((text) => text.startsWith('*staging/shop* rollout.rolledBack:'))).toBe(true);
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    expect(metrics).toMatch(
      /plumbline_rollout_analysis_total\{environment="staging",app="shop",phase="Failed"\} 2/,
    );
  }, 240_000);

  it('serves a blue-green preview, promotes, rolls back within the scale-down delay, and holds the pin', async () => {
    const traffic = load(`http://127.0.0.1:${ports.bg}/`);
    commits.bg2 = repo.commit('bg v2', {
      'deploy/staging/bg.yaml': appYaml('bg', ports.bg, { GREETING: 'bg-v2' }, blueGreen(ports.preview)),
    });
    const waiting = await waitFor('blue-green waiting for promotion', async () => {
      const s = await rollout('bg');
      return s.active && s.rollout?.phase === 'Paused' ? s : undefined;
    });
    expect(waiting.rollout?.pause?.reason).toBe('promotion');
    expect(waiting.rollout?.preview).toEqual({ port: ports.preview, revision: commits.bg2?.slice(0, 12) });
    await serving(ports.preview, /^bg-v2 from/);
    const before = await get(`http://127.0.0.1:${ports.bg}/`);
    expect('body' in before && before.body.startsWith('bg-v1 from')).toBe(true);

    const promoted = await api<AppRolloutStatus>(
      'POST',
      '/api/v1/environments/staging/apps/bg/rollout/promote',
    );
    expect(promoted.status).toBe(200);
    await serving(ports.bg, /^bg-v2 from/);
    const keeping = await waitFor('the old revision kept warm', async () => {
      const s = await rollout('bg');
      return s.rollout?.phase === 'Promoting' && /keeping .* warm/.test(s.rollout.message) ? s : undefined;
    });
    expect(keeping.active).toBe(true);

    // Within the scale-down delay: back to blue at once, and pinned there.
    const back = await plumbline([
      'rollback',
      'staging',
      'bg',
      '--server',
      running.url,
      '--token',
      token,
      '--reason',
      'bad colours',
    ]);
    expect(back.stderr).toBe('');
    expect(back.status).toBe(0);
    expect(back.stdout).toMatch(/pinned until plumbline unpin staging bg/);
    await serving(ports.bg, /^bg-v1 from/);
    const answers = await traffic.stop();
    expect(answers.filter((a) => !('status' in a) || a.status !== 200)).toEqual([]);
    const pinned = await rollout('bg');
    expect(pinned.pin).toMatchObject({ revision: commits.initial, reason: 'bad colours' });
    expect(pinned.active).toBe(false);
    expect(pinned.quarantine).toEqual([]);

    // A new commit does not move a pinned app; the status shows both revisions.
    commits.bg3 = repo.commit('bg v3', {
      'deploy/staging/bg.yaml': appYaml('bg', ports.bg, { GREETING: 'bg-v3' }, blueGreen(ports.preview)),
    });
    const held = await waitFor('bg held at the pin while Git moved', async () => {
      const a = await app('bg');
      return a !== undefined && a.desiredRevision === commits.bg3 && a.phase === 'OutOfSync' ? a : undefined;
    });
    expect(held.liveRevision).toBe(commits.initial);
    expect(held.message).toContain(`pinned to ${commits.initial?.slice(0, 12)}`);
    expect(held.message).toContain(`Git is at ${commits.bg3?.slice(0, 12)}`);
    const stillV1 = await get(`http://127.0.0.1:${ports.bg}/`);
    expect('body' in stillV1 && stillV1.body.startsWith('bg-v1 from')).toBe(true);

    // unpin: Git's revision rolls out again (blue-green, manual promotion, then the delay ended by promote).
    const unpin = await plumbline(['unpin', 'staging', 'bg', '--server', running.url, '--token', token]);
    expect(unpin.status).toBe(0);
    await waitFor('v3 on the preview port', async () => {
      const s = await rollout('bg');
      return s.active && s.rollout?.phase === 'Paused' && s.rollout.revision === commits.bg3 ? s : undefined;
    });
    await serving(ports.preview, /^bg-v3 from/);
    expect(
      (await api('POST', '/api/v1/environments/staging/apps/bg/rollout/promote', { full: true })).status,
    ).toBe(200);
    await waitFor('promoting v3', async () => {
      const s = await rollout('bg');
      return s.rollout?.phase === 'Promoting' && /warm/.test(s.rollout.message) ? s : undefined;
    });
    expect((await api('POST', '/api/v1/environments/staging/apps/bg/rollout/promote')).status).toBe(200);
    await waitFor('bg Synced at v3', async () => {
      const a = await app('bg');
      return a?.phase === 'Synced' && a.liveRevision === commits.bg3 ? true : undefined;
    });
    await serving(ports.bg, /^bg-v3 from/);
    const nothing = await api<{ message: string }>(
      'POST',
      '/api/v1/environments/staging/apps/bg/rollout/promote',
    );
    expect(nothing.status).toBe(409);
  }, 240_000);

  it('pushes a revert commit so Git is the truth again, and unpins', async () => {
    const v1 = readFileSync(join(repo.path, 'deploy/staging/api.yaml'), 'utf8');
    commits.api2 = repo.commit('api v2', {
      'deploy/staging/api.yaml': appYaml('api', ports.api, { GREETING: 'api-v2' }),
    });
    await serving(ports.api, /^api-v2 from/);
    await waitFor('api Synced at v2', async () => {
      const a = await app('api');
      return a?.phase === 'Synced' && a.liveRevision === commits.api2 ? true : undefined;
    });
    const result = await plumbline([
      'rollback',
      'staging',
      'api',
      '--revert',
      '--server',
      running.url,
      '--token',
      token,
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const status = JSON.parse(result.stdout) as AppRolloutStatus;
    expect(status.pin).toBeNull();
    expect(status.revert?.branch).toBe('main');
    await serving(ports.api, /^api-v1 from/);
    expect(repo.git('rev-parse', 'HEAD').trim()).toBe(status.revert?.commit);
    expect(repo.git('log', '-1', '--format=%s').trim()).toBe(
      `revert api to ${commits.initial?.slice(0, 12)}`,
    );
    expect(repo.git('show', 'HEAD:deploy/staging/api.yaml')).toBe(v1);
    // The controller follows Git again: the revert commit is live, the app unchanged and Synced.
    await waitFor('the revert commit live', async () =>
      (await running.store.getEnvironment('staging'))?.liveRevision === status.revert?.commit
        ? true
        : undefined,
    );
    const after = await rollout('api');
    expect(after.pin).toBeNull();
    expect(after.phase).toBe('Synced');
    const live = await get(`http://127.0.0.1:${ports.api}/`);
    expect('body' in live && live.body.startsWith('api-v1 from')).toBe(true);
  }, 120_000);
});
