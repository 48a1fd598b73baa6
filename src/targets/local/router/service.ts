// The router as a service: the Router, its admin socket, its pid file and its state file together, started
// and stopped as one. main.ts runs it as a process; tests can run it in-process.

import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { type AdminServer, startAdmin } from './admin.js';
import { type RouterLog, silentLog } from './log.js';
import { pidFileFor, RouterError } from './protocol.js';
import { Router } from './router.js';
import { readState, writeStateAtomic } from './state.js';

export interface RouterServiceOptions {
  readonly socket: string;
  readonly state: string;
  readonly host?: string;
  readonly drainTimeoutMs?: number;
  readonly log?: RouterLog;
}

export interface RouterService {
  readonly router: Router;
  readonly admin: AdminServer;
  readonly pidFile: string;
  /** Stops accepting admin and proxied connections, lets in-flight requests finish, removes socket and pid file. */
  close(): Promise<void>;
}

export async function startRouterService(options: RouterServiceOptions): Promise<RouterService> {
  const log = options.log ?? silentLog;
  await mkdir(dirname(options.socket), { recursive: true, mode: 0o700 });
  await removeStaleSocket(options.socket, log);

  const loaded = await readState(options.state);
  if (loaded.kind === 'invalid')
    log('error', 'state.invalid', { file: options.state, message: loaded.message });
  const router = new Router({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
    log,
    onChange: (state) => writeStateAtomic(options.state, state),
  });
  if (loaded.kind === 'ok') {
    const failures = await router.restore(loaded.state);
    log('info', 'state.restored', {
      file: options.state,
      generation: loaded.state.generation,
      routes: loaded.state.routes.length - failures.length,
      failed: failures.length,
    });
  }

  let admin: AdminServer;
  try {
    admin = await startAdmin({ router, socket: options.socket, log });
  } catch (error) {
    await router.close();
    throw error;
  }
  const pidFile = pidFileFor(options.socket);
  await writeFile(pidFile, `${process.pid}\n`, { mode: 0o600 });

  let closing: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing ??= (async () => {
      log('info', 'shutdown', { routes: router.routes().routes.length });
      const adminClosed = admin.close(5_000);
      await router.close();
      await adminClosed;
      await rm(options.socket, { force: true });
      if ((await readFile(pidFile, 'utf8').catch(() => '')).trim() === String(process.pid)) {
        await rm(pidFile, { force: true });
      }
      log('info', 'stopped', {});
    })();
    return closing;
  }
  return { router, admin, pidFile, close };
}

/**
 * A socket file left by a router that died is removed; one a live router answers on is a conflict (two
 * routers would fight over the ports); anything that is not a socket is left alone and refused.
 */
async function removeStaleSocket(socket: string, log: RouterLog): Promise<void> {
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(socket);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stat.isSocket()) {
    throw new RouterError('conflict', 409, `${socket} exists and is not a socket`, {
      hint: 'remove it, or give the router another --admin-socket',
    });
  }
  if (await answers(socket)) {
    throw new RouterError('conflict', 409, `another router is already listening on ${socket}`);
  }
  await rm(socket, { force: true });
  log('info', 'admin.stale_socket_removed', { socket });
}

function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const connection = connect(socket);
    const timer = setTimeout(() => {
      connection.destroy();
      resolve(false);
    }, 1_000);
    connection.once('connect', () => {
      clearTimeout(timer);
      connection.destroy();
      resolve(true);
    });
    connection.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
