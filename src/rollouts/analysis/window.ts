// Router snapshots into analysis windows: counter deltas per revision between two snapshots (a restarted
// router, whose counters began again, counts from zero, as Prometheus' rate() does), totals since the
// analysis began, and latency quantiles from histogram buckets the way PromQL's histogram_quantile reads them.
import type { RevisionStats, StatsResponse } from '../../targets/local/router/protocol.js';

/** Requests, errors and the latency histogram (per bucket, +Inf last) of one revision over a window. */
export interface WindowCounts {
  readonly requests: number;
  readonly errors: number;
  readonly buckets: readonly number[];
}

/** Which series belong to the app: the same app, on its port when one is given. */
export interface SeriesFilter {
  readonly app: string;
  readonly port?: number;
}

interface Seen {
  readonly identity: string;
  readonly bounds: string;
  readonly bySeries: ReadonlyMap<string, RevisionStats>;
}

/**
 * Follows one app's revisions across snapshots. Each `observe` returns, per revision asked for, what happened
 * since the previous observe (`delta`) and since the first (`total`).
 */
export class SnapshotTracker {
  readonly #filter: SeriesFilter;
  readonly #revisions: readonly string[];
  #seen: Seen | undefined;
  #bounds: readonly number[] = [];
  readonly #totals = new Map<string, WindowCounts>();

  constructor(filter: SeriesFilter, revisions: readonly string[]) {
    this.#filter = filter;
    this.#revisions = revisions;
  }

  /** Whether a baseline has been observed. */
  get started(): boolean {
    return this.#seen !== undefined;
  }

  /** The latency buckets' upper bounds (seconds) of the last snapshot. */
  get bounds(): readonly number[] {
    return this.#bounds;
  }

  /** Takes the snapshot; the first one is the baseline and returns undefined. */
  observe(stats: StatsResponse): Map<string, { delta: WindowCounts; total: WindowCounts }> | undefined {
    const identity = `${stats.pid}@${stats.startedAt}`;
    const bounds = stats.bucketBounds.join(',');
    const bySeries = new Map<string, RevisionStats>();
    for (const series of stats.series) {
      if (series.app !== this.#filter.app) continue;
      if (this.#filter.port !== undefined && series.port !== this.#filter.port) continue;
      bySeries.set(`${series.port}\u0000${series.revision}`, series);
    }
    const previous = this.#seen;
    this.#seen = { identity, bounds, bySeries };
    this.#bounds = stats.bucketBounds;
    if (previous === undefined) return undefined;
    // Another router process, or other buckets: everything it counted happened since the last snapshot.
    const restarted = previous.identity !== identity || previous.bounds !== bounds;
    if (previous.bounds !== bounds) this.#totals.clear();
    const width = stats.bucketBounds.length + 1;
    const out = new Map<string, { delta: WindowCounts; total: WindowCounts }>();
    for (const revision of this.#revisions) {
      let delta: WindowCounts = empty(width);
      for (const [key, series] of bySeries) {
        if (series.revision !== revision) continue;
        const before = restarted ? undefined : previous.bySeries.get(key);
        delta = add(delta, difference(series, before));
      }
      const total = add(this.#totals.get(revision) ?? empty(width), delta);
      this.#totals.set(revision, total);
      out.set(revision, { delta, total });
    }
    return out;
  }
}

/** `now − before` for one series; a counter that went down was reset, so all of `now` is new. */
function difference(now: RevisionStats, before: RevisionStats | undefined): WindowCounts {
  if (
    before === undefined ||
    now.requests < before.requests ||
    now.errors < before.errors ||
    now.buckets.some((count, index) => count < (before.buckets[index] ?? 0))
  ) {
    return { requests: now.requests, errors: now.errors, buckets: now.buckets };
  }
  return {
    requests: now.requests - before.requests,
    errors: now.errors - before.errors,
    buckets: now.buckets.map((count, index) => count - (before.buckets[index] ?? 0)),
  };
}

function empty(width: number): WindowCounts {
  return { requests: 0, errors: 0, buckets: new Array<number>(width).fill(0) };
}

function add(a: WindowCounts, b: WindowCounts): WindowCounts {
  const width = Math.max(a.buckets.length, b.buckets.length);
  const buckets: number[] = [];
  for (let index = 0; index < width; index++) buckets.push((a.buckets[index] ?? 0) + (b.buckets[index] ?? 0));
  return { requests: a.requests + b.requests, errors: a.errors + b.errors, buckets };
}

/**
 * The q-quantile (0 < q < 1) of a histogram, as PromQL's histogram_quantile: linear within the bucket that
 * holds the rank, from 0 in the first bucket; a rank in the +Inf bucket gives the largest finite bound.
 * Undefined for an empty histogram.
 */
export function histogramQuantile(
  q: number,
  bounds: readonly number[],
  buckets: readonly number[],
): number | undefined {
  const total = buckets.reduce((sum, count) => sum + count, 0);
  if (total <= 0) return undefined;
  const rank = q * total;
  let below = 0;
  for (let index = 0; index < buckets.length; index++) {
    const count = buckets[index] ?? 0;
    if (below + count >= rank && count > 0) {
      const upper = bounds[index];
      if (upper === undefined) return bounds[bounds.length - 1];
      const lower = index === 0 ? 0 : (bounds[index - 1] ?? 0);
      return lower + (upper - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return bounds[bounds.length - 1];
}
