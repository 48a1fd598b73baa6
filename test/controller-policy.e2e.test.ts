import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, up } from '../src/gitops/up.js';
import { freePort } from '../src/targets/local/target.js';
import { DEMO_APP, getText, SCRIPTS, stopLocalTarget, until } from './helpers/controller.js';
import { checkJson, gitRepo, type TempDir, tempDir } from './helpers/repo.js';

const ENVIRONMENT = `apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: { name: prod }
spec:
  path: deploy/prod
  target: { local: {} }
  sync: { auto: true, prune: true, selfHeal: true, interval: 1s }
`;

const POLICIES = `apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: no-shouting }
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
      - { apiGroups: [plumbline.dev], apiVersions: ["*"], resources: [apps], operations: [CREATE, UPDATE] }
  validations:
    - expression: "!has(object.spec.process.env.GREETING) || object.spec.process.env.GREETING != object.spec.process.env.GREETING.upperAscii()"
      messageExpression: "'App ' + object.metadata.name + ' shouts its greeting: ' + object.spec.process.env.GREETING"
---
apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: two-replicas }
spec:
  validationActions: [Warn]
  matchConstraints:
    resourceRules:
      - { apiGroups: [plumbline.dev], apiVersions: ["*"], resources: [apps], operations: [CREATE, UPDATE] }
  validations:
    - expression: "object.spec.replicas >= 2"
      message: "production apps should run at least 2 replicas"
---
apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: port-is-forever }
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
      - { apiGroups: [plumbline.dev], apiVersions: ["*"], resources: [apps], operations: [UPDATE] }
  validations:
    - expression: "oldObject.spec.port == object.spec.port"
      message: "an App's port cannot change once it serves"
`;

function app(port: number, greeting: string): string {
  return `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: web }
spec:
  process: { command: ["node", "server.js"], cwd: app, env: { GREETING: ${greeting} } }
  port: ${port}
  replicas: 1
  health: { http: { path: /healthz }, interval: 1s, timeout: 1s }
`;
}

describe('plumbline up with policies', () => {
  let repo: TempDir;
  let data: TempDir;
  let running: Running;
  let port = 0;

  beforeAll(async () => {
    repo = gitRepo();
    data = tempDir('plumbline-data-');
    port = await freePort();
    repo.commit('initial', {
      'plumbline.yaml': ENVIRONMENT,
      'policies/house.yaml': POLICIES,
      'deploy/prod/web.yaml': app(port, 'hello'),
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
      healthDeadlineMs: 5000,
      scripts: SCRIPTS,
    });
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    await stopLocalTarget(data.path);
    repo.remove();
    data.remove();
  }, 30_000);

  it('deploys a compliant commit and shows the Warn policy on the synced environment', async () => {
    await until('hello live', async () =>
      (await getText(`http://127.0.0.1:${port}/`))?.startsWith('hello') ? true : undefined,
    );
    const env = await until('prod Synced', async () => {
      const e = await running.store.getEnvironment('prod');
      return e?.phase === 'Synced' ? e : undefined;
    });
    const warning = env.conditions.find((c) => c.type === 'PolicyWarnings');
    expect(warning?.message).toMatch(
      /production apps should run at least 2 replicas \(Warn: two-replicas, validation 0; environment prod\)/,
    );
  }, 60_000);

  it('refuses a commit a Deny policy rejects, with the same message as plumbline check', async () => {
    repo.commit('shout', { 'deploy/prod/web.yaml': app(port, 'HELLO') });
    const env = await until('prod Failed', async () => {
      const e = await running.store.getEnvironment('prod');
      return e?.phase === 'Failed' ? e : undefined;
    });
    const ready = env.conditions.find((c) => c.type === 'Ready');
    expect(ready?.reason).toBe('PolicyDenied');
    expect(ready?.message).toContain('App web shouts its greeting: HELLO');
    expect(ready?.message).toMatch(/previous revision keeps running/);
    expect(await getText(`http://127.0.0.1:${port}/`)).toMatch(/^hello from pid/);

    // The same commit through the gate: the same policy, the same words.
    const { status, report } = checkJson([repo.path, '--only', 'policy']);
    expect(status).toBe(1);
    const finding = report.findings.find((f) => f.ruleId === 'policy/no-shouting');
    expect(finding?.message).toContain('App web shouts its greeting: HELLO');
    expect(finding?.location.path).toBe('deploy/prod/web.yaml');
    expect(ready?.message).toContain(`${finding?.message} at deploy/prod/web.yaml:1`);

    // The controller polls the same refused commit again and again: the ledger records the decision once.
    const history = await until('three more passes', async () => {
      const h = await running.store.listHistory('prod', 10);
      return h.filter((r) => r.reason === 'PolicyDenied').length >= 4 ? h : undefined;
    });
    expect(history.length).toBeGreaterThan(0);
    const denials = await running.store.db
      .selectFrom('audit_entries')
      .select(['id', 'action'])
      .where('action', 'in', ['policy.denied', 'sync.failed'])
      .execute();
    expect(denials.filter((e) => e.action === 'policy.denied')).toHaveLength(1);
    expect(denials.filter((e) => e.action === 'sync.failed')).toHaveLength(1);
  }, 60_000);

  it('judges an update against the live revision (oldObject), then lets a compliant commit through', async () => {
    const other = await freePort();
    repo.commit('move the port', { 'deploy/prod/web.yaml': app(other, 'hola') });
    await until('port change denied', async () => {
      const e = await running.store.getEnvironment('prod');
      const m = e?.conditions.find((c) => c.type === 'Ready')?.message ?? '';
      return e?.phase === 'Failed' && m.includes("an App's port cannot change once it serves")
        ? true
        : undefined;
    });
    repo.commit('fix', { 'deploy/prod/web.yaml': app(port, 'hola') });
    await until('hola live', async () =>
      (await getText(`http://127.0.0.1:${port}/`))?.startsWith('hola') ? true : undefined,
    );
  }, 60_000);
});
