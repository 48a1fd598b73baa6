// The local target: each App instance is a process owned by the supervisor, behind the router. A deploy
// starts the new instances, waits for their health checks, switches the router (which confirms), then stops
// the old instances — so a bad revision never takes traffic and the old one keeps serving. A progressive
// rollout (src/rollouts) uses the first and last parts on their own: startRevision and stopInstances.
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { DesiredApp } from '../../gitops/types.js';
import type {
  DeployResult,
  LiveApp,
  RevisionInstance,
  RevisionTarget,
  StartRevisionOptions,
  StartRevisionResult,
  Target,
} from '../types.js';
import { waitHealthy } from './health.js';
import type { RouterClient } from './router/client.js';
import { RouterError } from './router/protocol.js';
import type { SupervisorClient } from './supervisor/client.js';
import type { InstanceStatus } from './supervisor/protocol.js';

export interface LocalTargetOptions {
  readonly supervisor: SupervisorClient;
  readonly router: RouterClient;
  /** How long new instances get to pass their health check. */
  readonly healthDeadlineMs?: number;
  /** SIGTERM → SIGKILL grace for old instances. */
  readonly stopGraceMs?: number;
}

/** `env/app/h<spec hash>/<index>`: the revision segment is the spec hash, so an unchanged app is not redeployed. */
export function instanceId(
  app: { environment: string; name: string; specHash: string },
  index: number,
): string {
  return `${app.environment}/${app.name}/h${app.specHash.slice(0, 12)}/${index}`;
}

export class LocalTarget implements Target, RevisionTarget {
  readonly #supervisor: SupervisorClient;
  readonly #router: RouterClient;
  readonly #deadlineMs: number;
  readonly #graceMs: number;
  /** Per environment, the ports its Apps declare: never handed to an instance. */
  readonly #reserved = new Map<string, ReadonlySet<number>>();

  constructor(options: LocalTargetOptions) {
    this.#supervisor = options.supervisor;
    this.#router = options.router;
    this.#deadlineMs = options.healthDeadlineMs ?? 60_000;
    this.#graceMs = options.stopGraceMs ?? 10_000;
  }

  reservePorts(environment: string, ports: readonly number[]): void {
    this.#reserved.set(environment, new Set(ports));
  }

  #isReserved(port: number): boolean {
    for (const ports of this.#reserved.values()) if (ports.has(port)) return true;
    return false;
  }

  async deploy(app: DesiredApp, releaseDir: string, signal: AbortSignal): Promise<DeployResult> {
    const prefix = `${app.environment}/${app.name}/`;
    const existing = (await this.#supervisor.list({ signal })).filter((i) => i.id.startsWith(prefix));
    const started = await this.#startRevision(app, releaseDir, existing, { signal });
    if (!started.ok) return started;
    const wanted = started.instances.map((i) => i.id);
    const old = existing.filter((i) => !wanted.includes(i.id));

    try {
      await this.#router.setRoutes(
        app.spec.port,
        `${app.environment}/${app.name}`,
        started.instances.map((instance) => ({ ...instance, weight: 1 })),
        { signal },
      );
    } catch (error) {
      // The port cannot be served (something else listens there): this app fails, the others go on.
      if (!(error instanceof RouterError) || error.status !== 409) throw error;
      for (const id of wanted) {
        if (!existing.some((i) => i.id === id)) await this.#supervisor.stop(id, this.#graceMs, { signal });
      }
      return {
        ok: false,
        reason: 'PortUnavailable',
        message: `${error.message}${error.hint === undefined ? '' : ` (${error.hint})`}; the previous revision keeps serving`,
      };
    }
    for (const instance of old) await this.#supervisor.stop(instance.id, this.#graceMs, { signal });
    return { ok: true, instances: wanted };
  }

  async startRevision(
    app: DesiredApp,
    releaseDir: string,
    options: StartRevisionOptions,
  ): Promise<StartRevisionResult> {
    const prefix = `${app.environment}/${app.name}/`;
    const existing = (await this.#supervisor.list({ signal: options.signal })).filter((i) =>
      i.id.startsWith(prefix),
    );
    return await this.#startRevision(app, releaseDir, existing, options);
  }

  instanceIds(app: DesiredApp): string[] {
    return Array.from({ length: app.spec.replicas }, (_, i) => instanceId(app, i));
  }

  async stopInstances(ids: readonly string[], signal: AbortSignal): Promise<void> {
    await Promise.all(ids.map((id) => this.#supervisor.stop(id, this.#graceMs, { signal })));
  }

  /** Starts the replicas that are not running yet and waits for all to be healthy; `existing`: the app's instances. */
  async #startRevision(
    app: DesiredApp,
    releaseDir: string,
    existing: readonly InstanceStatus[],
    options: StartRevisionOptions,
  ): Promise<StartRevisionResult> {
    const { signal } = options;
    const avoid = new Set([app.spec.port, ...(options.avoidPorts ?? [])]);
    const revision = options.revision ?? app.revision.slice(0, 12);
    const wanted = this.instanceIds(app);
    const started: { id: string; port: number }[] = [];
    for (const id of wanted) {
      const running = existing.find((i) => i.id === id);
      const port = running?.spec.port ?? (await freePort((p) => avoid.has(p) || this.#isReserved(p)));
      if (running === undefined) {
        await this.#supervisor.start(
          id,
          {
            command: [...app.spec.process.command],
            cwd: join(releaseDir, app.spec.process.cwd),
            env: { ...app.spec.process.env, PORT: String(port) },
            // Decrypted secrets: the supervisor keeps them in memory only (never in its state file or answers).
            ...(app.secretEnv === undefined ? {} : { secretEnv: { ...app.secretEnv } }),
            port,
            graceMs: this.#graceMs,
          },
          { signal },
        );
      }
      started.push({ id, port });
    }

    // Health first: nothing takes traffic before it answers its health check — and the answer must come
    // from our instance: one that exited meanwhile is a failure even if something else took its port.
    const since = Date.now() - 1000;
    const results = await Promise.all(
      started.map(async ({ id, port }) => ({
        id,
        result: await this.#waitInstanceHealthy(
          id,
          `http://127.0.0.1:${port}${app.spec.health.http.path}`,
          since,
          app,
          signal,
        ),
      })),
    );
    const failed = results.find((r) => !r.result.ok);
    if (failed !== undefined) {
      const status = await this.#supervisor.get(failed.id, { signal });
      const exit =
        status?.lastExit === undefined
          ? ''
          : `; it exited with ${status.lastExit.signal ?? `code ${status.lastExit.code}`} (${status.restarts} restarts)`;
      for (const { id } of started) {
        if (!existing.some((i) => i.id === id)) await this.#supervisor.stop(id, this.#graceMs, { signal });
      }
      return {
        ok: false,
        reason: 'HealthCheckFailed',
        message: `instance ${failed.id} did not pass its health check (${app.spec.health.http.path}) within ${Math.round(this.#deadlineMs / 1000)}s: ${failed.result.error ?? `HTTP ${failed.result.status}`}${exit}; the previous revision keeps serving`,
      };
    }
    return {
      ok: true,
      instances: started.map(
        ({ id, port }): RevisionInstance => ({ id, url: `http://127.0.0.1:${port}`, revision }),
      ),
    };
  }

  async #waitInstanceHealthy(
    id: string,
    url: string,
    since: number,
    app: DesiredApp,
    signal: AbortSignal,
  ): Promise<{ ok: boolean; status?: number; error?: string }> {
    const deadline = Date.now() + this.#deadlineMs;
    let pause = Math.min(20, app.spec.health.intervalMs);
    for (;;) {
      const status = await this.#supervisor.get(id, { signal });
      const exited = status?.lastExit !== undefined && Date.parse(status.lastExit.at) >= since;
      if (status === undefined || exited || status.state === 'failed') {
        return {
          ok: false,
          error: status === undefined ? 'the instance is gone' : (status.reason ?? 'the process exited'),
        };
      }
      const remaining = deadline - Date.now();
      const probe = await waitHealthy(url, {
        intervalMs: Math.min(app.spec.health.intervalMs, 500),
        timeoutMs: app.spec.health.timeoutMs,
        deadlineMs: Math.max(1, Math.min(500, remaining)),
        signal,
      });
      if (probe.ok) {
        const after = await this.#supervisor.get(id, { signal });
        if (
          after?.state === 'running' &&
          after.pid === status.pid &&
          after.lastExit?.at === status.lastExit?.at
        )
          return probe;
      }
      if (Date.now() >= deadline) return probe;
      // Not healthy yet: wait before asking the supervisor and probing again (no busy loop while it starts),
      // briefly at first — most apps listen within a few tens of milliseconds — then up to 250 ms.
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, app.spec.health.intervalMs, 250);
    }
  }

  async remove(environment: string, name: string, port: number, signal: AbortSignal): Promise<void> {
    const prefix = `${environment}/${name}/`;
    const routes = await this.#router.routes({ signal });
    if (routes.routes.some((r) => r.port === port && r.app === `${environment}/${name}`)) {
      await this.#router.removeRoute(port, { signal });
    }
    for (const instance of await this.#supervisor.list({ signal })) {
      if (instance.id.startsWith(prefix)) await this.#supervisor.stop(instance.id, this.#graceMs, { signal });
    }
  }

  async observe(environment: string, signal: AbortSignal): Promise<LiveApp[]> {
    const [instances, routes] = await Promise.all([
      this.#supervisor.list({ signal }),
      this.#router.routes({ signal }),
    ]);
    const byApp = new Map<string, LiveApp>();
    for (const instance of instances) {
      const [env, name, hash] = instance.id.split('/');
      if (env !== environment || name === undefined) continue;
      const live = byApp.get(name);
      const entry = { id: instance.id, state: instance.state, restarts: instance.restarts };
      const routed = routes.routes.some(
        (r) => r.app === `${env}/${name}` && r.backends.some((b) => b.id === instance.id),
      );
      byApp.set(name, {
        environment,
        name,
        specHash: hash?.replace(/^h/, ''),
        instances: [...(live?.instances ?? []), entry],
        routed: (live?.routed ?? true) && routed,
      });
    }
    return [...byApp.values()];
  }
}

/**
 * A free TCP port on loopback for an instance, from 20000–32767: below Linux's ephemeral range, so an
 * outgoing connection does not take an instance's port between its allocation and its start.
 */
export async function freePort(excluded: (port: number) => boolean = () => false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12768);
    if (!excluded(port) && (await canBind(port))) return port;
  }
  for (;;) {
    const port = await anyPort();
    if (!excluded(port)) return port;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Whatever port the kernel gives (bind to 0, read it, close). */
function anyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}
