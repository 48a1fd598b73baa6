// Test helpers for analysis: templates from YAML, a real JSON server on loopback that answers from a
// script, a pino logger that keeps its lines for a look, and a real router with backends and traffic.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Logger, pino } from 'pino';
import { RouterClient } from '../../targets/local/router/client.js';
import {
  clientAgent,
  send,
  startBackend,
  type TestBackend,
} from '../../targets/local/router/router.test-helper.js';
import { type RouterService, startRouterService } from '../../targets/local/router/service.js';
import { type AnalysisTemplate, parseAnalysisTemplates } from './schema.js';

/** One template from YAML lines of its spec (the metrics), or a thrown list of its problems. */
export function templateFrom(name: string, spec: string): AnalysisTemplate {
  const text = `apiVersion: plumbline.dev/v1alpha1\nkind: AnalysisTemplate\nmetadata: { name: ${name} }\nspec:\n${spec}`;
  const parsed = parseAnalysisTemplates([{ file: `${name}.yaml`, text }]);
  if (parsed.problems.length > 0) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  const template = parsed.templates.get(name);
  if (template === undefined) throw new Error(`no template ${name}`);
  return template;
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface JsonServer {
  readonly url: string;
  readonly seen: SeenRequest[];
  close(): Promise<void>;
}

/** What to answer: a status and a JSON body, `'hang'` to never answer, or raw text. */
export type Answer = { status?: number; json?: unknown; text?: string } | 'hang';

/** A real HTTP server on loopback; each request gets `answer(n, request)` for the n-th request (from 0). */
export async function startJsonServer(
  answer: (index: number, request: SeenRequest) => Answer,
): Promise<JsonServer> {
  const seen: SeenRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(request);
      const reply = answer(seen.length - 1, request);
      if (reply === 'hang') return;
      const body = reply.text ?? JSON.stringify(reply.json ?? null);
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A pino logger at debug whose lines are kept in `lines`. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** A real router service in-process (its admin API on a Unix socket), for router and comparison metrics. */
export interface RouterLab {
  readonly service: RouterService;
  readonly client: RouterClient;
  readonly dir: string;
  /** Starts a backend for a revision; `fail` answers 500, `delayMs` waits first. */
  backend(name: string, behaviour?: { fail?: boolean; delayMs?: number }): Promise<TestBackend>;
  /** Points the app's port (0: a new one) at revisions with weights; resolves with the bound port. */
  route(
    port: number,
    backends: { backend: TestBackend; revision: string; weight: number }[],
  ): Promise<number>;
  /** Sends requests to the port with `concurrency` clients until stopped; resolves with how many were sent. */
  drive(port: number, concurrency?: number): { stop(): Promise<number> };
  /** Waits until each revision has served at least `requests` (traffic flows before an analysis starts). */
  served(revisions: readonly string[], requests: number): Promise<void>;
  close(): Promise<void>;
}

export async function startRouterLab(app = 'web'): Promise<RouterLab> {
  const dir = await mkdtemp(join(tmpdir(), 'plumbline-analysis-'));
  const socket = join(dir, 'router.sock');
  const service = await startRouterService({
    socket,
    state: join(dir, 'routes.json'),
    drainTimeoutMs: 1_000,
  });
  const client = new RouterClient({ socket });
  const backends: TestBackend[] = [];
  const drivers: { stop(): Promise<number> }[] = [];
  return {
    service,
    client,
    dir,
    async backend(name, behaviour = {}) {
      const started = await startBackend(name, (req, res) => {
        req.resume();
        const answer = (): void => {
          res.writeHead(behaviour.fail === true ? 500 : 200, { 'content-type': 'text/plain' });
          res.end(name);
        };
        if (behaviour.delayMs === undefined) answer();
        else setTimeout(answer, behaviour.delayMs);
      });
      backends.push(started);
      return started;
    },
    async route(port, routes) {
      const result = await client.setRoutes(
        port,
        app,
        routes.map((r, index) => ({
          id: `${r.revision}-${index}`,
          url: r.backend.url,
          revision: r.revision,
          weight: r.weight,
        })),
      );
      return result.port;
    },
    drive(port, concurrency = 4) {
      let stopped = false;
      let sent = 0;
      const agent = clientAgent();
      const workers = Array.from({ length: concurrency }, async () => {
        while (!stopped) {
          await send(`http://127.0.0.1:${port}/`, { agent }).catch(() => undefined);
          sent += 1;
        }
      });
      const driver = {
        async stop() {
          stopped = true;
          await Promise.all(workers);
          agent.destroy();
          return sent;
        },
      };
      drivers.push(driver);
      return driver;
    },
    async served(revisions, requests) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const stats = await client.stats();
        const counts = revisions.map((revision) =>
          stats.series.filter((s) => s.revision === revision).reduce((sum, s) => sum + s.requests, 0),
        );
        if (counts.every((count) => count >= requests)) return;
        if (Date.now() > deadline)
          throw new Error(`no traffic: ${revisions.join(', ')} served ${counts.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      await Promise.all(drivers.map((driver) => driver.stop()));
      await service.close();
      await Promise.all(backends.map((backend) => backend.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
