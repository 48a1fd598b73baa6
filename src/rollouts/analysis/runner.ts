// The analysis as the rollout engine calls it: template names resolved in the environment's templates, the
// router and arguments bound once, the engine's context and signal passed per call.
import type { Logger } from 'pino';
import { AnalysisInputError, runAnalysis } from './run.js';
import type { AnalysisTemplate } from './schema.js';
import type { AnalysisContext, AnalysisResult, MeasurementEvent, RouterStatsSource } from './types.js';

export interface AnalysisRunnerOptions {
  /** The environment's templates by name (ParsedTemplates.templates), or how to get the current ones. */
  readonly templates: ReadonlyMap<string, AnalysisTemplate> | (() => ReadonlyMap<string, AnalysisTemplate>);
  /** The router (RouterClient) for router and comparison metrics. */
  readonly router?: RouterStatsSource;
  /** Values for templates' spec.args, e.g. resolved secrets. */
  readonly args?: Readonly<Record<string, string>>;
  readonly logger?: Logger;
  readonly onMeasurement?: (event: MeasurementEvent) => void;
}

/** What the engine passes per analysis step; the rest of AnalysisContext comes from the runner's options. */
export type RunnerContext = Omit<AnalysisContext, 'router' | 'args'>;

export type AnalysisRunnerFn = (
  templates: readonly string[],
  context: RunnerContext,
  signal: AbortSignal,
) => Promise<AnalysisResult>;

export function createAnalysisRunner(options: AnalysisRunnerOptions): AnalysisRunnerFn {
  return async function runTemplates(names, context, signal) {
    const available = typeof options.templates === 'function' ? options.templates() : options.templates;
    const templates = names.map((name) => {
      const template = available.get(name);
      if (template === undefined) {
        const known = [...available.keys()].sort();
        throw new AnalysisInputError(
          `no AnalysisTemplate "${name}" in environment ${context.environment}`,
          known.length === 0
            ? 'add an AnalysisTemplate document beside the App documents'
            : `the environment has: ${known.join(', ')}`,
        );
      }
      return template;
    });
    return await runAnalysis(
      templates,
      {
        ...context,
        ...(options.router === undefined ? {} : { router: options.router }),
        ...(options.args === undefined ? {} : { args: options.args }),
      },
      {
        signal,
        ...(options.logger === undefined ? {} : { logger: options.logger }),
        ...(options.onMeasurement === undefined ? {} : { onMeasurement: options.onMeasurement }),
      },
    );
  };
}
