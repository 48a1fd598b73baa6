// A crash between appending and checkpointing loses nothing: a child process appends bursts (with the
// Checkpointer signing and publishing as it goes) and prints each batch's ids once its commit returned; it
// is killed with SIGKILL at random moments, restarted on the same data directory, killed again… Then every
// acknowledged entry must be there, unchanged, and the ledger must verify against what was published.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVerifierKey } from '../src/audit/note.js';
import { openAuditLedger } from '../src/audit/store.js';
import { loadExternalCheckpoints, verifyLedger } from '../src/audit/verify.js';
import { plumbline, ROOT, type TempDir, tempDir } from './helpers/repo.js';

const ITERATIONS = 6;

let work: TempDir;
let dataDir: string;
let offsite: string;
let script: string;

beforeAll(() => {
  work = tempDir('pl-audit-crash-');
  dataDir = join(work.path, 'data');
  offsite = join(work.path, 'offsite', 'checkpoints.txt');
  script = join(work.path, 'burst.mjs');
  const dist = (path: string): string => JSON.stringify(join(ROOT, 'dist', path));
  writeFileSync(
    script,
    `import { openAuditLedger } from ${dist('audit/store.js')};
import { keyLocation, loadOrCreateSigner } from ${dist('audit/note.js')};
import { Checkpointer, filePublisher } from ${dist('audit/checkpoint.js')};
const [dataDir, run, offsite] = process.argv.slice(2);
const ledger = await openAuditLedger({ dataDir });
const { signer } = loadOrCreateSigner(keyLocation(dataDir), 'crash.example/ledger');
const checkpointer = new Checkpointer({ ledger, signer, publishers: [filePublisher(offsite)], everyEntries: 40, everyMs: 25, pollMs: 5 });
checkpointer.start();
for (let k = 0; ; ) {
  const n = 1 + (k % 17);
  const batch = Array.from({ length: n }, (_, j) => ({ actor: { kind: 'ci', id: 'run-' + run }, action: 'burst.append', reason: run + ':' + (k + j) }));
  const entries = await ledger.appendMany(batch);
  // Acknowledged: the commit returned (synchronous=FULL: the WAL is on disk).
  process.stdout.write('ack ' + entries.map((e) => e.id + '=' + e.reason).join(' ') + '\\n');
  k += n;
  // Yield to timers between batches, as a server does between requests (the Checkpointer runs on them).
  await new Promise((resolve) => setImmediate(resolve));
}
`,
  );
});
afterAll(() => work.remove());

/** A deterministic generator, so a failing run can be replayed (the seed is in the test name). */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

async function burst(run: number, killAfterMs: number): Promise<Map<number, string>> {
  const acked = new Map<number, string>();
  const child: ChildProcess = spawn(process.execPath, [script, dataDir, String(run), offsite], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let buffered = '';
  const firstAck = new Promise<void>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('ack ')) continue;
        // The clock starts at the first acknowledgement, so a slow start on a busy machine still
        // leaves the kill inside the burst.
        resolve();
        for (const pair of line.slice(4).split(' ')) {
          const [id, reason] = pair.split('=');
          acked.set(Number(id), reason as string);
        }
      }
    });
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, signal) => resolve(signal)),
  );
  await Promise.race([firstAck, exited]);
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  child.kill('SIGKILL');
  const signal = await exited;
  expect(signal, `the child ended by itself: ${stderr}`).toBe('SIGKILL');
  // Lines already in the pipe when the child died count as acknowledged too.
  await new Promise((resolve) => setImmediate(resolve));
  return acked;
}

describe('appending through SIGKILLs', () => {
  const seed = 20260201;
  it(`keeps every acknowledged entry and verifies (${ITERATIONS} kills, seed ${seed})`, async () => {
    const random = generator(seed);
    const acknowledged = new Map<number, string>();
    /** Kills that left entries no checkpoint covered yet: the case this test is about. */
    let uncheckpointed = 0;
    for (let run = 1; run <= ITERATIONS; run++) {
      const killAfterMs = Math.round(random() * 400);
      const acked = await burst(run, killAfterMs);
      expect(acked.size, `run ${run} acknowledged nothing`).toBeGreaterThan(0);
      for (const [id, reason] of acked) {
        expect(acknowledged.has(id), `id ${id} acknowledged twice`).toBe(false);
        acknowledged.set(id, reason);
      }
      // After each crash: everything acknowledged is there, as written.
      const ledger = await openAuditLedger({ dataDir, create: false });
      try {
        const size = await ledger.size();
        expect(size).toBeGreaterThanOrEqual(Math.max(...acknowledged.keys()) + 1);
        for (const [id, reason] of acknowledged)
          expect((await ledger.entry(id))?.reason, `entry ${id}`).toBe(reason);
        if (((await ledger.latestCheckpoint())?.size ?? 0) < size) uncheckpointed++;
      } finally {
        await ledger.close();
      }
    }

    expect(uncheckpointed, 'no kill fell between an append and its checkpoint').toBeGreaterThan(0);
    const verifier = parseVerifierKey(readFileSync(join(dataDir, 'audit-key.pub'), 'utf8'));
    const external = await loadExternalCheckpoints(offsite);
    expect(external.length).toBeGreaterThan(ITERATIONS);
    const ledger = await openAuditLedger({ dataDir, create: false });
    try {
      const report = await verifyLedger({ ledger, verifier, external });
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.entries).toBe(await ledger.size());
    } finally {
      await ledger.close();
    }
    const cli = plumbline(['audit', 'verify', '--data-dir', dataDir, '--against', offsite]);
    expect(cli.status, cli.stderr).toBe(0);
  });
});
