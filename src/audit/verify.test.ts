// Full verification on real SQLite files, tampered with the way an insider with database access would:
// a byte of one entry (leaf or column), a hash column, a whole entry rewritten consistently, an entry
// deleted, two reordered, the tree edited, the log truncated and re-signed with another key, the whole
// database replaced by a consistent forgery. Each is found, and the first entry that does not match named.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointSigner, filePublisher, gitRefPublisher } from './checkpoint.js';
import { type AuditEntryInput, buildEntry, entryRow } from './entry.js';
import { generateSigner, type NoteSigner, type NoteVerifier, parseVerifierKey } from './note.js';
import { type AuditLedger, openAuditLedger } from './store.js';
import {
  type ExternalCheckpoint,
  loadExternalCheckpoints,
  type VerifyReport,
  verifyLedger,
} from './verify.js';

let dir: string;
let ledger: AuditLedger;
let signer: NoteSigner;
let verifier: NoteVerifier;
let external: ExternalCheckpoint[];

function input(i: number): AuditEntryInput {
  return {
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
    actor: {
      kind: i % 4 === 0 ? 'person' : 'controller',
      id: i % 4 === 0 ? 'Ada <ada@example.com>' : 'plumbline',
    },
    action: 'sync.succeeded',
    subject: { environment: 'prod', app: `app-${i % 3}`, revision: `r${i}` },
    before: { replicas: i },
    after: { replicas: i + 1 },
    reason: `change ${i}`,
    evidence: [{ kind: 'check-report', digest: `sha256:${(i % 16).toString(16).repeat(64)}` }],
  };
}

/** 40 entries, stored checkpoints at 10, 25 and 40, the last two also published to a file. */
async function build(
  target: AuditLedger,
  key: NoteSigner,
  count = 40,
  offset = 0,
): Promise<ExternalCheckpoint[]> {
  const published: ExternalCheckpoint[] = [];
  let done = 0;
  for (const size of [10, 25, count]) {
    await target.appendMany(Array.from({ length: size - done }, (_, i) => input(offset + done + i)));
    done = size;
    const cp = await target.checkpoint(checkpointSigner(key));
    if (size > 10) published.push({ source: `offsite #${published.length + 1}`, note: cp.note });
  }
  return published;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pl-verify-'));
  ledger = await openAuditLedger({ dataDir: join(dir, 'data') });
  signer = generateSigner('test.example/ledger').signer;
  verifier = parseVerifierKey(signer.verifierKey);
  external = await build(ledger, signer);
});
afterEach(async () => {
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

async function verify(
  options: { external?: ExternalCheckpoint[]; batchSize?: number; key?: NoteVerifier } = {},
): Promise<VerifyReport> {
  return verifyLedger({
    ledger,
    verifier: options.key ?? verifier,
    external: options.external ?? external,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
  });
}

function kinds(report: VerifyReport): string[] {
  return [...new Set(report.problems.map((p) => p.kind))].sort();
}

async function run(statement: string): Promise<void> {
  await sql.raw(statement).execute(ledger.db);
}

describe('an untouched ledger', () => {
  it('verifies, in any batch size, with its stored and external checkpoints', async () => {
    for (const batchSize of [5000, 7, 1]) {
      const progress: number[] = [];
      const report = await verifyLedger({
        ledger,
        verifier,
        external,
        batchSize,
        onProgress: (done) => progress.push(done),
      });
      expect(report).toMatchObject({
        ok: true,
        size: 40,
        entries: 40,
        checkpoints: 3,
        external: 2,
        problems: [],
        problemCount: 0,
      });
      expect(report.root).toBe((await ledger.root()).toString('hex'));
      expect(progress[progress.length - 1]).toBe(40);
    }
  });

  it('verifies when empty', async () => {
    const empty = await openAuditLedger({ dataDir: join(dir, 'empty') });
    try {
      expect(await verifyLedger({ ledger: empty, verifier })).toMatchObject({
        ok: true,
        size: 0,
        entries: 0,
      });
    } finally {
      await empty.close();
    }
  });

  it('stops when asked to', async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(verifyLedger({ ledger, verifier, signal: abort.signal })).rejects.toThrow(/interrupted/);
  });
});

describe('tampering is found and the entry named', () => {
  it("one byte changed in one entry's canonical bytes", async () => {
    await run(
      `update audit_entries set canonical = replace(canonical, '"change 17"', '"change 1X"') where id = 17`,
    );
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.firstBadEntry).toBe(17);
    expect(kinds(report)).toEqual(['checkpoint-root', 'entry-columns', 'external-root', 'leaf-hash']);
    expect(report.problems[0]?.message).toBe(
      'entry 17: its columns do not match its canonical bytes (reason: the column says "change 17", the leaf says "change 1X")',
    );
    // Checkpoints from size 25 on no longer match; the one at 10 still does, which narrows the range.
    expect(report.problems.map((p) => p.message)).toContain(
      'the stored checkpoint at size 25 does not match the entries: the first 25 entries were changed since it was signed (the change is in entries 10–24)',
    );
  });

  it('one byte changed in one column', async () => {
    await run(`update audit_entries set app = 'app-X' where id = 3`);
    const report = await verify();
    expect(report).toMatchObject({ ok: false, firstBadEntry: 3 });
    expect(kinds(report)).toEqual(['entry-columns']);
    expect(report.problems[0]?.message).toMatch(
      /entry 3: .*\(app: the column says "app-X", the leaf says "app-0"\)/,
    );
  });

  it('a JSON column rewritten to an equal value in another form', async () => {
    await run(`update audit_entries set before_json = '{"replicas": 5}' where id = 5`);
    const report = await verify();
    expect(report.problems).toEqual([
      {
        kind: 'entry-columns',
        entry: 5,
        message:
          'entry 5: its columns do not match its canonical bytes (column before_json is not in canonical form)',
      },
    ]);
  });

  it.each([
    [
      'an action no append accepts',
      (row: Record<string, unknown>) => ({ ...row, action: 'Deleted The Audit Log' }),
      /action: "Deleted The Audit Log"/,
    ],
    [
      'evidence that is not a list',
      (row: Record<string, unknown>) => ({ ...row, evidence_json: 'null' }),
      /evidence_json is not an array/,
    ],
    [
      'a JSON column in another form',
      (row: Record<string, unknown>) => ({ ...row, after_json: '{"replicas": 15}' }),
      /after_json is not in canonical form/,
    ],
    [
      'a time in another form',
      (row: Record<string, unknown>) => ({ ...row, at: '2026-01-01T00:00:14Z' }),
      /not in ISO 8601 UTC form/,
    ],
  ])('a row rewritten consistently (leaf and columns) into %s', async (_name, change, reason) => {
    const row = await ledger.db
      .selectFrom('audit_entries')
      .selectAll()
      .where('id', '=', 14)
      .executeTakeFirstOrThrow();
    const { leafTextFromColumns } = await import('./entry.js');
    const { hashLeaf } = await import('./merkle.js');
    const forged = change(row) as typeof row;
    forged.canonical = leafTextFromColumns(forged);
    forged.leaf_hash = hashLeaf(Buffer.from(forged.canonical, 'utf8')).toString('hex');
    await ledger.db.updateTable('audit_entries').set(forged).where('id', '=', 14).execute();
    const report = await verify();
    expect(report.problems[0]).toMatchObject({
      kind: 'entry-leaf',
      entry: 14,
      message: expect.stringMatching(reason),
    });
    expect(report.firstBadEntry).toBe(14);
  });

  it('a stored leaf hash edited', async () => {
    await run(`update audit_entries set leaf_hash = '${'0'.repeat(64)}' where id = 30`);
    const report = await verify();
    expect(report).toMatchObject({ ok: false, firstBadEntry: 30 });
    expect(report.problems[0]).toMatchObject({
      kind: 'leaf-hash',
      message: expect.stringMatching(/entry 30: its stored leaf hash/),
    });
  });

  it('one entry rewritten consistently (leaf, columns and leaf hash) without the tree', async () => {
    const forged = entryRow(buildEntry({ ...input(21), reason: 'nothing to see' }, 21));
    await ledger.db.updateTable('audit_entries').set(forged).where('id', '=', 21).execute();
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.firstBadEntry).toBe(20);
    expect(report.problems[0]?.message).toBe(
      'the stored tree node over entries 20–21 does not match those entries: the tree or the entries were rewritten',
    );
    expect(kinds(report)).toEqual(['checkpoint-root', 'external-root', 'tree-node']);
  });

  it('an entry deleted', async () => {
    await run('delete from audit_entries where id = 12');
    const report = await verify();
    expect(report).toMatchObject({ ok: false, firstBadEntry: 12 });
    expect(report.problems[0]).toEqual({
      kind: 'entry-missing',
      entry: 12,
      message: 'entry 12 is missing (deleted): the next stored entry is 13',
    });
    expect(kinds(report)).toContain('external-root');
  });

  it('two entries reordered', async () => {
    await run('update audit_entries set id = -1 where id = 7');
    await run('update audit_entries set id = 7 where id = 8');
    await run('update audit_entries set id = 8 where id = -1');
    const report = await verify();
    expect(report).toMatchObject({ ok: false, firstBadEntry: 7 });
    expect(report.problems.slice(0, 2)).toEqual([
      {
        kind: 'entry-order',
        entry: 7,
        message: 'entry 7 holds the leaf of entry 8: entries were reordered or renumbered',
      },
      {
        kind: 'entry-order',
        entry: 8,
        message: 'entry 8 holds the leaf of entry 7: entries were reordered or renumbered',
      },
    ]);
  });

  it('a stored tree node edited', async () => {
    await run(`update audit_nodes set hash = '${'f'.repeat(64)}' where id = 11`);
    const report = await verify();
    // In-order key 11 is the level-2 node over entries 4–7.
    expect(report.problems).toEqual([
      {
        kind: 'tree-node',
        entry: 4,
        message:
          'the stored tree node over entries 4–7 does not match those entries: the tree or the entries were rewritten',
      },
    ]);
  });

  it('the log truncated and re-signed with another key', async () => {
    const intruder = generateSigner('test.example/ledger').signer;
    await run('delete from audit_entries where id >= 30');
    await run('update audit_head set size = 30');
    await run('delete from audit_checkpoints where size > 25');
    await ledger.checkpoint(checkpointSigner(intruder));
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.firstBadEntry).toBe(30);
    const messages = report.problems.map((p) => p.message);
    expect(messages).toContain(
      `the stored checkpoint at size 30: it is signed by test.example/ledger+${intruder.keyId.toString(16).padStart(8, '0')}, not by the trusted key test.example/ledger+${verifier.keyId.toString(16).padStart(8, '0')}`,
    );
    expect(messages).toContain(
      'the external checkpoint at size 40 (offsite #2) covers 40 entries but the store holds 30: the log was truncated (entries 30–39 are gone)',
    );
    expect(kinds(report)).toEqual(['checkpoint-signature', 'external-beyond', 'tree-extra']);
  });

  it('the truncation noticed from the head and the leftover tree alone (no checkpoints at all)', async () => {
    await run('delete from audit_entries where id >= 33');
    await run('delete from audit_checkpoints');
    const report = await verify({ external: [] });
    expect(report.problems.map((p) => p.kind)).toEqual(['head', 'tree-extra']);
    expect(report.problems[0]?.message).toBe(
      'the head records 40 entries but only 33 are stored: entries 33–39 were removed',
    );
  });

  it('the whole database replaced with a consistent forgery while an external checkpoint exists', async () => {
    // The forger rebuilds everything with the same key (they had the data directory): internally perfect.
    const forgery = await openAuditLedger({ dataDir: join(dir, 'forgery') });
    try {
      await build(forgery, signer, 40, 1);
      expect(await verifyLedger({ ledger: forgery, verifier })).toMatchObject({ ok: true });
      const report = await verifyLedger({ ledger: forgery, verifier, external });
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.message)).toEqual([
        'the external checkpoint at size 25 (offsite #1) does not match the entries: the first 25 entries were changed since it was signed (the change is in entries 0–24)',
        'the external checkpoint at size 40 (offsite #2) does not match the entries: the first 40 entries were changed since it was signed (the change is in entries 0–39)',
      ]);
      // With a new key of their own instead, the external checkpoints do not even open with it.
      const theirs = generateSigner('test.example/ledger').signer;
      const again = await verifyLedger({
        ledger: forgery,
        verifier: parseVerifierKey(theirs.verifierKey),
        external,
      });
      expect(kinds(again)).toEqual(['checkpoint-signature', 'external-signature']);
    } finally {
      await forgery.close();
    }
  });

  it('a stored checkpoint whose row no longer says what its note says', async () => {
    await run(`update audit_checkpoints set root = '${'a'.repeat(64)}' where size = 25`);
    const report = await verify();
    expect(report.problems[0]?.message).toMatch(
      /^the stored checkpoint at size 25: its row says size 25, root aaaaaaaaaaaaaaaa…, its signed note says size 25/,
    );
    await run(
      `update audit_checkpoints set note = replace(note, char(10) || '25' || char(10), char(10) || '24' || char(10)) where size = 25`,
    );
    const altered = await verify();
    expect(altered.problems[0]?.message).toMatch(
      /the stored checkpoint at size 25: the signature by .* does not verify: the note was altered/,
    );
  });

  it('the head edited to claim more entries', async () => {
    await run('update audit_head set size = 41');
    const report = await verify({ external: [] });
    expect(report.problems[0]).toMatchObject({ kind: 'head', entry: 40 });
  });

  it('keeps the first problems and counts the rest', async () => {
    await run(`update audit_entries set reason = 'x'`);
    const report = await verifyLedger({ ledger, verifier, maxProblems: 5 });
    expect(report.problems.length).toBe(5);
    expect(report.problemCount).toBe(40);
    expect(report.firstBadEntry).toBe(0);
  });
});

describe('external checkpoints', () => {
  it('load from a file (one note or an append-only list) and from a Git ref', async () => {
    const file = join(dir, 'list.txt');
    const publisher = filePublisher(file);
    const checkpoints = await ledger.checkpoints();
    for (const cp of checkpoints) await publisher.publish(cp);
    const fromFile = await loadExternalCheckpoints(file);
    expect(fromFile.map((e) => e.note)).toEqual(checkpoints.map((cp) => cp.note));
    expect(fromFile[0]?.source).toBe(`${file} #1`);

    const repo = join(dir, 'repo');
    expect(spawnSync('git', ['init', '-q', repo]).status).toBe(0);
    const git = gitRefPublisher({ repo });
    for (const cp of checkpoints) await git.publish(cp);
    const fromRef = await loadExternalCheckpoints('refs/plumbline/checkpoints', repo);
    expect(fromRef.map((e) => e.note)).toEqual(checkpoints.map((cp) => cp.note));
    expect(await verify({ external: fromRef })).toMatchObject({ ok: true, external: 3 });
  });

  it('refuse what is not there', async () => {
    await expect(loadExternalCheckpoints(join(dir, 'missing.txt'))).rejects.toThrow(
      /no such file, and not a Git ref/,
    );
    writeFileSync(join(dir, 'empty.txt'), '\n');
    await expect(loadExternalCheckpoints(join(dir, 'empty.txt'))).rejects.toThrow(/holds no checkpoint/);
  });
});
