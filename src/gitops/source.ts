// The source of an environment: a Git repository mirrored into a cache folder (a bare clone), fetched on a
// poll or a webhook, a branch resolved to a commit, and a commit's tree written into a release folder — always
// from Git objects, never from anyone's working copy. Credentials come from the environment, the SSH agent or
// a credential helper; any userinfo in the URL is redacted from every message.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { GitError, InputError } from '../errors.js';

const SCHEME_URL = /^[a-z][a-z0-9+.-]*:\/\//i;
/** `user@host:path` or `host:path` (no slash before the colon, and not a Windows drive letter). */
const SCP_LIKE = /^(?:[^@/\\]+@)?[^/\\:]{2,}:/;

/** Replaces the userinfo of every URL in `text` (`https://user:token@host` → `https://***@host`). */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

/** The secrets in a URL's userinfo, raw and decoded, to scrub from git's own messages as well. */
function urlSecrets(url: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]+)@/i.exec(url);
  if (m?.[1] === undefined) return [];
  const parts = m[1].split(':').filter((part) => part.length >= 3);
  const decoded = parts.map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  return [...new Set([m[1], ...parts, ...decoded])].sort((a, b) => b.length - a.length);
}

/** Redacts URL userinfo and the given secrets from a message. */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = redactUrl(text);
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}

/** True when `url` names a folder on this machine rather than a remote (`file://` counts as a remote). */
export function isLocalPath(url: string): boolean {
  if (SCHEME_URL.test(url)) return false;
  if (isAbsolute(url) || url.startsWith('.')) return true;
  return !SCP_LIKE.test(url);
}

export interface RunGitOptions {
  readonly cwd?: string;
  readonly signal?: AbortSignal;
  /** Extra environment (GIT_INDEX_FILE, credentials helpers' variables…), over process.env. */
  readonly env?: Readonly<Record<string, string>>;
  /** Strings to redact from error messages besides URL userinfo. */
  readonly secrets?: readonly string[];
  /** Written to git's standard input (which is otherwise closed). */
  readonly input?: string;
}

/**
 * Runs git asynchronously with an argument array (never a shell), no terminal prompts, and errors whose text
 * has every credential redacted. Aborting the signal kills git and rejects with the signal's reason.
 */
export function runGit(args: readonly string[], options: RunGitOptions = {}): Promise<string> {
  const secrets = options.secrets ?? [];
  const shown = scrub(args.join(' '), secrets);
  return new Promise((resolvePromise, reject) => {
    if (options.signal?.aborted) {
      reject(options.signal.reason);
      return;
    }
    const child = spawn('git', ['-c', 'color.ui=false', '-c', 'core.quotePath=false', ...args], {
      cwd: options.cwd,
      env: {
        ...process.env,
        ...options.env,
        GIT_TERMINAL_PROMPT: '0',
        GIT_PAGER: 'cat',
        LC_ALL: 'C',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    child.stdin.on('error', () => undefined); // git exiting early is reported by its exit code
    child.stdin.end(options.input);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (options.signal?.aborted) reject(options.signal.reason);
      else if (error.code === 'ENOENT') reject(new GitError('git is not installed', 'install git'));
      else reject(new GitError(`git ${shown}: ${scrub(error.message, secrets)}`));
    });
    child.on('close', (code) => {
      if (options.signal?.aborted) return; // rejected by the 'error' handler
      if (code === 0) {
        resolvePromise(Buffer.concat(out).toString('utf8'));
        return;
      }
      const stderr = Buffer.concat(err).toString('utf8');
      const lines = stderr
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('hint:'));
      const reason =
        lines.find((line) => line.startsWith('fatal:') || line.startsWith('error:')) ??
        lines[0] ??
        `exit ${code}`;
      reject(new GitError(`git ${shown}: ${scrub(reason.replace(/^(fatal|error): /, ''), secrets)}`));
    });
  });
}

export interface GitSourceOptions {
  /** A remote URL (https, ssh, scp-like `git@host:org/repo`, file://) or a local folder. */
  readonly url: string;
  /** Where the bare mirror lives; created by the first sync. One per source URL. */
  readonly cacheDir: string;
  /** Extra environment for git (e.g. GIT_SSH_COMMAND, GIT_CONFIG_* for a credential helper). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A Git repository mirrored into a bare cache: sync, resolve a branch, read trees, materialise commits. */
export class GitSource {
  readonly url: string;
  readonly cacheDir: string;
  private readonly env: Readonly<Record<string, string>>;
  private readonly secrets: readonly string[];
  /** What git is given: a local path made absolute; a URL as is. */
  private readonly remote: string;

  constructor(options: GitSourceOptions) {
    this.url = options.url;
    this.cacheDir = resolve(options.cacheDir);
    this.env = options.env ?? {};
    this.secrets = urlSecrets(options.url);
    this.remote = isLocalPath(options.url) ? resolve(options.url) : options.url;
  }

  /** The URL as it may be shown: userinfo redacted. */
  get displayUrl(): string {
    return redactUrl(this.url);
  }

  /** True once the cache holds a clone. */
  get cloned(): boolean {
    return existsSync(join(this.cacheDir, 'HEAD')) && existsSync(join(this.cacheDir, 'objects'));
  }

  /**
   * Clones on first use, fetches after that. A remote is cloned with `--filter=blob:none` (commits and trees
   * now, file contents when a commit is materialised); a local folder is cloned whole (hard links, so cheap).
   */
  async sync(signal?: AbortSignal): Promise<void> {
    if (this.cloned) await this.fetch(signal);
    else await this.clone(signal);
  }

  private async clone(signal?: AbortSignal): Promise<void> {
    if (isLocalPath(this.url) && !existsSync(this.remote)) {
      throw new InputError(
        `the source ${this.displayUrl} does not exist`,
        'point the source at a Git repository',
      );
    }
    mkdirSync(dirname(this.cacheDir), { recursive: true });
    if (existsSync(this.cacheDir) && readdirSync(this.cacheDir).length > 0) {
      throw new InputError(
        `the cache folder ${this.cacheDir} exists but holds no Git repository`,
        'remove it or choose another cache folder',
      );
    }
    // Clone beside the cache and rename, so an interrupted clone never leaves a half-made cache.
    const partial = `${this.cacheDir}.partial-${randomBytes(4).toString('hex')}`;
    const filter = isLocalPath(this.url) ? [] : ['--filter=blob:none'];
    try {
      await this.git(['clone', '--bare', '--quiet', ...filter, '--', this.remote, partial], signal);
      await this.git(['--git-dir', partial, 'config', 'remote.origin.fetch', '+refs/heads/*:refs/heads/*']);
      rmSync(this.cacheDir, { recursive: true, force: true });
      renameSync(partial, this.cacheDir);
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  }

  private async fetch(signal?: AbortSignal): Promise<void> {
    const current = await this.git([
      '--git-dir',
      this.cacheDir,
      'config',
      '--get',
      'remote.origin.url',
    ]).catch(() => '');
    if (current.trim() !== this.remote) {
      await this.git(['--git-dir', this.cacheDir, 'config', 'remote.origin.url', this.remote]);
    }
    await this.git(
      ['--git-dir', this.cacheDir, 'fetch', '--quiet', '--prune', '--no-tags', 'origin'],
      signal,
    );
  }

  /**
   * The commit a branch (or tag, or full commit id) points at in the cache, after the last sync.
   * Throws a GitError naming the branch and the (redacted) URL when there is no such branch.
   */
  async resolve(ref: string, signal?: AbortSignal): Promise<string> {
    if (ref.startsWith('-')) throw new InputError(`"${ref}" is not a branch name`);
    const candidates = /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(ref)
      ? [ref]
      : [`refs/heads/${ref}`, `refs/tags/${ref}`, ref];
    for (const candidate of candidates) {
      const out = await this.git(
        ['--git-dir', this.cacheDir, 'rev-parse', '--verify', '--quiet', `${candidate}^{commit}`],
        signal,
      ).catch(() => undefined);
      if (out !== undefined && out.trim() !== '') return out.trim();
    }
    throw new GitError(
      `no branch "${ref}" in ${this.displayUrl}`,
      "check the environment's branch, and that the repository has been fetched",
    );
  }

  /** The Git tree id of `path` at `commit` (`.` is the root), or undefined when the path does not exist there. */
  async treeId(commit: string, path: string, signal?: AbortSignal): Promise<string | undefined> {
    return treeIdAt(this.cacheDir, commit, path, signal);
  }

  /**
   * Writes the tree of `commit` into `dir` (which must not exist, or be empty), from Git objects only, with a
   * private index file so neither the cache nor anyone's work tree is touched. Written beside `dir` and
   * renamed into place: a release folder is whole or absent.
   */
  async materialise(commit: string, dir: string, signal?: AbortSignal): Promise<void> {
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(commit)) {
      throw new InputError(`"${commit}" is not a full commit id`, 'resolve the branch to a commit first');
    }
    const target = resolve(dir);
    if (existsSync(target) && readdirSync(target).length > 0) {
      throw new InputError(`the release folder ${target} is not empty`, 'release folders are written once');
    }
    await this.git(['--git-dir', this.cacheDir, 'cat-file', '-e', `${commit}^{commit}`], signal).catch(() => {
      throw new GitError(
        `commit ${commit} is not in the cache of ${this.displayUrl}`,
        'sync the source first',
      );
    });
    mkdirSync(dirname(target), { recursive: true });
    const partial = join(dirname(target), `.${basename(target)}.partial-${randomBytes(4).toString('hex')}`);
    const scratch = mkdtempSync(join(tmpdir(), 'plumbline-index-'));
    try {
      mkdirSync(partial);
      await this.git(
        ['--git-dir', this.cacheDir, '--work-tree', partial, 'read-tree', '--reset', '-u', commit],
        signal,
        { GIT_INDEX_FILE: join(scratch, 'index') },
      );
      rmSync(target, { recursive: true, force: true });
      renameSync(partial, target);
    } finally {
      rmSync(partial, { recursive: true, force: true });
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  /**
   * Paths under `path` of a release folder that differ from `commit` (modified, deleted or added): drift in
   * the files the controller deployed. Compares contents, with a fresh index, so nothing cached can hide it.
   */
  async releaseChanges(commit: string, dir: string, path = '.', signal?: AbortSignal): Promise<string[]> {
    return this.#withIndex(commit, dir, signal, async (env) => {
      const out = await this.git(
        [
          '--git-dir',
          this.cacheDir,
          '--work-tree',
          dir,
          'status',
          '--porcelain',
          '--untracked-files=all',
          '--ignored=no',
          '--',
          path,
        ],
        signal,
        env,
      );
      return out
        .split('\n')
        .filter((line) => line.length > 3)
        .map((line) => line.slice(3));
    });
  }

  /** Puts a release folder back to `commit` under `path`: modified and deleted files restored, added ones removed. */
  async restoreRelease(commit: string, dir: string, path = '.', signal?: AbortSignal): Promise<void> {
    await this.#withIndex(commit, dir, signal, async (env) => {
      await this.git(
        ['--git-dir', this.cacheDir, '--work-tree', dir, 'checkout-index', '-a', '-f'],
        signal,
        env,
      );
      await this.git(
        ['--git-dir', this.cacheDir, '--work-tree', dir, 'clean', '-f', '-d', '-q', '--', path],
        signal,
        env,
      );
    });
  }

  async #withIndex<T>(
    commit: string,
    dir: string,
    signal: AbortSignal | undefined,
    run: (env: Record<string, string>) => Promise<T>,
  ): Promise<T> {
    const scratch = mkdtempSync(join(tmpdir(), 'plumbline-index-'));
    try {
      const env = { GIT_INDEX_FILE: join(scratch, 'index') };
      await this.git(['--git-dir', this.cacheDir, '--work-tree', dir, 'read-tree', commit], signal, env);
      return await run(env);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  private git(
    args: readonly string[],
    signal?: AbortSignal,
    env: Record<string, string> = {},
  ): Promise<string> {
    return runGit(args, {
      env: { ...this.env, ...env },
      secrets: this.secrets,
      ...(signal === undefined ? {} : { signal }),
    });
  }
}

/** `git rev-parse COMMIT:path` in `gitDir`: the tree (or blob) id of a path at a commit, or undefined. */
export async function treeIdAt(
  gitDir: string,
  commit: string,
  path: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  return (await treeIdsAt(gitDir, commit, [path], signal)).get(path);
}

/**
 * The tree (or blob) ids of many paths at one commit, with one `git cat-file --batch-check` for all of
 * them; paths that do not exist there are absent from the map.
 */
export async function treeIdsAt(
  gitDir: string,
  commit: string,
  paths: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const unique = [...new Set(paths)].filter((path) => !/[\n\r]/.test(path));
  const ids = new Map<string, string>();
  if (unique.length === 0) return ids;
  const spec = (path: string): string =>
    path === '.' || path === '' ? `${commit}^{tree}` : `${commit}:${path.replace(/^\.\//, '')}`;
  const out = await runGit(['cat-file', '--batch-check=%(objectname) %(objecttype)'], {
    cwd: gitDir,
    input: `${unique.map(spec).join('\n')}\n`,
    ...(signal === undefined ? {} : { signal }),
  }).catch((error: unknown) => {
    if (signal?.aborted) throw error;
    return '';
  });
  const lines = out.split('\n');
  unique.forEach((path, index) => {
    const match = /^([0-9a-f]{40,64}) (tree|blob|commit)$/.exec(lines[index] ?? '');
    if (match?.[1] !== undefined) ids.set(path, match[1]);
  });
  return ids;
}

/** The delay before the next poll: the interval ±10%, so many controllers do not poll a forge in step. */
export function nextPollDelay(intervalMs: number, random: () => number = Math.random): number {
  const jitter = (random() * 2 - 1) * 0.1;
  return Math.max(0, Math.round(intervalMs * (1 + jitter)));
}

/** Waits `ms`, or less if the signal aborts; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal?.aborted) {
      done();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      done();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      done();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface PollLoopOptions {
  readonly intervalMs: number;
  readonly signal: AbortSignal;
  /** One poll: fetch, resolve, and hand a new commit on. Given the loop's signal. */
  readonly onTick: (signal: AbortSignal) => Promise<void> | void;
  /** Errors of a tick go here and the loop goes on; without it, an error ends the loop (rejects). */
  readonly onError?: (error: unknown) => void;
  /** Poll at once before the first wait (default true). */
  readonly immediate?: boolean;
  readonly random?: () => number;
}

/** Calls onTick every interval (with jitter) until the signal aborts; resolves then. */
export async function pollLoop(options: PollLoopOptions): Promise<void> {
  const { signal } = options;
  let first = options.immediate ?? true;
  while (!signal.aborted) {
    if (!first) {
      await sleep(nextPollDelay(options.intervalMs, options.random), signal);
      if (signal.aborted) break;
    }
    first = false;
    try {
      await options.onTick(signal);
    } catch (error) {
      if (signal.aborted) break;
      if (options.onError === undefined) throw error;
      options.onError(error);
    }
  }
}
