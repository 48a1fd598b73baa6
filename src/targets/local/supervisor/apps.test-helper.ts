// Test helpers for the supervisor: tiny Node scripts as apps, free ports, waiting, and killing what a test
// started even when it failed.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestApps {
  readonly dir: string;
  /** An HTTP server on PORT with /healthz; exits 0 on SIGTERM. */
  readonly server: string;
  /** Prints a line and exits with code 3 after 100 ms. */
  readonly crash: string;
  /** Ignores SIGTERM and starts a child (which ignores it too) whose pid it writes to $CHILD_PID_FILE. */
  readonly stubborn: string;
  /** Prints $LINES numbered lines of 100 bytes, then stays up. */
  readonly chatty: string;
}

const SERVER = `
import { createServer } from 'node:http';
const server = createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); return; }
  if (req.url.startsWith('/env/')) { res.writeHead(200); res.end(process.env[req.url.slice(5)] ?? ''); return; }
  res.writeHead(404); res.end();
});
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
process.on('SIGTERM', () => { console.log('got SIGTERM'); server.close(); process.exit(0); });
`;

const CRASH = `
console.log('starting, will crash');
setTimeout(() => { console.error('crash!'); process.exit(3); }, 100);
`;

const STUBBORN = `
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
writeFileSync(process.env.CHILD_PID_FILE, String(child.pid));
console.log('stubborn up, child ' + child.pid);
setInterval(() => {}, 1000);
`;

const CHATTY = `
const lines = Number(process.env.LINES ?? '1000');
for (let i = 0; i < lines; i++) process.stdout.write('line ' + String(i).padStart(6, '0') + ' ' + 'x'.repeat(87) + '\\n');
setInterval(() => {}, 1000);
`;

export async function writeTestApps(): Promise<TestApps> {
  const dir = await mkdtemp(join(tmpdir(), 'plumbline-apps-'));
  const apps = {
    dir,
    server: join(dir, 'server.mjs'),
    crash: join(dir, 'crash.mjs'),
    stubborn: join(dir, 'stubborn.mjs'),
    chatty: join(dir, 'chatty.mjs'),
  };
  await writeFile(apps.server, SERVER);
  await writeFile(apps.crash, CRASH);
  await writeFile(apps.stubborn, STUBBORN);
  await writeFile(apps.chatty, CHATTY);
  return apps;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a process exists and is not a zombie (PID 1 here may not reap orphans promptly). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/** Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Pids whose process groups a test's afterEach kills, whatever happened. */
export class Reaper {
  readonly #groups = new Set<number>();
  readonly #pids = new Set<number>();

  group(pgid: number | undefined): void {
    if (pgid !== undefined) this.#groups.add(pgid);
  }

  pid(pid: number | undefined): void {
    if (pid !== undefined) this.#pids.add(pid);
  }

  reap(): void {
    for (const pgid of this.#groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {}
    }
    for (const pid of this.#pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    this.#groups.clear();
    this.#pids.clear();
  }
}
