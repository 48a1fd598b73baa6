// The controller's decisions in the audit ledger: syncs, deploys, decrypted secrets (names, never values),
// policy verdicts, API tokens and a recorded `plumbline check` all land in the ledger of the data directory,
// with signed checkpoints published beside it and to a Git ref; `plumbline audit verify` passes over all of it
// and fails once an entry is edited. Real Git, real processes, real HTTP on loopback.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, up } from '../src/gitops/up.js';
import { encryptDocument, generateKeyPair } from '../src/sops/index.js';
import { freePort } from '../src/targets/local/target.js';
import { DEMO_APP, getText, SCRIPTS, stopLocalTarget, until } from './helpers/controller.js';
import { gitRepo, plumbline, plumblineAsync, type TempDir, tempDir } from './helpers/repo.js';

const PLANTED = 'ledger-planted-secret-3b9e';

function app(port: number, greeting: string): string {
  return `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: web }
spec:
  process:
    command: ["node", "server.js"]
    cwd: app
    env:
      GREETING: ${greeting}
      API_KEY: { secretRef: { file: secrets/web.sops.yaml, key: api_key } }
  port: ${port}
  replicas: 1
  health: { http: { path: /healthz }, interval: 1s, timeout: 1s }
`;
}

const ENVIRONMENT = `apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: { name: dev }
spec:
  path: deploy/dev
  target: { local: {} }
  sync: { auto: true, prune: true, selfHeal: true, interval: 1s }
`;

const WARN_POLICY = `apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: two-replicas }
spec:
  validationActions: [Warn]
  matchConstraints:
    resourceRules:
      - { apiGroups: [plumbline.dev], apiVersions: ["*"], resources: [apps], operations: [CREATE, UPDATE] }
  validations:
    - expression: "object.spec.replicas >= 2"
      message: "apps should run at least 2 replicas"
`;

interface LoggedEntry {
  id: number;
  action: string;
  actor: { kind: string; id: string };
  subject?: { environment?: string; app?: string };
}

describe('the controller writes the audit ledger', () => {
  let repo: TempDir;
  let data: TempDir;
  let keys: TempDir;
  let published: TempDir;
  let running: Running | undefined;
  let port = 0;

  beforeAll(async () => {
    repo = gitRepo();
    data = tempDir('plumbline-data-');
    keys = tempDir('plumbline-keys-');
    published = gitRepo();
    published.commit('checkpoints live here', { 'README.md': 'audit checkpoints\n' });
    const pair = await generateKeyPair();
    writeFileSync(join(keys.path, 'id.agekey'), pair.identityFile, { mode: 0o600 });
    const secret = await encryptDocument(Buffer.from(`api_key: ${PLANTED}\n`), {
      format: 'yaml',
      file: 'secrets/web.sops.yaml',
      recipients: [pair.recipient],
    });
    port = await freePort();
    repo.commit('initial', {
      'plumbline.yaml': ENVIRONMENT,
      'policies/replicas.yaml': WARN_POLICY,
      'deploy/dev/web.yaml': app(port, 'hello'),
      'secrets/web.sops.yaml': secret.toString('utf8'),
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
      ageIdentityFile: join(keys.path, 'id.agekey'),
      auditRepo: published.path,
      auditCheckpointMs: 300,
    });
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    await stopLocalTarget(data.path);
    for (const dir of [repo, data, keys, published]) dir.remove();
  }, 30_000);

  it('records syncs, deploys, secrets, policy verdicts, tokens and checks, and verifies', async () => {
    await until('hello live', async () =>
      (await getText(`http://127.0.0.1:${port}/`))?.startsWith('hello') ? true : undefined,
    );
    repo.commit('bonjour', { 'deploy/dev/web.yaml': app(port, 'bonjour') });
    await until('bonjour live', async () =>
      (await getText(`http://127.0.0.1:${port}/`))?.startsWith('bonjour') ? true : undefined,
    );
    // Without --data-dir the commands ask the running controller's API.
    const viaApi = await plumblineAsync([
      'audit',
      'log',
      '--server',
      running?.url ?? '',
      '--action',
      'app.deployed',
      '--json',
    ]);
    expect(viaApi.status, viaApi.stderr).toBe(0);
    const apiEntries = (JSON.parse(viaApi.stdout) as { entries: LoggedEntry[] }).entries;
    expect(apiEntries.length).toBeGreaterThanOrEqual(1);
    expect(apiEntries.every((e) => e.action === 'app.deployed')).toBe(true);
    const proof = await plumblineAsync([
      'audit',
      'prove',
      String(apiEntries[0]?.id),
      '--server',
      running?.url ?? '',
    ]);
    expect(proof.status, proof.stderr).toBe(0);
    expect(JSON.parse(proof.stdout)).toHaveProperty('entry');
    const latest = await fetch(`${running?.url}/api/v1/audit/checkpoint`);
    expect([200, 404]).toContain(latest.status);
    await running?.stop(); // the final checkpoint
    running = undefined;

    expect(
      (
        await plumblineAsync([
          'token',
          'create',
          '--role',
          'viewer',
          '--name',
          'auditor',
          '--data-dir',
          data.path,
        ])
      ).status,
    ).toBe(0);
    const check = plumbline(['check', repo.path, '--only', 'policy', '--record', data.path, '--quiet']);
    expect(check.status).toBe(0);
    expect(check.stderr).toBe('');

    const log = plumbline(['audit', 'log', '--data-dir', data.path, '--limit', '500', '--json']);
    expect(log.status).toBe(0);
    const entries = (JSON.parse(log.stdout) as { entries: LoggedEntry[] }).entries;
    const actions = entries.map((e) => e.action);
    for (const action of [
      'sync.succeeded',
      'app.deployed',
      'secret.decrypted',
      'policy.warn',
      'token.created',
      'check.passed',
    ]) {
      expect(actions, action).toContain(action);
    }
    expect(entries.filter((e) => e.action === 'app.deployed')).toHaveLength(2);
    expect(entries.find((e) => e.action === 'check.passed')?.actor.kind).toMatch(/^(ci|person)$/);
    expect(log.stdout).not.toContain(PLANTED);
    expect(log.stdout).toContain('API_KEY');

    const against = join(data.path, 'audit-checkpoints');
    const verify = plumbline(['audit', 'verify', '--data-dir', data.path, '--against', against]);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    const viaRef = plumbline([
      'audit',
      'verify',
      '--data-dir',
      data.path,
      '--against',
      'refs/plumbline/checkpoints',
      '--repo',
      published.path,
    ]);
    expect(viaRef.status, viaRef.stdout + viaRef.stderr).toBe(0);

    // Editing one decision after the fact is caught, and named.
    const deployed = entries.find((e) => e.action === 'app.deployed');
    const db = new Database(join(data.path, 'controller.db'));
    try {
      db.prepare("update audit_entries set reason = 'nothing to see' where id = ?").run(deployed?.id);
    } finally {
      db.close();
    }
    const tampered = plumbline(['audit', 'verify', '--data-dir', data.path, '--against', against]);
    expect(tampered.status).toBe(1);
    expect(tampered.stdout + tampered.stderr).toContain(String(deployed?.id));
  }, 120_000);
});
