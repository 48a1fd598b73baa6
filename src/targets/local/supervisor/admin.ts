// The supervisor's admin API: JSON over HTTP on a Unix socket (mode 0600), validated with zod. Errors are
// `{ error, message }` with a status code, never a stack trace.
import { chmod, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createConnection } from 'node:net';
import { z } from 'zod';
import {
  type AdminErrorKind,
  type HealthResponse,
  instanceSpecSchema,
  isInstanceId,
  parseInstanceId,
} from './protocol.js';
import { ClosingError, InvalidIdError, SpecConflictError, type Supervisor } from './supervisor.js';

const MAX_BODY = 1024 * 1024;
const MAX_TAIL = 10_000;
const DEFAULT_TAIL = 100;

export interface AdminServerOptions {
  readonly supervisor: Supervisor;
  readonly socketPath: string;
  readonly signal?: AbortSignal;
  /** Called with unexpected errors (the client gets a 500 without details). */
  readonly onError?: (error: unknown) => void;
}

export interface AdminServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

/** An answer: a status and a JSON body. */
interface Reply {
  readonly status: number;
  readonly body: unknown;
}

function fail(status: number, error: AdminErrorKind, message: string): Reply {
  return { status, body: { error, message } };
}

class HttpError extends Error {
  readonly reply: Reply;
  constructor(status: number, error: AdminErrorKind, message: string) {
    super(message);
    this.reply = fail(status, error, message);
  }
}

const graceQuery = z.coerce.number().int().min(0).max(3_600_000);
const tailQuery = z.coerce.number().int().min(0).max(MAX_TAIL);

/** The route a request names: the path after `/v1/instances/`, id decoded. */
export type Route =
  | { readonly kind: 'health' }
  | { readonly kind: 'instances' }
  | { readonly kind: 'instance'; readonly id: string }
  | { readonly kind: 'logs'; readonly id: string }
  | { readonly kind: 'unknown' };

/** Routes a request path; the id is one URL-encoded segment (`dev%2Fweb%2Fabc123%2F0`). */
export function route(pathname: string): Route {
  const parts = pathname.split('/');
  if (parts[0] !== '' || parts[1] !== 'v1') return { kind: 'unknown' };
  if (parts.length === 3 && parts[2] === 'health') return { kind: 'health' };
  if (parts[2] !== 'instances') return { kind: 'unknown' };
  if (parts.length === 3) return { kind: 'instances' };
  const raw = parts[3];
  if (raw === undefined || raw === '') return { kind: 'unknown' };
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'bad_request', 'the instance id is not valid URL encoding');
  }
  if (parts.length === 4) return { kind: 'instance', id };
  if (parts.length === 5 && parts[4] === 'logs') return { kind: 'logs', id };
  return { kind: 'unknown' };
}

function requireId(id: string): void {
  const parsed = parseInstanceId(id);
  if (!isInstanceId(parsed)) throw new HttpError(400, 'bad_request', parsed.error);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'too_large', `the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'bad_request', 'the body is not JSON');
  }
}

/** Formats zod issues as `path: message; …`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`))
    .join('; ');
}

function parseQuery<T>(schema: z.ZodType<T>, value: string | null, name: string, fallback: T): T {
  if (value === null) return fallback;
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpError(400, 'bad_request', `${name}: ${describeIssues(result.error)}`);
  return result.data;
}

async function handle(supervisor: Supervisor, request: IncomingMessage, startedAt: string): Promise<Reply> {
  const url = new URL(request.url ?? '/', 'http://supervisor');
  const method = request.method ?? 'GET';
  const target = route(url.pathname);
  const allow = (methods: string[]): void => {
    if (!methods.includes(method)) {
      throw new HttpError(
        405,
        'method_not_allowed',
        `${method} is not allowed here (allowed: ${methods.join(', ')})`,
      );
    }
  };
  switch (target.kind) {
    case 'health': {
      allow(['GET']);
      const body: HealthResponse = {
        ok: true,
        pid: process.pid,
        dir: supervisor.dir,
        startedAt,
        instances: supervisor.list().length,
      };
      return { status: 200, body };
    }
    case 'instances':
      allow(['GET']);
      return { status: 200, body: { instances: supervisor.list() } };
    case 'instance': {
      allow(['GET', 'PUT', 'DELETE']);
      requireId(target.id);
      if (method === 'GET') {
        const instance = supervisor.get(target.id);
        if (instance === undefined) return fail(404, 'not_found', `no instance ${target.id}`);
        return { status: 200, body: { instance } };
      }
      if (method === 'PUT') {
        const parsed = instanceSpecSchema.safeParse(await readJson(request));
        if (!parsed.success) return fail(400, 'bad_request', `invalid spec: ${describeIssues(parsed.error)}`);
        const { created, instance } = await supervisor.start(target.id, parsed.data);
        return { status: created ? 201 : 200, body: { instance, created } };
      }
      const graceMs = parseQuery(graceQuery, url.searchParams.get('graceMs'), 'graceMs', undefined);
      const instance = await supervisor.stop(target.id, graceMs);
      if (instance === undefined) return fail(404, 'not_found', `no instance ${target.id}`);
      return { status: 200, body: { instance } };
    }
    case 'logs': {
      allow(['GET']);
      requireId(target.id);
      const tail = parseQuery(tailQuery, url.searchParams.get('tail'), 'tail', DEFAULT_TAIL);
      const lines = (await supervisor.logs(target.id, tail)) ?? [];
      return { status: 200, body: { id: target.id, lines } };
    }
    case 'unknown':
      return fail(404, 'not_found', `no route ${method} ${url.pathname}`);
  }
}

/** Whether something answers on a Unix socket (a live server, as opposed to a stale file). */
export function socketAnswers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Listens on `socketPath` (a stale socket file is removed; a live one is an error) with mode 0600.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { supervisor, socketPath } = options;
  const startedAt = new Date().toISOString();
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    handle(supervisor, request, startedAt).then(
      (reply) => send(response, reply),
      (error: unknown) => {
        if (error instanceof HttpError) return send(response, error.reply);
        if (error instanceof SpecConflictError) return send(response, fail(409, 'conflict', error.message));
        if (error instanceof InvalidIdError) return send(response, fail(400, 'bad_request', error.message));
        if (error instanceof ClosingError) return send(response, fail(503, 'unavailable', error.message));
        options.onError?.(error);
        send(response, fail(500, 'internal', 'internal error; see the supervisor log'));
      },
    );
  });
  server.keepAliveTimeout = 5000;

  if (await socketAnswers(socketPath)) {
    throw new Error(`another supervisor already answers on ${socketPath}`);
  }
  await rm(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // Stops in flight may take their grace; give them a moment, then cut what is left.
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    }).then(() => rm(socketPath, { force: true }));
    return closing;
  };
  options.signal?.addEventListener('abort', () => void close(), { once: true });
  return { socketPath, close };
}

function send(response: ServerResponse, reply: Reply): void {
  const body = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}
