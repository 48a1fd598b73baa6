// Test helpers for rollouts: the supervisor and the router as real services on their Unix sockets, the
// local target over their clients, App revisions as real processes (the demo app, or a small app that fails
// on a flag), a steady HTTP load, and analysis runners that judge by the router's real metrics or a real probe.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DesiredApp } from '../gitops/types.js';
import { RouterClient } from '../targets/local/router/client.js';
import { clientAgent, freePort, send } from '../targets/local/router/router.test-helper.js';
import { type RouterService, startRouterService } from '../targets/local/router/service.js';
import { type AdminServer, startAdminServer } from '../targets/local/supervisor/admin.js';
import { SupervisorClient } from '../targets/local/supervisor/client.js';
import { Supervisor } from '../targets/local/supervisor/supervisor.js';
import { LocalTarget } from '../targets/local/target.js';
import type { AnalysisRunner, RolloutEvent } from './types.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Answers `<GREETING> from pid N`, or 500 on every path but /healthz when FAIL=1; /healthz 500 when SICK=1. */
const FLAKY_APP = `
import { createServer } from 'node:http';
const greeting = process.env.GREETING ?? 'hello';
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    const sick = process.env.SICK === '1';
    res.writeHead(sick ? 500 : 200, { 'content-type': 'text/plain' }).end(sick ? 'sick\\n' : 'ok\\n');
    return;
  }
  if (process.env.FAIL === '1') {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(greeting + ' failed\\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(greeting + ' from pid ' + process.pid + '\\n');
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
});
`;

export interface Harness {
  readonly dir: string;
  readonly supervisor: SupervisorClient;
  readonly router: RouterClient;
  readonly target: LocalTarget;
  /** A release folder holding the demo app (server.js) and the flaky app (flaky.mjs). */
  readonly release: string;
  close(): Promise<void>;
}

export async function startHarness(options: { healthDeadlineMs?: number } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'plumbline-rollout-'));
  const release = join(dir, 'release');
  await mkdir(release);
  await copyFile(join(ROOT, 'examples/demo-app/server.js'), join(release, 'server.js'));
  await writeFile(join(release, 'package.json'), '{ "type": "module" }\n');
  await writeFile(join(release, 'flaky.mjs'), FLAKY_APP);

  const supervisorDir = join(dir, 'supervisor');
  await mkdir(supervisorDir);
  const supervisorCore = new Supervisor({
    dir: supervisorDir,
    defaultGraceMs: 3000,
    backoff: { baseMs: 50 },
  });
  const socketPath = join(supervisorDir, 'supervisor.sock');
  const admin: AdminServer = await startAdminServer({ supervisor: supervisorCore, socketPath });
  const routerService: RouterService = await startRouterService({
    socket: join(dir, 'router.sock'),
    state: join(dir, 'routes.json'),
    drainTimeoutMs: 5_000,
  });
  const supervisor = new SupervisorClient({ socketPath, timeoutMs: 10_000 });
  const router = new RouterClient({ socket: join(dir, 'router.sock') });
  const target = new LocalTarget({
    supervisor,
    router,
    healthDeadlineMs: options.healthDeadlineMs ?? 20_000,
    stopGraceMs: 3000,
  });
  return {
    dir,
    supervisor,
    router,
    target,
    release,
    async close() {
      await routerService.close();
      await supervisorCore.close().catch(() => undefined);
      await admin.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RevisionOptions {
  readonly greeting: string;
  readonly port: number;
  readonly replicas?: number;
  /** The flaky app with these flags (FAIL=1, SICK=1) instead of the demo app. */
  readonly flaky?: Record<string, string>;
  readonly name?: string;
}

/** An App at a commit made up from its greeting (each greeting is its own revision). */
export function revision(options: RevisionOptions): DesiredApp {
  const commit = createHash('sha1')
    .update(`${options.greeting} ${JSON.stringify(options.flaky)}`)
    .digest('hex');
  const spec = {
    process: {
      command: [process.execPath, options.flaky === undefined ? 'server.js' : 'flaky.mjs'],
      cwd: '.',
      env: { GREETING: options.greeting, ...options.flaky },
    },
    port: options.port,
    replicas: options.replicas ?? 2,
    health: { http: { path: '/healthz' }, intervalMs: 200, timeoutMs: 200 },
    dependsOn: [],
  };
  return {
    environment: 'test',
    name: options.name ?? 'web',
    revision: commit,
    spec,
    specHash: createHash('sha256').update(JSON.stringify(spec)).update(commit).digest('hex'),
    source: { file: 'deploy/test/web.yaml', line: 1 },
  };
}

export { freePort };

export interface LoadReport {
  readonly ok: number;
  /** Anything but a 200, as `HTTP 500: <body>` or the error. */
  readonly failed: string[];
  /** Answers per greeting (the first word of the body). */
  readonly greetings: Map<string, number>;
}

/** `concurrency` clients sending GET / in a loop until stopped. */
export function steadyLoad(url: string, concurrency = 4): { stop(): Promise<LoadReport> } {
  const agent = clientAgent();
  let running = true;
  const failed: string[] = [];
  const greetings = new Map<string, number>();
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (running) {
      try {
        const answer = await send(url, { agent });
        if (answer.status === 200) {
          ok += 1;
          const greeting = answer.body.split(' ')[0] ?? '';
          greetings.set(greeting, (greetings.get(greeting) ?? 0) + 1);
        } else {
          failed.push(`HTTP ${answer.status}: ${answer.body.trim()}`);
        }
      } catch (error) {
        failed.push((error as Error).message);
      }
      await new Promise((wake) => setTimeout(wake, 5));
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker());
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return { ok, failed, greetings };
    },
  };
}

/** The first word of what `url` answers (the greeting), or `HTTP <status>`. */
export async function greetingAt(url: string, headers: Record<string, string> = {}): Promise<string> {
  const answer = await send(url, { headers });
  return answer.status === 200 ? (answer.body.split(' ')[0] ?? '') : `HTTP ${answer.status}`;
}

/** A revision's requests and errors on a port, read from the router's Prometheus text. */
export function revisionCounts(
  text: string,
  labels: { app: string; port: number; revision: string },
): { requests: number; errors: number } {
  const read = (metric: string): number => {
    const line = text
      .split('\n')
      .find((l) =>
        l.startsWith(
          `plumbline_router_${metric}{app="${labels.app}",port="${labels.port}",revision="${labels.revision}"}`,
        ),
      );
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  return { requests: read('requests_total'), errors: read('errors_total') };
}

/**
 * Judges the new revision by the router's real per-revision counters: once it has taken `minRequests` since
 * the analysis began, Failed when its error rate is above `maxErrorRate`; Inconclusive without enough traffic.
 */
export function routerErrorRate(
  router: RouterClient,
  options: { minRequests: number; maxErrorRate: number; timeoutMs?: number },
): AnalysisRunner {
  return async function errorRate(_templates, context, signal) {
    const labels = {
      app: `${context.environment}/${context.app}`,
      port: context.port,
      revision: context.revision,
    };
    const start = revisionCounts(await router.metrics({ signal }), labels);
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    for (;;) {
      signal.throwIfAborted();
      const now = revisionCounts(await router.metrics({ signal }), labels);
      const requests = now.requests - start.requests;
      const errors = now.errors - start.errors;
      if (requests >= options.minRequests) {
        const rate = errors / requests;
        const metrics = { requests, errors, rate };
        return rate > options.maxErrorRate
          ? { phase: 'Failed', message: `error rate ${rate.toFixed(3)} > ${options.maxErrorRate}`, metrics }
          : { phase: 'Successful', message: `error rate ${rate.toFixed(3)}`, metrics };
      }
      if (Date.now() > deadline) {
        return { phase: 'Inconclusive', message: `only ${requests} requests`, metrics: { requests, errors } };
      }
      await new Promise((wake) => setTimeout(wake, 50));
    }
  };
}

/** Judges by real requests to the analysed port: Successful when `count` GETs all answer 200. */
export function httpProbe(count = 5): AnalysisRunner {
  return async function probe(_templates, context) {
    for (let i = 0; i < count; i++) {
      const answer = await send(`http://127.0.0.1:${context.port}/`);
      if (answer.status !== 200)
        return { phase: 'Failed', message: `HTTP ${answer.status} from the preview` };
    }
    return { phase: 'Successful', message: `${count} requests answered 200` };
  };
}

/** Polls until `check` gives a value (not undefined or false); throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 25));
  }
}

/** Collects a rollout's events. */
export function eventLog(): {
  events: RolloutEvent[];
  onEvent: (event: RolloutEvent) => void;
  types(): string[];
} {
  const events: RolloutEvent[] = [];
  return {
    events,
    onEvent: (event) => events.push(event),
    types: () => events.map((event) => event.type),
  };
}

/** The ids of the supervisor's instances of an app. */
export async function runningIds(supervisor: SupervisorClient, app = 'test/web/'): Promise<string[]> {
  return (await supervisor.list())
    .filter((i) => i.id.startsWith(app) && i.state === 'running')
    .map((i) => i.id)
    .sort();
}
