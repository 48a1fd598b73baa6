// The `strategy` of an App: how a new revision replaces the one serving — a canary walking weight, pause and
// analysis steps, or blue-green with a preview port. The zod schema here is plugged into the App schema
// (config/schema.ts); durations become milliseconds when parsed, like the App's health settings.
import { z } from 'zod';
import { durationSchema } from '../gitops/duration.js';

/** The longest pause or delay: setTimeout's limit is about 24 days, and a week is plenty for a rollout. */
const MAX_WAIT_MS = 7 * 24 * 3_600_000;

/** `{ templates: [success-rate] }`: AnalysisTemplate names of the App's environment. */
export const analysisRefSchema = z
  .object({
    templates: z
      .array(z.string().min(1).max(253))
      .min(1, 'name at least one AnalysisTemplate')
      .max(20)
      .superRefine((names, ctx) => {
        const seen = new Set<string>();
        names.forEach((name, index) => {
          if (seen.has(name))
            ctx.addIssue({ code: 'custom', path: [index], message: `"${name}" is listed twice` });
          seen.add(name);
        });
      }),
  })
  .strict();
export type AnalysisRef = z.infer<typeof analysisRefSchema>;

/**
 * One canary step: exactly one of `setWeight` (percent of new requests to the new revision), `pause`
 * (`{ duration }` waits; `{}` waits for `plumbline rollout promote`), `analysis` (templates that judge it).
 */
export const canaryStepSchema = z
  .object({
    setWeight: z.number().int().min(0).max(100).optional(),
    pause: z
      .object({ duration: durationSchema(0, MAX_WAIT_MS).optional() })
      .strict()
      .optional(),
    analysis: analysisRefSchema.optional(),
  })
  .strict()
  .superRefine((step, ctx) => {
    const kinds = Object.keys(step).filter((key) => step[key as keyof typeof step] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `a step is exactly one of setWeight, pause or analysis (found ${kinds.length === 0 ? 'none' : kinds.join(' and ')}), e.g. - setWeight: 10`,
      });
    }
  })
  .transform((step): CanaryStep => {
    if (step.setWeight !== undefined) return { setWeight: step.setWeight };
    if (step.analysis !== undefined) return { analysis: { templates: step.analysis.templates } };
    return { pause: step.pause?.duration === undefined ? {} : { durationMs: step.pause.duration } };
  });

export type CanaryStep =
  | { readonly setWeight: number }
  | { readonly pause: { readonly durationMs?: number } }
  | { readonly analysis: AnalysisRef };

/** An HTTP header name (a token). */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/, 'must be an HTTP header name, e.g. X-Canary');

export const canarySchema = z
  .object({
    steps: z.array(canaryStepSchema).max(100).default([]),
    /** `cookie`: a client stays on the revision that first answered it while that revision has weight. */
    stickiness: z.literal('cookie').optional(),
    /** Requests with this header value go to the canary whatever its weight (testers, smoke checks). */
    headerRoute: z
      .object({ name: headerName, value: z.string().min(1).max(4096) })
      .strict()
      .optional(),
  })
  .strict();
export type CanaryStrategy = z.infer<typeof canarySchema>;

export const blueGreenSchema = z
  .object({
    /** Where the new revision is served before it takes the App's port; needed by prePromotionAnalysis. */
    previewPort: z.number().int().min(1).max(65535).optional(),
    /**
     * `manual`: waits for `plumbline rollout promote`; `{ after: 60s }`: promotes that long after the preview is
     * ready and its analysis passed; absent: promotes as soon as they are.
     */
    autoPromote: z
      .union([
        z.literal('manual'),
        z
          .object({ after: durationSchema(0, MAX_WAIT_MS) })
          .strict()
          .transform(({ after }) => ({ afterMs: after })),
      ])
      .default({ afterMs: 0 }),
    prePromotionAnalysis: analysisRefSchema.optional(),
    /** How long the old revision stays up after the switch, for an instant switch back. */
    scaleDownDelay: durationSchema(0, MAX_WAIT_MS).default(30_000),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.prePromotionAnalysis !== undefined && spec.previewPort === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['prePromotionAnalysis'],
        message: 'needs a previewPort: the analysis judges the traffic the preview takes',
      });
    }
  })
  .transform(({ scaleDownDelay, ...rest }) => ({ ...rest, scaleDownDelayMs: scaleDownDelay }));
export type BlueGreenStrategy = z.infer<typeof blueGreenSchema>;

/** `strategy:` in an App spec: exactly one of `canary` and `blueGreen`. */
export const strategySchema = z
  .object({ canary: canarySchema.optional(), blueGreen: blueGreenSchema.optional() })
  .strict()
  .superRefine((strategy, ctx) => {
    if ((strategy.canary === undefined) === (strategy.blueGreen === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of canary or blueGreen' });
    }
  })
  .transform(
    (strategy): Strategy =>
      strategy.canary !== undefined
        ? { canary: strategy.canary }
        : { blueGreen: strategy.blueGreen as BlueGreenStrategy },
  );

export type Strategy = { readonly canary: CanaryStrategy } | { readonly blueGreen: BlueGreenStrategy };
export type StrategyInput = z.input<typeof strategySchema>;

/** 'canary' or 'blueGreen'. */
export function strategyKind(strategy: Strategy): 'canary' | 'blueGreen' {
  return 'canary' in strategy ? 'canary' : 'blueGreen';
}

/**
 * What a strategy asks of the App's other fields, as messages with the field they concern (the App schema
 * reports them): the preview port must differ from the App's port.
 */
export function strategyIssues(
  strategy: Strategy,
  app: { port: number },
): { path: string[]; message: string }[] {
  if ('blueGreen' in strategy && strategy.blueGreen.previewPort === app.port) {
    return [{ path: ['blueGreen', 'previewPort'], message: `must differ from the App's port ${app.port}` }];
  }
  return [];
}
