// The controller half of `make demo`: a throwaway GitOps repository from examples/gitops and the demo app,
// `plumbline up` on it, a commit rolled out under load with no failed request, an instance killed and
// brought back. On a terminal it keeps running until Ctrl-C; otherwise it stops after the walkthrough.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { up } = await import(join(root, 'dist/gitops/up.js'));
const { createLogger } = await import(join(root, 'dist/server/logger.js'));
const { SupervisorClient } = await import(join(root, 'dist/targets/local/supervisor/client.js'));

const repo = mkdtempSync(join(tmpdir(), 'plumbline-gitops-demo-'));
const data = `${repo}.data`;
const git = (...args) =>
  execFileSync('git', args, {
    cwd: repo,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Demo',
      GIT_AUTHOR_EMAIL: 'demo@example.com',
      GIT_COMMITTER_NAME: 'Demo',
      GIT_COMMITTER_EMAIL: 'demo@example.com',
    },
  });
cpSync(join(root, 'examples/gitops'), repo, { recursive: true });
cpSync(join(root, 'examples/demo-app'), join(repo, 'apps/web'), { recursive: true });
git('init', '-q', '-b', 'main');
git('add', '-A');
git('commit', '-q', '-m', 'demo: two environments of a small web app');

const say = (text) => console.log(`\n▶ ${text}`);
const get = async (url) => {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.ok ? (await r.text()).trim() : `HTTP ${r.status}`;
  } catch (error) {
    return `failed: ${error.cause?.code ?? error.message}`;
  }
};
const until = async (what, probe, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

say(`plumbline up --repo ${repo}`);
const running = await up({
  repo,
  branch: 'main',
  dataDir: data,
  host: '127.0.0.1',
  port: 0,
  logger: createLogger({ level: 'warn' }),
  intervalMs: 2000,
  // The demo's age identity (public on purpose): production's greeting is a SOPS secret in the repository.
  ageIdentityFile: join(root, 'examples/keys/demo.agekey'),
});
for (const env of ['staging', 'production']) {
  await until(
    `${env} to be Synced`,
    async () => (await running.store.getEnvironment(env))?.phase === 'Synced',
  );
}
console.log(`  API:        ${running.url}/api/v1/environments   (plumbline status --server ${running.url})`);
console.log('  staging:    http://127.0.0.1:18080/  →', await get('http://127.0.0.1:18080/'));
console.log(
  '  production: http://127.0.0.1:18081/  →',
  await get('http://127.0.0.1:18081/'),
  '  (GREETING from secrets/demo-app.sops.yaml, decrypted in memory)',
);

say('commit a new greeting to staging, with requests running the whole time');
let ok = 0;
const failed = [];
let loading = true;
const load = (async () => {
  while (loading) {
    const answer = await get('http://127.0.0.1:18080/');
    if (answer.startsWith('HTTP') || answer.startsWith('failed')) failed.push(answer);
    else ok++;
  }
})();
const file = join(repo, 'deploy/staging/web.yaml');
writeFileSync(file, readFileSync(file, 'utf8').replace('hello from staging', 'bonjour from staging'));
git('commit', '-q', '-am', 'staging: say bonjour');
const started = Date.now();
await until('the new revision', async () => (await get('http://127.0.0.1:18080/')).startsWith('bonjour'));
console.log(
  `  live after ${((Date.now() - started) / 1000).toFixed(1)} s (the poll interval is 2 s; a webhook makes it immediate)`,
);
await new Promise((r) => setTimeout(r, 1500));
loading = false;
await load;
console.log(`  ${ok} requests during the rollout, ${failed.length} failed`);

say('kill -9 one staging instance: the supervisor brings it back');
const supervisor = new SupervisorClient({ socketPath: join(data, 'supervisor', 'supervisor.sock') });
const victim = (await supervisor.list()).find(
  (i) => i.id.startsWith('staging/web/') && i.state === 'running',
);
process.kill(victim.pid, 'SIGKILL');
console.log(`  killed ${victim.id} (pid ${victim.pid})`);
const back = await until('it to come back', async () => {
  const now = await supervisor.get(victim.id);
  return now?.state === 'running' && now.pid !== victim.pid ? now : undefined;
});
console.log(
  `  back as pid ${back.pid} after ${back.restarts} restart(s); staging still answers: ${await get('http://127.0.0.1:18080/')}`,
);

say('commit production with 1 replica: the policy production-replicas (Deny) refuses it');
const prod = join(repo, 'deploy/production/web.yaml');
const before = readFileSync(prod, 'utf8');
writeFileSync(prod, before.replace('replicas: 2', 'replicas: 1'));
git('commit', '-q', '-am', 'production: one replica is enough');
const refused = await until('the policy verdict', async () => {
  const env = await running.store.getEnvironment('production');
  const ready = env?.conditions.find((c) => c.type === 'Ready');
  return ready?.reason === 'PolicyDenied' ? ready : undefined;
});
console.log(`  status: ${refused.reason}: ${refused.message}`);
console.log('  production still answers:', await get('http://127.0.0.1:18081/'));
writeFileSync(prod, before);
git('commit', '-q', '-am', 'production: back to two replicas');
await until(
  'production to be Synced again',
  async () => (await running.store.getEnvironment('production'))?.phase === 'Synced',
);
console.log('  reverted: production is Synced again');

// Progressive delivery: staging's web gets a canary strategy judged by the router's success rate.
const CANARY = `  strategy:
    canary:
      steps:
        - setWeight: 25
        - pause: { duration: 2s }
        - analysis: { templates: [success-rate] }
        - setWeight: 60
        - pause: { duration: 2s }
`;
const stagingApp = (greeting, extraEnv = '') =>
  readFileSync(file, 'utf8')
    .replace(/env: \{[^}]*\}/, `env: { GREETING: ${greeting}${extraEnv} }`)
    .replace(/\n {2}strategy:[\s\S]*$/, '\n')
    .trimEnd()
    .concat(`\n${CANARY}`);
const rolloutOf = async () => {
  try {
    const r = await fetch(`${running.url}/api/v1/environments/staging/apps/web/rollout`);
    return r.ok ? await r.json() : undefined;
  } catch {
    return undefined;
  }
};
/** Load on staging while `fn` runs; answers counted by first word and status. */
async function underLoad(fn) {
  const seen = { ok: 0, failed: 0, words: new Map() };
  let on = true;
  const loop = (async () => {
    while (on) {
      const answer = await get('http://127.0.0.1:18080/');
      const word = answer.split(' ')[0];
      if (answer.startsWith('HTTP') || answer.startsWith('failed')) seen.failed++;
      else seen.ok++;
      seen.words.set(word, (seen.words.get(word) ?? 0) + 1);
    }
  })();
  try {
    await fn();
  } finally {
    on = false;
    await loop;
  }
  return seen;
}
const showRollout = async (until_) => {
  let last = '';
  for (;;) {
    const status = (await rolloutOf())?.rollout;
    const weights = Object.entries(status?.weights ?? {})
      .map(([label, weight]) => `${label} ${weight}%`)
      .join(', ');
    const line =
      status === undefined || status === null ? '' : `${status.phase} (${status.step.name}): ${weights}`;
    if (line !== '' && line !== last) console.log(`  rollout: ${line.trim()}`);
    last = line;
    if (await until_()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
};

say('a canary on staging: "hallo" at 25%, then 60%, judged by the router\'s success rate, under load');
writeFileSync(file, stagingApp('hallo from staging'));
git('commit', '-q', '-am', 'staging: say hallo, by canary');
const good = await underLoad(() =>
  showRollout(async () => {
    const app = (await running.store.listApps('staging')).find((a) => a.name === 'web');
    return app?.phase === 'Synced' && (await get('http://127.0.0.1:18080/')).startsWith('hallo');
  }),
);
console.log(
  `  promoted: ${good.ok} answered, ${good.failed} failed; by greeting: ${[...good.words].map(([w, n]) => `${w} ${n}`).join(', ')}`,
);

say('a bad change: FAIL=1 makes the new revision answer 500s; the analysis fails it and traffic goes back');
writeFileSync(file, stagingApp('broken from staging', ', FAIL: "1"'));
git('commit', '-q', '-am', 'staging: a change that breaks every request');
const bad = await underLoad(() =>
  showRollout(async () => {
    const app = (await running.store.listApps('staging')).find((a) => a.name === 'web');
    return app?.phase === 'Degraded';
  }),
);
const degraded = (await running.store.listApps('staging')).find((a) => a.name === 'web');
console.log(`  status: ${degraded?.message}`);
console.log(
  `  during it: ${bad.ok} answered by the stable revision, ${bad.failed} failed (the bad revision's share while it held traffic); staging now answers: ${await get('http://127.0.0.1:18080/')}`,
);

async function shutdown() {
  say('stopping the controller, the supervisor (and its apps) and the router');
  await running.stop();
  for (const pidFile of ['supervisor/supervisor.pid', 'router/router.pid']) {
    try {
      process.kill(Number(readFileSync(join(data, pidFile), 'utf8').trim()), 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await new Promise((r) => setTimeout(r, 1500));
  say('the audit ledger: every decision above, in a Merkle log with signed checkpoints');
  const cli = (...args) =>
    execFileSync(process.execPath, [join(root, 'bin/plumbline.js'), ...args], { encoding: 'utf8' });
  console.log(cli('audit', 'log', '--data-dir', data, '--limit', '6').trimEnd().replace(/^/gm, '  '));
  console.log(`  plumbline audit verify --data-dir ${data} --against ${data}/audit-checkpoints`);
  console.log(
    cli('audit', 'verify', '--data-dir', data, '--against', join(data, 'audit-checkpoints'))
      .trimEnd()
      .replace(/^/gm, '  '),
  );
  rmSync(repo, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
  console.log('  stopped.');
}

if (process.stdout.isTTY) {
  say(
    `everything keeps running: try curl http://127.0.0.1:18080/, plumbline status --server ${running.url}, or commit to ${repo}. Ctrl-C stops it all.`,
  );
  await new Promise((resolve) => process.once('SIGINT', resolve));
}
await shutdown();
