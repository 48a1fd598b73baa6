// Starting the controller: the store, the supervisor and router (started detached, or re-adopted when they
// already run), the reconcile loops, and the HTTP API with the Git webhook. Used by `plumbline up` and tests.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { registerAuditRoutes } from '../audit/api.js';
import { Checkpointer, filePublisher, gitRefPublisher } from '../audit/checkpoint.js';
import { keyLocation, loadOrCreateSigner } from '../audit/note.js';
import { AuditLedger, setDurability } from '../audit/store.js';
import { buildServer, type PlumblineServer } from '../server/app.js';
import { createMetrics } from '../server/metrics.js';
import {
  createSecretResolver,
  loadIdentity,
  type SecretResolver,
  vaultOptionsFromEnv,
} from '../sops/index.js';
import { type ControllerStore, openControllerStore } from '../store/controller-store.js';
import { ensureRouter } from '../targets/local/router/client.js';
import { ensureSupervisor } from '../targets/local/supervisor/client.js';
import { LocalTarget } from '../targets/local/target.js';
import { Controller } from './controller.js';
import { verifyWebhook } from './webhooks.js';

export interface UpOptions {
  readonly repo: string;
  readonly branch: string;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  /** Shared secret of the Git webhook; without one, webhooks are refused. */
  readonly webhookSecret?: string;
  /** Overrides every environment's poll interval (tests). */
  readonly intervalMs?: number;
  /** How often a release folder is compared with Git, per app (default 60 s). */
  readonly releaseCheckMs?: number;
  readonly healthDeadlineMs?: number;
  /** The controller's age identity for SOPS secrets: a file, or the name of an environment variable. */
  readonly ageIdentityFile?: string;
  readonly ageIdentityEnv?: string;
  /** How often new audit entries get a signed checkpoint at the latest (default 30 s; tests shorten it). */
  readonly auditCheckpointMs?: number;
  /** A Git repository (path) to publish signed audit checkpoints to, at refs/plumbline/checkpoints. */
  readonly auditRepo?: string;
  /** The supervisor's and router's entry points (default: beside their clients in dist/; tests from sources set them). */
  readonly scripts?: { readonly supervisor?: string; readonly router?: string };
}

export interface Running {
  readonly controller: Controller;
  readonly server: PlumblineServer;
  readonly store: ControllerStore;
  /** The API's address, e.g. http://127.0.0.1:7070. */
  readonly url: string;
  /** Stops the controller and the API; apps, supervisor and router keep running. */
  stop(): Promise<void>;
}

export async function up(options: UpOptions): Promise<Running> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const { logger } = options;
  const secrets = await secretResolver(options);
  const store = await openControllerStore({ dataDir });
  const supervisor = await ensureSupervisor({
    dir: join(dataDir, 'supervisor'),
    ...(options.scripts?.supervisor === undefined ? {} : { script: options.scripts.supervisor }),
  });
  mkdirSync(join(dataDir, 'router'), { recursive: true });
  const router = await ensureRouter({
    socket: join(dataDir, 'router', 'router.sock'),
    state: join(dataDir, 'router', 'routes.json'),
    ...(options.scripts?.router === undefined ? {} : { script: options.scripts.router }),
  });
  logger.info(
    { supervisorPid: supervisor.pid, routerPid: router.pid, adopted: !supervisor.started && !router.started },
    supervisor.started ? 'started the supervisor and router' : 're-adopted the running supervisor and router',
  );
  const metrics = createMetrics();
  // The audit ledger shares the store's connection (its entries commit with the state they describe), made
  // durable on every commit; its signing key lives beside the store, never in it.
  const ledger = new AuditLedger(store.db);
  await setDurability(store.db, 'FULL');
  const { signer } = loadOrCreateSigner(keyLocation(dataDir));
  const checkpointer = new Checkpointer({
    ledger,
    signer,
    everyEntries: 100,
    everyMs: options.auditCheckpointMs ?? 30_000,
    publishers: [
      filePublisher(join(dataDir, 'audit-checkpoints')),
      ...(options.auditRepo === undefined ? [] : [gitRefPublisher({ repo: resolve(options.auditRepo) })]),
    ],
    logger: {
      info: (fields, message) => logger.info(fields, message),
      warn: (fields, message) => logger.warn(fields, message),
    },
  });
  const controller = new Controller({
    repo: options.repo,
    branch: options.branch,
    dataDir,
    store,
    target: new LocalTarget({
      supervisor: supervisor.client,
      router: router.client,
      ...(options.healthDeadlineMs === undefined ? {} : { healthDeadlineMs: options.healthDeadlineMs }),
    }),
    logger,
    metrics,
    supervisor: supervisor.client,
    router: router.client,
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    ...(options.releaseCheckMs === undefined ? {} : { releaseCheckMs: options.releaseCheckMs }),
    ...(secrets === undefined ? {} : { secrets }),
    ledger,
  });
  const server = buildServer({ store, controller, logger, metrics });
  registerWebhook(server, controller, options);
  registerAuditRoutes(server, { ledger, verifierKey: signer.verifierKey });
  checkpointer.start();
  await controller.start();
  const url = await server.listen({ host: options.host, port: options.port });
  return {
    controller,
    server,
    store,
    url,
    async stop() {
      await controller.stop();
      await server.close();
      await checkpointer.stop(); // the final checkpoint covers everything appended
      await store.close();
    },
  };
}

/**
 * The resolver of Apps' secret references: SOPS files need the age identity named at start-up (a file or an
 * environment variable, never the repository), Vault needs VAULT_ADDR and credentials. Neither: none.
 */
async function secretResolver(options: UpOptions): Promise<SecretResolver | undefined> {
  const vault = vaultOptionsFromEnv();
  const named = options.ageIdentityFile !== undefined || options.ageIdentityEnv !== undefined;
  if (!named && vault === undefined) return undefined;
  const identity = named
    ? await loadIdentity({
        ...(options.ageIdentityFile === undefined ? {} : { file: options.ageIdentityFile }),
        ...(options.ageIdentityEnv === undefined ? {} : { envVar: options.ageIdentityEnv }),
      })
    : undefined;
  return createSecretResolver({
    ...(identity === undefined ? { digestKey: digestKey(resolve(options.dataDir)) } : { identity }),
    ...(vault === undefined ? {} : { vault }),
  });
}

/** A random key kept in the data directory (0600): secret digests stay the same across restarts. */
function digestKey(dataDir: string): Uint8Array {
  const file = join(dataDir, 'secret-digest.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32), { mode: 0o600, flag: 'wx' });
  return readFileSync(file);
}

/** `POST /api/v1/webhooks/git`: GitHub, Gitea or GitLab push events, signature verified over the raw body. */
function registerWebhook(server: PlumblineServer, controller: Controller, options: UpOptions): void {
  void server.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
      done(null, body),
    );
    scope.post('/api/v1/webhooks/git', { config: { access: 'public' } }, async (request, reply) => {
      const secret = options.webhookSecret;
      if (secret === undefined || secret === '') {
        return reply
          .code(403)
          .send({ error: 'Forbidden', message: 'webhooks are off: start with --webhook-secret-env NAME' });
      }
      const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const verdict = verifyWebhook({ headers: request.headers, rawBody, secret });
      if (!verdict.ok) return reply.code(401).send({ error: 'Unauthorized', message: verdict.reason });
      const branch = verdict.ref?.replace(/^refs\/heads\//, '');
      if (branch !== undefined && branch !== options.branch) {
        return reply
          .code(202)
          .send({ accepted: false, message: `push to ${branch}; watching ${options.branch}` });
      }
      controller.syncAll();
      return reply.code(202).send({ accepted: true, message: 'sync started' });
    });
  });
}
