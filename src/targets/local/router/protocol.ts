// The router's data contracts: backends, routes, the routing table and the admin API's answers, with the zod
// schemas the admin API, its client and the state file validate them with.
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { type ErrorCode, PlumblineError } from '../../../errors.js';

/** `http://HOST:PORT` with nothing after the port: where one instance of an app listens. */
export const backendUrlSchema = z
  .string()
  .max(2048)
  .refine(isBackendUrl, 'must be http://HOST:PORT with no path, query or credentials');

export const backendSchema = z.strictObject({
  /** Unique within a route; the supervisor's instance id fits (`env/app/revision/index`). */
  id: z.string().min(1).max(512),
  url: backendUrlSchema,
  revision: z.string().min(1).max(256),
  /** Share of new requests relative to the other backends of the route; 0 takes none (a standby). */
  weight: z.int().min(0).max(1_000_000).default(1),
});
export type Backend = z.output<typeof backendSchema>;
export type BackendInput = z.input<typeof backendSchema>;

/** An HTTP header name (a token, RFC 9110 §5.1). */
const headerNameSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'must be an HTTP header name, e.g. X-Canary');

/**
 * How a route treats some requests besides the weighted pick (a canary sets these). `stickiness: cookie`:
 * the router names the revision that answered in a cookie, and a request carrying it goes to that revision
 * while it has weight. `headerRoute`: a request whose header `name` equals `value` goes only to `revision`.
 */
export const routeOptionsSchema = z.strictObject({
  stickiness: z.literal('cookie').optional(),
  headerRoute: z
    .strictObject({
      name: headerNameSchema,
      value: z.string().min(1).max(4096),
      revision: z.string().min(1).max(256),
    })
    .optional(),
});
export type RouteOptions = z.infer<typeof routeOptionsSchema>;

/** The body of `PUT /v1/routes/:port`. */
export const routeBodySchema = z
  .strictObject({
    app: z.string().min(1).max(256),
    backends: z.array(backendSchema).max(1024),
    options: routeOptionsSchema.optional(),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.backends.forEach((backend, index) => {
      if (seen.has(backend.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['backends', index, 'id'],
          message: `duplicate backend id ${JSON.stringify(backend.id)}`,
        });
      }
      seen.add(backend.id);
    });
  });
export type RouteBody = z.output<typeof routeBodySchema>;

/** A port the router listens on; 0 asks for any free port (the answer names the one bound). */
export const portSchema = z.int().min(0).max(65535);

export const backendStatusSchema = backendSchema.extend({
  /** Requests being forwarded to this backend right now. */
  inflight: z.int(),
});

export const routeStatusSchema = z.object({
  port: z.int(),
  app: z.string(),
  /** The generation that last set this route. */
  generation: z.int(),
  backends: z.array(backendStatusSchema),
  options: routeOptionsSchema.optional(),
});
export type RouteStatus = z.infer<typeof routeStatusSchema>;

export const routeTableSchema = z.object({
  generation: z.int(),
  routes: z.array(routeStatusSchema),
  /** Backends no route names any more that still have requests in flight (old revisions draining). */
  draining: z.array(z.object({ url: z.string(), inflight: z.int() })),
});
export type RouteTable = z.infer<typeof routeTableSchema>;

export const setRouteResponseSchema = z.object({ generation: z.int(), port: z.int() });
export type SetRouteResponse = z.infer<typeof setRouteResponseSchema>;

export const removeRouteResponseSchema = z.object({
  generation: z.int(),
  port: z.int(),
  /** False when the port had no route (the DELETE is idempotent). */
  removed: z.boolean(),
});
export type RemoveRouteResponse = z.infer<typeof removeRouteResponseSchema>;

export const healthResponseSchema = z.object({
  ok: z.literal(true),
  pid: z.int(),
  generation: z.int(),
  routes: z.int(),
  startedAt: z.string(),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;

/** One (app, port, revision)'s counters since the router started; `buckets` per bucket, +Inf last. */
export const revisionStatsSchema = z.object({
  app: z.string(),
  port: z.int(),
  revision: z.string(),
  requests: z.int().min(0),
  /** 5xx answers and failed backend connections (each attempt counts). */
  errors: z.int().min(0),
  durationSum: z.number().min(0),
  buckets: z.array(z.int().min(0)),
});
export type RevisionStats = z.infer<typeof revisionStatsSchema>;

/** The body of `GET /v1/stats`: a snapshot of every revision's counters, for canary analysis. */
export const statsResponseSchema = z.object({
  /** With startedAt, tells a restarted router (whose counters began again at 0) from the same one. */
  pid: z.int(),
  startedAt: z.string(),
  /** When the snapshot was taken, in ms on the router's monotonic clock (performance.now()). */
  monotonicMs: z.number(),
  generation: z.int(),
  /** The latency buckets' upper bounds in seconds; each series has one more count, for +Inf. */
  bucketBounds: z.array(z.number()),
  series: z.array(revisionStatsSchema),
});
export type StatsResponse = z.infer<typeof statsResponseSchema>;

export const errorResponseSchema = z.object({ error: z.string(), message: z.string() });

/** The error kinds the admin API answers with (`error` in the body). */
export type AdminErrorKind =
  | 'bad_request'
  | 'not_found'
  | 'conflict'
  | 'method_not_allowed'
  | 'too_large'
  | 'internal';

/** The routing table as the state file keeps it: enough to serve again after a restart. */
export const stateSchema = z.object({
  version: z.literal(1),
  generation: z.int().min(0),
  routes: z.array(
    z.object({
      port: z.int().min(1).max(65535),
      app: z.string(),
      backends: z.array(backendSchema),
      options: routeOptionsSchema.optional(),
    }),
  ),
});
export type RouterState = z.infer<typeof stateSchema>;

/** A failure the router reports to its caller: a port it cannot bind, an admin request it refused, … */
export class RouterError extends PlumblineError {
  /** The admin API's HTTP status when the error came from (or goes to) it. */
  readonly status: number;
  readonly kind: AdminErrorKind;
  constructor(
    kind: AdminErrorKind,
    status: number,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    const code: ErrorCode = kind === 'internal' ? 'PLUMBLINE_E_INTERNAL' : 'PLUMBLINE_E_INPUT';
    super(code, message, options);
    this.status = status;
    this.kind = kind;
  }
}

export function isBackendUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (
    url.protocol === 'http:' &&
    url.port !== '' &&
    url.username === '' &&
    url.password === '' &&
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === '' &&
    !value.endsWith('/')
  );
}

/** The router's pid file: beside the admin socket, `router.sock` → `router.pid`. */
export function pidFileFor(socket: string): string {
  const name = basename(socket).replace(/\.sock$/, '');
  return join(dirname(socket), `${name}.pid`);
}

/** `a.b[2].c: message` for the first issue of a zod error. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const path = issue.path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}
