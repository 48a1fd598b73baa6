// runCheck in-process on real Git repositories: the same paths the CLI end-to-end tests take, measured by
// coverage (child processes are not).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanFiles } from '../src/analyzers/secrets/pool.js';
import { BUILTIN_RULES } from '../src/analyzers/secrets/rules/index.js';
import { runCheck } from '../src/check/run.js';
import { NotAGitRepoError, UsageError } from '../src/errors.js';
import { writeBaseline } from '../src/findings/baseline.js';
import { silentProgress, terminalProgress } from '../src/observe/progress.js';
import { fake, gitRepo, ROOT, type TempDir, tempDir } from './helpers/repo.js';

const dirs: TempDir[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
function repo(): TempDir {
  const d = gitRepo();
  dirs.push(d);
  return d;
}
function folder(): TempDir {
  const d = tempDir();
  dirs.push(d);
  return d;
}

describe('runCheck', () => {
  it('scans a tree, fingerprints, and gates', async () => {
    const r = repo();
    r.commit('one', { 'a.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n`, 'b.txt': 'nothing\n' });
    const report = await runCheck({ path: r.path, source: { kind: 'tree' } });
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]?.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(report.gate).toEqual({ failOn: 'high', failing: 1, passed: false });
    expect(report.stats.files).toBe(2);
    expect(report.rules.map((x) => x.id)).toEqual(['aws-access-key-id']);
    const relaxed = await runCheck({ path: r.path, source: { kind: 'tree' }, failOn: 'critical' });
    expect(relaxed.gate.passed).toBe(false); // an AWS key is critical
  });

  it('reads history, staged changes, and lines added since a ref', async () => {
    const r = repo();
    const token = fake.github();
    r.commit('one', { 'ci.sh': `export GITHUB_TOKEN=${token}\n` });
    r.commit('two', { 'ci.sh': 'echo\n' });
    const history = await runCheck({ path: r.path, source: { kind: 'history', range: undefined } });
    expect(history.findings.map((f) => f.location.path)).toEqual(['ci.sh']);
    expect(history.stats.source).toBe('history --all');

    r.write({ 'new.env': `AWS_ACCESS_KEY_ID=${fake.aws()}\n` });
    r.git('add', 'new.env');
    const staged = await runCheck({ path: r.path, source: { kind: 'staged' } });
    expect(staged.findings.map((f) => f.location.path)).toEqual(['new.env']);

    r.git('commit', '-q', '-m', 'three');
    const since = await runCheck({ path: r.path, source: { kind: 'tree' }, since: 'HEAD~1' });
    expect(since.findings.map((f) => f.location.path)).toEqual(['new.env']);
    const none = await runCheck({ path: r.path, source: { kind: 'tree' }, since: 'HEAD' });
    expect(none.findings).toHaveLength(0);
    await expect(runCheck({ path: r.path, source: { kind: 'staged' }, since: 'HEAD' })).rejects.toThrow(
      UsageError,
    );
  });

  it('applies a baseline and a configured threshold', async () => {
    const d = folder();
    d.write({ 'a.env': `DB_PASSWORD=${fake.password()}\n` });
    const first = await runCheck({ path: d.path, source: { kind: 'tree' } });
    const baseline = join(d.path, 'baseline.json');
    writeBaseline(baseline, first.findings);
    d.write({ 'b.env': `API_TOKEN=${fake.password()}\n` });
    const second = await runCheck({ path: d.path, source: { kind: 'tree' }, baselineFile: baseline });
    expect(second.findings.map((f) => [f.location.path, f.baselineState])).toEqual([
      ['a.env', 'unchanged'],
      ['b.env', 'new'],
    ]);
    expect(second.gate.failing).toBe(1);
  });

  it('refuses Git-only sources outside a repository, unknown analyzers, and missing paths', async () => {
    const d = folder();
    await expect(runCheck({ path: d.path, source: { kind: 'history', range: undefined } })).rejects.toThrow(
      NotAGitRepoError,
    );
    await expect(runCheck({ path: d.path, source: { kind: 'tree' }, only: ['sast'] })).rejects.toThrow(
      /not built yet/,
    );
    await expect(runCheck({ path: d.path, source: { kind: 'tree' }, only: ['nope'] })).rejects.toThrow(
      /unknown analyzer/,
    );
    await expect(runCheck({ path: join(d.path, 'missing'), source: { kind: 'tree' } })).rejects.toThrow(
      /does not exist/,
    );
    d.write({ 'file.txt': 'x' });
    await expect(runCheck({ path: join(d.path, 'file.txt'), source: { kind: 'tree' } })).rejects.toThrow(
      /is a file/,
    );
  });

  it('stops when aborted', async () => {
    const d = folder();
    d.write({ 'a.txt': 'x' });
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(
      runCheck({ path: d.path, source: { kind: 'tree' }, signal: controller.signal }),
    ).rejects.toThrow(/stopped/);
  });
});

describe('scanFiles on worker threads', () => {
  const workerFile = join(ROOT, 'dist/analyzers/secrets/worker.js');
  it.skipIf(!existsSync(workerFile))('gives the same results as the calling thread', async () => {
    const d = folder();
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++)
      files[`f${i}.env`] = i % 50 === 0 ? `AWS_ACCESS_KEY_ID=${fake.aws()}\n` : 'x=1\n';
    d.write(files);
    const paths = Object.keys(files).sort();
    const init = { rules: BUILTIN_RULES, allow: {}, root: d.path, maxFileSize: 1 << 20 };
    const signal = new AbortController().signal;
    const here = await scanFiles({ init, paths, progress: silentProgress, signal, threads: 0 });
    const threaded = await scanFiles({
      init,
      paths,
      progress: silentProgress,
      signal,
      threads: 2,
      workerFile,
    });
    const summary = (rs: typeof here): string[] =>
      rs
        .filter((r) => r.matches.length > 0)
        .map((r) => `${r.path}:${r.matches[0]?.ruleId}`)
        .sort();
    expect(summary(threaded)).toEqual(summary(here));
    expect(summary(here)).toHaveLength(6);
  });
});

describe('terminalProgress', () => {
  it('draws after the delay and clears at the end', () => {
    const writes: string[] = [];
    const stream = { columns: 40, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
    const p = terminalProgress(stream, 'scanning', 0);
    p.update(1, 10, 'files');
    p.done();
    expect(writes[0]).toContain('scanning: 1/10 files');
    expect(writes[1]).toBe('\r\x1b[2K');
  });
});
