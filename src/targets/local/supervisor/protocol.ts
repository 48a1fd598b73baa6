// The supervisor's data contracts: instance ids, specs and statuses, with the zod schemas the admin API and
// its client validate them with.
import { z } from 'zod';

/** One segment of an instance id: a name, safe as a file name (it becomes part of a log path). */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** An instance id is `env/app/revision/index`. */
export interface InstanceId {
  readonly environment: string;
  readonly app: string;
  readonly revision: string;
  readonly index: number;
}

/** Parses `env/app/revision/index`; returns a message instead when it is not one. */
export function parseInstanceId(id: string): InstanceId | { readonly error: string } {
  const parts = id.split('/');
  if (parts.length !== 4) return { error: `instance id ${JSON.stringify(id)} is not env/app/revision/index` };
  const [environment, app, revision, index] = parts as [string, string, string, string];
  for (const [name, value] of [
    ['environment', environment],
    ['app', app],
    ['revision', revision],
  ] as const) {
    if (!SEGMENT.test(value) || value.includes('..')) {
      return { error: `instance id ${JSON.stringify(id)}: ${name} must match ${SEGMENT.source}` };
    }
  }
  if (!/^(0|[1-9][0-9]{0,5})$/.test(index)) {
    return { error: `instance id ${JSON.stringify(id)}: index must be a small non-negative integer` };
  }
  return { environment, app, revision, index: Number(index) };
}

export function isInstanceId(value: InstanceId | { readonly error: string }): value is InstanceId {
  return !('error' in value);
}

export const instanceSpecSchema = z.strictObject({
  /** The program and its arguments, spawned without a shell. */
  command: z.array(z.string().min(1)).min(1).max(1024),
  /** An absolute working directory. */
  cwd: z.string().min(1).startsWith('/', 'cwd must be an absolute path'),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name'), z.string()),
  /** The port the instance listens on; set as PORT in its environment. */
  port: z.int().min(1).max(65535),
  /** How long a stop waits after SIGTERM before SIGKILL; the supervisor's default when absent. */
  graceMs: z.int().min(0).max(3_600_000).optional(),
  /**
   * Decrypted secrets for the environment: kept in the supervisor's memory and the process's environment
   * only — never in its state file, never in what `list` and `get` answer (see `publicSpec`).
   */
  secretEnv: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name'), z.string())
    .optional(),
});

/** A spec without its secrets: what is persisted and what the admin API shows. */
export function publicSpec(spec: InstanceSpec): InstanceSpec {
  if (spec.secretEnv === undefined) return spec;
  const { secretEnv: _hidden, ...rest } = spec;
  return rest;
}

export type InstanceSpec = z.infer<typeof instanceSpecSchema>;

export const INSTANCE_STATES = ['starting', 'running', 'backoff', 'stopping', 'stopped', 'failed'] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

export const instanceStatusSchema = z.object({
  id: z.string(),
  spec: instanceSpecSchema,
  state: z.enum(INSTANCE_STATES),
  pid: z.int().optional(),
  /** Restarts after unexpected exits or failed starts, since the instance was created. */
  restarts: z.int(),
  /** Why the instance is `failed` or in `backoff`, for people (cleared once a process is up again). */
  reason: z.string().optional(),
  /** ISO time the current process started. */
  startedAt: z.string().optional(),
  /** ISO time of the next restart while in `backoff` or `failed`. */
  nextRestartAt: z.string().optional(),
  lastExit: z
    .object({
      code: z.int().nullable(),
      signal: z.string().nullable(),
      at: z.string(),
    })
    .optional(),
  logFile: z.string(),
});

export type InstanceStatus = z.infer<typeof instanceStatusSchema>;

export const healthResponseSchema = z.object({
  ok: z.literal(true),
  pid: z.int(),
  dir: z.string(),
  startedAt: z.string(),
  instances: z.int(),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;

export const listResponseSchema = z.object({ instances: z.array(instanceStatusSchema) });
export const instanceResponseSchema = z.object({
  instance: instanceStatusSchema,
  /** On PUT: whether the instance was created by this request or already existed with the same spec. */
  created: z.boolean().optional(),
});
export const logsResponseSchema = z.object({ id: z.string(), lines: z.array(z.string()) });
export const errorResponseSchema = z.object({ error: z.string(), message: z.string() });

/** The error kinds the admin API answers with (`error` in the body). */
export type AdminErrorKind =
  | 'bad_request'
  | 'not_found'
  | 'conflict'
  | 'method_not_allowed'
  | 'too_large'
  | 'unavailable'
  | 'internal';

/** Two specs are the same when their canonical JSON is (environment order does not matter). */
export function sameSpec(a: InstanceSpec, b: InstanceSpec): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
      return sorted;
    }
    return v;
  });
}
