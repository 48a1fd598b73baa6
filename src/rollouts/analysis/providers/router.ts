// `router`: the router's own per-revision counters, over the window since the previous measurement. Works
// with nothing else installed: success and error rates, request counts, and latency percentiles (seconds).
import type { MetricProvider, RouterQuery } from '../schema.js';
import type { AnalysisContext } from '../types.js';
import { histogramQuantile, SnapshotTracker } from '../window.js';
import type { Observation, ProviderDefinition } from './types.js';

type RouterProvider = Extract<MetricProvider, { kind: 'router' }>;

const QUANTILES: Partial<Record<RouterQuery, number>> = {
  'latency-p50': 0.5,
  'latency-p90': 0.9,
  'latency-p95': 0.95,
  'latency-p99': 0.99,
};

export const routerProvider: ProviderDefinition<RouterProvider> = {
  windowed: true,
  requires: requireRouter,
  create({ provider, context }) {
    const router = context.router;
    if (router === undefined) throw new Error(requireRouter(context));
    const tracker = new SnapshotTracker(filterOf(context), [context.revision]);
    return {
      async begin(signal) {
        tracker.observe(await router.stats({ signal }));
      },
      async measure(_look, signal): Promise<Observation> {
        const started = tracker.started;
        const windows = tracker.observe(await router.stats({ signal }));
        if (windows === undefined || !started) {
          throw new Error(
            'the router could not be read when the analysis began; this snapshot is the baseline',
          );
        }
        const window = windows.get(context.revision);
        const requests = window?.delta.requests ?? 0;
        if (provider.query === 'request-count') return { kind: 'value', value: requests };
        if (window === undefined || requests === 0) {
          return { kind: 'noData', message: `revision ${context.revision} had no requests in the window` };
        }
        const errorRate = Math.min(1, window.delta.errors / requests);
        if (provider.query === 'error-rate') return { kind: 'value', value: errorRate };
        if (provider.query === 'success-rate') return { kind: 'value', value: 1 - errorRate };
        const q = QUANTILES[provider.query] ?? 0.5;
        const value = histogramQuantile(q, tracker.bounds, window.delta.buckets);
        return value === undefined
          ? { kind: 'noData', message: `revision ${context.revision} had no latencies in the window` }
          : { kind: 'value', value };
      },
    };
  },
};

export function requireRouter(context: AnalysisContext): string | undefined {
  return context.router === undefined
    ? 'router and comparison metrics need the router (context.router)'
    : undefined;
}

export function filterOf(context: AnalysisContext): { app: string; port?: number } {
  return context.port === undefined ? { app: context.app } : { app: context.app, port: context.port };
}
