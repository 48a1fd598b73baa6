import { describe, expect, it } from 'vitest';
import type { StatsResponse } from '../../targets/local/router/protocol.js';
import { histogramQuantile, SnapshotTracker } from './window.js';

const BOUNDS = [0.001, 0.01, 0.1];

function snapshot(
  series: {
    revision: string;
    requests: number;
    errors?: number;
    buckets?: number[];
    port?: number;
    app?: string;
  }[],
  identity = { pid: 1, startedAt: 'a' },
): StatsResponse {
  return {
    ...identity,
    monotonicMs: 0,
    generation: 1,
    bucketBounds: BOUNDS,
    series: series.map((s) => ({
      app: s.app ?? 'web',
      port: s.port ?? 8080,
      revision: s.revision,
      requests: s.requests,
      errors: s.errors ?? 0,
      durationSum: 0,
      buckets: s.buckets ?? [s.requests, 0, 0, 0],
    })),
  };
}

describe('SnapshotTracker', () => {
  it('gives deltas per window and totals since the baseline, for the app and port asked', () => {
    const tracker = new SnapshotTracker({ app: 'web', port: 8080 }, ['v2', 'v1']);
    expect(tracker.started).toBe(false);
    expect(tracker.observe(snapshot([{ revision: 'v1', requests: 100, errors: 5 }]))).toBeUndefined();
    expect(tracker.started).toBe(true);
    const first = tracker.observe(
      snapshot([
        { revision: 'v1', requests: 150, errors: 6 },
        { revision: 'v2', requests: 10, errors: 2, buckets: [4, 5, 1, 0] },
        { revision: 'v2', requests: 999, app: 'other' },
        { revision: 'v2', requests: 999, port: 9090 },
      ]),
    );
    expect(first?.get('v1')?.delta).toEqual({ requests: 50, errors: 1, buckets: [50, 0, 0, 0] });
    expect(first?.get('v2')?.delta).toEqual({ requests: 10, errors: 2, buckets: [4, 5, 1, 0] });
    const second = tracker.observe(
      snapshot([
        { revision: 'v1', requests: 160, errors: 6 },
        { revision: 'v2', requests: 15, errors: 2, buckets: [6, 7, 2, 0] },
      ]),
    );
    expect(second?.get('v2')?.delta).toEqual({ requests: 5, errors: 0, buckets: [2, 2, 1, 0] });
    expect(second?.get('v2')?.total).toEqual({ requests: 15, errors: 2, buckets: [6, 7, 2, 0] });
    expect(second?.get('v1')?.total.requests).toBe(60);
  });

  it('sums every port of the app when none is given', () => {
    const tracker = new SnapshotTracker({ app: 'web' }, ['v1']);
    tracker.observe(snapshot([]));
    const windows = tracker.observe(
      snapshot([
        { revision: 'v1', requests: 3, port: 1 },
        { revision: 'v1', requests: 4, port: 2 },
      ]),
    );
    expect(windows?.get('v1')?.delta.requests).toBe(7);
  });

  it('counts from zero after the router restarted, or a counter went down', () => {
    const tracker = new SnapshotTracker({ app: 'web' }, ['v1']);
    tracker.observe(snapshot([{ revision: 'v1', requests: 100 }]));
    const restarted = tracker.observe(
      snapshot([{ revision: 'v1', requests: 7 }], { pid: 2, startedAt: 'b' }),
    );
    expect(restarted?.get('v1')?.delta.requests).toBe(7);
    const reset = tracker.observe(snapshot([{ revision: 'v1', requests: 3 }], { pid: 2, startedAt: 'b' }));
    expect(reset?.get('v1')?.delta.requests).toBe(3);
    expect(reset?.get('v1')?.total.requests).toBe(10);
  });

  it('gives an empty window to a revision without series', () => {
    const tracker = new SnapshotTracker({ app: 'web' }, ['v9']);
    tracker.observe(snapshot([]));
    expect(tracker.observe(snapshot([{ revision: 'v1', requests: 3 }]))?.get('v9')?.delta).toEqual({
      requests: 0,
      errors: 0,
      buckets: [0, 0, 0, 0],
    });
  });
});

describe('histogramQuantile', () => {
  it('interpolates within the bucket like PromQL', () => {
    // 10 requests: 4 ≤ 1ms, 5 in (1ms, 10ms], 1 in (10ms, 100ms]. p50 rank 5: 1ms + 9ms·(1/5) = 2.8ms.
    expect(histogramQuantile(0.5, BOUNDS, [4, 5, 1, 0])).toBeCloseTo(0.0028, 12);
    // rank 2 in the first bucket: 0 + 1ms·(2/4).
    expect(histogramQuantile(0.2, BOUNDS, [4, 5, 1, 0])).toBeCloseTo(0.0005, 12);
    expect(histogramQuantile(0.95, BOUNDS, [4, 5, 1, 0])).toBeCloseTo(0.055, 12);
  });

  it('gives the largest finite bound for a rank in +Inf, and nothing for an empty histogram', () => {
    expect(histogramQuantile(0.99, BOUNDS, [1, 0, 0, 9])).toBe(0.1);
    expect(histogramQuantile(0.5, BOUNDS, [0, 0, 0, 0])).toBeUndefined();
  });
});
