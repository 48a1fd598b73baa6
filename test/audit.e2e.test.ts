// The audit ledger end to end through the built CLI: a real store written as the controller writes it, a
// key file, checkpoints published to a file and to a Git ref pushed to a bare remote; then log, export,
// prove, verify-proof and verify — and the tampering an auditor must catch, each on its own copy of the data
// directory, each failing `plumbline audit verify` with exit 1 and a message naming what was wrong.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointSigner } from '../src/audit/checkpoint.js';
import type { AuditEntryInput } from '../src/audit/entry.js';
import { generateSigner } from '../src/audit/note.js';
import { openAuditLedger } from '../src/audit/store.js';
import { plumbline, ROOT, type TempDir, tempDir } from './helpers/repo.js';

let work: TempDir;
let data: string;
let repo: string;
let remote: string;
let offsite: string;
let publicKey: string;
const copies: string[] = [];

function input(i: number): AuditEntryInput {
  return {
    at: new Date(Date.UTC(2026, 1, 1, 0, i)),
    actor:
      i === 7
        ? { kind: 'person', id: 'Mallory \u001b[2J<mallory@example.com>' }
        : {
            kind: i % 5 === 0 ? 'person' : 'controller',
            id: i % 5 === 0 ? 'Ada <ada@example.com>' : 'plumbline-controller',
          },
    action: i % 5 === 0 ? 'approval.granted' : 'sync.succeeded',
    subject: {
      environment: i % 2 === 0 ? 'staging' : 'prod',
      app: 'web',
      revision: `${i}`.padStart(40, 'a'),
    },
    before: { replicas: 1 },
    after: { replicas: 2 },
    reason: i === 9 ? '=HYPERLINK("http://evil.example")' : `change ${i}`,
    evidence: [{ kind: 'check-report', digest: `sha256:${'c'.repeat(64)}` }],
  };
}

function cli(...args: string[]) {
  return plumbline(['audit', ...args]);
}

/** A copy of the data directory to tamper with. */
function copyOfData(): string {
  const copy = join(work.path, `copy-${copies.length}`);
  cpSync(data, copy, { recursive: true });
  copies.push(copy);
  return copy;
}

function sqlite(dataDir: string, ...statements: string[]): void {
  const db = new Database(join(dataDir, 'controller.db'));
  try {
    for (const statement of statements) db.exec(statement);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  work = tempDir('pl-audit-e2e-');
  data = join(work.path, 'data');
  repo = join(work.path, 'deploy-repo');
  remote = join(work.path, 'remote.git');
  offsite = join(work.path, 'offsite', 'checkpoints.txt');
  work.git('init', '-q', repo);
  work.git('init', '-q', '--bare', remote);

  const created = cli('key', '--create', '--name', 'ci.example/prod-audit', '--data-dir', data);
  expect(created.status, created.stderr).toBe(0);
  publicKey = created.stdout.trim();
  expect(created.stderr).toContain('audit-key (mode 0600)');

  // Written as the controller writes: through the library, in batches, with checkpoints along the way.
  const ledger = await openAuditLedger({ dataDir: data });
  try {
    await ledger.appendMany(Array.from({ length: 30 }, (_, i) => input(i)));
  } finally {
    await ledger.close();
  }
  const publish = [
    'checkpoint',
    '--data-dir',
    data,
    '--publish-file',
    offsite,
    '--publish-ref',
    'refs/plumbline/checkpoints',
    '--repo',
    repo,
    '--push',
    remote,
  ];
  const first = cli(...publish);
  expect(first.status, first.stderr).toBe(0);
  const again = await openAuditLedger({ dataDir: data });
  try {
    await again.appendMany(Array.from({ length: 20 }, (_, i) => input(30 + i)));
  } finally {
    await again.close();
  }
  expect(cli(...publish).status).toBe(0);
}, 120_000);

afterAll(() => work.remove());

describe("the auditor's commands", () => {
  it('prints the public key, the same every time', () => {
    const key = cli('key', '--data-dir', data);
    expect(key).toMatchObject({ status: 0, stdout: `${publicKey}\n` });
    expect(publicKey).toMatch(/^ci\.example\/prod-audit\+[0-9a-f]{8}\+A/);
    const json = JSON.parse(cli('key', '--data-dir', data, '--json').stdout) as {
      key: string;
      created: boolean;
    };
    expect(json).toMatchObject({ key: publicKey, created: false });
    expect(readFileSync(join(data, 'audit-key.pub'), 'utf8').trim()).toBe(publicKey);
  });

  it('published every checkpoint to the file, the Git ref and its remote', () => {
    const notes = readFileSync(offsite, 'utf8');
    expect(notes.match(/^ci\.example\/prod-audit$/gm)?.length).toBe(2);
    expect(work.git('-C', repo, 'log', '--format=%s', 'refs/plumbline/checkpoints').trim()).toBe(
      'checkpoint 50\ncheckpoint 30',
    );
    expect(work.git('-C', remote, 'rev-parse', 'refs/plumbline/checkpoints')).toBe(
      work.git('-C', repo, 'rev-parse', 'refs/plumbline/checkpoints'),
    );
  });

  it('shows the history newest first, filtered, with terminal escapes from the data neutralised', () => {
    const log = cli('log', '--data-dir', data, '--limit', '3');
    expect(log.status).toBe(0);
    expect(log.stdout.split('\n')[0]).toMatch(
      /^#49 +2026-02-01T00:49:00\.000Z {2}sync\.succeeded +prod\/web@aaaaaaaaaaaa {2}by plumbline-controller \(controller\)$/,
    );
    expect(log.stdout).toContain('(more: --limit 6');
    const mallory = cli('log', '--data-dir', data, '--actor', 'Mallory \u001b[2J<mallory@example.com>');
    expect(mallory.stdout).toContain('by Mallory \\u001b[2J<mallory@example.com> (person)');
    expect(mallory.stdout).not.toContain('\u001b');
    const json = JSON.parse(
      cli('log', '--data-dir', data, '--env', 'staging', '--action', 'approval.granted', '--json').stdout,
    ) as { entries: { id: number }[] };
    expect(json.entries.map((e) => e.id)).toEqual([40, 30, 20, 10, 0]);
    expect(
      JSON.parse(cli('log', '--data-dir', data, '--since', '2026-02-01T00:45:00Z', '--json').stdout).entries,
    ).toHaveLength(5);
    expect(cli('log', '--data-dir', data, '--since', '1h', '--env', 'nowhere').stdout).toBe(
      'no entries match\n',
    );
  });

  it('exports JSONL exactly and CSV safely', () => {
    const jsonl = cli('export', '--format', 'jsonl', '--data-dir', data);
    const lines = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; reason: string; leafHash: string });
    expect(lines).toHaveLength(50);
    expect(lines[9]).toMatchObject({ id: 9, reason: '=HYPERLINK("http://evil.example")' });
    expect(lines[0]?.leafHash).toMatch(/^[0-9a-f]{64}$/);
    const file = join(work.path, 'sample.csv');
    expect(
      cli('export', '--format', 'csv', '--data-dir', data, '--env', 'prod', '--output', file).status,
    ).toBe(0);
    const csv = readFileSync(file, 'utf8').trim().split('\n');
    expect(csv[0]).toBe(
      'id,at,actor_kind,actor,action,environment,app,revision,commit,reason,before,after,evidence,leaf_hash',
    );
    expect(csv).toHaveLength(26);
    expect(csv.find((row) => row.startsWith('9,'))).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
  });

  it('writes a proof bundle that verifies offline with the key alone, and refuses a changed one', () => {
    const bundle = join(work.path, 'entry-12.proof.json');
    expect(cli('prove', '12', '--data-dir', data, '--output', bundle).status).toBe(0);
    const ok = cli('verify-proof', bundle, '--key', publicKey);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      /^proof verified: entry 12 \(sync\.succeeded by plumbline-controller at 2026-02-01T00:12:00\.000Z\) is in the log ci\.example\/prod-audit of 50 entries/,
    );
    expect(cli('verify-proof', bundle, '--key', join(data, 'audit-key.pub')).status).toBe(0);

    const changed = join(work.path, 'changed.proof.json');
    writeFileSync(changed, readFileSync(bundle, 'utf8').replaceAll('change 12', 'change 13'));
    const refused = cli('verify-proof', changed, '--key', publicKey);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /^proof verification FAILED: the inclusion proof: the proof leads to a different root at size 50/,
    );
    const otherKey = generateSigner('ci.example/prod-audit').signer.verifierKey;
    expect(cli('verify-proof', bundle, '--key', otherKey)).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/not by the trusted key/),
    });
    const json = JSON.parse(cli('verify-proof', bundle, '--key', publicKey, '--json').stdout) as {
      ok: boolean;
    };
    expect(json.ok).toBe(true);
  });

  it('verifies the store, alone and against the file and the Git ref', () => {
    const plain = cli('verify', '--data-dir', data);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^audit ledger verified: 50 entries, root [0-9a-f]{64}/);
    expect(plain.stdout).toContain(`2 stored checkpoint(s) signed by ${publicKey}`);
    const file = cli('verify', '--data-dir', data, '--against', offsite, '--key', publicKey);
    expect(file.status, file.stderr).toBe(0);
    expect(file.stdout).toContain(`2 external checkpoint(s) from ${offsite}: the store agrees with each`);
    const ref = cli(
      'verify',
      '--data-dir',
      data,
      '--against',
      'refs/plumbline/checkpoints',
      '--repo',
      remote,
    );
    expect(ref.status, ref.stderr).toBe(0);
    const json = JSON.parse(cli('verify', '--data-dir', data, '--json').stdout) as {
      ok: boolean;
      entries: number;
    };
    expect(json).toMatchObject({ ok: true, entries: 50 });
  });
});

describe('tampering, each caught by `plumbline audit verify` with exit 1', () => {
  it('one byte changed in one entry', () => {
    const copy = copyOfData();
    sqlite(
      copy,
      `update audit_entries set canonical = replace(canonical, 'change 23', 'change 2X') where id = 23`,
    );
    const result = cli('verify', '--data-dir', copy, '--against', offsite);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'audit ledger verification FAILED: entry 23: its columns do not match its canonical bytes (reason: the column says "change 23", the leaf says "change 2X")',
    );
    expect(result.stderr).toContain('first entry that does not match: 23');
  });

  it('an entry deleted', () => {
    const copy = copyOfData();
    sqlite(copy, 'delete from audit_entries where id = 17');
    const result = cli('verify', '--data-dir', copy);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('FAILED: entry 17 is missing (deleted): the next stored entry is 18');
  });

  it('two entries reordered', () => {
    const copy = copyOfData();
    sqlite(
      copy,
      'update audit_entries set id = -1 where id = 4',
      'update audit_entries set id = 4 where id = 5',
      'update audit_entries set id = 5 where id = -1',
    );
    const result = cli('verify', '--data-dir', copy);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'FAILED: entry 4 holds the leaf of entry 5: entries were reordered or renumbered',
    );
  });

  it('the log truncated and re-signed with another key (the key files replaced too)', async () => {
    const copy = copyOfData();
    sqlite(
      copy,
      'delete from audit_entries where id >= 40',
      'delete from audit_nodes where id >= 79',
      'update audit_head set size = 40',
      'delete from audit_checkpoints where size > 30',
    );
    rmSync(join(copy, 'audit-key'));
    rmSync(join(copy, 'audit-key.pub'));
    expect(cli('key', '--create', '--name', 'ci.example/prod-audit', '--data-dir', copy).status).toBe(0);
    expect(cli('checkpoint', '--data-dir', copy).status).toBe(0);
    // Alone, with the replaced key, the copy checks out except that the old checkpoint at 30 is signed
    // by a key it no longer trusts.
    const alone = cli('verify', '--data-dir', copy);
    expect(alone.status).toBe(1);
    expect(alone.stderr).toMatch(
      /FAILED: the stored checkpoint at size 30: it is signed by ci\.example\/prod-audit\+[0-9a-f]{8}, not by the trusted key/,
    );
    // With the key the auditor pinned and the published checkpoints: the truncation itself.
    const pinned = cli('verify', '--data-dir', copy, '--key', publicKey, '--against', offsite);
    expect(pinned.status).toBe(1);
    expect(pinned.stderr).toContain('the external checkpoint at size 50 (');
    expect(pinned.stderr).toContain(
      'covers 50 entries but the store holds 40: the log was truncated (entries 40–49 are gone)',
    );
    expect(pinned.stderr).toContain('first entry that does not match: 40');
  });

  it('the whole database replaced with a consistent forgery while an external checkpoint exists', async () => {
    const copy = copyOfData();
    rmSync(join(copy, 'controller.db'));
    for (const suffix of ['-wal', '-shm']) rmSync(join(copy, `controller.db${suffix}`), { force: true });
    const forged = await openAuditLedger({ dataDir: copy });
    try {
      // The same 50 decisions, with one approval removed from history and another actor in its place.
      await forged.appendMany(
        Array.from({ length: 50 }, (_, i) =>
          i === 20
            ? { ...input(i), actor: { kind: 'person' as const, id: 'Bob <bob@example.com>' } }
            : input(i),
        ),
      );
      const { loadSigner } = await import('../src/audit/note.js');
      await forged.checkpoint(checkpointSigner(loadSigner(join(copy, 'audit-key'))));
    } finally {
      await forged.close();
    }
    expect(cli('verify', '--data-dir', copy).status).toBe(0); // internally perfect: only outside evidence can tell
    const result = cli(
      'verify',
      '--data-dir',
      copy,
      '--against',
      'refs/plumbline/checkpoints',
      '--repo',
      remote,
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `FAILED: the external checkpoint at size 30 (refs/plumbline/checkpoints in ${remote} #1) does not match the entries: the first 30 entries were changed since it was signed (the change is in entries 0–29)`,
    );
  });
});

describe('bad input exits 2 with a message, never a stack trace', () => {
  it.each([
    [['verify', '--data-dir', '/nonexistent/plumbline'], /controller\.db does not exist/],
    [['prove', 'abc', '--data-dir', '/tmp'], /entry-id: "abc" is not an entry id/],
    [['log', '--since', 'last tuesday', '--data-dir', '/tmp'], /--since: "last tuesday" is not a duration/],
    [['export', '--format', 'xml', '--data-dir', '/tmp'], /--format: "xml" is not jsonl or csv/],
    [
      ['verify-proof', '/nonexistent.json', '--key', 'a+01234567+AQ=='],
      /cannot read \/nonexistent\.json: ENOENT/,
    ],
    [['verify-proof', 'package.json', '--key', 'not-a-key'], /neither a verifier key nor a readable file/],
    [['log', '--limit', '0', '--data-dir', '/tmp'], /--limit: "0" is not a number from 1 to 1000/],
  ])('audit %j', (args, message) => {
    const result = cli(...(args as string[]));
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('names the missing key, the entry beyond the log and the bundle field', () => {
    const copy = copyOfData();
    rmSync(join(copy, 'audit-key'));
    rmSync(join(copy, 'audit-key.pub'));
    expect(cli('verify', '--data-dir', copy)).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/no key to check signatures against/),
    });
    expect(cli('prove', '500', '--data-dir', data)).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/there is no entry 500 \(the ledger has 50\)/),
    });
    const bundle = join(work.path, 'not-a-bundle.json');
    writeFileSync(bundle, JSON.stringify({ format: 'plumbline-audit-proof/v1', entry: {} }));
    expect(cli('verify-proof', bundle, '--key', publicKey)).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/not-a-bundle\.json: canonical: /),
    });
    expect(cli('verify', '--data-dir', data, '--against', join(work.path, 'nope.txt'))).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/no such file, and not a Git ref/),
    });
  });
});

describe('help', () => {
  it.each(['log', 'verify', 'prove', 'verify-proof', 'export', 'key', 'checkpoint'])(
    'audit %s --help has examples and exit codes',
    (command) => {
      const help = cli(command, '--help');
      expect(help.status).toBe(0);
      expect(help.stdout).toContain('Examples:');
      expect(help.stdout).toContain(`plumbline audit ${command}`);
      expect(help.stdout).toContain('Exit codes: 0 ok, 1 verification failed');
    },
  );
});

describe('two processes appending at once', () => {
  it('never claim the same id, and the result verifies', async () => {
    const dir = join(work.path, 'concurrent');
    expect(cli('key', '--create', '--data-dir', dir, '--name', 'ci.example/concurrent').status).toBe(0);
    // The database exists before the writers start, as the controller creates it when it starts (two
    // processes creating it at the same moment would race in the migrations, which is not this test).
    await (await openAuditLedger({ dataDir: dir })).close();
    const script = join(work.path, 'append.mjs');
    writeFileSync(
      script,
      `import { openAuditLedger } from ${JSON.stringify(join(ROOT, 'dist/audit/store.js'))};
const ledger = await openAuditLedger({ dataDir: process.argv[2] });
for (let i = 0; i < 200; i++) {
  await ledger.appendMany(Array.from({ length: 1 + (i % 3) }, () => ({ actor: { kind: 'ci', id: process.argv[3] }, action: 'check.passed' })));
}
await ledger.close();
`,
    );
    const run = (name: string) =>
      new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [script, dir, name], { stdio: 'inherit' });
        child.on('exit', (code) => resolve(code ?? -1));
      });
    expect(await Promise.all([run('writer-a'), run('writer-b')])).toEqual([0, 0]);
    expect(cli('checkpoint', '--data-dir', dir).status).toBe(0);
    const result = cli('verify', '--data-dir', dir);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('audit ledger verified: 798 entries');
    expect(existsSync(join(dir, 'controller.db'))).toBe(true);
  });
});
