// Runs the system `git` with argument arrays (never a shell), with errors mapped to PlumblineErrors.
import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { GitError, NotAGitRepoError } from '../errors.js';

/** Options that make git's output stable and machine-readable whatever the user's configuration. */
const BASE_ARGS = ['-c', 'core.quotePath=false', '-c', 'color.ui=false', '-c', 'diff.noprefix=false'];

const ENV = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  LC_ALL: 'C',
  GIT_PAGER: 'cat',
  GIT_EXTERNAL_DIFF: '',
};

export interface GitResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function gitSync(cwd: string, args: readonly string[], maxBuffer = 256 * 1024 * 1024): GitResult {
  const result = spawnSync('git', [...BASE_ARGS, ...args], { cwd, env: ENV, encoding: 'utf8', maxBuffer });
  if (result.error !== undefined) {
    const code = (result.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new GitError('git is not installed', 'install git (apt-get install -y git)');
    throw new GitError(`git ${args[0]} failed: ${result.error.message}`);
  }
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr };
}

/** Runs git and returns stdout; a non-zero exit is a GitError quoting git's first line of stderr. */
export function git(cwd: string, args: readonly string[]): string {
  const result = gitSync(cwd, args);
  if (result.status !== 0) {
    throw new GitError(`git ${args.join(' ')}: ${firstLine(result.stderr) || `exit ${result.status}`}`);
  }
  return result.stdout;
}

export function firstLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')[0]
      ?.replace(/^fatal: /, '') ?? ''
  );
}

/** The top of the work tree containing `path`, or undefined when it is not in one. */
export function findWorkTree(path: string): string | undefined {
  const result = gitSync(path, ['rev-parse', '--show-toplevel']);
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function requireWorkTree(path: string, what: string): string {
  const top = findWorkTree(path);
  if (top === undefined) throw new NotAGitRepoError(path, what);
  return top;
}

export function hasCommits(cwd: string): boolean {
  return gitSync(cwd, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']).status === 0;
}

/** `refs/heads/main`, or undefined when HEAD is detached (or there are no commits). */
export function currentBranch(cwd: string): string | undefined {
  const result = gitSync(cwd, ['symbolic-ref', '--quiet', 'HEAD']);
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function spawnGit(
  cwd: string,
  args: readonly string[],
): ChildProcessByStdio<null, Readable, Readable> {
  return spawn('git', [...BASE_ARGS, ...args], { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
}
