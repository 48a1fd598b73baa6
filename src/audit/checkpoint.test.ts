// Checkpoints: the C2SP body, parsing what others send, publishing to a file and to a Git ref (a real
// repository, a real bare remote), and the Checkpointer's rules (every N entries, every T, at stop).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_REF,
  Checkpointer,
  type CheckpointPublisher,
  checkpointBody,
  checkpointSigner,
  filePublisher,
  gitRefPublisher,
  openCheckpoint,
  parseCheckpointText,
  readGitCheckpoints,
  splitNotes,
} from './checkpoint.js';
import type { AuditEntryInput } from './entry.js';
import { EMPTY_ROOT } from './merkle.js';
import { generateSigner, type NoteSigner, parseVerifierKey, signNote } from './note.js';
import { type AuditLedger, type Checkpoint, openAuditLedger } from './store.js';

const entry: AuditEntryInput = { actor: { kind: 'controller', id: 'plumbline' }, action: 'drift.healed' };

let dir: string;
let ledger: AuditLedger;
let signer: NoteSigner;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pl-cp-'));
  ledger = await openAuditLedger({ dataDir: join(dir, 'data') });
  signer = generateSigner('test.example/ledger').signer;
});
afterEach(async () => {
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: dir },
  });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

describe('the checkpoint format', () => {
  it('is origin, size and base64 root on three lines, signed as a note', () => {
    const body = checkpointBody('example.com/log', 20852163, EMPTY_ROOT);
    expect(body).toBe(`example.com/log\n20852163\n${EMPTY_ROOT.toString('base64')}\n`);
    const note = checkpointSigner(signer).signCheckpoint(3, EMPTY_ROOT);
    const opened = openCheckpoint(note, parseVerifierKey(signer.verifierKey));
    expect(opened).toMatchObject({ ok: true, checkpoint: { origin: 'test.example/ledger', size: 3 } });
  });

  it.each([
    ['two lines', 'o\n1\n', /at least three lines/],
    ['an empty origin', `\n1\n${EMPTY_ROOT.toString('base64')}\n`, /empty origin/],
    ['a leading zero', `o\n01\n${EMPTY_ROOT.toString('base64')}\n`, /not a tree size/],
    ['a negative size', `o\n-1\n${EMPTY_ROOT.toString('base64')}\n`, /not a tree size/],
    ['a huge size', `o\n99999999999999999999\n${EMPTY_ROOT.toString('base64')}\n`, /not a tree size/],
    ['a short root', 'o\n1\nAAAA\n', /32-byte hash/],
    [
      'an empty extension line',
      `o\n1\n${EMPTY_ROOT.toString('base64')}\n\n`,
      /at least three lines|extension line is empty/,
    ],
  ])('refuses a body with %s', (_name, text, reason) => {
    expect(parseCheckpointText(text)).toMatchObject({ ok: false, reason });
  });

  it('accepts extension lines, and refuses an origin that is not the key name', () => {
    expect(parseCheckpointText(`o\n1\n${EMPTY_ROOT.toString('base64')}\next\n`)).toMatchObject({
      ok: true,
      size: 1,
    });
    const note = signNote(checkpointBody('other.example/log', 1, EMPTY_ROOT), signer);
    expect(openCheckpoint(note, parseVerifierKey(signer.verifierKey))).toMatchObject({
      ok: false,
      reason: /origin "other.example\/log" is not the ledger's/,
    });
  });

  it('splits a list of notes appended one after another', () => {
    const sign = checkpointSigner(signer);
    const notes = [
      sign.signCheckpoint(1, EMPTY_ROOT),
      sign.signCheckpoint(2, EMPTY_ROOT),
      sign.signCheckpoint(3, EMPTY_ROOT),
    ];
    expect(splitNotes(notes.join(''))).toEqual(notes);
    expect(splitNotes(`\n${notes[0]}\n`)).toEqual([notes[0]]);
    expect(splitNotes('')).toEqual([]);
  });
});

describe('publishing', () => {
  it('appends to a file once per checkpoint, or keeps only the latest', async () => {
    await ledger.appendMany([entry, entry]);
    const first = await ledger.checkpoint(checkpointSigner(signer));
    await ledger.append(entry);
    const second = await ledger.checkpoint(checkpointSigner(signer));
    const list = filePublisher(join(dir, 'out', 'list.txt'));
    await list.publish(first);
    await list.publish(second);
    await list.publish(second); // a restarted controller republishes its latest
    expect(splitNotes(readFileSync(join(dir, 'out', 'list.txt'), 'utf8'))).toEqual([first.note, second.note]);
    const latest = filePublisher(join(dir, 'latest.txt'), { mode: 'latest' });
    await latest.publish(first);
    await latest.publish(second);
    expect(readFileSync(join(dir, 'latest.txt'), 'utf8')).toBe(second.note);
  });

  it('commits each checkpoint onto refs/plumbline/checkpoints with plumbing, and pushes it', async () => {
    const repo = join(dir, 'repo');
    const remote = join(dir, 'remote.git');
    git(dir, 'init', '-q', repo);
    git(dir, 'init', '-q', '--bare', remote);
    const publisher = gitRefPublisher({ repo, remote });
    expect(publisher.name).toBe(`git ${CHECKPOINT_REF} in ${repo} (pushed to ${remote})`);
    const published: Checkpoint[] = [];
    for (let i = 0; i < 3; i++) {
      await ledger.append(entry);
      const cp = await ledger.checkpoint(checkpointSigner(signer));
      await publisher.publish(cp);
      published.push(cp);
    }
    expect(await readGitCheckpoints(repo)).toEqual(published.map((cp) => cp.note));
    expect(await readGitCheckpoints(remote)).toEqual(published.map((cp) => cp.note));
    expect(git(repo, 'log', '--format=%s', CHECKPOINT_REF).trim().split('\n')).toEqual([
      'checkpoint 3',
      'checkpoint 2',
      'checkpoint 1',
    ]);
    // The work tree, index and HEAD are untouched: only the ref moved.
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(spawnSync('git', ['-C', repo, 'rev-parse', '--verify', '-q', 'HEAD']).status).not.toBe(0);
  });

  it('fails loudly when the ref holds something else, or git cannot run there', async () => {
    const repo = join(dir, 'repo');
    git(dir, 'init', '-q', repo);
    writeFileSync(join(repo, 'f'), 'x');
    git(repo, 'add', 'f');
    git(repo, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-q', '-m', 'not a checkpoint');
    git(repo, 'update-ref', CHECKPOINT_REF, 'HEAD');
    await expect(readGitCheckpoints(repo)).rejects.toThrow(/without a checkpoint file/);
    await expect(readGitCheckpoints(join(dir, 'nowhere'))).rejects.toThrow(/git rev-list/);
    await ledger.append(entry);
    const cp = await ledger.checkpoint(checkpointSigner(signer));
    await expect(gitRefPublisher({ repo: join(dir, 'nowhere') }).publish(cp)).rejects.toThrow(
      /git hash-object/,
    );
  });
});

describe('the Checkpointer', () => {
  function recorder(): CheckpointPublisher & { sizes: number[]; failNext: number } {
    const publisher = {
      name: 'recorder',
      sizes: [] as number[],
      failNext: 0,
      async publish(cp: Checkpoint) {
        if (publisher.failNext > 0) {
          publisher.failNext--;
          throw new Error('the offsite disk is not mounted');
        }
        publisher.sizes.push(cp.size);
      },
    };
    return publisher;
  }

  async function until(what: string, probe: () => Promise<boolean> | boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it('checkpoints every N entries, publishes each, and makes a final one at stop', async () => {
    const publisher = recorder();
    const warnings: string[] = [];
    const checkpointer = new Checkpointer({
      ledger,
      signer,
      publishers: [publisher],
      everyEntries: 5,
      everyMs: 3_600_000,
      pollMs: 10,
      logger: { info: () => undefined, warn: (_f, message) => warnings.push(message) },
    });
    checkpointer.start();
    await ledger.appendMany(Array.from({ length: 4 }, () => entry));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(publisher.sizes).toEqual([]);
    await ledger.appendMany(Array.from({ length: 2 }, () => entry));
    await until('a checkpoint at 6', () => publisher.sizes.includes(6));
    await ledger.append(entry);
    const last = await checkpointer.stop();
    expect(last.size).toBe(7);
    expect(publisher.sizes).toEqual([6, 7]);
    expect((await ledger.checkpoints()).map((cp) => cp.size)).toEqual([6, 7]);
    expect(warnings).toEqual([]);
  });

  it('checkpoints after T with anything new, retries a failed publish, and stops on abort', async () => {
    const publisher = recorder();
    publisher.failNext = 1;
    const warnings: string[] = [];
    const checkpointer = new Checkpointer({
      ledger,
      signer,
      publishers: [publisher],
      everyEntries: 1000,
      everyMs: 50,
      pollMs: 10,
      logger: { info: () => undefined, warn: (fields) => warnings.push(String(fields.err)) },
    });
    const abort = new AbortController();
    checkpointer.start(abort.signal);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await ledger.checkpoints()).toEqual([]); // nothing new, no checkpoint
    await ledger.append(entry);
    await until('the failed publish retried', () => publisher.sizes.includes(1));
    expect(warnings).toEqual(['the offsite disk is not mounted']);
    await ledger.append(entry);
    abort.abort();
    await until('the final checkpoint', async () => (await ledger.latestCheckpoint())?.size === 2);
    await until('its publication', () => publisher.sizes.includes(2));
  });

  it('refuses options that make no sense', () => {
    expect(() => new Checkpointer({ ledger, signer, everyEntries: 0 })).toThrow(
      /everyEntries must be a positive integer/,
    );
    expect(() => new Checkpointer({ ledger, signer, everyMs: 1.5 })).toThrow(/everyMs/);
  });
});
