// Helpers for the controller and router benchmarks: long-running child processes the harness owns (ended by
// pid, never by name), free loopback ports, HTTP probes, per-process CPU time from /proc, and the load
// generator (lib/loadgen.mjs) as a child process.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { BENCH_DIR, log } from './util.mjs';

export const LOADGEN = join(BENCH_DIR, 'lib', 'loadgen.mjs');
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** A monotonic clock in milliseconds that other processes share (wall clock based, sub-millisecond). */
export const nowMs = () => performance.timeOrigin + performance.now();

/** Every process this harness started and has not seen exit: ended on exit or interrupt, by pid. */
const owned = new Map();
let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const [pid, p] of owned) {
      try {
        process.kill(p.group ? -pid : pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/**
 * Starts a long-running child (stdout/stderr to `logFile`, or piped with `pipe: true`). Returns the
 * ChildProcess with `.exited` (a promise of { code, signal }) and `.stop(signal, graceMs)`.
 */
export function startProcess(cmd, args, { cwd, env, logFile, pipe = false, group = false } = {}) {
  hookExit();
  const fd = logFile === undefined ? 'ignore' : openSync(logFile, 'a');
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', pipe ? 'pipe' : fd, pipe ? 'pipe' : fd],
    detached: group,
  });
  if (typeof fd === 'number') closeSync(fd);
  owned.set(child.pid, { group });
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      owned.delete(child.pid);
      resolve({ code, signal });
    });
    child.once('error', (error) => {
      owned.delete(child.pid);
      resolve({ code: null, signal: null, error });
    });
  });
  child.stop = async (signal = 'SIGTERM', graceMs = 10_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exited;
    try {
      process.kill(group ? -child.pid : child.pid, signal);
    } catch {
      // gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(group ? -child.pid : child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, graceMs);
    const result = await child.exited;
    clearTimeout(timer);
    return result;
  };
  return child;
}

/** Sends a signal to a pid read from a pid file (the supervisor and router outlive the controller). */
export function signalPidFile(file, signal = 'SIGTERM') {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    process.kill(pid, signal);
    return pid;
  } catch {
    return undefined;
  }
}

export function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (bounded) until a pid has exited. */
export async function waitPidGone(pid, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(50);
  return !pidAlive(pid);
}

/** A free TCP port on 127.0.0.1 (bind 0, read, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether a TCP port on 127.0.0.1 can be bound now. */
function bindable(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port for an App's `port` (where the router listens), from 10000–19999, as a person picks one: below
 * both the kernel's ephemeral range (32768+, what freePort gives) and 20000–32767, where the local target
 * picks its instances' ports — it does not avoid the ports the environment's Apps declare, so an App port in
 * either range can be taken by an instance (or an outgoing connection) before the router binds it.
 */
const usedAppPorts = new Set();
export async function freeAppPort() {
  for (let tries = 0; tries < 1000; tries++) {
    const port = 10_000 + Math.floor(Math.random() * 10_000);
    if (usedAppPorts.has(port)) continue;
    if (await bindable(port)) {
      usedAppPorts.add(port);
      return port;
    }
  }
  throw new Error('no free port in 10000-19999');
}

const probeAgent = new Agent({ keepAlive: true, maxSockets: 4 });
/** One GET; never throws: { status, body } or { error }. */
export function httpGet(url, { timeoutMs = 2000, agent = probeAgent } = {}) {
  return new Promise((resolve) => {
    const req = request(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (error) => resolve({ error: error.code ?? error.message }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (error) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
}

/** Probes until `test(answer)` holds, every `everyMs`; throws after `timeoutMs`. Returns the answer and when. */
export async function until(what, probe, { timeoutMs = 60_000, everyMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** utime+stime (and the reaped children's cutime+cstime) of a process, in CPU seconds, from /proc/PID/stat. */
export function procCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const n = (i) => Number(fields[i - 3]) / CLK_TCK; // field numbers as in proc(5)
    return { self: n(14) + n(15), children: n(16) + n(17) };
  } catch {
    return undefined;
  }
}

/** Resident memory of a process (VmRSS) in KiB. */
export function procRssKb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * Runs lib/loadgen.mjs as a child process. Returns { child, result } where result resolves to the parsed
 * JSON report (after the duration, or after `child.stop()` sends SIGTERM).
 */
export function startLoad(url, { rate, duration, warmup = 0, connections = 64, maxRequests } = {}) {
  const args = [
    LOADGEN,
    '--url',
    url,
    '--rate',
    String(rate),
    '--duration',
    String(duration),
    '--warmup',
    String(warmup),
    '--connections',
    String(connections),
  ];
  if (maxRequests !== undefined) args.push('--max-requests', String(maxRequests));
  const child = startProcess(process.execPath, args, { pipe: true });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  child.stderr.on('data', (c) => {
    err = (err + c).slice(-2000);
  });
  const result = child.exited.then(({ code, signal }) => {
    try {
      return JSON.parse(out.trim().split('\n').pop());
    } catch {
      throw new Error(`the load generator ended (${code ?? signal}) without a report: ${err.trim()}`);
    }
  });
  return { child, result };
}

/** Runs a short command and returns its output (for wrk). */
export function runCapture(cmd, args, { timeoutMs = 120_000, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = startProcess(cmd, args, { pipe: true, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.stderr.on('data', (c) => {
      err += c;
    });
    const timer = setTimeout(() => {
      log(`${cmd} ran longer than ${timeoutMs / 1000} s; stopping it`);
      void child.stop('SIGKILL');
    }, timeoutMs);
    child.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (code !== 0)
        reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}: ${err.slice(-1000)}`));
      else resolve(out);
    });
  });
}
