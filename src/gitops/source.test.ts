import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitRepo, type TempDir, tempDir } from '../../test/helpers/repo.js';
import { GitError } from '../errors.js';
import {
  GitSource,
  isLocalPath,
  nextPollDelay,
  pollLoop,
  redactUrl,
  runGit,
  scrub,
  treeIdAt,
  treeIdsAt,
} from './source.js';

const cleanup: TempDir[] = [];
afterEach(() => {
  for (const dir of cleanup.splice(0)) dir.remove();
});

function repoWithTwoCommits(): { repo: TempDir; first: string; second: string } {
  const repo = gitRepo();
  cleanup.push(repo);
  const first = repo.commit('one', { 'apps/web/server.js': 'v1\n', 'README.md': 'readme 1\n' });
  const second = repo.commit('two', { 'apps/web/server.js': 'v2\n', 'apps/api/main.js': 'api\n' });
  return { repo, first, second };
}

function scratch(): TempDir {
  const dir = tempDir('plumbline-source-');
  cleanup.push(dir);
  return dir;
}

describe('GitSource', () => {
  it('clones a local repository, fetches new commits, and materialises commits from Git, not the work tree', async () => {
    const { repo, first, second } = repoWithTwoCommits();
    const work = scratch();
    const source = new GitSource({ url: repo.path, cacheDir: join(work.path, 'cache') });
    expect(source.cloned).toBe(false);
    await source.sync();
    expect(source.cloned).toBe(true);
    expect(await source.resolve('main')).toBe(second);

    // Dirty the source's work tree: none of this may reach a release.
    writeFileSync(join(repo.path, 'apps/web/server.js'), 'DIRTY\n');
    writeFileSync(join(repo.path, 'untracked.txt'), 'untracked\n');

    const r1 = join(work.path, 'releases', first);
    const r2 = join(work.path, 'releases', second);
    await source.materialise(first, r1);
    await source.materialise(second, r2);
    expect(readFileSync(join(r1, 'apps/web/server.js'), 'utf8')).toBe('v1\n');
    expect(existsSync(join(r1, 'apps/api/main.js'))).toBe(false);
    expect(readFileSync(join(r2, 'apps/web/server.js'), 'utf8')).toBe('v2\n');
    expect(readFileSync(join(r2, 'apps/api/main.js'), 'utf8')).toBe('api\n');
    for (const release of [r1, r2]) {
      expect(existsSync(join(release, 'untracked.txt'))).toBe(false);
      expect(existsSync(join(release, '.git'))).toBe(false);
    }
    // The cache is bare and has no index of its own to disturb.
    expect(existsSync(join(source.cacheDir, 'index'))).toBe(false);

    const third = repo.commit('three', { 'apps/web/server.js': 'v3\n' });
    expect(await source.resolve('main')).toBe(second); // not fetched yet
    await source.sync();
    expect(await source.resolve('main')).toBe(third);
    expect(await source.treeId(third, 'apps/web')).toBe(repo.git('rev-parse', `${third}:apps/web`).trim());
    expect(await source.treeId(third, '.')).toBe(repo.git('rev-parse', `${third}^{tree}`).trim());
    expect(await source.treeId(third, 'nope')).toBeUndefined();

    // Branches that appear and disappear upstream.
    repo.git('branch', 'feature', first);
    await source.sync();
    expect(await source.resolve('feature')).toBe(first);
    repo.git('branch', '-D', 'feature');
    await source.sync();
    await expect(source.resolve('feature')).rejects.toThrow(/no branch "feature"/);
  });

  it('clones a file:// URL as a partial clone', async () => {
    const { repo, second } = repoWithTwoCommits();
    const work = scratch();
    const source = new GitSource({ url: `file://${repo.path}`, cacheDir: join(work.path, 'cache') });
    await source.sync();
    const out = await runGit(['config', '--get', 'remote.origin.partialclonefilter'], {
      cwd: source.cacheDir,
    });
    expect(out.trim()).toBe('blob:none');
    const release = join(work.path, 'release');
    await source.materialise(await source.resolve('main'), release);
    expect(readFileSync(join(release, 'apps/web/server.js'), 'utf8')).toBe('v2\n');
    expect(await source.resolve(second)).toBe(second);
  });

  it('refuses to overwrite a release, unknown commits, and a missing source', async () => {
    const other = gitRepo();
    cleanup.push(other);
    const foreign = other.commit('elsewhere', { 'x.txt': 'another repository\n' });
    const work = scratch();
    const { repo } = repoWithTwoCommits();
    const source = new GitSource({ url: repo.path, cacheDir: join(work.path, 'cache') });
    await source.sync();
    work.write({ 'full/file.txt': 'x' });
    const head = await source.resolve('main');
    await expect(source.materialise(head, join(work.path, 'full'))).rejects.toThrow(/not empty/);
    await expect(source.materialise(foreign, join(work.path, 'other'))).rejects.toThrow(/not in the cache/);
    await expect(source.materialise('main', join(work.path, 'other'))).rejects.toThrow(/full commit id/);
    const missing = new GitSource({ url: join(work.path, 'nowhere'), cacheDir: join(work.path, 'c2') });
    await expect(missing.sync()).rejects.toThrow(/does not exist/);
  });

  it('never shows a password from the URL, in any message', async () => {
    const password = 'hunter2-S3cretPassw0rd';
    const work = scratch();
    const url = `https://deploy:${password}@127.0.0.1:1/org/repo.git`;
    const source = new GitSource({ url, cacheDir: join(work.path, 'cache') });
    expect(source.displayUrl).toBe('https://***@127.0.0.1:1/org/repo.git');
    const error = await source.sync().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GitError);
    const text = `${(error as Error).message} ${(error as GitError).hint ?? ''} ${(error as Error).stack ?? ''}`;
    expect(text).not.toContain(password);
    expect(text).not.toContain('deploy:');
    expect(text).toContain('***@127.0.0.1');
    expect(existsSync(source.cacheDir)).toBe(false);
  });
});

describe('URLs and messages', () => {
  it('redacts userinfo and URL secrets', () => {
    expect(redactUrl('fatal: https://user:pw@github.com/a/b and ssh://git@host/x')).toBe(
      'fatal: https://***@github.com/a/b and ssh://***@host/x',
    );
    expect(redactUrl('https://ghp_token@github.com/a/b')).toBe('https://***@github.com/a/b');
    expect(scrub('auth failed for p%40ss and p@ss', ['p%40ss', 'p@ss'])).toBe('auth failed for *** and ***');
  });

  it('tells local folders from remotes', () => {
    expect(isLocalPath('/srv/repo')).toBe(true);
    expect(isLocalPath('./repo')).toBe(true);
    expect(isLocalPath('repo')).toBe(true);
    expect(isLocalPath('file:///srv/repo')).toBe(false);
    expect(isLocalPath('https://github.com/a/b.git')).toBe(false);
    expect(isLocalPath('git@github.com:a/b.git')).toBe(false);
    expect(isLocalPath('ssh://git@github.com/a/b.git')).toBe(false);
  });

  it('reads tree ids in a work tree, and stops git on abort', async () => {
    const { repo, second } = repoWithTwoCommits();
    expect(await treeIdAt(repo.path, second, 'apps/api')).toMatch(/^[0-9a-f]{40}$/);
    expect(await treeIdAt(repo.path, second, 'apps/none')).toBeUndefined();
    // Many at once, with one git: the same ids, the root, a file, and nothing for missing or hostile paths.
    const ids = await treeIdsAt(repo.path, second, [
      'apps/api',
      'apps/web',
      '.',
      './apps/web',
      'README.md',
      'nope',
      'a\nb',
    ]);
    expect(ids.get('apps/api')).toBe(await treeIdAt(repo.path, second, 'apps/api'));
    expect(ids.get('./apps/web')).toBe(ids.get('apps/web'));
    expect(ids.get('.')).toMatch(/^[0-9a-f]{40}$/);
    expect(ids.get('README.md')).toMatch(/^[0-9a-f]{40}$/);
    expect([...ids.keys()].sort()).toEqual(['.', './apps/web', 'README.md', 'apps/api', 'apps/web']);
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(runGit(['status'], { cwd: repo.path, signal: controller.signal })).rejects.toThrow(
      'stopped',
    );
    const late = new AbortController();
    const running = runGit(['cat-file', '--batch'], { cwd: repo.path, signal: late.signal });
    late.abort(new Error('late stop'));
    await expect(running).rejects.toThrow('late stop');
  });
});

describe('polling', () => {
  it('jitters the interval by at most 10%', () => {
    expect(nextPollDelay(30_000, () => 0)).toBe(27_000);
    expect(nextPollDelay(30_000, () => 0.5)).toBe(30_000);
    expect(nextPollDelay(30_000, () => 0.999999)).toBe(33_000);
    for (let i = 0; i < 100; i++) {
      const delay = nextPollDelay(1000);
      expect(delay).toBeGreaterThanOrEqual(900);
      expect(delay).toBeLessThanOrEqual(1100);
    }
  });

  it('ticks until aborted, and goes on after errors it reports', async () => {
    const controller = new AbortController();
    const errors: unknown[] = [];
    let ticks = 0;
    await pollLoop({
      intervalMs: 5,
      signal: controller.signal,
      onError: (error) => errors.push(error),
      onTick: () => {
        ticks++;
        if (ticks === 2) throw new Error('flaky forge');
        if (ticks === 4) controller.abort();
      },
    });
    expect(ticks).toBe(4);
    expect(errors).toEqual([new Error('flaky forge')]);
  });

  it('stops during a wait, and rejects on an error without onError', async () => {
    const controller = new AbortController();
    let ticks = 0;
    const started = Date.now();
    const loop = pollLoop({ intervalMs: 60_000, signal: controller.signal, onTick: () => void ticks++ });
    setTimeout(() => controller.abort(), 20);
    await loop;
    expect(ticks).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(
      pollLoop({
        intervalMs: 1,
        signal: new AbortController().signal,
        immediate: false,
        onTick: () => {
          throw new Error('boom');
        },
      }),
    ).rejects.toThrow('boom');
  });
});
