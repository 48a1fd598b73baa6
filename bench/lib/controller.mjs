// The GitOps controller benchmark (`--only controller`): `up()` from dist/ in its own process
// (lib/controller-proc.mjs), with its supervisor and router, a generated Git repository of demo apps, and
// loopback HTTP. Four parts, each in its own data folder:
//
// 1. live  — commit to live: a commit, then a signed GitHub push webhook, until the new revision answers
//            through the router port; and the demo app's own start time (spawn to first healthy answer).
// 2. plan  — planEnvironment + formatPlan over 5,000 apps (lib/plan-bench.mjs, a fresh process per run),
//            and renderEnvironment over a generated repository of 5,000 App documents (no target).
// 3. idle  — 50 apps (replicas 1), settled Synced, then the CPU the controller (and its git children), the
//            supervisor and the router use over 30 s windows of idle, at the README's 30 s poll interval.
// 4. zero  — a steady load through the router while a commit is deployed, an instance is SIGKILLed (the
//            supervisor restarts it), an instance is removed (the controller self-heals it) and the
//            controller is stopped and started again: every non-200 and connection error counts.
//
// The supervisor and router outlive the controller on purpose; each part ends them by their pid files, and
// any app instance left behind by pid.
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarizeProfile } from './profile.mjs';
import {
  freeAppPort,
  freePort,
  httpGet,
  nowMs,
  pidAlive,
  procCpu,
  procRssKb,
  signalPidFile,
  sleep,
  startLoad,
  startProcess,
  until,
  waitPidGone,
} from './services.mjs';
import { BENCH_DIR, ensureDir, log, machineBusySeconds, median, REPO_DIR, runOk } from './util.mjs';

const DIST = join(REPO_DIR, 'dist');
const CONTROLLER_PROC = join(BENCH_DIR, 'lib', 'controller-proc.mjs');
const PLAN_BENCH = join(BENCH_DIR, 'lib', 'plan-bench.mjs');
const DEMO_APP = readFileSync(join(REPO_DIR, 'examples', 'demo-app', 'server.js'), 'utf8');
const CORES = (await import('node:os')).cpus().length;
// The README's example App: health every 2 s (the deploy probes every min(interval, 1 s)), timeout 1 s.
const HEALTH = '{ http: { path: /healthz }, interval: 2s, timeout: 1s }';

// ------------------------------------------------------------------------------------------ the repository

function environmentYaml({ name = 'staging', interval }) {
  return `apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: { name: ${name} }
spec:
  path: deploy/${name}
  target: { local: {} }
  sync: { auto: true, prune: true, selfHeal: true, interval: ${interval} }
`;
}

function appYaml({ name, port, greeting, replicas = 1, cwd = 'app' }) {
  return `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: ${name} }
spec:
  process: { command: ["node", "server.js"], cwd: ${cwd}, env: { GREETING: ${greeting} } }
  port: ${port}
  replicas: ${replicas}
  health: ${HEALTH}
`;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'plumbline bench',
  GIT_AUTHOR_EMAIL: 'bench@example.invalid',
  GIT_COMMITTER_NAME: 'plumbline bench',
  GIT_COMMITTER_EMAIL: 'bench@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};
function git(repo, ...args) {
  return runOk('git', args, { cwd: repo, env: { ...process.env, ...GIT_ENV } }).trim();
}

function writeFiles(root, files) {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
}

/** Writes the files and commits them; returns the new commit id. */
function commit(repo, files, message) {
  writeFiles(repo, files);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', message);
  return git(repo, 'rev-parse', 'HEAD');
}

/** A new repository on `main`: plumbline.yaml, one App file per app, the demo app in app/. */
function makeRepo(repo, apps, { interval }) {
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  const files = {
    'plumbline.yaml': environmentYaml({ interval }),
    'app/server.js': DEMO_APP,
    'app/package.json': '{ "type": "module" }\n',
  };
  for (const app of apps) files[`deploy/staging/${app.name}.yaml`] = appYaml(app);
  return commit(repo, files, 'initial');
}

// ------------------------------------------------------------------------------------------ the controller

/**
 * Starts lib/controller-proc.mjs; resolves once its API listens. `events` collects the controller's events
 * with their times; `waitEvent(pred)` waits for one from index `from` on.
 */
async function startController({ dir, label, dataDir, repo, secret, intervalMs, nodeArgs = [] }) {
  const logFile = join(dir, `${label}-controller.log`);
  const config = { dist: DIST, repo, branch: 'main', dataDir, logFile, webhookSecret: secret, intervalMs };
  const child = startProcess(process.execPath, [...nodeArgs, CONTROLLER_PROC, JSON.stringify(config)], {
    cwd: dir,
    pipe: true,
  });
  const events = [];
  let stderr = '';
  let buffer = '';
  let resolveReady;
  const ready = new Promise((r) => {
    resolveReady = r;
  });
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
      try {
        const msg = JSON.parse(line);
        if (msg.ready !== undefined) resolveReady(msg);
        else if (msg.event !== undefined) events.push({ ...msg.event, at: msg.at });
      } catch {
        // not ours
      }
    }
  });
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const started = nowMs();
  const first = await Promise.race([
    ready,
    child.exited.then(({ code, signal }) => ({ exited: code ?? signal })),
    sleep(120_000).then(() => ({ timeout: true })),
  ]);
  if (first.ready === undefined) {
    await child.stop('SIGKILL');
    throw new Error(
      `the controller did not start (${first.exited === undefined ? 'no answer in 120 s' : `exited ${first.exited}`}): ${stderr.trim().slice(-1500)}`,
    );
  }
  return {
    child,
    pid: child.pid,
    url: first.ready,
    startMs: first.at - started,
    events,
    stderr: () => stderr,
    async stop() {
      return child.stop('SIGTERM', 30_000);
    },
  };
}

const apiAgent = new Agent({ keepAlive: true, maxSockets: 2 });
async function apiGet(url, path) {
  const r = await httpGet(`${url}${path}`, { agent: apiAgent, timeoutMs: 10_000 });
  if (r.status !== 200) return undefined;
  return JSON.parse(r.body);
}

async function waitSynced(ctl, revision, { timeoutMs = 120_000 } = {}) {
  return until(
    `the environment to be Synced${revision === undefined ? '' : ` at ${revision.slice(0, 12)}`}`,
    async () => {
      const env = await apiGet(ctl.url, '/api/v1/environments/staging');
      return env?.phase === 'Synced' && (revision === undefined || env.liveRevision === revision)
        ? env
        : undefined;
    },
    { timeoutMs, everyMs: 100 },
  );
}

/** A signed GitHub push event (X-Hub-Signature-256) over plain http.request (fetch's first call loads undici). */
function postWebhook(url, secret, sha) {
  const body = JSON.stringify({ ref: 'refs/heads/main', after: sha });
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/v1/webhooks/git`,
      {
        method: 'POST',
        agent: apiAgent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-github-event': 'push',
          'x-hub-signature-256': signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('the webhook got no answer in 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

async function supervisorClient(dataDir) {
  const { SupervisorClient } = await import(
    pathToFileURL(join(DIST, 'targets', 'local', 'supervisor', 'client.js')).href
  );
  return new SupervisorClient({ socketPath: join(dataDir, 'supervisor', 'supervisor.sock') });
}

function stackPids(dataDir) {
  const read = (f) => {
    try {
      return Number(readFileSync(join(dataDir, f), 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  return { supervisor: read('supervisor/supervisor.pid'), router: read('router/router.pid') };
}

/** Stops the controller, then the supervisor (which stops its instances) and the router by their pid files. */
async function stopStack(ctl, dataDir) {
  if (ctl !== undefined) await ctl.stop().catch(() => undefined);
  let instancePids = [];
  try {
    const sup = await supervisorClient(dataDir);
    instancePids = (await sup.list()).map((i) => i.pid).filter((p) => p !== undefined);
  } catch {
    // no supervisor
  }
  const pids = [];
  for (const f of ['supervisor/supervisor.pid', 'router/router.pid']) {
    const pid = signalPidFile(join(dataDir, f), 'SIGTERM');
    if (pid !== undefined) pids.push(pid);
  }
  for (const pid of pids) {
    if (!(await waitPidGone(pid, 30_000))) {
      log(`controller: pid ${pid} did not stop on SIGTERM in 30 s; SIGKILL`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  for (const pid of instancePids) {
    if (pidAlive(pid)) {
      log(`controller: app instance pid ${pid} outlived its supervisor; SIGKILL`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** CPU seconds (self + reaped children) of some pids, and this process's own. */
function cpuOf(pids) {
  return pids.map((pid) => procCpu(pid) ?? { self: 0, children: 0 });
}

/** Times from the supervisor's and router's JSON logs (`time` fields, ms precision) after `since`. */
function logTimes(file, since, test) {
  if (!existsSync(file)) return [];
  const out = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    try {
      const record = JSON.parse(line);
      const at = Date.parse(record.time);
      if (at >= since && test(record)) out.push({ ...record, at });
    } catch {
      // not JSON
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------ 1. commit to live

async function benchLive({ dir, runs, quiet, secret }) {
  const repo = join(dir, 'repo');
  const dataDir = join(dir, 'data');
  const port = await freeAppPort();
  const app = (greeting) => ({ name: 'web', port, greeting, replicas: 1 });
  const first = makeRepo(repo, [app('v0')], { interval: '60s' });
  log('controller: commit to live: starting the controller (poll interval 60 s: only the webhook syncs)');
  const ctl = await startController({ dir, label: 'live', dataDir, repo, secret, intervalMs: 60_000 });
  const rounds = [];
  const appStarts = [];
  let secondPush;
  const pollAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await waitSynced(ctl, first);
    await until('v0 through the router', async () =>
      (await httpGet(`http://127.0.0.1:${port}/`)).body?.startsWith('v0'),
    );
    await sleep(1000);
    const sup = await supervisorClient(dataDir);
    const stack = stackPids(dataDir);
    for (let i = 1; i <= runs; i++) {
      let round;
      for (let attempt = 0; attempt < 3; attempt++) {
        await quiet(`controller live round ${i}`);
        const greeting = `v${i}-${attempt}`;
        const sha = commit(repo, { 'deploy/staging/web.yaml': appYaml(app(greeting)) }, greeting);
        const from = ctl.events.length;
        const cpuBefore = cpuOf([ctl.pid, stack.supervisor, stack.router]);
        const ownBefore = process.cpuUsage();
        const busyBefore = machineBusySeconds();
        const t0 = nowMs();
        const status = await postWebhook(ctl.url, secret, sha);
        if (status !== 202) throw new Error(`the webhook was answered HTTP ${status}, not 202`);
        const tLive = await until(
          `${greeting} through the router`,
          async () =>
            (await httpGet(`http://127.0.0.1:${port}/`, { agent: pollAgent })).body?.startsWith(greeting)
              ? nowMs()
              : undefined,
          { timeoutMs: 60_000, everyMs: 5 },
        );
        const seconds = (nowMs() - t0) / 1000;
        const busyAfter = machineBusySeconds();
        const own = process.cpuUsage(ownBefore);
        const cpuAfter = cpuOf([ctl.pid, stack.supervisor, stack.router]);
        const instances = await sup.list();
        const newPids = instances
          .filter((x) => x.id.startsWith('staging/web/') && x.pid !== undefined)
          .map((x) => x.pid);
        const stackCpu =
          cpuAfter.reduce(
            (n, c, k) => n + c.self + c.children - cpuBefore[k].self - cpuBefore[k].children,
            0,
          ) +
          newPids.reduce((n, pid) => n + (procCpu(pid)?.self ?? 0), 0) +
          (own.user + own.system) / 1e6;
        const other = Math.max(0, busyAfter - busyBefore - stackCpu) / (seconds * CORES);
        const synced = await waitSynced(ctl, sha);
        const evs = ctl.events.slice(from);
        const deploying = evs.find((e) => e.type === 'app.deploying')?.at;
        const syncedAt = evs.find((e) => e.type === 'app.synced')?.at;
        const spawned = logTimes(
          join(dataDir, 'supervisor', 'supervisor.log'),
          Math.floor(t0),
          (r) => r.event === 'spawned',
        )[0]?.at;
        const routeSet = logTimes(
          join(dataDir, 'router', 'router.log'),
          Math.floor(t0),
          (r) => r.event === 'route.set',
        )[0]?.at;
        round = {
          sha,
          totalMs: tLive - t0,
          toDeployingMs: deploying === undefined ? undefined : deploying - t0,
          toSpawnedMs: spawned === undefined ? undefined : spawned - t0,
          toRouteSetMs: routeSet === undefined ? undefined : routeSet - t0,
          toSyncedEventMs: syncedAt === undefined ? undefined : syncedAt - t0,
          liveRevision: synced.liveRevision,
          other,
        };
        log(
          `controller: round ${i}/${runs}: ${Math.round(round.totalMs)} ms webhook → live (source+render+plan ${Math.round(round.toDeployingMs)} ms, spawned at ${Math.round(round.toSpawnedMs)}, routed at ${Math.round(round.toRouteSetMs)}; other load ${(other * 100).toFixed(0)}%)`,
        );
        await sleep(1500); // the old instance stops; the loop goes back to sleep
        if (other <= 0.15) break;
        log(`controller: other processes used ${(other * 100).toFixed(0)}% of the CPU meanwhile; again`);
      }
      rounds.push(round);
    }
    // A second push while a sync runs (no target; a check): commit A, whose app starts 1 s late so its sync
    // lasts a while, and its webhook; 300 ms later commit B and its webhook. B should follow A at once.
    {
      const slow = (greeting) =>
        appYaml(app(greeting)).replace(
          'command: ["node", "server.js"]',
          'command: ["sh", "-c", "sleep 1; exec node server.js"]',
        );
      log('controller: a second push during a sync (waits up to 90 s for it)');
      const shaA = commit(repo, { 'deploy/staging/web.yaml': slow('pushA') }, 'pushA');
      const cpuA = cpuOf([ctl.pid, stack.supervisor]);
      const t0 = nowMs();
      await postWebhook(ctl.url, secret, shaA);
      await sleep(300);
      const shaB = commit(repo, { 'deploy/staging/web.yaml': slow('pushB') }, 'pushB');
      const tB = nowMs();
      await postWebhook(ctl.url, secret, shaB);
      const serving = (greeting) => async () =>
        (await httpGet(`http://127.0.0.1:${port}/`, { agent: pollAgent })).body?.startsWith(greeting)
          ? nowMs()
          : undefined;
      const aLive = await until('pushA through the router', serving('pushA'), {
        timeoutMs: 60_000,
        everyMs: 10,
      });
      const cpuA2 = cpuOf([ctl.pid, stack.supervisor]);
      // A's sync record is written when its sync ends (after the route switch and the old instance's stop).
      const aSync = await until(
        'the record of the sync of A',
        async () =>
          ((await apiGet(ctl.url, '/api/v1/environments/staging/history?limit=10')) ?? []).find(
            (h) => h.revision === shaA,
          ),
        { timeoutMs: 60_000, everyMs: 20 },
      ).catch(() => undefined);
      const bLive = await until('pushB through the router', serving('pushB'), {
        timeoutMs: 90_000,
        everyMs: 50,
      }).catch(() => undefined);
      secondPush = {
        aMs: aLive - t0,
        // CPU while A's instance starts (1 s late): the controller's own and the supervisor's.
        aControllerCpu: cpuA2[0].self - cpuA[0].self,
        aSupervisorCpu: cpuA2[1].self - cpuA[1].self,
        bMs: bLive === undefined ? undefined : bLive - tB,
        bDuringA: aSync !== undefined && Date.parse(aSync.finishedAt) > tB,
      };
      log(
        `controller: the second push went live ${secondPush.bMs === undefined ? 'not within 90 s' : `after ${Math.round(secondPush.bMs)} ms`}`,
      );
      await waitSynced(ctl, shaB, { timeoutMs: 90_000 }).catch(() => undefined);
    }
    // The app's own start time: spawn to the first healthy answer, polled every 2 ms, in the last release.
    const releaseApp = join(dataDir, 'releases', rounds[rounds.length - 1].sha, 'app');
    for (let i = 1; i <= runs; i++) {
      await quiet(`app start ${i}`);
      const appPort = await freePort();
      const t0 = nowMs();
      const child = startProcess(process.execPath, ['server.js'], {
        cwd: releaseApp,
        env: { PORT: String(appPort), GREETING: 'start' },
      });
      const tUp = await until(
        'the demo app to answer',
        async () =>
          (await httpGet(`http://127.0.0.1:${appPort}/healthz`, { agent: false, timeoutMs: 1000 })).status ===
          200
            ? nowMs()
            : undefined,
        { timeoutMs: 20_000, everyMs: 2 },
      );
      appStarts.push(tUp - t0);
      await child.stop();
    }
  } finally {
    pollAgent.destroy();
    await stopStack(ctl, dataDir);
  }
  const pick = (k) => median(rounds.map((r) => r[k]).filter((v) => v !== undefined));
  return {
    rounds,
    totalMs: pick('totalMs'),
    toDeployingMs: pick('toDeployingMs'),
    toSpawnedMs: pick('toSpawnedMs'),
    toRouteSetMs: pick('toRouteSetMs'),
    toSyncedEventMs: pick('toSyncedEventMs'),
    appStartMs: median(appStarts),
    appStarts,
    secondPush,
    controllerStartMs: ctl.startMs,
  };
}

// ------------------------------------------------------------------------------------------ 2. plan and render

function runChild(args, { nodeArgs = [], timeoutMs = 600_000 } = {}) {
  const result = spawnSync(process.execPath, [...nodeArgs, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    cwd: REPO_DIR,
  });
  if (result.status !== 0)
    throw new Error(`${args[0]} exited ${result.status ?? result.signal}: ${result.stderr.slice(-1500)}`);
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

/** The generated repository of `count` App documents (one file each, code in 50 team folders), cached. */
async function renderRepo(workDir, count) {
  const repo = join(workDir, `controller-render-${count}`);
  const marker = join(repo, '.bench-done');
  if (existsSync(marker)) return { repo, revision: readFileSync(marker, 'utf8').trim() };
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  const files = { 'plumbline.yaml': environmentYaml({ name: 'prod', interval: '30s' }) };
  for (let t = 0; t < 50; t++) {
    const team = `apps/team-${String(t).padStart(2, '0')}`;
    files[`${team}/server.js`] = DEMO_APP;
    files[`${team}/package.json`] = '{ "type": "module" }\n';
  }
  // Simple deterministic documents: the YAML an operator writes (env, replicas, health, some dependsOn).
  for (let i = 0; i < count; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    const deps =
      i > 10 && i % 3 === 0 ? `\n  dependsOn: [svc-${String(i - 1 - (i % 7)).padStart(4, '0')}]` : '';
    files[`deploy/prod/${name}.yaml`] = `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: ${name} }
spec:
  process:
    command: ["node", "server.js"]
    cwd: apps/team-${String(i % 50).padStart(2, '0')}
    env: { GREETING: hello-${i}, LOG_LEVEL: info, REGION: eu-west-${i % 3} }
  port: ${20_000 + i}
  replicas: ${1 + (i % 3)}
  health: ${HEALTH}${deps}
`;
  }
  const revision = commit(repo, files, 'generated');
  writeFileSync(marker, `${revision}\n`);
  return { repo, revision };
}

async function benchPlan({ workDir, runs, quiet, apps = 5000, profile, dir }) {
  const plans = [];
  for (let i = 1; i <= runs; i++) {
    await quiet(`controller plan round ${i}`);
    log(`controller: plan round ${i}/${runs}: planEnvironment + formatPlan, ${apps} apps (fresh process)`);
    plans.push(
      runChild([PLAN_BENCH, JSON.stringify({ dist: DIST, mode: 'plan', apps, seed: 1, repeat: 5 })]),
    );
  }
  const { repo, revision } = await renderRepo(workDir, apps);
  const renders = [];
  for (let i = 1; i <= runs; i++) {
    await quiet(`controller render round ${i}`);
    log(`controller: render round ${i}/${runs}: renderEnvironment over ${apps} App documents`);
    renders.push(
      runChild([PLAN_BENCH, JSON.stringify({ dist: DIST, mode: 'render', repoDir: repo, revision })]),
    );
  }
  let profiles;
  if (profile) {
    profiles = {};
    for (const mode of ['plan', 'render']) {
      const out = join(dir, `profile-${mode}`);
      rmSync(out, { recursive: true, force: true });
      ensureDir(out);
      const cfg =
        mode === 'plan'
          ? { dist: DIST, mode, apps, seed: 1, repeat: 0 }
          : { dist: DIST, mode, repoDir: repo, revision, treeIdCalls: 0 };
      runChild([PLAN_BENCH, JSON.stringify(cfg)], { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', out] });
      const { readdirSync } = await import('node:fs');
      const file = readdirSync(out).find((f) => f.endsWith('.cpuprofile'));
      profiles[mode] = [
        { thread: 'main', file: join(out, file), ...summarizeProfile(join(out, file), 12, true) },
      ];
    }
  }
  return {
    apps,
    first: plans[0],
    firstMs: median(plans.map((p) => p.firstMs)),
    firstAll: plans.map((p) => p.firstMs),
    firstPlanMs: median(plans.map((p) => p.firstPlanMs)),
    firstFormatMs: median(plans.map((p) => p.firstFormatMs)),
    warmMs: median(plans.flatMap((p) => p.warmMs)),
    render: {
      apps: renders[0].apps,
      problems: renders[0].problems,
      firstProblem: renders[0].firstProblem,
      ms: median(renders.map((r) => r.renderMs)),
      all: renders.map((r) => r.renderMs),
      treeIdMs: median(renders.map((r) => r.treeIdMs)),
    },
    profiles,
  };
}

// ------------------------------------------------------------------------------------------ 3. idle CPU

async function benchIdle({ dir, runs, quiet, secret, apps = 50, windowSeconds = 30, profile }) {
  const repo = join(dir, 'repo');
  const dataDir = join(dir, 'data');
  const ports = new Set();
  while (ports.size < apps) ports.add(await freeAppPort());
  const list = [...ports].map((port, i) => ({
    name: `app-${String(i).padStart(2, '0')}`,
    port,
    greeting: 'idle',
    replicas: 1,
  }));
  const sha = makeRepo(repo, list, { interval: '30s' });
  log(`controller: idle: ${apps} apps, poll interval 30 s (the environment's spec.sync.interval)`);
  const t0 = nowMs();
  let ctl = await startController({ dir, label: 'idle', dataDir, repo, secret });
  try {
    // Settled: every app Synced and the environment Synced at the commit. Gives up when no app became
    // Synced for 120 s (a stuck deploy), or after 15 minutes.
    let progress = { count: 0, at: nowMs() };
    await until(
      `all ${apps} apps to be Synced`,
      async () => {
        const status = (await apiGet(ctl.url, '/api/v1/environments/staging/apps')) ?? [];
        const synced = status.filter((a) => a.phase === 'Synced').length;
        if (synced > progress.count) progress = { count: synced, at: nowMs() };
        else if (nowMs() - progress.at > 120_000) {
          const env = await apiGet(ctl.url, '/api/v1/environments/staging');
          throw new Error(
            `stuck at ${synced} of ${apps} apps Synced for 120 s: ${env?.phase} ${env?.conditions?.[0]?.message ?? ''}`,
          );
        }
        if (synced < apps) return undefined;
        const env = await apiGet(ctl.url, '/api/v1/environments/staging');
        return env?.phase === 'Synced' && env.liveRevision === sha;
      },
      { timeoutMs: 900_000, everyMs: 250 },
    );
    const settleMs = nowMs() - t0;
    const appStatus = await apiGet(ctl.url, '/api/v1/environments/staging/apps');
    const syncedApps = appStatus.filter((a) => a.phase === 'Synced').length;
    let serving = 0;
    for (const a of list) if ((await httpGet(`http://127.0.0.1:${a.port}/`)).status === 200) serving += 1;
    log(
      `controller: idle: ${syncedApps} apps Synced, ${serving} answering through the router, after ${(settleMs / 1000).toFixed(1)} s`,
    );
    await sleep(5000);
    const sup = await supervisorClient(dataDir);
    const stack = stackPids(dataDir);
    const appPids = (await sup.list()).map((i) => i.pid).filter((p) => p !== undefined);
    const windows = [];
    for (let w = 1, retries = 0; w <= runs; w++) {
      await quiet(`controller idle window ${w}`);
      log(`controller: idle window ${w}/${runs}: ${windowSeconds} s`);
      const pids = [ctl.pid, stack.supervisor, stack.router, ...appPids];
      const before = cpuOf(pids);
      const busyBefore = machineBusySeconds();
      const start = nowMs();
      await sleep(windowSeconds * 1000);
      const end = nowMs();
      const after = cpuOf(pids);
      const busyAfter = machineBusySeconds();
      const seconds = (end - start) / 1000;
      const d = (k) => ({
        self: after[k].self - before[k].self,
        children: after[k].children - before[k].children,
      });
      const history = (await apiGet(ctl.url, '/api/v1/environments/staging/history?limit=100')) ?? [];
      const polls = history.filter((h) => Date.parse(h.startedAt) >= start && Date.parse(h.startedAt) < end);
      let appsCpu = 0;
      for (let k = 3; k < pids.length; k++) appsCpu += d(k).self;
      const controller = d(0);
      const supervisor = d(1);
      const router = d(2);
      const ours =
        controller.self + controller.children + supervisor.self + supervisor.children + router.self + appsCpu;
      const other = Math.max(0, busyAfter - busyBefore - ours) / (seconds * CORES);
      // A window in which other processes took more than 15% of the machine is measured again (twice at
      // most): CPU time is less sensitive to contention than wall time, but not immune.
      if (other > 0.15 && retries < 2) {
        retries += 1;
        log(
          `controller: idle window ${w}: other processes used ${(other * 100).toFixed(0)}% of the CPU meanwhile; again`,
        );
        w -= 1;
        continue;
      }
      retries = 0;
      windows.push({
        seconds,
        controller,
        supervisor,
        router,
        appsCpu,
        polls: polls.length,
        pollResults: polls.map((p) => p.result),
        other,
      });
    }
    const rss = {
      controller: procRssKb(ctl.pid),
      supervisor: procRssKb(stack.supervisor),
      router: procRssKb(stack.router),
    };
    // One reconcile's cost: a sync of an unchanged environment, woken by a webhook, timed by its history record.
    const syncTimes = [];
    for (let i = 0; i < 3; i++) {
      const before = cpuOf([ctl.pid])[0];
      const from = nowMs();
      await postWebhook(ctl.url, secret, sha);
      const rec = await until(
        'the webhook sync to be recorded',
        async () => {
          const h = (await apiGet(ctl.url, '/api/v1/environments/staging/history?limit=5')) ?? [];
          return h.find((x) => Date.parse(x.startedAt) >= from - 5);
        },
        { timeoutMs: 60_000, everyMs: 20 },
      );
      const after = cpuOf([ctl.pid])[0];
      syncTimes.push({
        ms: Date.parse(rec.finishedAt) - Date.parse(rec.startedAt),
        cpu: after.self + after.children - before.self - before.children,
        result: rec.result,
      });
      await sleep(500);
    }
    let profiles;
    if (profile) {
      // The same controller re-started under --cpu-prof (it re-adopts the supervisor and router), one window.
      await ctl.stop();
      const out = join(dir, 'profile-idle');
      rmSync(out, { recursive: true, force: true });
      ensureDir(out);
      ctl = await startController({
        dir,
        label: 'idle-profile',
        dataDir,
        repo,
        secret,
        nodeArgs: ['--cpu-prof', '--cpu-prof-dir', out],
      });
      await waitSynced(ctl, sha);
      log(`controller: idle: one more ${windowSeconds} s window under --cpu-prof`);
      await sleep(windowSeconds * 1000 + 5000);
      await ctl.stop();
      const { readdirSync } = await import('node:fs');
      const file = readdirSync(out).find((f) => f.endsWith('.cpuprofile'));
      if (file !== undefined)
        profiles = [
          { thread: 'main', file: join(out, file), ...summarizeProfile(join(out, file), 12, true) },
        ];
      ctl = undefined;
    }
    const total = (k) =>
      windows.reduce((n, w) => n + (typeof w[k] === 'number' ? w[k] : w[k].self + w[k].children), 0);
    const secondsAll = windows.reduce((n, w) => n + w.seconds, 0);
    return {
      apps,
      settleMs,
      syncedApps,
      serving,
      windowSeconds,
      windows,
      controllerShare: total('controller') / secondsAll,
      controllerSelfShare: windows.reduce((n, w) => n + w.controller.self, 0) / secondsAll,
      supervisorShare: total('supervisor') / secondsAll,
      routerShare: total('router') / secondsAll,
      appsShare: total('appsCpu') / secondsAll,
      polls: windows.reduce((n, w) => n + w.polls, 0),
      maxWindowShare: Math.max(
        ...windows.map((w) => (w.controller.self + w.controller.children) / w.seconds),
      ),
      rss,
      syncTimes,
      profiles,
    };
  } finally {
    await stopStack(ctl, dataDir);
  }
}

// ------------------------------------------------------------------------------------------ 4. zero failures

async function benchZero({ dir, quiet, secret, rate = 200 }) {
  const repo = join(dir, 'repo');
  const dataDir = join(dir, 'data');
  const port = await freeAppPort();
  const app = (greeting) => ({ name: 'web', port, greeting, replicas: 2 });
  const first = makeRepo(repo, [app('z0')], { interval: '30s' });
  log('controller: zero failures: 1 app, 2 replicas, poll interval 30 s');
  let ctl = await startController({ dir, label: 'zero', dataDir, repo, secret });
  const phases = [];
  const phase = async (name, fn) => {
    const start = nowMs();
    log(`controller: zero failures: ${name}`);
    const detail = await fn();
    await sleep(3000); // traffic keeps flowing after each step
    phases.push({ name, start, end: nowMs(), ...detail });
  };
  let load;
  let result;
  try {
    await waitSynced(ctl, first);
    await until('z0 through the router', async () =>
      (await httpGet(`http://127.0.0.1:${port}/`)).body?.startsWith('z0'),
    );
    await quiet('controller zero failures');
    const sup = await supervisorClient(dataDir);
    const running = async () =>
      (await sup.list()).filter((i) => i.id.startsWith('staging/web/') && i.state === 'running');
    load = startLoad(`http://127.0.0.1:${port}/`, { rate, duration: 600, connections: 16 });
    await sleep(3000);
    let sha = first;
    await phase(
      'deploy: a commit, the webhook, until the new revision serves and the old instances are gone',
      async () => {
        const t0 = nowMs();
        sha = commit(repo, { 'deploy/staging/web.yaml': appYaml(app('z1')) }, 'z1');
        await postWebhook(ctl.url, secret, sha);
        await until(
          'z1 through the router',
          async () => (await httpGet(`http://127.0.0.1:${port}/`)).body?.startsWith('z1'),
          { everyMs: 20 },
        );
        const liveMs = nowMs() - t0;
        await waitSynced(ctl, sha);
        await until(
          'the old instances to stop',
          async () => (await sup.list()).filter((i) => i.id.startsWith('staging/web/')).length === 2,
          { everyMs: 50 },
        );
        return { liveMs };
      },
    );
    await phase('self-heal 1: SIGKILL one instance; the supervisor restarts it', async () => {
      const [victim] = await running();
      process.kill(victim.pid, 'SIGKILL');
      const t0 = nowMs();
      await until(
        'the killed instance to run again',
        async () => {
          const now = (await sup.list()).find((i) => i.id === victim.id);
          return (
            now?.state === 'running' &&
            now.pid !== victim.pid &&
            (await httpGet(`http://127.0.0.1:${now.spec.port}/healthz`)).status === 200
          );
        },
        { everyMs: 20 },
      );
      return { backMs: nowMs() - t0, instance: victim.id };
    });
    await phase(
      "self-heal 2: an instance removed behind the controller's back (supervisor stop); a webhook wakes the controller, which puts it back",
      async () => {
        const [victim] = await running();
        await sup.stop(victim.id, 10_000);
        const t0 = nowMs();
        const from = ctl.events.length;
        await postWebhook(ctl.url, secret, sha);
        await until(
          'the controller to heal the app',
          async () => ctl.events.slice(from).some((e) => e.type === 'drift.healed'),
          { everyMs: 20 },
        );
        await until('two running instances again', async () => (await running()).length === 2, {
          everyMs: 50,
        });
        return { backMs: nowMs() - t0, instance: victim.id };
      },
    );
    await phase(
      'controller restart: SIGTERM, then up() again; it re-adopts the supervisor and router',
      async () => {
        const t0 = nowMs();
        await ctl.stop();
        await sleep(1000);
        ctl = await startController({ dir, label: 'zero-restarted', dataDir, repo, secret });
        const from = nowMs();
        await until(
          'a sync after the restart',
          async () => {
            const h = (await apiGet(ctl.url, '/api/v1/environments/staging/history?limit=5')) ?? [];
            return h.find((x) => Date.parse(x.startedAt) >= from - 2000);
          },
          { timeoutMs: 60_000, everyMs: 100 },
        );
        await waitSynced(ctl, sha);
        const redeployed = ctl.events.filter(
          (e) => e.type === 'app.deploying' || e.type?.startsWith('drift'),
        ).length;
        return { downMs: nowMs() - t0, redeployed };
      },
    );
    await load.child.stop('SIGTERM', 15_000);
    result = await load.result;
  } finally {
    if (load !== undefined && result === undefined) await load.child.stop('SIGKILL');
    await stopStack(ctl, dataDir);
  }
  // Failures by phase: the load generator's failure times are seconds since its start.
  const failures = Object.entries(result.failures).map(([kind, f]) => ({
    kind,
    count: f.count,
    first: result.startedAt + f.first * 1000,
    last: result.startedAt + f.last * 1000,
  }));
  const phaseOf = (t) => phases.find((p) => t >= p.start && t <= p.end)?.name ?? 'between steps';
  return {
    rate,
    seconds: result.sendSeconds,
    sent: result.sent,
    ok: result.ok,
    failed: result.failed,
    failures: failures.map((f) => ({ ...f, phase: phaseOf(f.first) })),
    words: result.words,
    phases: phases.map((p) => ({ ...p, seconds: (p.end - p.start) / 1000 })),
    latencyMs: result.serviceMs,
  };
}

// ------------------------------------------------------------------------------------------ all four

export async function benchController({ workDir, runs, quiet, attempt, profile = false, parts }) {
  const root = join(workDir, 'controller');
  rmSync(root, { recursive: true, force: true });
  ensureDir(root);
  // Generated at run time; never a fixed string in the source.
  const secret = randomBytes(24).toString('hex');
  const part = (name) => ensureDir(join(root, name));
  // `parts` (a test aid, not a flag): run only some of live, plan, idle, zero.
  const want = (name) => parts === undefined || parts.includes(name);
  const live = want('live')
    ? await attempt('controller: commit to live', () => benchLive({ dir: part('live'), runs, quiet, secret }))
    : undefined;
  const plan = want('plan')
    ? await attempt('controller: plan of 5,000 apps', () =>
        benchPlan({ workDir, runs, quiet, profile, dir: part('plan') }),
      )
    : undefined;
  const idle = want('idle')
    ? await attempt('controller: idle CPU with 50 apps', () =>
        benchIdle({ dir: part('idle'), runs, quiet, secret, profile }),
      )
    : undefined;
  const zero = want('zero')
    ? await attempt('controller: zero failed requests', () => benchZero({ dir: part('zero'), quiet, secret }))
    : undefined;
  return { live, plan, idle, zero, gitVersion: runOk('git', ['--version']).trim() };
}

/** The pieces above, for one-off experiments (not used by run.mjs). */
export const internals = {
  appYaml,
  commit,
  makeRepo,
  postWebhook,
  startController,
  stopStack,
  supervisorClient,
  waitSynced,
};
