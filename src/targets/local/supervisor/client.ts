// The controller's side of the supervisor: a client of its admin socket, and `ensureSupervisor`, which finds
// a running supervisor for a directory or starts one detached so that it outlives the controller.
import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { PlumblineError } from '../../../errors.js';
import {
  errorResponseSchema,
  type HealthResponse,
  healthResponseSchema,
  type InstanceSpec,
  type InstanceStatus,
  instanceResponseSchema,
  listResponseSchema,
  logsResponseSchema,
} from './protocol.js';

export const SOCKET_NAME = 'supervisor.sock';
export const PID_FILE = 'supervisor.pid';
export const STATE_FILE = 'state.json';
export const LOG_FILE = 'supervisor.log';

/** A failed call: the socket is not there, timed out, or the supervisor answered with an error. */
export class SupervisorError extends PlumblineError {
  /** The HTTP status, when the supervisor answered. */
  readonly status: number | undefined;
  /** The supervisor's error kind (`conflict`, `not_found`, `bad_request`, …) or `unreachable`/`timeout`. */
  readonly kind: string;
  constructor(kind: string, message: string, status?: number, cause?: unknown) {
    super('PLUMBLINE_E_INTERNAL', message, cause === undefined ? {} : { cause });
    this.kind = kind;
    this.status = status;
  }
}

export interface SupervisorClientOptions {
  readonly socketPath: string;
  /** Per request; a stop waits longer (its grace plus this). */
  readonly timeoutMs?: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

interface RawResponse {
  readonly status: number;
  readonly body: unknown;
}

/** Encodes an instance id as one path segment. */
export function instancePath(id: string): string {
  return `/v1/instances/${encodeURIComponent(id)}`;
}

export class SupervisorClient {
  readonly socketPath: string;
  readonly #timeoutMs: number;

  constructor(options: SupervisorClientOptions) {
    this.socketPath = options.socketPath;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  async health(options: CallOptions = {}): Promise<HealthResponse> {
    return this.#expect(
      await this.#call('GET', '/v1/health', undefined, options),
      [200],
      healthResponseSchema,
    );
  }

  async list(options: CallOptions = {}): Promise<InstanceStatus[]> {
    const response = await this.#call('GET', '/v1/instances', undefined, options);
    return this.#expect(response, [200], listResponseSchema).instances;
  }

  /** An instance's status, or undefined when the supervisor has none by that id. */
  async get(id: string, options: CallOptions = {}): Promise<InstanceStatus | undefined> {
    const response = await this.#call('GET', instancePath(id), undefined, options);
    if (response.status === 404) return undefined;
    return this.#expect(response, [200], instanceResponseSchema).instance;
  }

  /** Starts an instance; the same spec again is a no-op (`created: false`), another spec a `conflict`. */
  async start(
    id: string,
    spec: InstanceSpec,
    options: CallOptions = {},
  ): Promise<{ created: boolean; instance: InstanceStatus }> {
    const response = await this.#call('PUT', instancePath(id), spec, options);
    const body = this.#expect(response, [200, 201], instanceResponseSchema);
    return { created: body.created ?? response.status === 201, instance: body.instance };
  }

  /** Stops an instance and waits until it is gone; undefined when there was none. */
  async stop(id: string, graceMs?: number, options: CallOptions = {}): Promise<InstanceStatus | undefined> {
    const query = graceMs === undefined ? '' : `?graceMs=${graceMs}`;
    const timeoutMs = options.timeoutMs ?? (graceMs ?? 30_000) + this.#timeoutMs;
    const response = await this.#call('DELETE', `${instancePath(id)}${query}`, undefined, {
      ...options,
      timeoutMs,
    });
    if (response.status === 404) return undefined;
    return this.#expect(response, [200], instanceResponseSchema).instance;
  }

  /** The last `tail` lines of an instance's log. */
  async logs(id: string, tail = 100, options: CallOptions = {}): Promise<string[]> {
    const response = await this.#call('GET', `${instancePath(id)}/logs?tail=${tail}`, undefined, options);
    return this.#expect(response, [200], logsResponseSchema).lines;
  }

  #expect<T>(response: RawResponse, statuses: number[], schema: z.ZodType<T>): T {
    if (!statuses.includes(response.status)) {
      const error = errorResponseSchema.safeParse(response.body);
      if (error.success) {
        throw new SupervisorError(error.data.error, `supervisor: ${error.data.message}`, response.status);
      }
      throw new SupervisorError('bad_response', `supervisor answered ${response.status}`, response.status);
    }
    const parsed = schema.safeParse(response.body);
    if (!parsed.success) {
      throw new SupervisorError(
        'bad_response',
        'supervisor answered with an unexpected body',
        response.status,
      );
    }
    return parsed.data;
  }

  #call(method: string, path: string, body: unknown, options: CallOptions): Promise<RawResponse> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const signals = [AbortSignal.timeout(timeoutMs)];
    if (options.signal !== undefined) signals.push(options.signal);
    const signal = AbortSignal.any(signals);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<RawResponse>((resolvePromise, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path,
          signal,
          headers:
            payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
            } catch {
              reject(
                new SupervisorError(
                  'bad_response',
                  `supervisor answered ${response.statusCode} with a body that is not JSON`,
                ),
              );
              return;
            }
            resolvePromise({ status: response.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (signal.aborted) {
          const timedOut = options.signal?.aborted !== true;
          reject(
            timedOut
              ? new SupervisorError(
                  'timeout',
                  `supervisor at ${this.socketPath} did not answer ${method} ${path} within ${timeoutMs} ms`,
                  undefined,
                  error,
                )
              : error,
          );
          return;
        }
        reject(
          new SupervisorError(
            'unreachable',
            `supervisor at ${this.socketPath} is not reachable: ${error.code ?? error.message}`,
            undefined,
            error,
          ),
        );
      });
      req.end(payload);
    });
  }
}

export interface EnsureSupervisorOptions {
  readonly dir: string;
  /** The Node.js binary; this one by default. */
  readonly nodePath?: string;
  /** The supervisor's entry point; `main.js` beside this module by default. */
  readonly script?: string;
  /** Extra arguments for the supervisor (`--log-max-bytes`, …). */
  readonly args?: readonly string[];
  /** How long to wait for a new supervisor to answer. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface EnsuredSupervisor {
  readonly client: SupervisorClient;
  /** Whether this call started it (false: one was already answering). */
  readonly started: boolean;
  readonly pid: number;
}

/** The default entry point: `main.js` next to this module (in `dist/`). */
export function defaultSupervisorScript(): string {
  return fileURLToPath(new URL('./main.js', import.meta.url));
}

/**
 * Returns a client of the supervisor for `dir`, starting one when nothing answers on its socket. A started
 * supervisor is detached (its own session, output to `supervisor.log`, not waited for), so it outlives us.
 */
export async function ensureSupervisor(options: EnsureSupervisorOptions): Promise<EnsuredSupervisor> {
  const dir = resolve(options.dir);
  const client = new SupervisorClient({ socketPath: join(dir, SOCKET_NAME) });
  const existing = await client.health({ timeoutMs: 2000 }).catch(() => undefined);
  if (existing !== undefined) return { client, started: false, pid: existing.pid };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const logPath = join(dir, LOG_FILE);
  const log = await open(logPath, 'a', 0o600);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    const child = spawn(
      options.nodePath ?? process.execPath,
      [options.script ?? defaultSupervisorScript(), '--dir', dir, ...(options.args ?? [])],
      { detached: true, stdio: ['ignore', log.fd, log.fd], cwd: dir },
    );
    child.once('exit', (code, signal) => {
      exit = { code, signal };
    });
    child.once('error', () => {
      exit = { code: null, signal: null };
    });
    child.unref();
  } finally {
    await log.close();
  }

  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    options.signal?.throwIfAborted();
    const health = await client.health({ timeoutMs: 1000 }).catch(() => undefined);
    if (health !== undefined) return { client, started: true, pid: health.pid };
    if (exit !== undefined || Date.now() > deadline) {
      const tail = await readFile(logPath, 'utf8').then(
        (text) => text.trim().split('\n').slice(-5).join('\n'),
        () => '',
      );
      const why =
        exit === undefined ? 'did not answer in time' : `exited (code ${exit.code}, signal ${exit.signal})`;
      throw new SupervisorError(
        'unreachable',
        `the supervisor for ${dir} ${why}${tail === '' ? '' : `:\n${tail}`}`,
      );
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}
