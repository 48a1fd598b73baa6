// A rollout's state as plain JSON, for the controller to store after every change and to hand back to
// `Rollout.resume` after a restart: which revisions, which instances, which step, the analysis so far.
import { z } from 'zod';
import { describeZodError } from '../targets/local/router/protocol.js';
import { ROLLOUT_PHASES } from './types.js';

const instanceSchema = z.object({ id: z.string(), url: z.string(), revision: z.string() });

const failureSchema = z.object({
  reason: z.enum(['analysis', 'health', 'aborted', 'error']),
  revision: z.string(),
  analysis: z.array(z.string()).readonly().optional(),
  step: z.int().optional(),
  message: z.string(),
  at: z.string(),
  restoredAt: z.string().optional(),
});

const analysisRecordSchema = z.object({
  step: z.int(),
  templates: z.array(z.string()).readonly(),
  port: z.int(),
  phase: z.enum(['Successful', 'Failed', 'Inconclusive', 'Error']),
  message: z.string(),
  metrics: z.unknown().optional(),
  at: z.string(),
});

export const RECORD_VERSION = 1;

export const rolloutRecordSchema = z.object({
  version: z.literal(RECORD_VERSION),
  environment: z.string(),
  app: z.string(),
  /** The App's port. */
  port: z.int().min(1).max(65535),
  strategy: z.enum(['canary', 'blueGreen']),
  /** The new revision: its commit, spec hash, release folder and router label. */
  revision: z.string(),
  specHash: z.string(),
  releaseDir: z.string(),
  label: z.string(),
  /** The revision serving when the rollout began (null: a first deploy). */
  stable: z.object({ revision: z.string(), instances: z.array(instanceSchema) }).nullable(),
  /** Other revisions the App's route had at the start (an interrupted rollout's): stopped once unrouted. */
  leftovers: z.array(instanceSchema),
  /** The new revision's instance ids, and the instances once healthy. */
  instanceIds: z.array(z.string()),
  instances: z.array(instanceSchema),
  phase: z.enum(ROLLOUT_PHASES),
  message: z.string(),
  /** 0-based index of the step running; the number of steps once all ran. */
  step: z.int().min(0),
  /** The canary's percent of the App's new requests. */
  weight: z.number().min(0).max(100),
  /** Whether the blue-green preview port serves the new revision. */
  previewRouted: z.boolean(),
  pause: z
    .object({ reason: z.enum(['step', 'promotion', 'inconclusive']), until: z.string().optional() })
    .optional(),
  analysis: z.array(analysisRecordSchema),
  /** When all traffic went to the new revision, and when the old one is stopped. */
  promotedAt: z.string().optional(),
  scaleDownAt: z.string().optional(),
  failure: failureSchema.optional(),
  /** Whether the outcome's clean-up (stopping the old or the failed instances) is done. */
  finalized: z.boolean(),
  attempt: z.int().min(1),
  startedAt: z.string(),
  updatedAt: z.string(),
});

export type RolloutRecord = z.infer<typeof rolloutRecordSchema>;

export type ParsedRecord =
  | { readonly ok: true; readonly record: RolloutRecord }
  | { readonly ok: false; readonly message: string };

/** A stored record (JSON text or a parsed value) checked against the schema. */
export function parseRolloutRecord(stored: unknown): ParsedRecord {
  let value = stored;
  if (typeof stored === 'string') {
    try {
      value = JSON.parse(stored);
    } catch (error) {
      return { ok: false, message: `the rollout record is not JSON: ${(error as Error).message}` };
    }
  }
  const parsed = rolloutRecordSchema.safeParse(value);
  if (!parsed.success) return { ok: false, message: `the rollout record: ${describeZodError(parsed.error)}` };
  return { ok: true, record: parsed.data };
}
