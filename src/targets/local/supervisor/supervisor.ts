// The supervisor: owns app instances as child processes in their own process groups, pipes their output
// into rotated log files, restarts them with exponential backoff and stops them with SIGTERM then SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_ROTATION, RotatingLog, type RotationOptions, tailLog } from './logs.js';
import {
  type InstanceId,
  type InstanceSpec,
  type InstanceState,
  type InstanceStatus,
  isInstanceId,
  parseInstanceId,
  publicSpec,
  sameSpec,
} from './protocol.js';

export interface BackoffOptions {
  /** The first delay. */
  readonly baseMs: number;
  /** The cap the doubling stops at. */
  readonly maxMs: number;
  /** After staying up this long, the next crash starts again from `baseMs`. */
  readonly resetAfterMs: number;
  /** The fraction of a delay taken off at random (0 = none, 0.2 = delays in [0.8d, d]). */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  baseMs: 1000,
  maxMs: 60_000,
  resetAfterMs: 30_000,
  jitter: 0.2,
};
export const DEFAULT_GRACE_MS = 10_000;

/** The delay before restart number `attempt` (0-based, counting consecutive failures). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt, 0), 30);
  const delay = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  const jitter = Math.min(Math.max(options.jitter, 0), 1);
  return Math.round(delay * (1 - jitter * random()));
}

/** The consecutive-failure counter after an exit: back to 0 when the process had stayed up long enough. */
export function nextAttempt(attempt: number, uptimeMs: number, resetAfterMs: number): number {
  return uptimeMs >= resetAfterMs ? 0 : attempt + 1;
}

/** Where an instance's log lives under the supervisor's directory: `logs/<env>/<app>/<revision>-<index>.log`. */
export function logPathFor(dir: string, id: InstanceId): string {
  return join(dir, 'logs', id.environment, id.app, `${id.revision}-${id.index}.log`);
}

/** The variables an instance inherits from the supervisor; everything else comes from its spec. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'LOGNAME', 'SHELL'];

/**
 * An instance's environment: a few inherited basics, then its spec's, then PORT, its id and the supervisor's
 * directory (how a later supervisor recognises instances a dead one left behind).
 */
export function instanceEnv(
  id: string,
  spec: InstanceSpec,
  dir: string,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED_ENV) if (base[name] !== undefined) env[name] = base[name];
  return {
    ...env,
    ...spec.env,
    ...spec.secretEnv,
    PORT: String(spec.port),
    PLUMBLINE_INSTANCE: id,
    PLUMBLINE_SUPERVISOR_DIR: dir,
  };
}

/** A human reason for a spawn error. */
export function spawnFailureReason(error: NodeJS.ErrnoException, spec: InstanceSpec): string {
  const program = spec.command[0] ?? '';
  if (error.code === 'ENOENT') return `cannot start ${JSON.stringify(program)}: command not found (ENOENT)`;
  if (error.code === 'EACCES') return `cannot start ${JSON.stringify(program)}: permission denied (EACCES)`;
  return `cannot start ${JSON.stringify(program)}: ${error.message}`;
}

export interface SupervisorEvent {
  readonly id: string;
  readonly event:
    | 'spawned'
    | 'exited'
    | 'log-error'
    | 'spawn-failed'
    | 'backoff'
    | 'stopping'
    | 'stopped'
    | 'killed';
  readonly [key: string]: unknown;
}

export interface SupervisorOptions {
  /** The supervisor's directory; logs go under `logs/`. */
  readonly dir: string;
  readonly backoff?: Partial<BackoffOptions>;
  readonly rotation?: Partial<RotationOptions>;
  /** The grace between SIGTERM and SIGKILL when neither the spec nor the stop names one. */
  readonly defaultGraceMs?: number;
  /** Called with every spec that should run whenever that set changes; awaited before a start or stop answers. */
  readonly persist?: (specs: ReadonlyMap<string, InstanceSpec>) => Promise<void>;
  readonly onEvent?: (event: SupervisorEvent) => void;
  readonly random?: () => number;
}

/** Thrown by `start` for an id that already runs a different spec. */
export class SpecConflictError extends Error {
  readonly id: string;
  constructor(id: string, what: string) {
    super(`instance ${id} ${what}`);
    this.name = 'SpecConflictError';
    this.id = id;
  }
}

/** Thrown by `start` once `close` was called. */
export class ClosingError extends Error {
  constructor() {
    super('the supervisor is shutting down');
    this.name = 'ClosingError';
  }
}

/** Thrown for an id that is not `env/app/revision/index`. */
export class InvalidIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidIdError';
  }
}

/** One instance's mutable record. */
interface Instance {
  readonly id: string;
  readonly spec: InstanceSpec;
  readonly log: RotatingLog;
  readonly logFile: string;
  state: InstanceState;
  child: ChildProcess | undefined;
  /** The latest process, also after it exited: its pipes may still be flushing into the log. */
  lastChild: ChildProcess | undefined;
  pid: number | undefined;
  restarts: number;
  attempt: number;
  reason: string | undefined;
  startedAt: number | undefined;
  nextRestartAt: number | undefined;
  lastExit: { code: number | null; signal: string | null; at: number } | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Set once a stop was asked for: no more restarts. */
  stopping: Promise<InstanceStatus> | undefined;
  /** Resolves when the current process has exited (or at once when there is none). */
  exited: Promise<void>;
  /** Resolves when the current process's output pipes have closed. */
  drained: Promise<void>;
}

export class Supervisor {
  readonly dir: string;
  readonly #backoff: BackoffOptions;
  readonly #rotation: RotationOptions;
  readonly #defaultGraceMs: number;
  readonly #persist: ((specs: ReadonlyMap<string, InstanceSpec>) => Promise<void>) | undefined;
  readonly #onEvent: ((event: SupervisorEvent) => void) | undefined;
  readonly #random: () => number;
  readonly #instances = new Map<string, Instance>();
  #closed = false;

  constructor(options: SupervisorOptions) {
    this.dir = options.dir;
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#rotation = { ...DEFAULT_ROTATION, ...options.rotation };
    this.#defaultGraceMs = options.defaultGraceMs ?? DEFAULT_GRACE_MS;
    this.#persist = options.persist;
    this.#onEvent = options.onEvent;
    this.#random = options.random ?? Math.random;
  }

  /** Starts an instance. The same spec again is a no-op (`created: false`); a different one throws. */
  async start(id: string, spec: InstanceSpec): Promise<{ created: boolean; instance: InstanceStatus }> {
    if (this.#closed) throw new ClosingError();
    const parsed = parseInstanceId(id);
    if (!isInstanceId(parsed)) throw new InvalidIdError(parsed.error);
    const existing = this.#instances.get(id);
    if (existing !== undefined) {
      if (existing.stopping !== undefined)
        throw new SpecConflictError(id, 'is stopping; start it again once stopped');
      if (!sameSpec(existing.spec, spec))
        throw new SpecConflictError(id, 'already exists with a different spec; stop it first');
      return { created: false, instance: this.#status(existing) };
    }
    const logFile = logPathFor(this.dir, parsed);
    const log = new RotatingLog(logFile, this.#rotation);
    log.on('error', (error) => this.#emit({ id, event: 'log-error', message: error.message }));
    const instance: Instance = {
      id,
      spec,
      log,
      logFile,
      state: 'starting',
      child: undefined,
      lastChild: undefined,
      pid: undefined,
      restarts: 0,
      attempt: 0,
      reason: undefined,
      startedAt: undefined,
      nextRestartAt: undefined,
      lastExit: undefined,
      timer: undefined,
      stopping: undefined,
      exited: Promise.resolve(),
      drained: Promise.resolve(),
    };
    this.#instances.set(id, instance);
    try {
      await this.#savePersisted();
    } catch (error) {
      this.#instances.delete(id);
      log.destroy();
      throw error;
    }
    await this.#spawn(instance);
    return { created: true, instance: this.#status(instance) };
  }

  get(id: string): InstanceStatus | undefined {
    const instance = this.#instances.get(id);
    return instance === undefined ? undefined : this.#status(instance);
  }

  list(): InstanceStatus[] {
    return [...this.#instances.values()].map((instance) => this.#status(instance));
  }

  /** Whether a process group is one of this supervisor's instances (its leader is our child). */
  ownsGroup(pgid: number): boolean {
    for (const instance of this.#instances.values()) if (instance.lastChild?.pid === pgid) return true;
    return false;
  }

  /** The specs that should run. */
  specs(): Map<string, InstanceSpec> {
    const specs = new Map<string, InstanceSpec>();
    for (const instance of this.#instances.values()) {
      if (instance.stopping === undefined) specs.set(instance.id, publicSpec(instance.spec));
    }
    return specs;
  }

  /**
   * Stops an instance and forgets it: SIGTERM to its process group, SIGKILL after the grace. Resolves with
   * its final status once the process is gone; undefined for an unknown id.
   */
  async stop(id: string, graceMs?: number): Promise<InstanceStatus | undefined> {
    const instance = this.#instances.get(id);
    if (instance === undefined) return undefined;
    if (instance.stopping === undefined) {
      instance.stopping = this.#stopInstance(instance, graceMs);
      await this.#savePersisted();
    }
    const status = await instance.stopping;
    if (this.#instances.get(id) === instance) this.#instances.delete(id);
    return status;
  }

  /** The last `tail` lines of an instance's log, also after it was stopped; undefined for a bad id. */
  async logs(id: string, tail: number): Promise<string[] | undefined> {
    const parsed = parseInstanceId(id);
    if (!isInstanceId(parsed)) return undefined;
    return tailLog(logPathFor(this.dir, parsed), tail, this.#rotation.files);
  }

  /**
   * Stops every instance (each with its own grace) without changing what is persisted, so that a new
   * supervisor on the same directory starts them again.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      [...this.#instances.values()].map((instance) => {
        instance.stopping ??= this.#stopInstance(instance, undefined);
        return instance.stopping;
      }),
    );
    this.#instances.clear();
  }

  #status(instance: Instance): InstanceStatus {
    const status: InstanceStatus = {
      id: instance.id,
      spec: publicSpec(instance.spec),
      state: instance.state,
      restarts: instance.restarts,
      logFile: instance.logFile,
    };
    if (instance.pid !== undefined) status.pid = instance.pid;
    if (instance.reason !== undefined) status.reason = instance.reason;
    if (instance.startedAt !== undefined) status.startedAt = new Date(instance.startedAt).toISOString();
    if (instance.nextRestartAt !== undefined)
      status.nextRestartAt = new Date(instance.nextRestartAt).toISOString();
    if (instance.lastExit !== undefined) {
      status.lastExit = {
        code: instance.lastExit.code,
        signal: instance.lastExit.signal,
        at: new Date(instance.lastExit.at).toISOString(),
      };
    }
    return status;
  }

  async #savePersisted(): Promise<void> {
    if (this.#persist !== undefined && !this.#closed) await this.#persist(this.specs());
  }

  #emit(event: SupervisorEvent): void {
    this.#onEvent?.(event);
  }

  /** Spawns the instance's process; resolves once it has spawned or failed to. */
  async #spawn(instance: Instance): Promise<void> {
    instance.timer = undefined;
    instance.nextRestartAt = undefined;
    instance.state = 'starting';
    const { spec } = instance;
    const cwdProblem = await stat(spec.cwd).then(
      (s) => (s.isDirectory() ? undefined : `cwd ${spec.cwd} is not a directory`),
      () => `cwd ${spec.cwd} does not exist`,
    );
    if (instance.stopping !== undefined) return;
    if (cwdProblem !== undefined) {
      this.#failed(instance, `cannot start ${JSON.stringify(spec.command[0])}: ${cwdProblem}`);
      return;
    }
    const [program, ...args] = spec.command as [string, ...string[]];
    let child: ChildProcess;
    try {
      child = spawn(program, args, {
        cwd: spec.cwd,
        env: instanceEnv(instance.id, spec, this.dir),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      this.#failed(instance, spawnFailureReason(error as NodeJS.ErrnoException, spec));
      return;
    }
    instance.child = child;
    instance.lastChild = child;
    let resolveExited: () => void = () => {};
    instance.exited = new Promise((resolve) => {
      resolveExited = resolve;
    });
    instance.drained = new Promise((resolve) => child.once('close', () => resolve()));
    child.stdout?.pipe(instance.log, { end: false });
    child.stderr?.pipe(instance.log, { end: false });

    await new Promise<void>((resolve) => {
      let spawned = false;
      child.once('spawn', () => {
        spawned = true;
        instance.pid = child.pid;
        instance.startedAt = Date.now();
        instance.reason = undefined;
        if (instance.stopping === undefined) instance.state = 'running';
        this.#emit({ id: instance.id, event: 'spawned', pid: child.pid });
        resolve();
      });
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (spawned) return; // a failed kill; the exit handler deals with the process
        instance.child = undefined;
        resolveExited();
        this.#failed(instance, spawnFailureReason(error, spec));
        resolve();
      });
      child.once('exit', (code, signal) => {
        this.#exited(instance, child, code, signal);
        resolveExited();
      });
    });
  }

  /** A start that did not happen: `failed`, and another try after the backoff unless stopping. */
  #failed(instance: Instance, reason: string): void {
    instance.reason = reason;
    instance.pid = undefined;
    instance.lastExit = { code: null, signal: null, at: Date.now() };
    this.#emit({ id: instance.id, event: 'spawn-failed', reason });
    if (instance.stopping !== undefined) {
      instance.state = 'stopped';
      return;
    }
    instance.state = 'failed';
    this.#scheduleRestart(instance, 'failed');
  }

  #exited(instance: Instance, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const now = Date.now();
    const uptime = instance.startedAt === undefined ? 0 : now - instance.startedAt;
    instance.lastExit = { code, signal, at: now };
    instance.child = undefined;
    instance.pid = undefined;
    this.#emit({ id: instance.id, event: 'exited', pid: child.pid, code, signal, uptimeMs: uptime });
    // Whatever the leader left behind in its group goes with it, so a restart finds its port free.
    if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    if (instance.stopping !== undefined) {
      instance.state = 'stopped';
      return;
    }
    instance.reason = signal === null ? `exited with code ${code}` : `killed by ${signal}`;
    instance.attempt = nextAttempt(instance.attempt, uptime, this.#backoff.resetAfterMs);
    instance.state = 'backoff';
    this.#scheduleRestart(instance, 'backoff');
  }

  #scheduleRestart(instance: Instance, from: 'backoff' | 'failed'): void {
    if (this.#closed) return;
    // A failed start counts as a failure too; `attempt` was already advanced by an exit.
    if (from === 'failed') instance.attempt += 1;
    const delay = backoffDelay(Math.max(instance.attempt - 1, 0), this.#backoff, this.#random);
    instance.nextRestartAt = Date.now() + delay;
    this.#emit({ id: instance.id, event: 'backoff', delayMs: delay, attempt: instance.attempt });
    instance.timer = setTimeout(() => {
      if (instance.stopping !== undefined || this.#closed) return;
      instance.restarts += 1;
      void this.#spawn(instance);
    }, delay);
  }

  async #stopInstance(instance: Instance, graceMs: number | undefined): Promise<InstanceStatus> {
    if (instance.timer !== undefined) clearTimeout(instance.timer);
    instance.timer = undefined;
    instance.nextRestartAt = undefined;
    const child = instance.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const grace = graceMs ?? instance.spec.graceMs ?? this.#defaultGraceMs;
      instance.state = 'stopping';
      this.#emit({ id: instance.id, event: 'stopping', pid: child.pid, graceMs: grace });
      killGroup(child.pid, 'SIGTERM');
      const pid = child.pid;
      const killer = setTimeout(() => {
        this.#emit({ id: instance.id, event: 'killed', pid });
        killGroup(pid, 'SIGKILL');
      }, grace);
      await instance.exited;
      clearTimeout(killer);
    } else {
      // Not running, or a spawn in flight: wait for it to settle, then nothing is left to signal.
      await instance.exited;
    }
    instance.state = 'stopped';
    this.#emit({ id: instance.id, event: 'stopped' });
    // Let the last output reach the file; a grandchild that left the group could hold the pipes open.
    await Promise.race([instance.drained, delay(2000)]);
    instance.lastChild?.stdout?.unpipe(instance.log);
    instance.lastChild?.stderr?.unpipe(instance.log);
    await new Promise<void>((resolve) => instance.log.end(resolve));
    return this.#status(instance);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Signals a whole process group; a group that is already gone is not an error. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
