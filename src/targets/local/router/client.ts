// The controller's side of the router: RouterClient speaks the admin API over the Unix socket, and
// ensureRouter starts the router process (detached, so it outlives the controller) when none answers.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { request } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import {
  type BackendInput,
  errorResponseSchema,
  type HealthResponse,
  healthResponseSchema,
  type RemoveRouteResponse,
  type RouteOptions,
  RouterError,
  type RouteTable,
  removeRouteResponseSchema,
  routeTableSchema,
  type SetRouteResponse,
  type StatsResponse,
  setRouteResponseSchema,
  statsResponseSchema,
} from './protocol.js';

export interface RouterClientOptions {
  readonly socket: string;
  /** Per request; 10 s unless told. A DELETE waits for draining, so it gets the drain timeout on top. */
  readonly timeoutMs?: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface SetRoutesOptions extends CallOptions {
  /** The route's stickiness and header route; a route set without them has none. */
  readonly route?: RouteOptions;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** The router's default drain timeout plus a margin: how long a DELETE may take. */
const REMOVE_TIMEOUT_MS = 45_000;

export class RouterClient {
  readonly socket: string;
  readonly #timeoutMs: number;

  constructor(options: RouterClientOptions) {
    this.socket = options.socket;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  health(options: CallOptions = {}): Promise<HealthResponse> {
    return this.#json('GET', '/v1/health', undefined, healthResponseSchema, this.#timeoutMs, options.signal);
  }

  routes(options: CallOptions = {}): Promise<RouteTable> {
    return this.#json('GET', '/v1/routes', undefined, routeTableSchema, this.#timeoutMs, options.signal);
  }

  /** Resolves once the router confirmed the new table is in force. */
  setRoutes(
    port: number,
    app: string,
    backends: readonly BackendInput[],
    options: SetRoutesOptions = {},
  ): Promise<SetRouteResponse> {
    return this.#json(
      'PUT',
      `/v1/routes/${port}`,
      options.route === undefined ? { app, backends } : { app, backends, options: options.route },
      setRouteResponseSchema,
      this.#timeoutMs,
      options.signal,
    );
  }

  /** Resolves once the port stopped listening and its in-flight requests finished. */
  removeRoute(port: number, options: CallOptions = {}): Promise<RemoveRouteResponse> {
    return this.#json(
      'DELETE',
      `/v1/routes/${port}`,
      undefined,
      removeRouteResponseSchema,
      Math.max(this.#timeoutMs, REMOVE_TIMEOUT_MS),
      options.signal,
    );
  }

  /** Every revision's request, error and latency counters, with the router's monotonic time. */
  stats(options: CallOptions = {}): Promise<StatsResponse> {
    return this.#json('GET', '/v1/stats', undefined, statsResponseSchema, this.#timeoutMs, options.signal);
  }

  /** The Prometheus text exposition. */
  async metrics(options: CallOptions = {}): Promise<string> {
    const answer = await this.#call('GET', '/metrics', undefined, this.#timeoutMs, options.signal);
    if (answer.status !== 200) throw answerError(answer);
    return answer.body;
  }

  async #json<S extends z.ZodType>(
    method: string,
    path: string,
    body: unknown,
    schema: S,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<z.output<S>> {
    const answer = await this.#call(method, path, body, timeoutMs, signal);
    if (answer.status < 200 || answer.status >= 300) throw answerError(answer);
    let json: unknown;
    try {
      json = JSON.parse(answer.body);
    } catch {
      throw new RouterError('internal', 502, `the router answered ${method} ${path} with something not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new RouterError(
        'internal',
        502,
        `the router's answer to ${method} ${path} is not what was expected`,
      );
    }
    return parsed.data;
  }

  #call(
    method: string,
    path: string,
    body: unknown,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; body: string }> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolvePromise, reject) => {
      const req = request(
        {
          socketPath: this.socket,
          path,
          method,
          signal: combined,
          headers:
            payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', (error) => reject(unreachable(this.socket, error, timeout)));
        },
      );
      req.on('error', (error) => reject(unreachable(this.socket, error, timeout)));
      req.end(payload);
    });
  }
}

export interface EnsureRouterOptions {
  readonly socket: string;
  readonly state: string;
  /** The node binary; this process's unless told. */
  readonly nodePath?: string;
  /** The router's main.js; the one beside this module unless told. */
  readonly script?: string;
  readonly host?: string;
  /** Where the router's stdout and stderr go; `router.log` beside the socket unless told. */
  readonly logFile?: string;
  /** How long to wait for a started router to answer; 10 s unless told. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface EnsuredRouter {
  readonly client: RouterClient;
  /** The router's pid (from its health answer). */
  readonly pid: number;
  /** Whether this call started it. */
  readonly started: boolean;
}

/**
 * Returns a client for the router on `socket`, first starting one when none answers: detached in its own
 * process group, its output appended to a log file, not waited for, so it outlives the caller.
 */
export async function ensureRouter(options: EnsureRouterOptions): Promise<EnsuredRouter> {
  const socket = resolve(options.socket);
  const client = new RouterClient({ socket, timeoutMs: 2_000 });
  const running = await client.health().catch(() => undefined);
  if (running !== undefined)
    return { client: new RouterClient({ socket }), pid: running.pid, started: false };

  await mkdir(dirname(socket), { recursive: true, mode: 0o700 });
  const logFile = resolve(options.logFile ?? join(dirname(socket), 'router.log'));
  const script = resolve(options.script ?? fileURLToPath(new URL('./main.js', import.meta.url)));
  const args = [script, '--admin-socket', socket, '--state', resolve(options.state)];
  if (options.host !== undefined) args.push('--host', options.host);

  const fd = openSync(logFile, 'a', 0o600);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    const child = spawn(options.nodePath ?? process.execPath, args, {
      cwd: dirname(socket),
      detached: true,
      stdio: ['ignore', fd, fd],
      env: process.env,
    });
    child.once('exit', (code, signal) => {
      exited = { code, signal };
    });
    child.once('error', () => {
      exited = { code: null, signal: null };
    });
    child.unref();
  } finally {
    closeSync(fd);
  }

  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    options.signal?.throwIfAborted();
    const health = await client.health().catch(() => undefined);
    if (health !== undefined) return { client: new RouterClient({ socket }), pid: health.pid, started: true };
    // A router that exited may have lost a race to another that now answers: one more look, then give up.
    if (exited !== undefined || Date.now() > deadline) {
      const again = await client.health().catch(() => undefined);
      if (again !== undefined)
        return { client: new RouterClient({ socket }), pid: again.pid, started: false };
      const why =
        exited === undefined ? 'did not answer in time' : `exited (${exited.signal ?? exited.code})`;
      throw new RouterError('internal', 503, `the router on ${socket} ${why}`, {
        hint: `its log ${logFile} ends with: ${await tail(logFile)}`,
      });
    }
    await new Promise((wake) => setTimeout(wake, 50));
  }
}

function answerError(answer: { status: number; body: string }): RouterError {
  let parsed: z.infer<typeof errorResponseSchema> | undefined;
  try {
    const result = errorResponseSchema.safeParse(JSON.parse(answer.body));
    parsed = result.success ? result.data : undefined;
  } catch {
    parsed = undefined;
  }
  const kind = parsed?.error;
  const known =
    kind === 'bad_request' ||
    kind === 'not_found' ||
    kind === 'conflict' ||
    kind === 'method_not_allowed' ||
    kind === 'too_large' ||
    kind === 'internal'
      ? kind
      : 'internal';
  return new RouterError(
    known,
    answer.status,
    parsed?.message ?? `the router answered HTTP ${answer.status}`,
  );
}

function unreachable(socket: string, error: Error, timeout: AbortSignal): RouterError {
  if (timeout.aborted)
    return new RouterError('internal', 504, `the router on ${socket} did not answer in time`);
  const code = (error as NodeJS.ErrnoException).code ?? error.name;
  return new RouterError('internal', 503, `the router on ${socket} cannot be reached: ${code}`, {
    cause: error,
  });
}

/** The last few hundred bytes of a log, on one line. */
async function tail(file: string): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 600);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString('utf8').trim().split('\n').slice(-3).join(' | ');
    } finally {
      await handle.close();
    }
  } catch {
    return '(no log)';
  }
}
