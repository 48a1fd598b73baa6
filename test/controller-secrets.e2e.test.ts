// Secrets through the controller: an App whose GREETING comes from a SOPS file encrypted for the controller's
// age identity. The value reaches the instance (the demo app answers with it), a changed secret redeploys the
// app, and a planted value appears nowhere else: not in logs, the API, the event stream, the store, the data
// directory's files, diffs or error messages. Real Git, real processes, real HTTP on loopback.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, up } from '../src/gitops/up.js';
import { encryptDocument, generateKeyPair } from '../src/sops/index.js';
import { freePort } from '../src/targets/local/target.js';
import { DEMO_APP, getText, SCRIPTS, stopLocalTarget, until } from './helpers/controller.js';
import { gitRepo, type TempDir, tempDir } from './helpers/repo.js';

const PLANTED = 'planted-greeting-7c41d9';
const ROTATED = 'rotated-greeting-52be08';

const ENVIRONMENT = `apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: { name: dev }
spec:
  path: deploy/dev
  target: { local: {} }
  sync: { auto: true, prune: true, selfHeal: true, interval: 1s }
`;

function app(port: number, key = 'greeting'): string {
  return `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: web }
spec:
  process:
    command: ["node", "server.js"]
    cwd: app
    env:
      GREETING: { secretRef: { file: secrets/web.sops.yaml, key: ${key} } }
      PLAIN: visible
  port: ${port}
  replicas: 1
  health: { http: { path: /healthz }, interval: 1s, timeout: 1s }
`;
}

/** Every file under `dir`, as bytes (the store, the supervisor's and router's state, logs, releases). */
function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile() && statSync(path).size < 64 * 1024 * 1024)
      out.push({ path, bytes: readFileSync(path) });
  }
  return out;
}

describe('plumbline up with SOPS secrets', () => {
  let repo: TempDir;
  let data: TempDir;
  let keys: TempDir;
  let running: Running;
  let recipient: string;
  const logs: string[] = [];
  const events: string[] = [];
  let port = 0;

  async function encrypted(values: Record<string, string>): Promise<string> {
    const yaml = Object.entries(values)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n');
    const out = await encryptDocument(Buffer.from(`${yaml}\n`), {
      format: 'yaml',
      file: 'secrets/web.sops.yaml',
      recipients: [recipient],
    });
    return out.toString('utf8');
  }

  beforeAll(async () => {
    repo = gitRepo();
    data = tempDir('plumbline-data-');
    keys = tempDir('plumbline-keys-');
    const pair = await generateKeyPair();
    recipient = pair.recipient;
    writeFileSync(join(keys.path, 'controller.agekey'), pair.identityFile, { mode: 0o600 });
    port = await freePort();
    repo.commit('initial', {
      'plumbline.yaml': ENVIRONMENT,
      'deploy/dev/web.yaml': app(port),
      'secrets/web.sops.yaml': await encrypted({ greeting: PLANTED, unused: 'other' }),
      'app/server.js': DEMO_APP,
      'app/package.json': '{ "type": "module" }\n',
    });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    running = await up({
      repo: repo.path,
      branch: 'main',
      dataDir: data.path,
      host: '127.0.0.1',
      port: 0,
      logger: pino({ level: 'debug' }, sink),
      intervalMs: 500,
      releaseCheckMs: 0,
      healthDeadlineMs: 5000,
      scripts: SCRIPTS,
      ageIdentityFile: join(keys.path, 'controller.agekey'),
    });
    running.controller.events.on('event', (event: unknown) => events.push(JSON.stringify(event)));
  }, 60_000);

  afterAll(async () => {
    await running?.stop();
    await stopLocalTarget(data.path);
    repo.remove();
    data.remove();
    keys.remove();
  }, 30_000);

  it('hands the decrypted value to the instance and to nothing else', async () => {
    const answer = await until('the app', async () => getText(`http://127.0.0.1:${port}/`));
    expect(answer).toMatch(new RegExp(`^${PLANTED} from pid`));

    // Everything the API answers (the API is where status, history, diffs and apps are read).
    const api = running.url;
    const bodies: string[] = [];
    for (const path of [
      '/api/v1/environments',
      '/api/v1/environments/dev',
      '/api/v1/environments/dev/apps',
      '/api/v1/environments/dev/history',
      '/api/v1/environments/dev/diff',
      '/metrics',
    ]) {
      const response = await fetch(`${api}${path}`);
      bodies.push(`${path} ${response.status} ${await response.text()}`);
    }
    for (const where of [bodies.join('\n'), logs.join(''), events.join('\n')]) {
      expect(where).not.toContain(PLANTED);
    }
    // Every byte under the data directory: the SQLite store, the supervisor's and router's state files and
    // logs, the release folders (they hold the encrypted file only). Not the instances' own output: the demo
    // app prints its greeting when it starts, and what an app prints is the app's business.
    const instanceLogs = join(data.path, 'supervisor', 'logs');
    for (const file of filesUnder(data.path).filter((f) => !f.path.startsWith(instanceLogs))) {
      expect(file.bytes.includes(PLANTED), file.path).toBe(false);
    }
  }, 60_000);

  it('redeploys when the secret changes, and says why without the value when it cannot decrypt', async () => {
    repo.commit('rotate the greeting', {
      'secrets/web.sops.yaml': await encrypted({ greeting: ROTATED, unused: 'other' }),
    });
    await until('the rotated secret live', async () =>
      (await getText(`http://127.0.0.1:${port}/`))?.startsWith(ROTATED) ? true : undefined,
    );

    // A key the file does not have: the old revision keeps serving, the status names file and key.
    repo.commit('reference a missing key', { 'deploy/dev/web.yaml': app(port, 'nope') });
    const env = await until('dev Failed', async () => {
      const e = await running.store.getEnvironment('dev');
      return e?.phase === 'Failed' ? e : undefined;
    });
    const message = env.conditions.map((c) => c.message).join(' ');
    expect(message).toMatch(/secrets\/web\.sops\.yaml/);
    expect(message).toMatch(/nope/);
    expect(message).toMatch(/previous revision keeps running/);
    expect(await getText(`http://127.0.0.1:${port}/`)).toMatch(new RegExp(`^${ROTATED} from pid`));
    for (const where of [message, logs.join(''), events.join('\n')]) {
      expect(where).not.toContain(ROTATED);
      expect(where).not.toContain(PLANTED);
    }
  }, 60_000);
});
