// Throwaway Git repositories and a runner for the built CLI, for end-to-end tests.
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin', 'plumbline.js');

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function random(alphabet: string, length: number): string {
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Fresh fake tokens of real formats, made per test run so none is ever committed to this repository. */
export const fake = {
  aws: (): string => `AKIA${random(UPPER, 16)}`,
  github: (): string => `ghp_${random(ALNUM, 36)}`,
  password: (): string => `Zq${random(ALNUM, 10)}#9x`,
};

export interface TempDir {
  readonly path: string;
  write(files: Record<string, string | Buffer>): void;
  git(...args: string[]): string;
  commit(message: string, files?: Record<string, string | Buffer>): string;
  remove(): void;
}

export function tempDir(prefix = 'plumbline-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const dir: TempDir = {
    path,
    write(files) {
      for (const [name, content] of Object.entries(files)) {
        const file = join(path, name);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
    },
    git(...args) {
      const r = spawnSync('git', args, { cwd: path, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
      if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    },
    commit(message, files) {
      if (files !== undefined) dir.write(files);
      dir.git('add', '-A');
      dir.git('commit', '-q', '-m', message);
      return dir.git('rev-parse', 'HEAD').trim();
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
  return dir;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Ada Lovelace',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Lovelace',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: tmpdir(),
};

export function gitRepo(): TempDir {
  const dir = tempDir();
  dir.git('init', '-q', '-b', 'main');
  dir.git('config', 'commit.gpgsign', 'false');
  return dir;
}

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function plumbline(
  args: readonly string[],
  options: { cwd?: string; input?: string } = {},
): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...GIT_ENV, NO_COLOR: '1', FORCE_COLOR: '' },
    input: options.input ?? '',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface JsonReport {
  findings: {
    ruleId: string;
    severity: string;
    fingerprint: string;
    snippet: string;
    message: string;
    baselineState?: string;
    suppression?: { kind: string; justification: string };
    location: {
      path: string;
      startLine: number;
      startColumn: number;
      commit?: string;
      author?: string;
      date?: string;
    };
  }[];
  skipped: { path: string; reason: string }[];
  gate: { passed: boolean; failing: number };
  stats: { files: number; source: string };
  absent: { fingerprint: string }[];
}

export function checkJson(
  args: readonly string[],
  cwd?: string,
): { status: number; report: JsonReport; stderr: string } {
  const r = plumbline(['check', ...args, '--format', 'json', '--quiet'], cwd === undefined ? {} : { cwd });
  let report: JsonReport;
  try {
    report = JSON.parse(r.stdout) as JsonReport;
  } catch {
    throw new Error(`no JSON (exit ${r.status}): ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 2000)}`);
  }
  return { status: r.status, report, stderr: r.stderr };
}

/** Like `plumbline`, without blocking the event loop: for talking to a server running in this process. */
export function plumblineAsync(args: readonly string[]): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, ...GIT_ENV, NO_COLOR: '1', FORCE_COLOR: '' },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolvePromise({ status, stdout, stderr });
      },
    );
  });
}
