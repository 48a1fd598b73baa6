// Small helpers shared by the benchmark modules: processes, timing, hashing, formatting.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_DIR = resolve(BENCH_DIR, '..');
export const RSS_HOOK = join(BENCH_DIR, 'lib', 'rss-hook.mjs');

/** 1 MB = 1,000,000 bytes throughout (MB/s is decimal megabytes per second). */
export const MB = 1_000_000;

export function log(...parts) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${parts.join(' ')}\n`);
}

export function die(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

export function ensureDir(dir) {
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs a command to completion, capturing output (for short helper commands, not timed runs). */
export function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    ...options,
  });
  if (result.error !== undefined) throw result.error;
  return result;
}

/** Like `run`, but throws with the command's stderr when it exits non-zero. */
export function runOk(cmd, args, options = {}) {
  const result = run(cmd, args, options);
  if (result.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${result.status}: ${(result.stderr ?? '').slice(-2000)}`,
    );
  }
  return result.stdout;
}

export function which(name) {
  const result = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

const CORES = Number(spawnSync('nproc', [], { encoding: 'utf8' }).stdout.trim()) || 1;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds the whole machine has spent busy since boot (all cores), from /proc/stat. */
export function machineBusySeconds() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = fields;
    return (user + nice + system + irq + softirq + (steal ?? 0)) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** The share of the machine's CPU (0-1) that was busy over `seconds`. */
export async function machineBusyShare(seconds = 1) {
  const before = machineBusySeconds();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = machineBusySeconds();
  return before === undefined || after === undefined ? undefined : (after - before) / (seconds * CORES);
}

/**
 * Waits (up to `maxSeconds`) until other processes use less than `threshold` of the machine, so runs do not
 * start in the middle of someone else's test suite. Returns the last measured share.
 */
export async function waitForQuiet({ maxSeconds, threshold = 0.15, label }) {
  const deadline = Date.now() + maxSeconds * 1000;
  let share = await machineBusyShare(1);
  let said = false;
  while (share !== undefined && share > threshold && Date.now() < deadline) {
    if (!said)
      log(
        `${label}: the machine is ${(share * 100).toFixed(0)}% busy with other work; waiting up to ${maxSeconds} s`,
      );
    said = true;
    share = await machineBusyShare(2);
  }
  if (said) log(`${label}: machine ${(share * 100).toFixed(0)}% busy; starting`);
  return share;
}

let scratchCounter = 0;
function scratchFile(label) {
  const dir = ensureDir(join(tmpdir(), `plumbline-bench-scratch-${process.pid}`));
  scratchCounter += 1;
  return join(dir, `${label}-${scratchCounter}`);
}

/**
 * Where plumbline writes the report of a timed run: a file that is overwritten each time and removed at the end.
 * Never `/dev/null`: plumbline writes `--output` atomically (a temporary file renamed over the target), and as
 * root that rename replaces the /dev/null device with a regular file, for every process on the machine.
 */
export function discardFile() {
  return join(
    ensureDir(join(tmpdir(), `plumbline-bench-scratch-${process.pid}`)),
    'plumbline-report.discard',
  );
}

export function cleanScratch() {
  rmSync(join(tmpdir(), `plumbline-bench-scratch-${process.pid}`), { recursive: true, force: true });
}

/**
 * Runs one timed command under GNU time. Wall time is measured here with a monotonic clock from spawn to
 * exit; GNU time adds user/system CPU and peak RSS (`%M`: the largest of the process and any descendant).
 * With `rssHook`, the Node process also writes its own VmHWM (main thread plus workers: one process) at exit.
 *
 * `otherShare` is the share of the machine's CPU that other processes used meanwhile (a noise gauge).
 *
 * stdout goes to `stdoutFile` when given, else to /dev/null; stderr is kept (last 4 KB) for error reports.
 */
export function timed(cmd, args, { cwd, stdoutFile, env, rssHook = false, okCodes = [0] } = {}) {
  const timeFile = scratchFile('time');
  const hookFile = rssHook ? scratchFile('rss') : undefined;
  const childEnv = { ...process.env, ...env };
  if (hookFile !== undefined) {
    childEnv.NODE_OPTIONS = `${childEnv.NODE_OPTIONS ?? ''} --import ${RSS_HOOK}`.trim();
    childEnv.PLUMBLINE_BENCH_RSS_FILE = hookFile;
  }
  return new Promise((resolvePromise, reject) => {
    const fullArgs = ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args];
    const stdout = stdoutFile === undefined ? 'ignore' : 'pipe';
    const busyBefore = machineBusySeconds();
    const started = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', fullArgs, { cwd, env: childEnv, stdio: ['ignore', stdout, 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4096);
    });
    const chunks = [];
    if (stdoutFile !== undefined) child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const busyAfter = machineBusySeconds();
      if (stdoutFile !== undefined) writeFileSync(stdoutFile, Buffer.concat(chunks));
      let user;
      let sys;
      let maxRssKb;
      try {
        // GNU time prints "Command exited with non-zero status N" before the format line.
        const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
        const last = (lines[lines.length - 1] ?? '').split(' ');
        user = Number(last[1]);
        sys = Number(last[2]);
        maxRssKb = Number(last[3]);
      } catch {
        // leave undefined
      }
      let nodeHwmKb;
      if (hookFile !== undefined && existsSync(hookFile)) {
        nodeHwmKb = Number(readFileSync(hookFile, 'utf8').trim()) || undefined;
      }
      // CPU the rest of the machine used during the run (other people's work, and this harness): noise.
      let otherShare;
      if (
        busyBefore !== undefined &&
        busyAfter !== undefined &&
        Number.isFinite(user) &&
        Number.isFinite(sys)
      ) {
        otherShare = Math.max(0, busyAfter - busyBefore - user - sys) / (seconds * CORES);
      }
      const result = { code, seconds, user, sys, maxRssKb, nodeHwmKb, otherShare, stderr };
      if (!okCodes.includes(code)) {
        const error = new Error(`${cmd} ${args.join(' ')} exited ${code}\n${stderr}`);
        error.result = result;
        reject(error);
        return;
      }
      resolvePromise(result);
    });
  });
}

/** Formats a number with a fixed count of decimals, or '—' when missing. */
export function fmt(value, decimals = 2) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  return Number(value).toFixed(decimals);
}

export function fmtMb(bytes) {
  return `${fmt(bytes / MB, 1)} MB`;
}

export function fmtKbAsMb(kb) {
  if (kb === undefined || kb === null || Number.isNaN(kb)) return '—';
  return `${(kb / 1024).toFixed(0)} MiB`;
}

/** A deterministic PRNG (mulberry32) so corpora and histories are identical run to run. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
    chars: (alphabet, n) => {
      let s = '';
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)];
      return s;
    },
  };
}

/** Renders rows as an aligned plain-text table (first row is the header). */
export function textTable(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) =>
    r
      .map((c, i) => String(c).padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Renders rows as a Markdown table (first row is the header). */
export function mdTable(rows) {
  const esc = (c) => String(c).replaceAll('|', '\\|');
  return [
    `| ${rows[0].map(esc).join(' | ')} |`,
    `| ${rows[0].map(() => '---').join(' | ')} |`,
    ...rows.slice(1).map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
