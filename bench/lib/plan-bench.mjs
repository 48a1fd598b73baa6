#!/usr/bin/env node
// One timed plan or render of a large environment, in a fresh process (so the first call is as cold as the
// first `plumbline diff` a controller answers), for the controller benchmark:
//
//   node bench/lib/plan-bench.mjs '{"dist":"…/dist","mode":"plan","apps":5000,"seed":1,"repeat":5}'
//   node bench/lib/plan-bench.mjs '{"dist":"…/dist","mode":"render","repoDir":"…","revision":"<sha>"}'
//
// plan: generates (untimed) 5,000 DesiredApps and a 5,000-entry applied inventory with a realistic mix of
// changes (see generatePlanInputs), then times planEnvironment + formatPlan: the first call, then `repeat`
// more in the same process (warm). render: times renderEnvironment over the generated repository's folder,
// then times 200 single `git rev-parse COMMIT:path` calls (treeIdAt, what render runs once per app) to show
// where the time goes. Prints one JSON object.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { prng } from './util.mjs';

const options = JSON.parse(process.argv[2] ?? '{}');
const load = (rel) => import(pathToFileURL(join(options.dist, rel)).href);
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

const TEAMS = 50;
const ENV_NAMES = [
  'LOG_LEVEL',
  'REGION',
  'FEATURE_FLAGS',
  'DB_HOST',
  'DB_PASSWORD',
  'API_TOKEN',
  'CACHE_TTL',
  'UPSTREAM_URL',
];

export function appSpec(rand, i, total) {
  const env = {};
  const n = rand.int(3, ENV_NAMES.length);
  for (const name of ENV_NAMES.slice(0, n))
    env[name] = `${name.toLowerCase()}-${rand.chars('abcdef0123456789', 8)}`;
  // About 30% depend on one to three apps with a lower index (so the graph is acyclic).
  const dependsOn = [];
  if (i > 10 && rand.chance(0.3)) {
    const k = rand.int(1, 3);
    for (let d = 0; d < k; d++) {
      const dep = `svc-${String(rand.int(Math.max(0, i - 200), i - 1)).padStart(4, '0')}`;
      if (!dependsOn.includes(dep)) dependsOn.push(dep);
    }
  }
  return {
    process: { command: ['node', 'server.js'], cwd: `apps/team-${String(i % TEAMS).padStart(2, '0')}`, env },
    port: 20_000 + (i % Math.max(total, 1)),
    replicas: rand.int(1, 4),
    health: { http: { path: '/healthz' }, intervalMs: 2000, timeoutMs: 1000 },
    dependsOn,
  };
}

const hash = (spec, tree) =>
  createHash('sha256').update(JSON.stringify(spec)).update('\n').update(tree).digest('hex');

/**
 * 5,000 desired apps and the applied inventory: 85% unchanged, 8% with spec changes (an env value, replicas,
 * an added or removed variable, the port, dependsOn), 2% with only their code changed (same spec, new tree),
 * 3% new (creates); plus as many applied apps gone from Git (deletes, prune on), so the inventory also
 * holds 5,000 entries.
 */
export function generatePlanInputs(total, seed) {
  const rand = prng(seed);
  const oldRevision = 'a'.repeat(40);
  const newRevision = 'b'.repeat(40);
  const desired = [];
  const applied = [];
  const mix = { unchanged: 0, update: 0, code: 0, create: 0, delete: 0 };
  for (let i = 0; i < total; i++) {
    const name = `svc-${String(i).padStart(4, '0')}`;
    const spec = appSpec(rand, i, total);
    const tree = createHash('sha1').update(spec.process.cwd).digest('hex');
    desired.push({
      environment: 'prod',
      name,
      revision: newRevision,
      spec,
      specHash: hash(spec, tree),
      source: { file: `deploy/prod/${name}.yaml`, line: 1 },
    });
    const r = rand.next();
    if (r < 0.03) {
      mix.create += 1;
      continue;
    }
    let before = spec;
    let beforeTree = tree;
    if (r < 0.11) {
      mix.update += 1;
      const env = { ...spec.process.env };
      const kind = rand.int(0, 5);
      if (kind === 0) env.LOG_LEVEL = 'debug';
      else if (kind === 1) env.DB_PASSWORD = 'previous-value';
      else if (kind === 2) delete env.REGION;
      else if (kind === 3) env.OLD_SETTING = 'yes';
      before = {
        ...spec,
        process: { ...spec.process, env },
        replicas: kind === 4 ? spec.replicas + 1 : spec.replicas,
        port: kind === 5 ? spec.port + 1 : spec.port,
        dependsOn: kind === 5 ? [] : spec.dependsOn,
      };
    } else if (r < 0.13) {
      mix.code += 1;
      beforeTree = createHash('sha1').update(`${spec.process.cwd}-old`).digest('hex');
    } else {
      mix.unchanged += 1;
    }
    applied.push({
      environment: 'prod',
      name,
      revision: oldRevision,
      spec: before,
      specHash: hash(before, beforeTree),
    });
  }
  for (let i = 0; i < mix.create; i++) {
    const name = `old-${String(i).padStart(4, '0')}`;
    const spec = appSpec(rand, total + i, total);
    applied.push({ environment: 'prod', name, revision: oldRevision, spec, specHash: hash(spec, 'gone') });
    mix.delete += 1;
  }
  return { desired, applied, mix, revision: newRevision };
}

if (options.mode === 'plan') {
  const { planEnvironment, formatPlan } = await load('gitops/plan.js');
  const { desired, applied, mix, revision } = generatePlanInputs(options.apps ?? 5000, options.seed ?? 1);
  const once = () => {
    const t0 = process.hrtime.bigint();
    const plan = planEnvironment({ environment: 'prod', revision, desired, applied, prune: true });
    const t1 = process.hrtime.bigint();
    const text = formatPlan(plan);
    return { plan, text, planMs: Number(t1 - t0) / 1e6, formatMs: ms(t1) };
  };
  const first = once();
  const warm = [];
  for (let i = 0; i < (options.repeat ?? 5); i++) warm.push(once());
  const steps = {};
  for (const s of first.plan.steps) steps[s.action] = (steps[s.action] ?? 0) + 1;
  process.stdout.write(
    `${JSON.stringify({
      apps: desired.length,
      applied: applied.length,
      mix,
      steps,
      withheld: first.plan.withheld.length,
      changeLines: first.plan.steps.reduce((n, s) => n + s.changes.length, 0),
      textBytes: Buffer.byteLength(first.text),
      firstMs: first.planMs + first.formatMs,
      firstPlanMs: first.planMs,
      firstFormatMs: first.formatMs,
      warmMs: warm.map((w) => w.planMs + w.formatMs),
      warmPlanMs: warm.map((w) => w.planMs),
      warmFormatMs: warm.map((w) => w.formatMs),
    })}\n`,
  );
} else if (options.mode === 'render') {
  const { renderEnvironment, readEnvironments } = await load('gitops/render.js');
  const { treeIdAt } = await load('gitops/source.js');
  const [env] = readEnvironments(options.repoDir);
  const t0 = process.hrtime.bigint();
  const result = await renderEnvironment(options.repoDir, env, {
    revision: options.revision,
    gitDir: options.repoDir,
  });
  const renderMs = ms(t0);
  const calls = options.treeIdCalls ?? 200;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await treeIdAt(options.repoDir, options.revision, 'apps/team-00');
  const treeIdMs = ms(t1) / calls;
  process.stdout.write(
    `${JSON.stringify({
      apps: result.apps.length,
      problems: result.problems.length,
      firstProblem: result.problems[0]?.message,
      renderMs,
      treeIdMs,
    })}\n`,
  );
} else {
  process.stderr.write('plan-bench: mode must be plan or render\n');
  process.exit(2);
}
