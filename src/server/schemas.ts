// The HTTP API's wire formats as zod schemas: request types are inferred from them, and Fastify gets them
// as JSON Schema (validation of params, query and body; serialization of responses, which drops any field
// a schema does not list).
import { z } from 'zod';
import { PHASES, type Plan } from '../gitops/types.js';
import { ROLLOUT_PHASES } from '../rollouts/types.js';
import { ROLES, SYNC_RESULTS } from '../store/controller-store.js';
import type {
  AppRolloutStatus,
  AppStatus,
  ControllerEvent,
  EnvironmentStatus,
  LogLine,
  SyncRecord,
} from './controller-api.js';

/** A DNS label, as environments and apps are named in plumbline.yaml. */
export const nameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);

export const envParamsSchema = z.strictObject({ env: nameSchema });
export const appParamsSchema = z.strictObject({ env: nameSchema, app: nameSchema });

export const historyQuerySchema = z.strictObject({ limit: z.number().int().min(1).max(100).default(20) });
export const logsQuerySchema = z.strictObject({ tail: z.number().int().min(1).max(10_000).default(100) });
export const eventsQuerySchema = z.strictObject({ environment: nameSchema.optional() });

export const syncBodySchema = z.strictObject({ app: nameSchema.optional() });
export const promoteBodySchema = z.strictObject({
  /** Skip every step left and promote now. */
  full: z.boolean().optional(),
});
export const actionBodySchema = z.strictObject({});
export const rollbackBodySchema = z.strictObject({
  /** A commit id, or a prefix of at least 4 hex digits, deployed to the app before. */
  to: z
    .string()
    .regex(/^[0-9a-fA-F]{4,64}$/)
    .optional(),
  /** Also push a commit that brings Git back to that revision, then unpin. */
  revert: z.boolean().optional(),
  reason: z.string().min(1).max(500).optional(),
});
export const createTokenBodySchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/),
  role: z.enum(ROLES),
});

const phaseSchema = z.enum(PHASES);

const conditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  at: z.string(),
});

export const environmentStatusSchema = z.object({
  name: z.string(),
  desiredRevision: z.string().nullable(),
  liveRevision: z.string().nullable(),
  phase: phaseSchema,
  conditions: z.array(conditionSchema).readonly(),
  updatedAt: z.string(),
});

export const appStatusSchema = z.object({
  environment: z.string(),
  name: z.string(),
  desiredRevision: z.string().nullable(),
  liveRevision: z.string().nullable(),
  phase: phaseSchema,
  message: z.string(),
  specHash: z.string().nullable(),
  updatedAt: z.string(),
});

export const syncRecordSchema = z.object({
  id: z.string(),
  environment: z.string(),
  revision: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  result: z.enum(SYNC_RESULTS),
  reason: z.string(),
  message: z.string(),
  planSummary: z.object({
    create: z.number().int(),
    update: z.number().int(),
    delete: z.number().int(),
    unchanged: z.number().int(),
    withheld: z.number().int(),
  }),
});

const appSpecSchema = z.object({
  process: z.object({
    command: z.array(z.string()).readonly(),
    cwd: z.string(),
    env: z.record(z.string(), z.string()),
  }),
  port: z.number().int(),
  replicas: z.number().int(),
  health: z.object({
    http: z.object({ path: z.string() }),
    intervalMs: z.number().int(),
    timeoutMs: z.number().int(),
  }),
  dependsOn: z.array(z.string()).readonly(),
});

const appliedAppSchema = z.object({
  environment: z.string(),
  name: z.string(),
  revision: z.string(),
  specHash: z.string(),
  spec: appSpecSchema,
});

const desiredAppSchema = appliedAppSchema.extend({
  source: z.object({ file: z.string(), line: z.number().int() }),
});

export const planSchema = z.object({
  environment: z.string(),
  revision: z.string(),
  steps: z
    .array(
      z.object({
        action: z.enum(['create', 'update', 'delete', 'unchanged']),
        app: z.string(),
        before: appliedAppSchema.optional(),
        after: desiredAppSchema.optional(),
        changes: z.array(z.string()).readonly(),
      }),
    )
    .readonly(),
  withheld: z.array(z.object({ app: z.string(), reason: z.string() })).readonly(),
});

export const logLineSchema = z.object({
  at: z.string(),
  stream: z.enum(['stdout', 'stderr']),
  instance: z.string(),
  line: z.string(),
});

export const controllerEventSchema = z.object({
  type: z.string(),
  at: z.string(),
  environment: z.string().optional(),
  app: z.string().optional(),
  revision: z.string().optional(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).optional(),
});

const analysisPhaseSchema = z.enum(['Successful', 'Failed', 'Inconclusive', 'Error']);

const rolloutFailureSchema = z.object({
  reason: z.enum(['analysis', 'health', 'aborted', 'error']),
  revision: z.string(),
  analysis: z.array(z.string()).readonly().optional(),
  step: z.number().int().optional(),
  message: z.string(),
  at: z.string(),
  restoredAt: z.string().optional(),
});

export const rolloutStatusSchema = z.object({
  environment: z.string(),
  app: z.string(),
  strategy: z.enum(['canary', 'blueGreen']),
  revision: z.string(),
  label: z.string(),
  stableRevision: z.string().nullable(),
  phase: z.enum(ROLLOUT_PHASES),
  message: z.string(),
  step: z.object({ index: z.number().int(), total: z.number().int(), name: z.string() }),
  weights: z.record(z.string(), z.number()),
  preview: z.object({ port: z.number().int(), revision: z.string() }).optional(),
  pause: z
    .object({ reason: z.enum(['step', 'promotion', 'inconclusive']), until: z.string().optional() })
    .optional(),
  analysis: z
    .array(
      z.object({
        step: z.number().int(),
        templates: z.array(z.string()).readonly(),
        port: z.number().int(),
        phase: analysisPhaseSchema,
        message: z.string(),
        /** The measurements behind the verdict (src/rollouts/analysis MetricResult[]). */
        metrics: z.unknown().optional(),
        at: z.string(),
      }),
    )
    .readonly(),
  failure: rolloutFailureSchema.optional(),
  attempt: z.number().int(),
  startedAt: z.string(),
  updatedAt: z.string(),
});

export const appRolloutStatusSchema = z.object({
  environment: z.string(),
  app: z.string(),
  desiredRevision: z.string().nullable(),
  liveRevision: z.string().nullable(),
  phase: phaseSchema,
  message: z.string(),
  active: z.boolean(),
  rollout: rolloutStatusSchema.nullable(),
  pin: z
    .object({ revision: z.string(), pinnedBy: z.string(), reason: z.string(), createdAt: z.string() })
    .nullable(),
  quarantine: z
    .array(
      z.object({ revision: z.string(), specHash: z.string(), reason: z.string(), createdAt: z.string() }),
    )
    .readonly(),
  revert: z.object({ commit: z.string(), branch: z.string() }).optional(),
});

export const syncAcceptedSchema = z.object({ accepted: z.literal(true), syncId: z.string() });

export const createdTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  /** Shown once, here; only its sha256 is kept. */
  token: z.string(),
});

export const healthSchema = z.object({ status: z.string() });

export const errorBodySchema = z.object({
  statusCode: z.number().int(),
  code: z.string(),
  error: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  requestId: z.string(),
});

export type EnvParams = z.infer<typeof envParamsSchema>;
export type AppParams = z.infer<typeof appParamsSchema>;
export type HistoryQuery = z.infer<typeof historyQuerySchema>;
export type LogsQuery = z.infer<typeof logsQuerySchema>;
export type EventsQuery = z.infer<typeof eventsQuerySchema>;
export type SyncBody = z.infer<typeof syncBodySchema>;
export type PromoteBody = z.infer<typeof promoteBodySchema>;
export type ActionBody = z.infer<typeof actionBodySchema>;
export type RollbackBody = z.infer<typeof rollbackBodySchema>;
export type CreateTokenBody = z.infer<typeof createTokenBodySchema>;
export type CreatedToken = z.infer<typeof createdTokenSchema>;

// The controller's types must fit the wire schemas; these fail to compile when the two drift apart.
type Fits<Value, Schema extends z.ZodType> = Value extends z.output<Schema> ? true : false;
export const SCHEMAS_FIT = {
  environment: true,
  app: true,
  sync: true,
  plan: true,
  log: true,
  event: true,
  rollout: true,
} as const satisfies {
  environment: Fits<EnvironmentStatus, typeof environmentStatusSchema>;
  app: Fits<AppStatus, typeof appStatusSchema>;
  sync: Fits<SyncRecord, typeof syncRecordSchema>;
  plan: Fits<Plan, typeof planSchema>;
  log: Fits<LogLine, typeof logLineSchema>;
  event: Fits<ControllerEvent, typeof controllerEventSchema>;
  rollout: Fits<AppRolloutStatus, typeof appRolloutStatusSchema>;
};

/** A zod schema as the JSON Schema (draft-07) Fastify's Ajv and fast-json-stringify take. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io });
  return rest;
}
