// The ledger's HTTP routes on the controller's real server (buildServer: access checks, schemas, the one
// error mapping), in process with inject, over a real SQLite store.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, type PlumblineServer } from '../server/app.js';
import { createToken } from '../server/auth.js';
import type { ControllerApi } from '../server/controller-api.js';
import { createLogger } from '../server/logger.js';
import { type ControllerStore, openControllerStore } from '../store/controller-store.js';
import { registerAuditRoutes } from './api.js';
import { parseBundle, verifyBundle } from './bundle.js';
import { checkpointSigner, openCheckpoint } from './checkpoint.js';
import { verifyConsistency } from './merkle.js';
import { generateSigner, type NoteSigner, parseVerifierKey } from './note.js';
import { AuditLedger } from './store.js';

/** The server needs a controller; the audit routes never call it (test double of our own interface). */
const idleController: ControllerApi = {
  events: new EventEmitter(),
  listEnvironments: async () => [],
  getEnvironment: async () => undefined,
  listApps: async () => [],
  history: async () => [],
  requestSync: async () => ({ accepted: true, syncId: 'x' }),
  diff: async (environment) => ({ environment, revision: 'x', steps: [], withheld: [] }),
  logs: async () => [],
  ready: () => true,
};

let dir: string;
let store: ControllerStore;
let ledger: AuditLedger;
let server: PlumblineServer;
let signer: NoteSigner;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pl-audit-api-'));
  store = await openControllerStore({ dataDir: dir });
  // The ledger on the controller's own connection, as the controller wires it.
  ledger = new AuditLedger(store.db);
  signer = generateSigner('test.example/ledger').signer;
  const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });
  server = buildServer({ store, controller: idleController, logger: createLogger({ destination: quiet }) });
  registerAuditRoutes(server, { ledger, verifierKey: signer.verifierKey });
  await server.ready();
});
afterAll(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('before anything is recorded', () => {
  it('has no checkpoint and no entries', async () => {
    expect((await server.inject('/api/v1/audit/checkpoint')).statusCode).toBe(404);
    const list = await server.inject('/api/v1/audit/entries');
    expect(list.json()).toEqual({ entries: [], size: 0 });
  });
});

describe('with entries and a checkpoint', () => {
  beforeAll(async () => {
    for (let i = 0; i < 12; i++) {
      await ledger.append({
        at: new Date(Date.UTC(2026, 0, 1, i)),
        actor: { kind: 'person', id: i % 2 === 0 ? 'Ada <ada@example.com>' : 'Grace <grace@example.com>' },
        action: i % 3 === 0 ? 'approval.granted' : 'sync.succeeded',
        subject: { environment: i < 6 ? 'staging' : 'prod', app: 'web' },
        after: { replicas: i },
      });
    }
    await ledger.checkpoint(checkpointSigner(signer));
    await ledger.append({ actor: { kind: 'controller', id: 'plumbline' }, action: 'drift.detected' });
  });

  it('pages the log newest first, with filters', async () => {
    const first = await server.inject('/api/v1/audit/entries?limit=5');
    expect(first.statusCode).toBe(200);
    const page = first.json() as { entries: { id: number }[]; next: number; size: number };
    expect(page.entries.map((e) => e.id)).toEqual([12, 11, 10, 9, 8]);
    expect(page.size).toBe(13);
    const second = (
      await server.inject(`/api/v1/audit/entries?limit=5&before=${page.next}`)
    ).json() as typeof page;
    expect(second.entries.map((e) => e.id)).toEqual([7, 6, 5, 4, 3]);
    const filtered = await server.inject(
      `/api/v1/audit/entries?environment=prod&actor=${encodeURIComponent('Ada <ada@example.com>')}&since=2026-01-01T07:00:00Z`,
    );
    expect((filtered.json() as typeof page).entries.map((e) => e.id)).toEqual([10, 8]);
    expect((await server.inject('/api/v1/audit/entries?action=approval.granted')).json()).toMatchObject({
      entries: [{ id: 9 }, { id: 6 }, { id: 3 }, { id: 0 }],
    });
  });

  it('serves one entry with every field, and 404 for one that does not exist', async () => {
    const one = await server.inject('/api/v1/audit/entries/4');
    expect(one.json()).toEqual({
      id: 4,
      at: '2026-01-01T04:00:00.000Z',
      actor: { kind: 'person', id: 'Ada <ada@example.com>' },
      action: 'sync.succeeded',
      subject: { environment: 'staging', app: 'web' },
      after: { replicas: 4 },
      evidence: [],
    });
    const missing = await server.inject('/api/v1/audit/entries/99');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      code: 'PLUMBLINE_E_INPUT',
      message: 'there is no audit entry 99',
    });
  });

  it('serves a proof bundle that verifies offline, and 409 for an entry not yet checkpointed', async () => {
    const response = await server.inject('/api/v1/audit/entries/5/proof');
    expect(response.statusCode).toBe(200);
    const bundle = parseBundle(response.body, 'response');
    expect(verifyBundle(bundle, parseVerifierKey(signer.verifierKey))).toMatchObject({
      ok: true,
      treeSize: 12,
    });
    const pending = await server.inject('/api/v1/audit/entries/12/proof');
    expect(pending.statusCode).toBe(409);
    expect(pending.json()).toMatchObject({
      message: 'audit entry 12 is not covered by a signed checkpoint yet',
    });
  });

  it('serves the latest checkpoint as a signed note, the key, and consistency proofs', async () => {
    const checkpoint = await server.inject('/api/v1/audit/checkpoint');
    expect(checkpoint.headers['content-type']).toBe('text/plain; charset=utf-8');
    const key = (await server.inject('/api/v1/audit/key')).json() as { key: string };
    expect(key.key).toBe(signer.verifierKey);
    const opened = openCheckpoint(checkpoint.body, parseVerifierKey(key.key));
    expect(opened).toMatchObject({ ok: true, checkpoint: { size: 12 } });
    const consistency = (await server.inject('/api/v1/audit/consistency?from=5&to=12')).json() as {
      proof: string[];
    };
    const proof = consistency.proof.map((h) => Buffer.from(h, 'base64'));
    expect(verifyConsistency(5, 12, proof, await ledger.root(5), await ledger.root(12))).toEqual({
      ok: true,
    });
    const toNow = (await server.inject('/api/v1/audit/consistency?from=12')).json();
    expect(toNow).toMatchObject({ from: 12, to: 13 });
  });

  it('validates its input with the field named', async () => {
    const bad = await server.inject('/api/v1/audit/entries?limit=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ message: expect.stringMatching(/querystring\/limit/) });
    expect((await server.inject('/api/v1/audit/entries?since=yesterday')).statusCode).toBe(400);
    expect((await server.inject('/api/v1/audit/entries?colour=red')).statusCode).toBe(400);
    expect((await server.inject('/api/v1/audit/entries/abc')).statusCode).toBe(400);
    expect((await server.inject('/api/v1/audit/consistency?from=5&to=99')).json()).toMatchObject({
      message: 'the ledger has 13 entries; there is no tree of size 99',
    });
  });

  it('needs a viewer token from anywhere but loopback', async () => {
    const remote = await server.inject({ url: '/api/v1/audit/entries', remoteAddress: '10.1.2.3' });
    expect(remote.statusCode).toBe(401);
    const { token } = await createToken(store, { name: 'auditor', role: 'viewer' });
    const withToken = await server.inject({
      url: '/api/v1/audit/entries/0',
      remoteAddress: '10.1.2.3',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(withToken.statusCode).toBe(200);
  });
});

describe('without a signing key', () => {
  it('says so at /api/v1/audit/key', async () => {
    const bare = buildServer({
      store,
      controller: idleController,
      logger: createLogger({ destination: new Writable({ write: (_c, _e, done) => done() }) }),
    });
    registerAuditRoutes(bare, { ledger });
    try {
      expect((await bare.inject('/api/v1/audit/key')).statusCode).toBe(404);
    } finally {
      await bare.close();
    }
  });
});
