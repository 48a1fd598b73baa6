// The progressive-delivery benchmark (`node bench/run.mjs --only rollouts`): the controller (`up()` from dist/,
// its supervisor and router processes) on a throwaway repository with one App (the demo app, 2 replicas), and
// lib/loadgen.mjs at a fixed rate through the App's router port while:
//
// 1. canary     — a good change goes 10% → 50% → 100% (short pauses): failed requests (target 0);
// 2. blue-green — a good change is previewed, promoted after 2 s, the old revision kept 3 s: failed requests
//                 (target 0);
// 3. rollback   — a change whose every answer is a 500 (FAIL=1), at weight 10%, judged by a `comparison`
//                 error-rate metric every 10 s: the share of all requests that failed (the blast radius),
//                 how many analysis intervals it took, and the time from the failing measurement to all
//                 traffic on stable (the router's confirmation; target < 1 s). Failed requests other than
//                 the bad revision's own 500s: target 0.
// 4. weights    — 10,000 requests at weight 10% (a long pause): the canary's share (target within 1 point).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freeAppPort, startLoad } from './lib/services.mjs';
import { fmt, log, mdTable, REPO_DIR } from './lib/util.mjs';

export const ROLLOUT_TARGET = { rollbackMs: 1000, weightPoints: 1 };

const ENV = `apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: { name: bench }
spec:
  path: deploy
  target: { local: {} }
  sync: { auto: true, prune: true, selfHeal: true, interval: 1s }
`;

const TEMPLATE = `apiVersion: plumbline.dev/v1alpha1
kind: AnalysisTemplate
metadata: { name: errors }
spec:
  metrics:
    - name: errors-vs-stable
      interval: 10s
      count: 6
      failureLimit: 0
      noData: inconclusive
      provider:
        comparison: { metric: error-rate, minSamples: 50 }
`;

const STRATEGIES = {
  canary: `  strategy:
    canary:
      steps:
        - setWeight: 10
        - pause: { duration: 3s }
        - setWeight: 50
        - pause: { duration: 3s }
`,
  blueGreen: (preview) => `  strategy:
    blueGreen:
      previewPort: ${preview}
      autoPromote: { after: 2s }
      scaleDownDelay: 3s
`,
  rollback: `  strategy:
    canary:
      steps:
        - setWeight: 10
        - analysis: { templates: [errors] }
        - setWeight: 100
`,
  weights: `  strategy:
    canary:
      steps:
        - setWeight: 10
        - pause: {}
`,
};

function app(port, greeting, strategy = '', fail = false) {
  return `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: web }
spec:
  process:
    command: ["node", "server.js"]
    cwd: app
    env: { GREETING: ${greeting}${fail ? ', FAIL: "1"' : ''} }
  port: ${port}
  replicas: 2
  health: { http: { path: /healthz }, interval: 1s, timeout: 1s }
${strategy}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, probe, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function benchRollouts({ workDir, rate = 200 }) {
  const { up } = await import(pathToFileURL(join(REPO_DIR, 'dist/gitops/up.js')).href);
  const { pino } = await import('pino');
  const repo = mkdtempSync(join(workDir ?? tmpdir(), 'rollouts-repo-'));
  const data = `${repo}.data`;
  const git = (...args) =>
    execFileSync('git', args, {
      cwd: repo,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'Bench',
        GIT_AUTHOR_EMAIL: 'bench@example.com',
        GIT_COMMITTER_NAME: 'Bench',
        GIT_COMMITTER_EMAIL: 'bench@example.com',
      },
    });
  const port = await freeAppPort();
  const preview = await freeAppPort();
  cpSync(join(REPO_DIR, 'examples/demo-app'), join(repo, 'app'), { recursive: true });
  writeFileSync(join(repo, 'plumbline.yaml'), ENV);
  execFileSync('mkdir', ['-p', join(repo, 'deploy')]);
  writeFileSync(join(repo, 'deploy/errors.yaml'), TEMPLATE);
  writeFileSync(join(repo, 'deploy/web.yaml'), app(port, 'v0'));
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'v0');
  const running = await up({
    repo,
    branch: 'main',
    dataDir: data,
    host: '127.0.0.1',
    port: 0,
    logger: pino({ level: 'silent' }),
    intervalMs: 500,
    healthDeadlineMs: 10_000,
  });
  const events = [];
  running.controller.events.on('event', (e) => events.push({ ...e, t: Date.now() }));
  const url = `http://127.0.0.1:${port}/`;
  const appState = async () => (await running.store.listApps('bench')).find((a) => a.name === 'web');
  const rolloutOf = async () => {
    const r = await fetch(`${running.url}/api/v1/environments/bench/apps/web/rollout`).catch(() => undefined);
    return r?.ok ? (await r.json()).rollout : undefined;
  };
  const results = { rate };
  try {
    await until('v0 live', async () => (await appState())?.phase === 'Synced');

    /** Commits `yaml`, loads the port until `done()`, returns the load report and the time it took. */
    const run = async (label, yaml, done) => {
      log(`rollouts: ${label}`);
      const load = startLoad(url, { rate, duration: 600, connections: 16 });
      await sleep(1000);
      const from = events.length;
      const started = Date.now();
      writeFileSync(join(repo, 'deploy/web.yaml'), yaml);
      git('commit', '-q', '-am', label);
      const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
      await until(label, () => done(commit));
      const seconds = (Date.now() - started) / 1000;
      await sleep(1000);
      load.child.kill('SIGTERM');
      const report = await load.result;
      return { report, seconds, events: events.slice(from) };
    };

    // 1. canary
    {
      const { report, seconds } = await run(
        'canary v1',
        app(port, 'v1', STRATEGIES.canary),
        async (commit) => {
          const a = await appState();
          return a?.phase === 'Synced' && a.liveRevision === commit;
        },
      );
      results.canary = { sent: report.sent, failed: report.failed, words: report.words, seconds };
    }
    // 2. blue-green
    {
      const { report, seconds } = await run(
        'blue-green v2',
        app(port, 'v2', STRATEGIES.blueGreen(preview)),
        async (commit) => {
          const a = await appState();
          return a?.phase === 'Synced' && a.liveRevision === commit;
        },
      );
      results.blueGreen = { sent: report.sent, failed: report.failed, words: report.words, seconds };
    }
    // 3. a bad canary at 10%, judged every 10 s against stable
    {
      const {
        report,
        seconds,
        events: seen,
      } = await run(
        'bad canary v3',
        app(port, 'v3', STRATEGIES.rollback, true),
        async () => (await appState())?.phase === 'Degraded',
      );
      // The verdict, then the first confirmed weight change after it (all traffic back on stable).
      const analysisAt = seen.findIndex(
        (e) => e.type === 'rollout.analysis' && /Failed/.test(e.message ?? ''),
      );
      const analysis = seen[analysisAt];
      const back =
        seen.slice(analysisAt + 1).find((e) => e.type === 'rollout.weight') ??
        seen.slice(analysisAt + 1).find((e) => e.type === 'rollout.rolledBack');
      const stepped = seen.find((e) => e.type === 'rollout.weight');
      // loadgen counts answers by their first word, and a 500 as a failure of kind "HTTP 500".
      const badAnswers = report.failures?.['HTTP 500']?.count ?? 0;
      results.rollback = {
        sent: report.sent,
        failed: report.failed,
        failures: report.failures,
        badAnswers,
        share: report.sent === 0 ? 0 : report.failed / report.sent,
        seconds,
        words: report.words,
        analysisToStableMs:
          analysis === undefined || back === undefined
            ? undefined
            : Date.parse(back.at) - Date.parse(analysis.at),
        weightToVerdictS:
          stepped === undefined || analysis === undefined
            ? undefined
            : (Date.parse(analysis.at) - Date.parse(stepped.at)) / 1000,
        message: (await appState())?.message,
      };
    }
    // 4. weight accuracy: 10,000 requests at 10%
    {
      log('rollouts: weight accuracy at 10%');
      writeFileSync(join(repo, 'deploy/web.yaml'), app(port, 'v4', STRATEGIES.weights));
      git('commit', '-q', '-am', 'weights v4');
      await until('the 10% pause', async () => (await rolloutOf())?.phase === 'Paused', 120_000);
      const report = await startLoad(url, { rate: 1000, duration: 60, maxRequests: 10_000, connections: 16 })
        .result;
      const canary = report.words?.v4 ?? 0;
      const total = Object.values(report.words ?? {}).reduce((n, v) => n + v, 0);
      results.weights = {
        requests: total,
        canary,
        share: total === 0 ? 0 : canary / total,
        failed: report.failed,
      };
    }
  } finally {
    await running.stop();
    for (const pidFile of ['supervisor/supervisor.pid', 'router/router.pid']) {
      try {
        process.kill(Number(readFileSync(join(data, pidFile), 'utf8').trim()), 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await sleep(1500);
    rmSync(repo, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
  return results;
}

export function rolloutTargets(r, add) {
  if (r === undefined) return;
  if (r.error !== undefined) {
    add('rollouts benchmark', 'runs', r.error, false);
    return;
  }
  const n = (v) => Math.round(v ?? 0).toLocaleString('en');
  add(
    `rollouts: failed requests at ${r.rate} req/s across a canary 10% → 50% → 100%`,
    '0',
    `${n(r.canary.failed)} of ${n(r.canary.sent)}`,
    r.canary.failed === 0,
  );
  add(
    `rollouts: failed requests at ${r.rate} req/s across a blue-green switch`,
    '0',
    `${n(r.blueGreen.failed)} of ${n(r.blueGreen.sent)}`,
    r.blueGreen.failed === 0,
  );
  const other = r.rollback.failed - r.rollback.badAnswers;
  add(
    'rollouts: failed requests across an automatic rollback, apart from the bad revision’s own 500s',
    '0',
    `${n(Math.max(0, other))} (of ${n(r.rollback.failed)} failed, ${n(r.rollback.badAnswers)} were its 500s)`,
    other <= 0,
  );
  add(
    'rollouts: time to rollback (the failing measurement → all traffic on stable, confirmed by the router)',
    `< ${ROLLOUT_TARGET.rollbackMs} ms`,
    r.rollback.analysisToStableMs === undefined ? 'not measured' : `${n(r.rollback.analysisToStableMs)} ms`,
    r.rollback.analysisToStableMs !== undefined && r.rollback.analysisToStableMs < ROLLOUT_TARGET.rollbackMs,
  );
  add(
    'rollouts: blast radius of a canary failing every request at 10%, comparison analysis every 10 s',
    'reported; stopped within two intervals',
    `${fmt(r.rollback.share * 100, 2)}% of all requests failed; verdict ${fmt(r.rollback.weightToVerdictS ?? Number.NaN, 1)} s after the weight`,
    (r.rollback.weightToVerdictS ?? Number.POSITIVE_INFINITY) <= 20,
  );
  add(
    'rollouts: router weight accuracy, 10,000 requests at weight 10%',
    `within ${ROLLOUT_TARGET.weightPoints} point`,
    `${fmt(r.weights.share * 100, 2)}% (${n(r.weights.canary)} of ${n(r.weights.requests)})`,
    Math.abs(r.weights.share * 100 - 10) <= ROLLOUT_TARGET.weightPoints,
  );
}

export function renderRollouts(r) {
  const rows = [
    [
      'canary 10% → 50% → 100%',
      r.canary.sent,
      r.canary.failed,
      fmt(r.canary.seconds, 1),
      JSON.stringify(r.canary.words),
    ],
    [
      'blue-green, promoted after 2 s',
      r.blueGreen.sent,
      r.blueGreen.failed,
      fmt(r.blueGreen.seconds, 1),
      JSON.stringify(r.blueGreen.words),
    ],
    [
      'bad canary (FAIL=1) at 10%, rolled back',
      r.rollback.sent,
      r.rollback.failed,
      fmt(r.rollback.seconds, 1),
      JSON.stringify(r.rollback.words ?? r.rollback.failures),
    ],
  ];
  return `### Progressive delivery (controller from dist/, the demo app ×2, lib/loadgen.mjs at ${r.rate} req/s)

${mdTable([['scenario', 'requests', 'failed', 'seconds', 'answers by greeting'], ...rows])}

The bad canary: ${fmt(r.rollback.share * 100, 2)}% of all requests failed while it held 10% (its own 500s); the comparison metric's verdict came ${fmt(r.rollback.weightToVerdictS ?? Number.NaN, 1)} s after the weight was set (one 10 s interval is the first look); from that measurement to the router confirming all traffic on stable: ${r.rollback.analysisToStableMs ?? 'n/a'} ms. Status afterwards: "${r.rollback.message}". Weight accuracy: ${r.weights.canary} of ${r.weights.requests} requests (${fmt(r.weights.share * 100, 2)}%) reached the canary at weight 10%.
`;
}
