// `comparison`: the canary against the stable revision over the same window — everything since the analysis
// began, so evidence accumulates look by look. Error rates by a one-sided two-proportion z-test, latency by
// the Mann–Whitney U test on the router's histograms. Each look tests at (1 − confidence) / count
// (Bonferroni over the looks), so repeated looking does not raise the chance of failing a good canary.
//
//   Failed        the canary is significantly worse (p < alpha)
//   Successful    enough requests, and the upper confidence bound of "how much worse" is within the margin
//   Undecided     neither yet, and more looks are coming
//   Inconclusive  neither at the last look, or fewer than minSamples requests by then
//   no data       the canary (or stable) had no request at all by the last look: the noData policy decides

import type { MetricProvider } from '../schema.js';
import { mannWhitneyBuckets, twoProportionTest } from '../stats.js';
import type { RevisionSummary } from '../types.js';
import { histogramQuantile, SnapshotTracker, type WindowCounts } from '../window.js';
import { filterOf, requireRouter } from './router.js';
import type { Observation, ProviderDefinition } from './types.js';

type ComparisonProvider = Extract<MetricProvider, { kind: 'comparison' }>;

export const comparisonProvider: ProviderDefinition<ComparisonProvider> = {
  windowed: true,
  requires(context) {
    return (
      requireRouter(context) ??
      (context.stableRevision === undefined
        ? 'a comparison metric needs the stable revision to compare with (context.stableRevision)'
        : context.stableRevision === context.revision
          ? 'a comparison metric needs two different revisions'
          : undefined)
    );
  },
  create({ provider, metric, context }) {
    const router = context.router;
    const stableRevision = context.stableRevision;
    if (router === undefined || stableRevision === undefined) throw new Error('no router or stable revision');
    const tracker = new SnapshotTracker(filterOf(context), [context.revision, stableRevision]);
    const alpha = (1 - provider.confidence) / metric.count;
    return {
      async begin(signal) {
        tracker.observe(await router.stats({ signal }));
      },
      async measure(look, signal): Promise<Observation> {
        const started = tracker.started;
        const windows = tracker.observe(await router.stats({ signal }));
        if (windows === undefined || !started) {
          throw new Error(
            'the router could not be read when the analysis began; this snapshot is the baseline',
          );
        }
        const width = tracker.bounds.length + 1;
        const none: WindowCounts = { requests: 0, errors: 0, buckets: new Array<number>(width).fill(0) };
        const canary = windows.get(context.revision)?.total ?? none;
        const stable = windows.get(stableRevision)?.total ?? none;
        return judge(provider, alpha, look.last, canary, stable, tracker.bounds);
      },
    };
  },
};

/** The verdict of one look; pure, so the statistics can be tested on their own. */
export function judge(
  provider: Pick<ComparisonProvider, 'metric' | 'minSamples' | 'margin'>,
  alpha: number,
  last: boolean,
  canaryCounts: WindowCounts,
  stableCounts: WindowCounts,
  bounds: readonly number[],
): Observation {
  const canary = summarise(canaryCounts, bounds);
  const stable = summarise(stableCounts, bounds);
  const counts = `canary ${canary.requests} requests, stable ${stable.requests}`;
  const notYet = last ? 'Inconclusive' : 'Undecided';
  if (canary.requests === 0 || stable.requests === 0) {
    const who = canary.requests === 0 ? 'the canary' : 'the stable revision';
    const message = `${who} had no requests since the analysis began`;
    if (last) return { kind: 'noData', message };
    return { kind: 'verdict', phase: 'Undecided', value: { alpha }, canary, stable, message };
  }
  if (canary.requests < provider.minSamples || stable.requests < provider.minSamples) {
    return {
      kind: 'verdict',
      phase: notYet,
      value: { alpha },
      canary,
      stable,
      message: `not enough requests yet (${counts}; ${provider.minSamples} each needed)`,
    };
  }
  if (provider.metric === 'error-rate') {
    const test = twoProportionTest(canaryCounts, stableCounts, alpha);
    const value = {
      alpha,
      test: test.method,
      pValue: test.pValue,
      z: test.z,
      difference: test.difference,
      upperBound: test.upperBound,
    };
    const rates = `error rate ${pct(canary.errorRate)} vs ${pct(stable.errorRate)}`;
    if (test.pValue < alpha) {
      return {
        kind: 'verdict',
        phase: 'Failed',
        value,
        canary,
        stable,
        message: `the canary fails more often: ${rates}, p = ${sig(test.pValue)} < ${sig(alpha)} (${counts})`,
      };
    }
    if (test.upperBound < provider.margin) {
      return {
        kind: 'verdict',
        phase: 'Successful',
        value,
        canary,
        stable,
        message: `the canary is no worse: ${rates}, at most ${pct(test.upperBound)} more errors (margin ${pct(provider.margin)})`,
      };
    }
    return {
      kind: 'verdict',
      phase: notYet,
      value,
      canary,
      stable,
      message: `cannot tell yet: ${rates}, up to ${pct(test.upperBound)} more errors is possible (margin ${pct(provider.margin)})`,
    };
  }
  const test = mannWhitneyBuckets(canaryCounts.buckets, stableCounts.buckets, alpha);
  const value = {
    alpha,
    pValue: test.pValue,
    z: test.z,
    u: test.u,
    probabilityWorse: test.probabilityWorse,
    upperBound: test.upperBound,
  };
  const medians = `p50 ${ms(canary.p50)} vs ${ms(stable.p50)}, p99 ${ms(canary.p99)} vs ${ms(stable.p99)}`;
  if (test.pValue < alpha) {
    return {
      kind: 'verdict',
      phase: 'Failed',
      value,
      canary,
      stable,
      message: `the canary is slower: ${medians}, P(slower) ${sig(test.probabilityWorse)}, p = ${sig(test.pValue)} < ${sig(alpha)}`,
    };
  }
  if (test.upperBound < 0.5 + provider.margin) {
    return {
      kind: 'verdict',
      phase: 'Successful',
      value,
      canary,
      stable,
      message: `the canary is no slower: ${medians}, P(slower) at most ${sig(test.upperBound)} (limit ${sig(0.5 + provider.margin)})`,
    };
  }
  return {
    kind: 'verdict',
    phase: notYet,
    value,
    canary,
    stable,
    message: `cannot tell yet: ${medians}, P(slower) up to ${sig(test.upperBound)} (limit ${sig(0.5 + provider.margin)})`,
  };
}

export function summarise(counts: WindowCounts, bounds: readonly number[]): RevisionSummary {
  const quantile = (q: number): number | null => histogramQuantile(q, bounds, counts.buckets) ?? null;
  return {
    requests: counts.requests,
    errors: counts.errors,
    errorRate: counts.requests === 0 ? null : Math.min(1, counts.errors / counts.requests),
    p50: quantile(0.5),
    p90: quantile(0.9),
    p95: quantile(0.95),
    p99: quantile(0.99),
  };
}

function pct(value: number | null): string {
  return value === null ? '-' : `${(value * 100).toFixed(2)}%`;
}

function ms(seconds: number | null): string {
  return seconds === null ? '-' : `${(seconds * 1000).toFixed(1)}ms`;
}

function sig(value: number): string {
  return value.toPrecision(3);
}
