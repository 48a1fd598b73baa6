// The ledger on a real SQLite file: appends (alone, in batches, inside the caller's transaction, rolled back
// with it), the stored tree equal to the RFC tree, proofs that verify, paging and filters, checkpoints.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, PlumblineError } from '../errors.js';
import { openControllerStore } from '../store/controller-store.js';
import { checkpointSigner, openCheckpoint } from './checkpoint.js';
import type { AuditEntryInput } from './entry.js';
import { EMPTY_ROOT, hashLeaf, rootOfLeafHashes, verifyConsistency, verifyInclusion } from './merkle.js';
import { generateSigner, parseVerifierKey } from './note.js';
import { type AuditLedger, openAuditLedger } from './store.js';

let dir: string;
let ledger: AuditLedger;
let clock: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pl-audit-'));
  clock = Date.parse('2026-01-01T00:00:00Z');
  const tick = (): Date => {
    clock += 1000;
    return new Date(clock);
  };
  ledger = await openAuditLedger({ dataDir: dir, now: tick });
});
afterEach(async () => {
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

function sync(n: number, extra: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    actor: { kind: 'controller', id: 'plumbline-controller' },
    action: 'sync.succeeded',
    subject: { environment: n % 2 === 0 ? 'staging' : 'prod', app: 'web', revision: `rev${n}` },
    before: { replicas: n },
    after: { replicas: n + 1 },
    reason: `push ${n}`,
    evidence: [{ kind: 'check-report', digest: `sha256:${'ab'.repeat(32)}` }],
    ...extra,
  };
}

async function leafHashes(): Promise<Buffer[]> {
  const rows = await ledger.db.selectFrom('audit_entries').select('canonical').orderBy('id').execute();
  return rows.map((row) => hashLeaf(Buffer.from(row.canonical, 'utf8')));
}

describe('appending', () => {
  it('numbers entries from 0, stores their canonical leaf, and keeps the tree equal to the RFC tree', async () => {
    expect(await ledger.size()).toBe(0);
    expect((await ledger.root()).equals(EMPTY_ROOT)).toBe(true);
    const first = await ledger.append(sync(0));
    expect(first).toMatchObject({ id: 0, action: 'sync.succeeded', at: '2026-01-01T00:00:01.000Z' });
    const more = await ledger.appendMany(Array.from({ length: 40 }, (_, i) => sync(i + 1)));
    expect(more.map((e) => e.id)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (let i = 0; i < 3; i++) await ledger.append(sync(100 + i));
    expect(await ledger.size()).toBe(44);
    const leaves = await leafHashes();
    for (const size of [1, 2, 3, 7, 8, 31, 32, 33, 44]) {
      expect((await ledger.root(size)).equals(rootOfLeafHashes(leaves.slice(0, size))), `size ${size}`).toBe(
        true,
      );
    }
    // One stored node per complete subtree above the leaves: n − popcount(n).
    const nodes = await ledger.db.selectFrom('audit_nodes').select('id').execute();
    expect(nodes.length).toBe(44 - 3);
    const leaf = await ledger.leaf(5);
    expect(leaf?.canonical).toMatch(
      /^\{"action":"sync.succeeded","actor":\{"id":"plumbline-controller","kind":"controller"\},"after":\{"replicas":6\},/,
    );
    expect(leaf?.canonical).toContain('"id":5,');
  });

  it('proves inclusion and consistency from the stored tree', async () => {
    await ledger.appendMany(Array.from({ length: 37 }, (_, i) => sync(i)));
    const leaves = await leafHashes();
    for (const size of [1, 9, 37]) {
      const root = rootOfLeafHashes(leaves.slice(0, size));
      for (let id = 0; id < size; id++) {
        const proof = await ledger.inclusionProof(id, size);
        expect(verifyInclusion(id, size, leaves[id] as Buffer, proof, root)).toEqual({ ok: true });
      }
    }
    for (const [a, b] of [
      [1, 37],
      [9, 37],
      [16, 20],
      [37, 37],
    ] as const) {
      const proof = await ledger.consistencyProof(a, b);
      expect(verifyConsistency(a, b, proof, await ledger.root(a), await ledger.root(b))).toEqual({
        ok: true,
      });
    }
    await expect(ledger.inclusionProof(37, 37)).rejects.toThrow(/not in the first 37/);
    await expect(ledger.root(38)).rejects.toThrow(InputError);
    await expect(ledger.consistencyProof(5, 40)).rejects.toThrow(/no tree of size 40/);
    await expect(ledger.consistencyProof(6, 5)).rejects.toThrow(/no consistency proof/);
  });

  it("joins the caller's transaction: the entry and the state change commit together or not at all", async () => {
    const store = await openControllerStore({ dataDir: dir });
    const shared = (await import('./store.js')).AuditLedger;
    const onStore = new shared(store.db);
    try {
      await store.transaction(async (tx) => {
        await tx.putEnvironment({
          name: 'staging',
          desiredRevision: 'a',
          liveRevision: null,
          phase: 'Progressing',
          conditions: [],
        });
        await onStore.append(sync(1), tx.db);
      });
      expect(await store.getEnvironment('staging')).toBeDefined();
      expect(await onStore.size()).toBe(1);
      await expect(
        store.transaction(async (tx) => {
          await tx.putEnvironment({
            name: 'prod',
            desiredRevision: 'b',
            liveRevision: null,
            phase: 'Progressing',
            conditions: [],
          });
          await onStore.append(sync(2), tx.db);
          throw new Error('the deploy failed after recording');
        }),
      ).rejects.toThrow('the deploy failed');
      expect(await store.getEnvironment('prod')).toBeUndefined();
      expect(await onStore.size()).toBe(1);
      // The rolled-back id is reused: no gap in the sequence.
      expect((await onStore.append(sync(3))).id).toBe(1);
      expect((await onStore.root()).equals(rootOfLeafHashes(await leafHashesOf(onStore)))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('claims ids safely when appends race (one connection, interleaved awaits)', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => ledger.append(sync(i))));
    expect(results.map((e) => e.id).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect((await ledger.root()).equals(rootOfLeafHashes(await leafHashes()))).toBe(true);
  });

  it('refuses a bad entry with the field named, before claiming an id', async () => {
    await expect(ledger.append({ ...sync(1), action: 'Not An Action' })).rejects.toThrow(
      /action: "Not An Action"/,
    );
    await expect(ledger.append({ ...sync(1), actor: { kind: 'robot' as 'ci', id: 'x' } })).rejects.toThrow(
      /actor.kind/,
    );
    await expect(ledger.append({ ...sync(1), after: { n: Number.NaN } })).rejects.toThrow(
      /\$\.after\.n: NaN/,
    );
    await expect(ledger.appendMany([sync(1), { ...sync(2), at: 'yesterday' }])).rejects.toThrow(
      /at: "yesterday"/,
    );
    expect(await ledger.size()).toBe(0);
    expect(await ledger.appendMany([])).toEqual([]);
    // A caller that catches the error and commits its transaction anyway leaves no claimed id behind.
    await ledger.db.transaction().execute(async (trx) => {
      await expect(ledger.append({ ...sync(1), before: { when: new Date() } as never }, trx)).rejects.toThrow(
        /\$\.before\.when: a Date/,
      );
    });
    expect(await ledger.size()).toBe(0);
    expect((await ledger.append(sync(1))).id).toBe(0);
  });
});

describe('reading', () => {
  beforeEach(async () => {
    await ledger.appendMany(Array.from({ length: 25 }, (_, i) => sync(i)));
    await ledger.append({
      ...sync(99),
      actor: { kind: 'person', id: 'Ada <ada@example.com>' },
      action: 'approval.granted',
    });
  });

  it('pages newest first and filters by environment, app, actor, action and time', async () => {
    const page1 = await ledger.entries({}, { limit: 10 });
    expect(page1.entries.map((e) => e.id)).toEqual([25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
    const page2 = await ledger.entries({}, { limit: 10, before: page1.next as number });
    expect(page2.entries[0]?.id).toBe(15);
    const page3 = await ledger.entries({}, { limit: 10, before: page2.next as number });
    expect(page3.entries.map((e) => e.id)).toEqual([5, 4, 3, 2, 1, 0]);
    expect(page3.next).toBeUndefined();
    const staging = await ledger.entries({ environment: 'staging' }, { limit: 1000 });
    expect(staging.entries.every((e) => e.subject.environment === 'staging')).toBe(true);
    expect(staging.entries.length).toBe(13);
    expect((await ledger.entries({ actor: 'Ada <ada@example.com>' })).entries.map((e) => e.id)).toEqual([25]);
    expect((await ledger.entries({ action: 'approval.granted', app: 'web' })).entries.length).toBe(1);
    expect((await ledger.entries({ since: '2026-01-01T00:00:24Z' })).entries.map((e) => e.id)).toEqual([
      25, 24,
    ]);
    const oldest = await ledger.entries({}, { order: 'oldest', limit: 4, after: 3 });
    expect(oldest.entries.map((e) => e.id)).toEqual([3, 4, 5, 6]);
    expect(oldest.next).toBe(7);
    expect(await ledger.entry(3)).toMatchObject({
      id: 3,
      subject: { revision: 'rev3' },
      before: { replicas: 3 },
    });
    expect(await ledger.entry(99)).toBeUndefined();
  });

  it('streams every matching entry oldest first, in batches, with its stored leaf hash', async () => {
    const all: number[] = [];
    for await (const { entry, leafHash } of ledger.stream({}, 7)) {
      all.push(entry.id);
      expect(leafHash).toBe((await ledger.leaf(entry.id))?.leafHash);
    }
    expect(all).toEqual(Array.from({ length: 26 }, (_, i) => i));
    const prod: number[] = [];
    for await (const { entry } of ledger.stream({ environment: 'prod' }, 5)) prod.push(entry.id);
    expect(prod).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25]);
  });

  it('refuses to build a proof from a damaged tree, and says where to look', async () => {
    await sql`update audit_nodes set hash = 'not hex'`.execute(ledger.db);
    await expect(ledger.inclusionProof(3, 26)).rejects.toThrow(
      /the audit ledger's tree is missing or has a damaged node/,
    );
    await sql`delete from audit_nodes`.execute(ledger.db);
    await expect(ledger.root()).rejects.toThrow(PlumblineError);
  });
});

describe('a database without the ledger', () => {
  it('says so instead of failing obscurely', async () => {
    await sql`drop table audit_head`.execute(ledger.db);
    await expect(ledger.size()).rejects.toThrow(/no such table/);
    await sql`create table audit_head (id integer primary key, size integer not null)`.execute(ledger.db);
    await expect(ledger.size()).rejects.toThrow(/holds no audit ledger/);
    await expect(ledger.append(sync(1))).rejects.toThrow(/holds no audit ledger/);
  });
});

describe('checkpoints', () => {
  it('signs the current size once, as a C2SP checkpoint the public key opens', async () => {
    const { signer } = generateSigner('example.com/audit-test');
    await ledger.appendMany(Array.from({ length: 5 }, (_, i) => sync(i)));
    const cp = await ledger.checkpoint(checkpointSigner(signer));
    expect(cp).toMatchObject({ size: 5, root: (await ledger.root()).toString('hex') });
    expect(
      cp.note.startsWith(
        `example.com/audit-test\n5\n${(await ledger.root()).toString('base64')}\n\n— example.com/audit-test `,
      ),
    ).toBe(true);
    const again = await ledger.checkpoint(checkpointSigner(signer));
    expect(again).toEqual(cp);
    await ledger.append(sync(5));
    const next = await ledger.checkpoint(checkpointSigner(signer));
    expect(next.size).toBe(6);
    expect((await ledger.checkpoints()).map((c) => c.size)).toEqual([5, 6]);
    expect((await ledger.latestCheckpoint())?.size).toBe(6);
    const opened = openCheckpoint(next.note, parseVerifierKey(signer.verifierKey));
    expect(opened).toMatchObject({ ok: true, checkpoint: { origin: 'example.com/audit-test', size: 6 } });
  });
});

describe('opening', () => {
  it('refuses a data directory with no database, or no ledger, when asked not to create one', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pl-audit-empty-'));
    try {
      await expect(openAuditLedger({ dataDir: empty, create: false })).rejects.toThrow(
        /controller.db does not exist/,
      );
      const { openDatabase } = await import('../store/db.js');
      const db = openDatabase({ dataDir: empty });
      await db.destroy();
      await expect(openAuditLedger({ dataDir: empty, create: false })).rejects.toThrow(
        /holds no audit ledger/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const existing = await openAuditLedger({ dataDir: dir, create: false });
    expect(await existing.size()).toBe(0);
    await existing.close();
  });
});

async function leafHashesOf(other: AuditLedger): Promise<Buffer[]> {
  const rows = await other.db.selectFrom('audit_entries').select('canonical').orderBy('id').execute();
  return rows.map((row) => hashLeaf(Buffer.from(row.canonical, 'utf8')));
}
