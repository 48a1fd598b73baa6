// The analysis run: every metric of the templates measured on its own schedule, concurrently, until each is
// decided by its limits and count. A metric that fails (or errors past its limit) ends the whole run at once,
// so a rollout can take traffic off a bad revision within moments of the measurement that showed it.
import type { Logger } from 'pino';
import { PlumblineError } from '../../errors.js';
import { formatDuration } from '../../gitops/duration.js';
import {
  addToTally,
  assessMetric,
  EMPTY_TALLY,
  judgeComparison,
  judgeConditions,
  judgeNoData,
  type Tally,
  worstPhase,
} from './judge.js';
import { PlaceholderError, placeholdersIn } from './placeholders.js';
import { createMeasurer, definitionOf } from './providers/index.js';
import type { Measurer, Observation } from './providers/types.js';
import type { AnalysisMetric, AnalysisTemplate, AnalysisTemplateDocument } from './schema.js';
import type {
  AnalysisContext,
  AnalysisResult,
  Measurement,
  MeasurementEvent,
  MeasurementPhase,
  MetricPhase,
  MetricResult,
} from './types.js';

export interface RunAnalysisOptions {
  /** Stops the run: runAnalysis then rejects with the signal's reason once every metric has stopped. */
  readonly signal?: AbortSignal;
  /** Called after every measurement, before the run goes on (a failing one: before runAnalysis resolves). */
  readonly onMeasurement?: (event: MeasurementEvent) => void;
  readonly logger?: Logger;
}

/** Measurements kept per metric: the latest, as Argo keeps its last ten. */
const MEASUREMENT_HISTORY = 10;
/** How soon a metric without an interval retries after an error (Argo's DefaultErrorRetryInterval). */
const ERROR_RETRY_MS = 10_000;

/** A context a run cannot start with: a missing router, stable revision or argument. */
export class AnalysisInputError extends PlumblineError {
  constructor(message: string, hint?: string) {
    super('PLUMBLINE_E_INPUT', message, hint === undefined ? {} : { hint });
  }
}

interface MetricRun {
  readonly template: string;
  readonly metric: AnalysisMetric;
  readonly vars: ReadonlyMap<string, string>;
  readonly windowed: boolean;
  readonly measurer: Measurer;
  tally: Tally;
  phase: MetricPhase;
  message: string | undefined;
  readonly measurements: Measurement[];
}

/**
 * Runs the metrics of `templates` against `context` and resolves with the verdict. Throws an
 * AnalysisInputError before measuring anything when the context lacks what a metric needs.
 */
export async function runAnalysis(
  templates: readonly (AnalysisTemplate | AnalysisTemplateDocument)[],
  context: AnalysisContext,
  options: RunAnalysisOptions = {},
): Promise<AnalysisResult> {
  options.signal?.throwIfAborted();
  const startedAt = new Date().toISOString();
  const runs = prepare(templates, context);
  const stop = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => stop.abort(outer?.reason);
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const log = options.logger?.child({
    environment: context.environment,
    app: context.app,
    revision: context.revision,
  });
  log?.info({ metrics: runs.map((run) => `${run.template}/${run.metric.name}`) }, 'analysis started');
  try {
    await Promise.all(runs.map((run) => runMetric(run, stop, options, log)));
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
  }
  if (outer?.aborted) throw outer.reason;
  for (const run of runs) {
    if (run.phase === 'Running') {
      run.phase = 'Stopped';
      run.message = 'stopped: another metric decided the analysis';
    }
  }
  const phase = worstPhase(runs.map((run) => run.phase));
  const decider = runs.find((run) => run.phase === phase);
  const message =
    decider === undefined
      ? `${phase}`
      : `${phase}: ${decider.template}/${decider.metric.name}${decider.message === undefined ? '' : `: ${decider.message}`}`;
  log?.info({ phase }, 'analysis finished');
  return {
    phase,
    message,
    metrics: runs.map(resultOf),
    startedAt,
    finishedAt: new Date().toISOString(),
  };
}

/** Checks the context against every metric and makes its measurer; nothing is measured yet. */
function prepare(
  templates: readonly (AnalysisTemplate | AnalysisTemplateDocument)[],
  context: AnalysisContext,
): MetricRun[] {
  if (templates.length === 0) throw new AnalysisInputError('no analysis template to run');
  const runs: MetricRun[] = [];
  for (const template of templates) {
    const name = template.metadata.name;
    const args = new Map<string, string>();
    for (const arg of template.spec.args) {
      const value = context.args?.[arg.name] ?? arg.value;
      if (value === undefined) {
        throw new AnalysisInputError(
          `analysis template "${name}" needs a value for its argument "${arg.name}"`,
          'give it a value in the template (spec.args[].value) or pass one with the analysis',
        );
      }
      args.set(`args.${arg.name}`, value);
    }
    for (const metric of template.spec.metrics) {
      const definition = definitionOf(metric.provider);
      const missing = definition.requires(context);
      if (missing !== undefined) {
        throw new AnalysisInputError(`analysis template "${name}", metric "${metric.name}": ${missing}`);
      }
      const vars = new Map<string, string>([
        ['revision', context.revision],
        ['app', context.app],
        ['environment', context.environment],
        ['interval', formatDuration(metric.intervalMs)],
        ...args,
      ]);
      if (context.stableRevision !== undefined) vars.set('stableRevision', context.stableRevision);
      if (context.port !== undefined) vars.set('port', String(context.port));
      for (const placeholder of placeholdersOf(metric)) {
        if (!vars.has(placeholder)) {
          throw new PlaceholderError(
            `analysis template "${name}", metric "${metric.name}" uses {{${placeholder}}}, which has no value here`,
            placeholder === 'stableRevision'
              ? 'this analysis runs without a stable revision (e.g. the first deploy); use a metric without it'
              : 'pass the app port with the analysis',
          );
        }
      }
      runs.push({
        template: name,
        metric,
        vars,
        windowed: definition.windowed,
        measurer: createMeasurer({ provider: metric.provider, metric, context, vars }),
        tally: EMPTY_TALLY,
        phase: 'Running',
        message: undefined,
        measurements: [],
      });
    }
  }
  return runs;
}

function placeholdersOf(metric: AnalysisMetric): string[] {
  const provider = metric.provider;
  if (provider.kind === 'prometheus') return placeholdersIn(`${provider.address}\n${provider.query}`);
  if (provider.kind === 'web') {
    return placeholdersIn([provider.url, provider.body ?? '', ...Object.values(provider.headers)].join('\n'));
  }
  return [];
}

async function runMetric(
  run: MetricRun,
  stop: AbortController,
  options: RunAnalysisOptions,
  parentLog: Logger | undefined,
): Promise<void> {
  const signal = stop.signal;
  const log = parentLog?.child({ template: run.template, metric: run.metric.name });
  const began = performance.now();
  if (run.measurer.begin !== undefined) {
    try {
      await run.measurer.begin(signal);
    } catch (error) {
      // The first measurement reports it (it has no baseline); an error here is not yet a measurement.
      if (!signal.aborted) log?.warn({ error: messageOf(error) }, 'analysis baseline failed');
    }
  }
  // A windowed provider judges the traffic of an interval, so its first look is one interval in.
  let nextAt = began + run.metric.initialDelayMs + (run.windowed ? run.metric.intervalMs : 0);
  while (!signal.aborted) {
    await sleep(nextAt - performance.now(), signal);
    if (signal.aborted) return;
    const measurement = await measure(run, signal);
    if (measurement === undefined) return; // stopped while measuring
    run.tally = addToTally(run.tally, measurement.phase);
    run.measurements.push(measurement);
    if (run.measurements.length > MEASUREMENT_HISTORY) run.measurements.shift();
    run.phase = assessMetric(run.metric, run.tally);
    if (run.phase !== 'Running') run.message = conclusion(run, measurement);
    const level = measurement.phase === 'Error' ? 'warn' : 'info';
    log?.[level](
      { phase: measurement.phase, metricPhase: run.phase, message: measurement.message },
      'measurement',
    );
    if (options.onMeasurement !== undefined) {
      try {
        options.onMeasurement({
          template: run.template,
          metric: run.metric.name,
          measurement,
          result: resultOf(run),
        });
      } catch (error) {
        log?.error({ error: messageOf(error) }, 'onMeasurement failed');
      }
    }
    if (run.phase === 'Failed' || run.phase === 'Error') {
      stop.abort(new Error('a metric failed'));
      return;
    }
    if (run.phase !== 'Running') return;
    // The schedule keeps its rhythm; a measurement that overran is followed at once, not by a burst.
    nextAt = Math.max(nextAt + (run.metric.intervalMs || ERROR_RETRY_MS), performance.now());
  }
}

/** One look: the provider's observation judged into a measurement; undefined when the run was stopped. */
async function measure(run: MetricRun, signal: AbortSignal): Promise<Measurement | undefined> {
  const startedAt = new Date().toISOString();
  const look = { index: run.tally.count, last: run.tally.count + 1 >= run.metric.count };
  let observation: Observation;
  try {
    observation = await run.measurer.measure(look, signal);
  } catch (error) {
    if (signal.aborted) return undefined;
    return { phase: 'Error', message: messageOf(error), startedAt, finishedAt: new Date().toISOString() };
  }
  if (signal.aborted) return undefined;
  const finishedAt = new Date().toISOString();
  try {
    if (observation.kind === 'noData') {
      const phase = judgeNoData(run.metric.noData);
      return {
        phase,
        noData: true,
        message: `no data (${observation.message}); noData: ${run.metric.noData}`,
        startedAt,
        finishedAt,
      };
    }
    if (observation.kind === 'verdict') {
      const vars = { result: observation.value, canary: observation.canary, stable: observation.stable };
      const phase = judgeComparison(run.metric, observation.phase, look.last, vars);
      return {
        phase,
        value: observation.value,
        canary: observation.canary,
        stable: observation.stable,
        message: observation.message,
        startedAt,
        finishedAt,
      };
    }
    const phase: MeasurementPhase = judgeConditions(run.metric, { result: observation.value });
    return {
      phase,
      value: observation.value,
      message: observation.message ?? `result ${preview(observation.value)}`,
      startedAt,
      finishedAt,
    };
  } catch (error) {
    return { phase: 'Error', message: messageOf(error), startedAt, finishedAt };
  }
}

function conclusion(run: MetricRun, last: Measurement): string {
  const { tally, metric } = run;
  const why = last.message === undefined ? '' : `; last: ${last.message}`;
  switch (run.phase) {
    case 'Failed':
      return `${tally.failed} failed measurement(s), more than failureLimit ${metric.failureLimit}${why}`;
    case 'Inconclusive':
      return `${tally.inconclusive} inconclusive measurement(s), more than inconclusiveLimit ${metric.inconclusiveLimit}${why}`;
    case 'Error':
      return `${tally.consecutiveErrors} errors in a row, more than consecutiveErrorLimit ${metric.consecutiveErrorLimit}${why}`;
    default:
      return `${tally.count} measurement(s): ${tally.successful} successful${why}`;
  }
}

function resultOf(run: MetricRun): MetricResult {
  return {
    template: run.template,
    name: run.metric.name,
    phase: run.phase,
    count: run.tally.count,
    successful: run.tally.successful,
    failed: run.tally.failed,
    inconclusive: run.tally.inconclusive,
    errors: run.tally.errors,
    consecutiveErrors: run.tally.consecutiveErrors,
    measurements: [...run.measurements],
    ...(run.message === undefined ? {} : { message: run.message }),
  };
}

/** Resolves after `ms`, or at once when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
