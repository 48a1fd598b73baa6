// The router's admin API: JSON over HTTP on a Unix socket (mode 0600), how the controller programs the
// routing table. Requests are validated with zod; errors are `{ error, message }`, never a stack trace.
import { chmod } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type RouterLog, silentLog } from './log.js';
import { LATENCY_BUCKETS, parseRouterMetrics } from './metrics.js';
import {
  type AdminErrorKind,
  describeZodError,
  type HealthResponse,
  portSchema,
  RouterError,
  routeBodySchema,
  type StatsResponse,
} from './protocol.js';
import type { Router } from './router.js';

export interface AdminOptions {
  readonly router: Router;
  /** The Unix socket path to listen on; it must not exist (main.ts removes a stale one). */
  readonly socket: string;
  readonly log?: RouterLog;
}

export interface AdminServer {
  readonly socket: string;
  /** Stops accepting; waits (up to `graceMs`) for requests being answered, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

/** Admin request bodies are small JSON documents. */
const MAX_BODY_BYTES = 1024 * 1024;
const ROUTE_PATH = /^\/v1\/routes\/([0-9]{1,5})$/;

/** Listens on the socket and answers the admin API until closed. */
export async function startAdmin(options: AdminOptions): Promise<AdminServer> {
  const log = options.log ?? silentLog;
  const startedAt = new Date().toISOString();
  const server = createServer((req, res) => {
    handle(options.router, startedAt, req, res).catch((error: unknown) => {
      log('error', 'admin.failed', { method: req.method, url: req.url, error });
      sendError(res, errorAnswer(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socket, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(options.socket, 0o600);
  log('info', 'admin.listen', { socket: options.socket });
  return { socket: options.socket, close: (graceMs = 5_000) => closeServer(server, graceMs) };
}

async function handle(
  router: Router,
  startedAt: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method ?? 'GET';
  const path = new URL(req.url ?? '/', 'http://router').pathname;

  if (path === '/v1/health') {
    if (method !== 'GET') return sendError(res, methodNotAllowed(method, path));
    const body: HealthResponse = {
      ok: true,
      pid: process.pid,
      generation: router.generation,
      routes: router.routes().routes.length,
      startedAt,
    };
    return sendJson(res, 200, body);
  }
  if (path === '/v1/routes') {
    if (method !== 'GET') return sendError(res, methodNotAllowed(method, path));
    return sendJson(res, 200, router.routes());
  }
  if (path === '/v1/stats') {
    if (method !== 'GET') return sendError(res, methodNotAllowed(method, path));
    const monotonicMs = performance.now();
    const body: StatsResponse = {
      pid: process.pid,
      startedAt,
      monotonicMs,
      generation: router.generation,
      bucketBounds: [...LATENCY_BUCKETS],
      // Read back from the exposition: the router keeps its counters private, and /metrics and this
      // snapshot then come from the one code path.
      series: parseRouterMetrics(router.metricsText()),
    };
    return sendJson(res, 200, body);
  }
  if (path === '/metrics') {
    if (method !== 'GET') return sendError(res, methodNotAllowed(method, path));
    const text = router.metricsText();
    res.writeHead(200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
    return;
  }
  const match = ROUTE_PATH.exec(path);
  if (match?.[1] !== undefined) {
    const port = portSchema.safeParse(Number(match[1]));
    if (!port.success) {
      return sendError(
        res,
        new RouterError('bad_request', 400, `port ${match[1]} is not between 0 and 65535`),
      );
    }
    if (method === 'PUT') {
      const body = routeBodySchema.safeParse(await readJson(req));
      if (!body.success) {
        return sendError(res, new RouterError('bad_request', 400, describeZodError(body.error)));
      }
      const result = await router.setRoutes(port.data, body.data.app, body.data.backends, body.data.options);
      return sendJson(res, 200, result);
    }
    if (method === 'DELETE') {
      const result = await router.removeRoute(port.data);
      return sendJson(res, 200, result);
    }
    return sendError(res, methodNotAllowed(method, path));
  }
  return sendError(res, new RouterError('not_found', 404, `no such endpoint: ${method} ${path}`));
}

/** The request body as JSON; a 400 (or 413) when it is not. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/json\b/i.test(type)) {
    throw new RouterError('bad_request', 400, `content-type must be application/json, not ${type}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new RouterError('too_large', 413, `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new RouterError('bad_request', 400, 'the request has no JSON body');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new RouterError('bad_request', 400, `the body is not JSON: ${message}`);
  }
}

function methodNotAllowed(method: string, path: string): RouterError {
  return new RouterError('method_not_allowed', 405, `${method} is not allowed on ${path}`);
}

/** What an error becomes on the wire: its kind and message for a RouterError, a bare 500 otherwise. */
function errorAnswer(error: unknown): RouterError {
  if (error instanceof RouterError) return error;
  return new RouterError('internal', 500, 'internal error (see the router log)');
}

function sendError(res: ServerResponse, error: RouterError): void {
  const body: { error: AdminErrorKind; message: string; hint?: string } = {
    error: error.kind,
    message: error.message,
  };
  if (error.hint !== undefined) body.hint = error.hint;
  // A body the client is still sending is not worth reading once the answer is an error.
  if (error.status === 413) res.setHeader('connection', 'close');
  sendJson(res, error.status, body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function closeServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
}
