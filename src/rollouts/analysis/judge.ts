// Pure judgement: a measurement's phase from its result and the metric's conditions (Argo Rollouts'
// rules), the tally of measurements, and a metric's phase from its limits and count.
import { type ConditionVars, evaluateCondition } from './cel.js';
import type { AnalysisMetric, NoDataPolicy } from './schema.js';
import type { AnalysisPhase, MeasurementPhase, MetricPhase } from './types.js';

/**
 * The phase of a result under the metric's conditions. With only a successCondition, false fails; with only a
 * failureCondition, false succeeds; with both, neither true is Inconclusive; a true failureCondition wins.
 * A condition that cannot be evaluated (a type mismatch) throws: the measurement is an Error.
 */
export function judgeConditions(
  metric: Pick<AnalysisMetric, 'successCondition' | 'failureCondition'>,
  vars: ConditionVars,
): 'Successful' | 'Failed' | 'Inconclusive' {
  const { successCondition, failureCondition } = metric;
  if (successCondition === undefined && failureCondition === undefined) return 'Successful';
  let success = successCondition === undefined ? undefined : evaluateCondition(successCondition, vars);
  let failure = failureCondition === undefined ? undefined : evaluateCondition(failureCondition, vars);
  if (failure === undefined) failure = success === false;
  if (success === undefined) success = !failure;
  if (failure) return 'Failed';
  return success ? 'Successful' : 'Inconclusive';
}

/**
 * A comparison's statistical verdict with the metric's optional conditions on top: a true failureCondition
 * fails; a significant test fails; a proven non-inferiority succeeds only if a successCondition, when given,
 * holds too; otherwise the look stays undecided (or, at the last look, inconclusive).
 */
export function judgeComparison(
  metric: Pick<AnalysisMetric, 'successCondition' | 'failureCondition'>,
  verdict: 'Successful' | 'Undecided' | 'Inconclusive' | 'Failed',
  last: boolean,
  vars: ConditionVars,
): MeasurementPhase {
  if (metric.failureCondition !== undefined && evaluateCondition(metric.failureCondition, vars))
    return 'Failed';
  if (verdict !== 'Successful') return verdict;
  if (metric.successCondition !== undefined && !evaluateCondition(metric.successCondition, vars)) {
    return last ? 'Inconclusive' : 'Undecided';
  }
  return 'Successful';
}

export function judgeNoData(policy: NoDataPolicy): 'Successful' | 'Failed' | 'Inconclusive' {
  if (policy === 'pass') return 'Successful';
  if (policy === 'fail') return 'Failed';
  return 'Inconclusive';
}

export interface Tally {
  /** Measurements that were not errors. */
  readonly count: number;
  readonly successful: number;
  readonly failed: number;
  readonly inconclusive: number;
  readonly errors: number;
  readonly consecutiveErrors: number;
}

export const EMPTY_TALLY: Tally = {
  count: 0,
  successful: 0,
  failed: 0,
  inconclusive: 0,
  errors: 0,
  consecutiveErrors: 0,
};

export function addToTally(tally: Tally, phase: MeasurementPhase): Tally {
  if (phase === 'Error') {
    return { ...tally, errors: tally.errors + 1, consecutiveErrors: tally.consecutiveErrors + 1 };
  }
  return {
    ...tally,
    count: tally.count + 1,
    consecutiveErrors: 0,
    successful: tally.successful + (phase === 'Successful' ? 1 : 0),
    failed: tally.failed + (phase === 'Failed' ? 1 : 0),
    inconclusive: tally.inconclusive + (phase === 'Inconclusive' ? 1 : 0),
  };
}

/**
 * A metric's phase after a measurement, in Argo Rollouts' order: more failures than failureLimit fail it,
 * more inconclusives than inconclusiveLimit make it Inconclusive, more errors in a row than
 * consecutiveErrorLimit make it Error; `count` measurements (errors not counted) without any of these succeed.
 */
export function assessMetric(
  metric: Pick<AnalysisMetric, 'failureLimit' | 'inconclusiveLimit' | 'consecutiveErrorLimit' | 'count'>,
  tally: Tally,
): MetricPhase {
  if (tally.failed > metric.failureLimit) return 'Failed';
  if (tally.inconclusive > metric.inconclusiveLimit) return 'Inconclusive';
  if (tally.consecutiveErrors > metric.consecutiveErrorLimit) return 'Error';
  if (tally.count >= metric.count) return 'Successful';
  return 'Running';
}

const RUN_ORDER: readonly AnalysisPhase[] = ['Successful', 'Inconclusive', 'Error', 'Failed'];

/** The run's phase: the worst of its metrics' (a stopped metric did not decide anything). */
export function worstPhase(phases: readonly MetricPhase[]): AnalysisPhase {
  let worst: AnalysisPhase = 'Successful';
  for (const phase of phases) {
    if (phase === 'Running' || phase === 'Stopped') continue;
    if (RUN_ORDER.indexOf(phase) > RUN_ORDER.indexOf(worst)) worst = phase;
  }
  return worst;
}
