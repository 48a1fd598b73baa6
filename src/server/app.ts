// The controller's HTTP API (Fastify): routes registered one by one below, each with its access level and
// JSON Schemas; one error handler maps every error to a status; server-sent events stream what happens.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type RawServerDefault,
} from 'fastify';
import { z } from 'zod';
import type { Plan } from '../gitops/types.js';
import type { ControllerStore } from '../store/controller-store.js';
import { type Access, authorize, createToken, type Principal } from './auth.js';
import {
  type AppRolloutStatus,
  type AppStatus,
  CONTROLLER_EVENT,
  type ControllerApi,
  type ControllerEvent,
  type EnvironmentStatus,
  type LogLine,
  type RolloutApi,
  type SyncAccepted,
  type SyncRecord,
} from './controller-api.js';
import { ConflictError, httpErrorFor, NotFoundError } from './errors.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import {
  type ActionBody,
  type AppParams,
  actionBodySchema,
  appParamsSchema,
  appRolloutStatusSchema,
  appStatusSchema,
  type CreatedToken,
  type CreateTokenBody,
  controllerEventSchema,
  createdTokenSchema,
  createTokenBodySchema,
  type EnvParams,
  type EventsQuery,
  environmentStatusSchema,
  envParamsSchema,
  errorBodySchema,
  eventsQuerySchema,
  type HistoryQuery,
  healthSchema,
  historyQuerySchema,
  jsonSchema,
  type LogsQuery,
  logLineSchema,
  logsQuerySchema,
  type PromoteBody,
  planSchema,
  promoteBodySchema,
  type RollbackBody,
  rollbackBodySchema,
  type SyncBody,
  syncAcceptedSchema,
  syncBodySchema,
  syncRecordSchema,
} from './schemas.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; a route without one is admin-only (fail closed). */
    access?: Access;
  }
  interface FastifyRequest {
    /** Set by the access check: a token's holder, a loopback reader, or undefined on public routes. */
    principal: Principal | undefined;
  }
}

export const HEARTBEAT_MS = 15_000;

/** The server `buildServer` returns: Fastify over node:http with our pino logger. */
export type PlumblineServer = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>;

export interface BuildServerOptions {
  readonly store: ControllerStore;
  readonly controller: ControllerApi;
  readonly logger: Logger;
  /** Require a token from loopback too (default false: local reads need none). */
  readonly tokenRequired?: boolean;
  /** The metrics the controller updates (default: a fresh set). */
  readonly metrics?: Metrics;
  /** Comment lines on the event stream keep proxies from closing it (default 15 s). */
  readonly heartbeatMs?: number;
}

const errorResponses = {
  '4xx': jsonSchema(errorBodySchema, 'output'),
  '5xx': jsonSchema(errorBodySchema, 'output'),
};

function ok(schema: z.ZodType): Record<string, unknown> {
  return { 200: jsonSchema(schema, 'output'), ...errorResponses };
}

/** The API, ready to `listen` or `inject`. */
export function buildServer(options: BuildServerOptions): PlumblineServer {
  const { store, controller } = options;
  const tokenRequired = options.tokenRequired ?? false;
  const metrics = options.metrics ?? createMetrics();
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  if (!Number.isInteger(heartbeatMs) || heartbeatMs < 10) {
    throw new RangeError(`heartbeatMs must be an integer of at least 10 (found ${heartbeatMs})`);
  }

  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: () => randomUUID(),
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    // Strict with our own API: an unknown field is an error, not silently removed.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });

  app.decorateRequest('principal', undefined);

  app.addHook('onRequest', async function checkAccess(request: FastifyRequest, reply: FastifyReply) {
    reply.header('x-request-id', request.id);
    const access: Access = request.is404 ? 'viewer' : (request.routeOptions.config.access ?? 'admin');
    request.principal = await authorize(
      store,
      access,
      { authorization: request.headers.authorization, remoteAddress: request.socket.remoteAddress },
      { tokenRequired },
    );
  });

  // The one place errors become HTTP: status from the error's class, a body without stack or cause.
  app.setErrorHandler(function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
    const mapped = httpErrorFor(error);
    if (mapped.internal) request.log.error({ err: error }, 'request failed');
    else request.log.info({ statusCode: mapped.status, code: mapped.body.code }, 'request refused');
    if (mapped.status === 401) reply.header('www-authenticate', 'Bearer realm="plumbline"');
    reply.code(mapped.status).send({ ...mapped.body, requestId: request.id });
  });

  app.setNotFoundHandler(function notFound(request: FastifyRequest) {
    const path = request.url.split('?')[0] ?? '';
    throw new NotFoundError(
      `there is no ${request.method} ${path}`,
      'the routes are /api/v1/environments…, /api/v1/events, /api/v1/tokens, /healthz, /readyz and /metrics',
    );
  });

  async function requireEnvironment(name: string): Promise<EnvironmentStatus> {
    const environment = await controller.getEnvironment(name);
    if (environment === undefined) {
      throw new NotFoundError(
        `environment "${name}" does not exist`,
        'list them with GET /api/v1/environments',
      );
    }
    return environment;
  }

  async function requireApp(environment: string, name: string): Promise<AppStatus> {
    await requireEnvironment(environment);
    const app = (await controller.listApps(environment)).find((candidate) => candidate.name === name);
    if (app === undefined) {
      throw new NotFoundError(
        `app "${name}" does not exist in environment "${environment}"`,
        `list them with GET /api/v1/environments/${environment}/apps`,
      );
    }
    return app;
  }

  // --- health and metrics ---

  app.get<{ Reply: { status: string } }>(
    '/healthz',
    { config: { access: 'public' }, schema: { response: ok(healthSchema) } },
    async function healthz() {
      return { status: 'ok' };
    },
  );

  app.get<{ Reply: { status: string } }>(
    '/readyz',
    {
      config: { access: 'public' },
      schema: { response: { ...ok(healthSchema), 503: jsonSchema(healthSchema, 'output') } },
    },
    async function readyz(_request, reply) {
      if (controller.ready()) return { status: 'ready' };
      reply.code(503);
      return { status: 'not ready' };
    },
  );

  app.get(
    '/metrics',
    {
      config: { access: 'viewer' },
      schema: {
        response: { 200: { content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses },
      },
    },
    async function metricsText(_request, reply) {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );

  // --- environments ---

  app.get<{ Reply: readonly EnvironmentStatus[] }>(
    '/api/v1/environments',
    { config: { access: 'viewer' }, schema: { response: ok(z.array(environmentStatusSchema)) } },
    async function listEnvironments() {
      return controller.listEnvironments();
    },
  );

  app.get<{ Params: EnvParams; Reply: EnvironmentStatus }>(
    '/api/v1/environments/:env',
    {
      config: { access: 'viewer' },
      schema: { params: jsonSchema(envParamsSchema), response: ok(environmentStatusSchema) },
    },
    async function getEnvironment(request) {
      return requireEnvironment(request.params.env);
    },
  );

  app.get<{ Params: EnvParams; Reply: readonly AppStatus[] }>(
    '/api/v1/environments/:env/apps',
    {
      config: { access: 'viewer' },
      schema: { params: jsonSchema(envParamsSchema), response: ok(z.array(appStatusSchema)) },
    },
    async function listApps(request) {
      await requireEnvironment(request.params.env);
      return controller.listApps(request.params.env);
    },
  );

  app.get<{ Params: EnvParams; Querystring: HistoryQuery; Reply: readonly SyncRecord[] }>(
    '/api/v1/environments/:env/history',
    {
      config: { access: 'viewer' },
      schema: {
        params: jsonSchema(envParamsSchema),
        querystring: jsonSchema(historyQuerySchema),
        response: ok(z.array(syncRecordSchema)),
      },
    },
    async function history(request) {
      await requireEnvironment(request.params.env);
      return controller.history(request.params.env, request.query.limit);
    },
  );

  app.post<{ Params: EnvParams; Body: SyncBody; Reply: SyncAccepted }>(
    '/api/v1/environments/:env/sync',
    {
      config: { access: 'operator' },
      // A bare POST (no body) syncs the whole environment: validate it as `{}`.
      preValidation: async function emptyBodyIsEmptyObject(request) {
        request.body ??= {};
      },
      schema: {
        params: jsonSchema(envParamsSchema),
        body: jsonSchema(syncBodySchema),
        response: { 202: jsonSchema(syncAcceptedSchema, 'output'), ...errorResponses },
      },
    },
    async function requestSync(request, reply) {
      const { env } = request.params;
      const appName = request.body.app;
      if (appName === undefined) await requireEnvironment(env);
      else await requireApp(env, appName);
      const accepted = await controller.requestSync(env, appName);
      request.log.info(
        { environment: env, app: appName, syncId: accepted.syncId, by: who(request) },
        'sync requested',
      );
      reply.code(202);
      return accepted;
    },
  );

  app.get<{ Params: EnvParams; Reply: Plan }>(
    '/api/v1/environments/:env/diff',
    {
      config: { access: 'viewer' },
      schema: { params: jsonSchema(envParamsSchema), response: ok(planSchema) },
    },
    async function diff(request) {
      await requireEnvironment(request.params.env);
      return controller.diff(request.params.env);
    },
  );

  app.get<{ Params: AppParams; Querystring: LogsQuery; Reply: readonly LogLine[] }>(
    '/api/v1/environments/:env/apps/:app/logs',
    {
      config: { access: 'viewer' },
      schema: {
        params: jsonSchema(appParamsSchema),
        querystring: jsonSchema(logsQuerySchema),
        response: ok(z.array(logLineSchema)),
      },
    },
    async function logs(request) {
      const { env, app: appName } = request.params;
      await requireApp(env, appName);
      return controller.logs(env, appName, request.query.tail);
    },
  );

  // --- rollouts: status and actions, pins and rollbacks ---

  function rollouts(): RolloutApi {
    if (controller.rollouts === undefined) {
      throw new ConflictError(
        'this controller runs no rollouts',
        'canary and blue-green need the local target and its router',
      );
    }
    return controller.rollouts;
  }

  // A bare POST (no body) is `{}`.
  async function emptyBodyIsEmptyObject(request: FastifyRequest): Promise<void> {
    request.body ??= {};
  }

  app.get<{ Params: AppParams; Reply: AppRolloutStatus }>(
    '/api/v1/environments/:env/apps/:app/rollout',
    {
      config: { access: 'viewer' },
      schema: { params: jsonSchema(appParamsSchema), response: ok(appRolloutStatusSchema) },
    },
    async function rolloutStatus(request) {
      const { env, app: appName } = request.params;
      await requireApp(env, appName);
      return rollouts().status(env, appName);
    },
  );

  app.post<{ Params: AppParams; Body: PromoteBody; Reply: AppRolloutStatus }>(
    '/api/v1/environments/:env/apps/:app/rollout/promote',
    {
      config: { access: 'operator' },
      preValidation: emptyBodyIsEmptyObject,
      schema: {
        params: jsonSchema(appParamsSchema),
        body: jsonSchema(promoteBodySchema),
        response: ok(appRolloutStatusSchema),
      },
    },
    async function promoteRollout(request) {
      const { env, app: appName } = request.params;
      await requireApp(env, appName);
      request.log.info({ environment: env, app: appName, by: who(request) }, 'rollout promote requested');
      return rollouts().promote(env, appName, { full: request.body.full === true }, who(request));
    },
  );

  for (const action of ['abort', 'retry', 'unpin'] as const) {
    const path =
      action === 'unpin'
        ? '/api/v1/environments/:env/apps/:app/unpin'
        : `/api/v1/environments/:env/apps/:app/rollout/${action}`;
    app.post<{ Params: AppParams; Body: ActionBody; Reply: AppRolloutStatus }>(
      path,
      {
        config: { access: 'operator' },
        preValidation: emptyBodyIsEmptyObject,
        schema: {
          params: jsonSchema(appParamsSchema),
          body: jsonSchema(actionBodySchema),
          response: ok(appRolloutStatusSchema),
        },
      },
      async function rolloutAction(request) {
        const { env, app: appName } = request.params;
        await requireApp(env, appName);
        request.log.info({ environment: env, app: appName, by: who(request) }, `${action} requested`);
        return rollouts()[action](env, appName, who(request));
      },
    );
  }

  app.post<{ Params: AppParams; Body: RollbackBody; Reply: AppRolloutStatus }>(
    '/api/v1/environments/:env/apps/:app/rollback',
    {
      config: { access: 'operator' },
      preValidation: emptyBodyIsEmptyObject,
      schema: {
        params: jsonSchema(appParamsSchema),
        body: jsonSchema(rollbackBodySchema),
        response: ok(appRolloutStatusSchema),
      },
    },
    async function rollback(request) {
      const { env, app: appName } = request.params;
      await requireApp(env, appName);
      const { to, revert, reason } = request.body;
      request.log.info(
        { environment: env, app: appName, to, revert: revert === true, by: who(request) },
        'rollback requested',
      );
      return rollouts().rollback(
        env,
        appName,
        {
          ...(to === undefined ? {} : { to }),
          ...(revert === undefined ? {} : { revert }),
          ...(reason === undefined ? {} : { reason }),
        },
        who(request),
      );
    },
  );

  // --- tokens ---

  app.post<{ Body: CreateTokenBody; Reply: CreatedToken }>(
    '/api/v1/tokens',
    {
      config: { access: 'admin' },
      schema: {
        body: jsonSchema(createTokenBodySchema),
        response: { 201: jsonSchema(createdTokenSchema, 'output'), ...errorResponses },
      },
    },
    async function createApiToken(request, reply) {
      const { name, role } = request.body;
      const created = await createToken(store, {
        name,
        role,
        actor: { kind: request.principal?.kind === 'loopback' ? 'person' : 'token', id: who(request) },
      });
      request.log.info({ tokenId: created.id, role, by: who(request) }, 'token created');
      reply.code(201);
      return { id: created.id, name, role, token: created.token };
    },
  );

  // --- events: server-sent events ---

  const openStreams = new Set<() => void>();

  app.get<{ Querystring: EventsQuery }>(
    '/api/v1/events',
    {
      config: { access: 'viewer' },
      schema: {
        querystring: jsonSchema(eventsQuerySchema),
        response: {
          200: { content: { 'text/event-stream': { schema: { type: 'string' } } } },
          ...errorResponses,
        },
      },
    },
    function streamEvents(request, reply) {
      const only = request.query.environment;
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      raw.write(`retry: 3000\n: connected\n\n`);
      let sequence = 0;

      function onEvent(event: ControllerEvent): void {
        if (only !== undefined && event.environment !== only) return;
        const data = eventData(event);
        if (data === undefined) {
          request.log.warn({ type: event.type }, 'event dropped: it does not serialize to JSON');
          return;
        }
        sequence += 1;
        raw.write(`id: ${sequence}\ndata: ${data}\n\n`);
      }
      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), heartbeatMs);

      function cleanup(): void {
        clearInterval(heartbeat);
        controller.events.off(CONTROLLER_EVENT, onEvent);
        openStreams.delete(end);
      }
      function end(): void {
        cleanup();
        raw.end();
      }
      controller.events.on(CONTROLLER_EVENT, onEvent);
      openStreams.add(end);
      raw.on('close', cleanup);
      request.log.debug({ environment: only }, 'event stream opened');
    },
  );

  // Open streams would hold `close()` forever: end them first.
  app.addHook('preClose', async function endStreams() {
    for (const end of [...openStreams]) end();
  });

  return app;
}

/** Who made a request, for audit lines (never the token). */
function who(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal === undefined) return 'anonymous';
  return principal.kind === 'loopback' ? 'loopback' : `token:${principal.id}`;
}

/** One event as a `data:` line: only the fields of the wire schema, JSON (no raw newlines). */
function eventData(event: ControllerEvent): string | undefined {
  const parsed = controllerEventSchema.safeParse(event);
  if (!parsed.success) return undefined;
  try {
    return JSON.stringify(parsed.data);
  } catch {
    return undefined;
  }
}
