// The in-process router: one HTTP listener per port, each forwarding to the current backends of its route by
// smooth weighted round robin (or, for a sticky client or a header-routed request, to one revision's), with
// atomic table swaps that let in-flight requests drain, and metrics.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Pool as ConnectionPool, type Dispatcher } from 'undici';
import { type RouterLog, silentLog } from './log.js';
import { type MetricLabels, NO_REVISION, RouterMetrics } from './metrics.js';
import {
  type Backend,
  type BackendInput,
  backendSchema,
  describeZodError,
  type RouteOptions,
  RouterError,
  type RouterState,
  type RouteTable,
  routeOptionsSchema,
} from './protocol.js';
import {
  cookieValue,
  endToEndHeaderRecord,
  forwardedRequest,
  isConnectionFailure,
  pickWeighted,
  shouldRetry,
  stickyCookie,
  stickyCookieName,
  stickyCookieValue,
} from './routing.js';

export interface RouterOptions {
  /** The address every listener binds; 127.0.0.1 unless told. */
  readonly host?: string;
  /** How long a removed listener (or close()) waits for in-flight requests before cutting them. */
  readonly drainTimeoutMs?: number;
  /** The generation to count on from (a restored table keeps its numbers). */
  readonly initialGeneration?: number;
  /** Called, and awaited, after every change of the table, before the change is confirmed. */
  readonly onChange?: (state: RouterState) => Promise<void> | void;
  readonly log?: RouterLog;
}

export interface SetRoutesResult {
  readonly generation: number;
  /** The port bound: the one asked for, or the one the system chose for 0. */
  readonly port: number;
}

export interface RemoveRouteResult {
  readonly generation: number;
  readonly port: number;
  readonly removed: boolean;
}

/** Weights to pick from with their own round-robin state: a whole route's, or one revision's. */
interface Lane {
  readonly weights: readonly number[];
  /** Smooth weighted round robin state, updated in place by each pick. */
  readonly current: number[];
}

/** One generation of a route: the backends new requests go to. Replaced whole, never edited. */
interface Pool extends Lane {
  readonly generation: number;
  readonly app: string;
  readonly port: number;
  readonly backends: readonly Backend[];
  readonly options: RouteOptions | undefined;
  /** Each backend's address, parsed once per table rather than once per request. */
  readonly targets: readonly BackendTarget[];
  /** The metric labels per backend (and for requests no backend took), made once per table. */
  readonly labels: readonly MetricLabels[];
  readonly noBackendLabels: MetricLabels;
  readonly sticky: Sticky | undefined;
  readonly header: HeaderRoute | undefined;
}

/** Sticky sessions of a route, made once per table. */
interface Sticky {
  readonly cookie: string;
  /** A lane per revision that has weight, by its cookie value: a pinned client goes there. */
  readonly lanes: ReadonlyMap<string, Lane>;
  /** Per backend: its revision's cookie value, and the Set-Cookie header that pins a client to it. */
  readonly values: readonly string[];
  readonly setCookie: readonly string[];
}

/** Requests whose header `name` (lower case) equals `value` go to the lane of one revision only. */
interface HeaderRoute {
  readonly name: string;
  readonly value: string;
  readonly lane: Lane;
}

/** Where one request's picks come from; `strict`: never fall back to the whole route. */
interface Choice {
  readonly lane: Lane;
  readonly strict: boolean;
  /** Whether the answer pins the client (a sticky route, a request not routed by header). */
  readonly sticky: boolean;
  /** The sticky cookie the client sent, if the route is sticky. */
  readonly pinned: string | undefined;
}

interface BackendTarget {
  /** `http://host:port`, what the connection pool is keyed by. */
  readonly origin: string;
  /** `host:port`, the Host header for a client that sent none. */
  readonly host: string;
}

interface Listener {
  /** The bound port (0 until the listener is bound, when 0 was asked for). */
  port: number;
  readonly server: Server;
  pool: Pool;
  inflight: number;
  closing: boolean;
  /** Called when inflight drops to 0 while closing. */
  onIdle: (() => void) | undefined;
}

/** A keep-alive connection pool per backend URL, kept while a route names it or a request to it is in flight. */
interface Upstream {
  readonly pool: ConnectionPool;
  inflight: number;
}

const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
/** Keep-alive connections per backend: requests beyond wait in its queue. */
const UPSTREAM_CONNECTIONS = 256;
/** A port we just released may take a moment to be free again (the listening handle closes async). */
const REBIND_ATTEMPTS = 20;
const REBIND_DELAY_MS = 50;

export class Router {
  readonly #host: string;
  readonly #drainTimeoutMs: number;
  readonly #onChange: ((state: RouterState) => Promise<void> | void) | undefined;
  readonly #log: RouterLog;
  readonly #metrics = new RouterMetrics();
  readonly #listeners = new Map<number, Listener>();
  readonly #upstreams = new Map<string, Upstream>();
  /** Ports removed recently, whose listeners may still be draining. */
  readonly #released = new Set<number>();
  #generation: number;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: RouterOptions = {}) {
    this.#host = options.host ?? '127.0.0.1';
    this.#drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.#generation = options.initialGeneration ?? 0;
    this.#onChange = options.onChange;
    this.#log = options.log ?? silentLog;
  }

  get generation(): number {
    return this.#generation;
  }

  get host(): string {
    return this.#host;
  }

  /**
   * Points `port` at `backends` (binding the port first when it is new), with the route's `options`
   * (stickiness, a header route; none unless given). Resolves once the new table is in force: requests
   * arriving after that go to the new backends; those in flight finish where they are.
   */
  async setRoutes(
    port: number,
    app: string,
    backends: readonly BackendInput[],
    options?: RouteOptions,
  ): Promise<SetRoutesResult> {
    const parsed = parseBackends(backends);
    const routeOptions = parseOptions(options);
    return await this.#serial(async () => {
      if (this.#closed) throw new RouterError('conflict', 409, 'the router is shutting down');
      let listener = this.#listeners.get(port);
      const generation = this.#generation + 1;
      if (listener === undefined) {
        const pool = makePool(generation, app, port, parsed, routeOptions);
        listener = await this.#listen(port, pool);
        this.#listeners.set(listener.port, listener);
        this.#log('info', 'listen', { port: listener.port, app, host: this.#host });
      } else {
        const previous = listener.pool;
        listener.pool = makePool(generation, app, listener.port, parsed, routeOptions);
        carryWeights(previous, listener.pool);
      }
      this.#generation = generation;
      this.#sweepUpstreams();
      this.#log('info', 'route.set', {
        port: listener.port,
        app,
        generation,
        backends: parsed.map((b) => ({ id: b.id, url: b.url, revision: b.revision, weight: b.weight })),
        ...(routeOptions === undefined ? {} : { options: routeOptions }),
      });
      await this.#changed();
      return { generation, port: listener.port };
    });
  }

  /**
   * Takes `port` out of the table and stops accepting connections on it at once; resolves after its
   * in-flight requests finished (or the drain timeout cut them).
   */
  async removeRoute(port: number): Promise<RemoveRouteResult> {
    const { result, listener } = await this.#serial(async () => {
      const listener = this.#listeners.get(port);
      if (listener === undefined) {
        return { result: { generation: this.#generation, port, removed: false }, listener: undefined };
      }
      this.#listeners.delete(port);
      this.#released.add(port);
      this.#generation += 1;
      this.#log('info', 'route.remove', { port, app: listener.pool.app, generation: this.#generation });
      await this.#changed();
      return { result: { generation: this.#generation, port, removed: true }, listener };
    });
    if (listener !== undefined) {
      await this.#drain(listener);
      this.#released.delete(port);
      this.#sweepUpstreams();
    }
    return result;
  }

  /** Restores a saved table: binds every route; the ports that cannot be bound are returned, not thrown. */
  restore(state: RouterState): Promise<{ port: number; error: string }[]> {
    return this.#serial(async () => {
      this.#generation = Math.max(this.#generation, state.generation);
      const failures: { port: number; error: string }[] = [];
      for (const route of state.routes) {
        if (this.#listeners.has(route.port)) continue;
        try {
          const listener = await this.#listen(
            route.port,
            makePool(this.#generation, route.app, route.port, route.backends, route.options),
          );
          this.#listeners.set(listener.port, listener);
          this.#log('info', 'listen', {
            port: listener.port,
            app: route.app,
            host: this.#host,
            restored: true,
          });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          failures.push({ port: route.port, error: message });
          this.#log('error', 'restore.failed', { port: route.port, app: route.app, error: message });
        }
      }
      return failures;
    });
  }

  /** The table in force, with each backend's in-flight count and the old backends still draining. */
  routes(): RouteTable {
    const routes = [...this.#listeners.values()]
      .sort((a, b) => a.port - b.port)
      .map((listener) => ({
        port: listener.port,
        app: listener.pool.app,
        generation: listener.pool.generation,
        backends: listener.pool.backends.map((backend) => ({
          ...backend,
          inflight: this.#upstreams.get(backend.url)?.inflight ?? 0,
        })),
        ...(listener.pool.options === undefined ? {} : { options: listener.pool.options }),
      }));
    const named = new Set(routes.flatMap((route) => route.backends.map((backend) => backend.url)));
    const draining = [...this.#upstreams.entries()]
      .filter(([url, upstream]) => !named.has(url) && upstream.inflight > 0)
      .map(([url, upstream]) => ({ url, inflight: upstream.inflight }));
    return { generation: this.#generation, routes, draining };
  }

  /** What the state file keeps: the table without the live counts. */
  state(): RouterState {
    return {
      version: 1,
      generation: this.#generation,
      routes: [...this.#listeners.values()]
        .sort((a, b) => a.port - b.port)
        .map((listener) => ({
          port: listener.port,
          app: listener.pool.app,
          backends: [...listener.pool.backends],
          ...(listener.pool.options === undefined ? {} : { options: listener.pool.options }),
        })),
    };
  }

  metricsText(): string {
    return this.#metrics.text({ generation: this.#generation, routes: this.#listeners.size });
  }

  /**
   * Stops every listener and waits for in-flight requests (up to the drain timeout). The table is not
   * reported as changed: a router that stops keeps its saved table for the next start.
   */
  async close(): Promise<void> {
    const listeners = await this.#serial(async () => {
      this.#closed = true;
      const all = [...this.#listeners.values()];
      this.#listeners.clear();
      return all;
    });
    await Promise.all(listeners.map((listener) => this.#drain(listener)));
    await Promise.all([...this.#upstreams.values()].map((upstream) => upstream.pool.destroy()));
    this.#upstreams.clear();
  }

  /** Runs mutations one at a time, in call order. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #changed(): Promise<void> {
    if (this.#onChange === undefined) return;
    try {
      await this.#onChange(this.state());
    } catch (error) {
      this.#log('error', 'state.persist_failed', { error });
    }
  }

  async #listen(port: number, pool: Pool): Promise<Listener> {
    const server = createServer();
    // Clients reuse connections for a while; the router answers, so it decides when they close.
    server.keepAliveTimeout = 30_000;
    const listener: Listener = { port, server, pool, inflight: 0, closing: false, onIdle: undefined };
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#handle(listener, req, res));
    server.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await bind(server, port, this.#host);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' && this.#released.has(port) && attempt < REBIND_ATTEMPTS) {
          await delay(REBIND_DELAY_MS);
          continue;
        }
        throw bindError(error, port, this.#host);
      }
    }
    listener.port = (server.address() as AddressInfo).port;
    if (pool.port !== listener.port)
      listener.pool = makePool(pool.generation, pool.app, listener.port, pool.backends, pool.options);
    return listener;
  }

  /** Stops accepting on the listener, lets its requests finish, then closes what is left. */
  async #drain(listener: Listener): Promise<void> {
    listener.closing = true;
    const closed = new Promise<void>((resolve) => listener.server.close(() => resolve()));
    listener.server.closeIdleConnections();
    const idle = new Promise<void>((resolve) => {
      if (listener.inflight === 0) resolve();
      else listener.onIdle = resolve;
    });
    const timedOut = await raceTimeout(idle, this.#drainTimeoutMs);
    if (timedOut) {
      this.#log('warn', 'drain.timeout', { port: listener.port, inflight: listener.inflight });
      listener.server.closeAllConnections();
    } else {
      listener.server.closeIdleConnections();
    }
    if (await raceTimeout(closed, 1_000)) listener.server.closeAllConnections();
    await closed;
    this.#log('info', 'unlisten', { port: listener.port });
  }

  /** Closes the connection pools of backends no route names and no request uses. */
  #sweepUpstreams(): void {
    const named = new Set<string>();
    for (const listener of this.#listeners.values()) {
      for (const backend of listener.pool.backends) named.add(backend.url);
    }
    for (const [url, upstream] of this.#upstreams) {
      if (!named.has(url) && upstream.inflight === 0) {
        void upstream.pool.destroy();
        this.#upstreams.delete(url);
      }
    }
  }

  #acquire(url: string): ConnectionPool {
    let upstream = this.#upstreams.get(url);
    if (upstream === undefined) {
      upstream = {
        // undici rather than http.request: the same HTTP/1.1 over keep-alive connections at about two thirds
        // of the CPU per request (bench/RESULTS.md), with raw callbacks instead of a stream per response.
        pool: new ConnectionPool(url, { connections: UPSTREAM_CONNECTIONS, pipelining: 1 }),
        inflight: 0,
      };
      this.#upstreams.set(url, upstream);
    }
    upstream.inflight += 1;
    return upstream.pool;
  }

  #release(url: string): void {
    const upstream = this.#upstreams.get(url);
    if (upstream === undefined) return;
    upstream.inflight -= 1;
    if (upstream.inflight === 0) this.#sweepUpstreams();
  }

  /** One client request: pick, forward, retry once if allowed, answer, account. */
  #handle(listener: Listener, req: IncomingMessage, res: ServerResponse): void {
    // The pool is read once: a table swap during this request does not move it.
    const pool = listener.pool;
    const started = process.hrtime.bigint();
    let tried: Set<number> | undefined;
    let labels = pool.noBackendLabels;
    let controller: Dispatcher.DispatchController | undefined;
    let done = false;
    listener.inflight += 1;
    if (listener.closing) res.setHeader('connection', 'close');
    const clientGone = new Error('the client went away');
    req.on('error', () => controller?.abort(clientGone));

    res.once('close', () => {
      done = true;
      if (!res.writableFinished) controller?.abort(clientGone);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.#metrics.observeRequest(labels, seconds);
      listener.inflight -= 1;
      if (listener.inflight === 0 && listener.onIdle !== undefined) listener.onIdle();
    });
    if (req.url === undefined || (req.url[0] !== '/' && req.url !== '*')) {
      answer(res, 400, 'the request target must be a path (origin form)');
      return;
    }
    const path = req.url;
    const method = req.method ?? 'GET';
    const choice = choose(pool, req);

    const attempt = (number: number, sameBackendOk: boolean): void => {
      const index = this.#pick(pool, choice, tried, sameBackendOk);
      const backend = index === undefined ? undefined : pool.backends[index];
      const target = index === undefined ? undefined : pool.targets[index];
      if (index === undefined || backend === undefined || target === undefined) {
        if (tried === undefined) {
          this.#metrics.observeError(pool.noBackendLabels);
          answer(res, 503, `no backend for ${pool.app} on port ${pool.port}`);
        } else {
          answer(res, 502, `no backend of ${pool.app} answered`);
        }
        return;
      }
      tried ??= new Set();
      tried.add(index);
      labels = pool.labels[index] ?? pool.noBackendLabels;
      const answered = labels;
      const forwarded = forwardedRequest(req.rawHeaders, {
        remoteAddress: req.socket.remoteAddress,
        proto: 'http',
        defaultHost: target.host,
      });
      const hasBody = forwarded.hasBody;
      const upstream = this.#acquire(backend.url);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        this.#release(backend.url);
      };
      let bodySent = false;
      let responded = false;
      // The body is read from the client only once the backend's connection asks for it, so a refused
      // connection consumed none of it and the request can still go to another backend.
      const body = hasBody
        ? Readable.from(
            (async function* (): AsyncGenerator<Buffer> {
              bodySent = true;
              for await (const chunk of req) yield chunk as Buffer;
            })(),
            { objectMode: false },
          )
        : null;
      const onDrain = (): void => controller?.resume();

      upstream.dispatch(
        { origin: target.origin, path, method, headers: forwarded.headers, body },
        {
          onRequestStart: (started) => {
            controller = started;
            if (done) started.abort(clientGone);
          },
          onResponseStart: (_controller, status, headers, statusMessage) => {
            if (status < 200) return; // 1xx: the router's own server speaks for itself
            responded = true;
            if (status >= 500) this.#metrics.observeError(answered);
            if (res.destroyed) return;
            if (listener.closing && !res.headersSent) res.setHeader('connection', 'close');
            const out = endToEndHeaderRecord(headers);
            // A sticky route pins the client to the revision that answered, unless it is pinned there already.
            const sticky = pool.sticky;
            if (sticky !== undefined && choice?.sticky === true && choice.pinned !== sticky.values[index]) {
              addSetCookie(out, sticky.setCookie[index] as string);
            }
            res.writeHead(status, statusMessage, out);
            res.on('drain', onDrain);
          },
          onResponseData: (paused, chunk) => {
            if (!res.destroyed && !res.write(chunk)) paused.pause();
          },
          onResponseEnd: () => {
            release();
            res.end();
          },
          onResponseError: (_controller, error: Error & { code?: string }) => {
            release();
            if (error === clientGone || res.destroyed || done) return;
            if (responded) {
              // The backend died mid-answer: the client cannot be told otherwise than by a cut connection.
              this.#metrics.observeError(answered);
              res.destroy();
              return;
            }
            const code = upstreamErrorCode(error);
            if (isConnectionFailure(code)) this.#metrics.observeError(answered);
            const retry = shouldRetry({ code, method, hasBody, bodySent, responded, attempt: number });
            this.#log(retry ? 'warn' : 'error', 'upstream.failed', {
              port: pool.port,
              app: pool.app,
              backend: backend.id,
              url: backend.url,
              code,
              retry,
            });
            if (retry) {
              this.#metrics.observeRetry();
              attempt(number + 1, code === 'ECONNRESET');
              return;
            }
            answer(res, 502, `backend ${backend.id} of ${pool.app} failed: ${code ?? error.message}`);
          },
        },
      );
    };

    attempt(1, false);
  }

  /**
   * The next backend: weighted round robin over those not tried yet in the request's lane (a pinned
   * revision's, a header route's, or the whole route's); a pinned client whose revision has nothing left
   * goes to the whole route; when allowed, a tried backend again.
   */
  #pick(
    pool: Pool,
    choice: Choice | undefined,
    tried: ReadonlySet<number> | undefined,
    sameBackendOk: boolean,
  ): number | undefined {
    const lane = choice?.lane ?? pool;
    const index = pickWeighted(lane.current, lane.weights, tried);
    if (index !== undefined) return index;
    if (lane !== pool && choice?.strict === false) {
      const other = pickWeighted(pool.current, pool.weights, tried);
      if (other !== undefined) return other;
    }
    return sameBackendOk ? pickWeighted(lane.current, lane.weights) : undefined;
  }
}

/**
 * Where a request's picks come from: undefined (the whole route, the common case, no allocation) unless
 * the route routes by header or is sticky. A header-routed request is not pinned by a cookie.
 */
function choose(pool: Pool, req: IncomingMessage): Choice | undefined {
  if (pool.header !== undefined && req.headers[pool.header.name] === pool.header.value) {
    return { lane: pool.header.lane, strict: true, sticky: false, pinned: undefined };
  }
  const sticky = pool.sticky;
  if (sticky === undefined) return undefined;
  const pinned = cookieValue(req.headers.cookie, sticky.cookie);
  const lane = pinned === undefined ? undefined : sticky.lanes.get(pinned);
  return { lane: lane ?? pool, strict: false, sticky: true, pinned };
}

function addSetCookie(headers: Record<string, string | string[]>, cookie: string): void {
  const existing = headers['set-cookie'];
  if (existing === undefined) headers['set-cookie'] = cookie;
  else headers['set-cookie'] = Array.isArray(existing) ? [...existing, cookie] : [existing, cookie];
}

function parseOptions(options: RouteOptions | undefined): RouteOptions | undefined {
  if (options === undefined) return undefined;
  const result = routeOptionsSchema.safeParse(options);
  if (!result.success) throw new RouterError('bad_request', 400, `options.${describeZodError(result.error)}`);
  const { stickiness, headerRoute } = result.data;
  if (stickiness === undefined && headerRoute === undefined) return undefined;
  return result.data;
}

function parseBackends(backends: readonly BackendInput[]): Backend[] {
  const parsed: Backend[] = [];
  const ids = new Set<string>();
  backends.forEach((input, index) => {
    const result = backendSchema.safeParse(input);
    if (!result.success) {
      throw new RouterError('bad_request', 400, `backends[${index}].${describeZodError(result.error)}`);
    }
    if (ids.has(result.data.id)) {
      throw new RouterError(
        'bad_request',
        400,
        `backends[${index}].id: duplicate backend id ${result.data.id}`,
      );
    }
    ids.add(result.data.id);
    parsed.push(result.data);
  });
  return parsed;
}

function makePool(
  generation: number,
  app: string,
  port: number,
  backends: readonly Backend[],
  options: RouteOptions | undefined,
): Pool {
  return {
    generation,
    app,
    port,
    backends: [...backends],
    options,
    weights: backends.map((backend) => backend.weight),
    targets: backends.map((backend) => backendTarget(backend.url)),
    current: backends.map(() => 0),
    labels: backends.map((backend) => ({ app, port, revision: backend.revision })),
    noBackendLabels: { app, port, revision: NO_REVISION },
    sticky: options?.stickiness === 'cookie' ? makeSticky(port, backends) : undefined,
    header: options?.headerRoute === undefined ? undefined : makeHeaderRoute(options.headerRoute, backends),
  };
}

/** A lane per revision with weight (a pinned client goes there only while its revision takes traffic). */
function makeSticky(port: number, backends: readonly Backend[]): Sticky {
  const values = backends.map((backend) => stickyCookieValue(backend.revision));
  const lanes = new Map<string, Lane>();
  for (const value of new Set(values)) {
    const weights = backends.map((backend, index) => (values[index] === value ? backend.weight : 0));
    if (weights.some((weight) => weight > 0)) lanes.set(value, { weights, current: backends.map(() => 0) });
  }
  return {
    cookie: stickyCookieName(port),
    lanes,
    values,
    setCookie: backends.map((backend) => stickyCookie(port, backend.revision)),
  };
}

/** The revision's backends in turn, whatever their weights; none when the table has no such revision. */
function makeHeaderRoute(
  route: NonNullable<RouteOptions['headerRoute']>,
  backends: readonly Backend[],
): HeaderRoute | undefined {
  const weights = backends.map((backend) => (backend.revision === route.revision ? 1 : 0));
  if (!weights.includes(1)) return undefined;
  return {
    name: route.name.toLowerCase(),
    value: route.value,
    lane: { weights, current: backends.map(() => 0) },
  };
}

function backendTarget(url: string): BackendTarget {
  const parsed = new URL(url);
  return { origin: parsed.origin, host: parsed.host };
}

/**
 * undici's errors in the terms of the retry rules: a connection the backend closed before answering reads
 * as a reset, a refused connection keeps its system code.
 */
function upstreamErrorCode(error: Error & { code?: string }): string | undefined {
  if (error.code === 'UND_ERR_SOCKET' || error.code === 'UND_ERR_CLOSED') return 'ECONNRESET';
  if (error.code === 'UND_ERR_CONNECT_TIMEOUT' || error.code === 'UND_ERR_HEADERS_TIMEOUT')
    return 'ETIMEDOUT';
  return error.code;
}

/** Backends present before and after a swap keep their round-robin position, so a re-weight is smooth. */
function carryWeights(previous: Pool, next: Pool): void {
  const before = new Map(
    previous.backends.map((backend, index) => [backend.id, previous.current[index] ?? 0]),
  );
  next.backends.forEach((backend, index) => {
    next.current[index] = before.get(backend.id) ?? 0;
  });
}

/** A short plain-text answer from the router itself (502, 503). */
function answer(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${message}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-plumbline-router': 'error',
  });
  res.end(body);
}

function bind(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

function bindError(error: unknown, port: number, host: string): RouterError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new RouterError('conflict', 409, `cannot listen on ${host}:${port}: the port is already in use`, {
      hint: 'stop whatever listens there, or give the app another port',
      cause: error,
    });
  }
  if (code === 'EACCES') {
    return new RouterError('conflict', 409, `cannot listen on ${host}:${port}: permission denied`, {
      hint: 'ports below 1024 need privileges; use a higher port',
      cause: error,
    });
  }
  if (code === 'EADDRNOTAVAIL') {
    return new RouterError('conflict', 409, `cannot listen on ${host}:${port}: no such local address`, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RouterError('internal', 500, `cannot listen on ${host}:${port}: ${message}`, { cause: error });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves true when `ms` passed before `promise` settled. */
async function raceTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
  });
  try {
    return await Promise.race([promise.then(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
