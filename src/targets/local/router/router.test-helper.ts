// Test helpers for the router: small real backends, a plain HTTP client with its own keep-alive agent, and
// free ports.
import { createHash } from 'node:crypto';
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';

export interface TestBackend {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** Requests seen, by path. */
  readonly seen: { method: string; path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, name: string) => void;

/**
 * A backend answering `name` as text; `/slow?ms=N` waits first; `/echo` answers the body's sha256 and length;
 * `/fail` answers 500; `/headers` answers the request headers as JSON.
 */
export async function startBackend(name: string, handler: Handler = defaultHandler): Promise<TestBackend> {
  const seen: TestBackend['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    handler(req, res, name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function defaultHandler(req: IncomingMessage, res: ServerResponse, name: string): void {
  const url = new URL(req.url ?? '/', 'http://backend');
  if (url.pathname === '/echo') {
    const hash = createHash('sha256');
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ name, length, sha256: hash.digest('hex') }));
    });
    return;
  }
  req.resume();
  if (url.pathname === '/slow') {
    setTimeout(
      () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(name);
      },
      Number(url.searchParams.get('ms') ?? '500'),
    );
    return;
  }
  if (url.pathname === '/fail') {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`${name} failed`);
    return;
  }
  if (url.pathname === '/headers') {
    res.writeHead(200, {
      'content-type': 'application/json',
      connection: 'x-internal',
      'x-internal': 'secret',
      'x-visible': 'yes',
    });
    res.end(JSON.stringify(req.headers));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(name);
}

export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A client agent of its own, so tests do not share connections with each other. */
export function clientAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 64 });
}

export function send(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    agent?: Agent;
    chunked?: boolean;
  } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined && options.chunked === true) {
      // Written in pieces without a Content-Length: sent chunked.
      const body = Buffer.from(options.body);
      const step = 64 * 1024;
      for (let offset = 0; offset < body.length; offset += step)
        req.write(body.subarray(offset, offset + step));
      req.end();
    } else {
      req.end(options.body);
    }
  });
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs `count` calls of `fn`, `concurrency` at a time. */
export async function runPool(
  count: number,
  concurrency: number,
  fn: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      const index = next;
      next += 1;
      await fn(index);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
