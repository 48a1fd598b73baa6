// The supervisor process: `node dist/targets/local/supervisor/main.js --dir DIR`. It serves the admin API on
// DIR/supervisor.sock, keeps DIR/state.json and DIR/supervisor.pid, starts what the state file says should
// run, and on SIGTERM or SIGINT stops every instance gracefully and exits. Logs JSON lines to stderr.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startAdminServer } from './admin.js';
import { PID_FILE, SOCKET_NAME, STATE_FILE } from './client.js';
import { stopOrphans } from './orphans.js';
import { loadState, stateWriter } from './state.js';
import { DEFAULT_GRACE_MS, Supervisor, type SupervisorOptions } from './supervisor.js';

export interface SupervisorProcessOptions {
  readonly dir: string;
  readonly backoff?: SupervisorOptions['backoff'];
  readonly rotation?: SupervisorOptions['rotation'];
  readonly defaultGraceMs?: number;
  readonly log?: (record: Record<string, unknown>) => void;
  readonly signal?: AbortSignal;
}

export interface RunningSupervisor {
  readonly supervisor: Supervisor;
  readonly socketPath: string;
  /** Stops every instance, closes the socket and removes the pid file; specs stay in the state file. */
  close(): Promise<void>;
}

/** Writes one JSON line to stderr. */
export function logJson(record: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
}

/** Runs a supervisor on `dir` in this process. */
export async function runSupervisor(options: SupervisorProcessOptions): Promise<RunningSupervisor> {
  const dir = resolve(options.dir);
  const log = options.log ?? logJson;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const socketPath = join(dir, SOCKET_NAME);
  const pidPath = join(dir, PID_FILE);
  const statePath = join(dir, STATE_FILE);

  const specs = await loadState(statePath);

  const supervisor = new Supervisor({
    dir,
    backoff: options.backoff,
    rotation: options.rotation,
    defaultGraceMs: options.defaultGraceMs,
    persist: stateWriter(statePath),
    onEvent: (event) => log({ level: 'info', msg: 'instance', ...event }),
  });
  const admin = await startAdminServer({
    supervisor,
    socketPath,
    onError: (error) => log({ level: 'error', msg: 'admin request failed', error: String(error) }),
  });
  await writeFile(pidPath, `${process.pid}\n`, { mode: 0o600 });
  log({ level: 'info', msg: 'supervisor started', dir, pid: process.pid, restoring: specs.size });

  // The socket is ours now, so whatever else still runs for this directory was left by a supervisor that
  // died without stopping it (SIGKILL, a crash). Stop it before starting the state file's instances again.
  const orphans = await stopOrphans(dir, options.defaultGraceMs ?? DEFAULT_GRACE_MS, (pgid) =>
    supervisor.ownsGroup(pgid),
  );
  if (orphans.length > 0)
    log({ level: 'warn', msg: 'stopped instances a previous supervisor left', groups: orphans });
  for (const [id, spec] of specs) {
    await supervisor.start(id, spec).catch((error: unknown) => {
      log({ level: 'error', msg: 'could not restore instance', id, error: String(error) });
    });
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      log({ level: 'info', msg: 'supervisor stopping', instances: supervisor.list().length });
      await supervisor.close();
      await admin.close();
      await rm(pidPath, { force: true });
      log({ level: 'info', msg: 'supervisor stopped' });
    })();
    return closing;
  };
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  return { supervisor, socketPath, close };
}

/** Parses the command line: `--dir DIR` and optional tuning flags. */
export function parseMainArgs(argv: readonly string[]): SupervisorProcessOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      dir: { type: 'string' },
      'log-max-bytes': { type: 'string' },
      'log-files': { type: 'string' },
      'grace-ms': { type: 'string' },
      'backoff-base-ms': { type: 'string' },
    },
    strict: true,
  });
  if (values.dir === undefined) throw new Error('--dir DIR is required');
  const rotation: { maxBytes?: number; files?: number } = {};
  if (values['log-max-bytes'] !== undefined)
    rotation.maxBytes = positive(values['log-max-bytes'], '--log-max-bytes');
  if (values['log-files'] !== undefined) rotation.files = positive(values['log-files'], '--log-files');
  return {
    dir: values.dir,
    rotation,
    ...(values['grace-ms'] === undefined
      ? {}
      : { defaultGraceMs: positive(values['grace-ms'], '--grace-ms') }),
    ...(values['backoff-base-ms'] === undefined
      ? {}
      : { backoff: { baseMs: positive(values['backoff-base-ms'], '--backoff-base-ms') } }),
  };
}

function positive(value: string, flag: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${flag} must be a positive integer`);
  return number;
}

async function main(): Promise<void> {
  let options: SupervisorProcessOptions;
  try {
    options = parseMainArgs(process.argv.slice(2));
  } catch (error) {
    logJson({ level: 'error', msg: error instanceof Error ? error.message : String(error) });
    process.exitCode = 2;
    return;
  }
  const running = await runSupervisor(options);
  const shutdown = (signal: string): void => {
    logJson({ level: 'info', msg: 'signal', signal });
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logJson({ level: 'error', msg: 'shutdown failed', error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // The controller may go away; a broken stderr must not take the supervisor with it.
  process.on('SIGHUP', () => {});
  process.stderr.on('error', () => {});
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    logJson({
      level: 'error',
      msg: 'supervisor failed',
      error: error instanceof Error ? error.message : String(error),
    });
    process.exit(1);
  });
}
