// Per-revision request metrics of the router (requests, errors, a latency histogram) and their Prometheus
// text exposition, written by hand: a few counters do not need a metrics library.

/** Prometheus' default latency buckets, in seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** The revision label of requests no backend took (an app with no backends). */
export const NO_REVISION = 'none';

export interface MetricLabels {
  readonly app: string;
  readonly port: number;
  readonly revision: string;
}

interface Series {
  readonly labels: MetricLabels;
  requests: number;
  errors: number;
  /** Per bucket, not cumulative; the last slot is +Inf. */
  readonly buckets: number[];
  durationSum: number;
}

export class RouterMetrics {
  readonly #series = new Map<string, Series>();
  #retries = 0;

  /** One client request, finished (or abandoned) after `seconds`, answered by `labels.revision`. */
  observeRequest(labels: MetricLabels, seconds: number): void {
    const series = this.#get(labels);
    series.requests += 1;
    series.durationSum += seconds;
    series.buckets[bucketIndex(seconds)] = (series.buckets[bucketIndex(seconds)] ?? 0) + 1;
  }

  /** A 5xx from a backend, or a connection that failed (each attempt counts). */
  observeError(labels: MetricLabels): void {
    this.#get(labels).errors += 1;
  }

  observeRetry(): void {
    this.#retries += 1;
  }

  /** Every series, in the Prometheus text exposition format (version 0.0.4). */
  text(extra: { generation: number; routes: number }): string {
    const series = [...this.#series.values()].sort(compareSeries);
    const lines: string[] = [];
    lines.push(
      '# HELP plumbline_router_requests_total Client requests forwarded, by the revision that took them.',
      '# TYPE plumbline_router_requests_total counter',
    );
    for (const s of series) lines.push(`plumbline_router_requests_total${labelText(s.labels)} ${s.requests}`);
    lines.push(
      '# HELP plumbline_router_errors_total 5xx answers from backends and failed backend connections.',
      '# TYPE plumbline_router_errors_total counter',
    );
    for (const s of series) lines.push(`plumbline_router_errors_total${labelText(s.labels)} ${s.errors}`);
    lines.push(
      '# HELP plumbline_router_request_duration_seconds Time from a request arriving to its response ending.',
      '# TYPE plumbline_router_request_duration_seconds histogram',
    );
    for (const s of series) {
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, index) => {
        cumulative += s.buckets[index] ?? 0;
        lines.push(
          `plumbline_router_request_duration_seconds_bucket${labelText(s.labels, String(le))} ${cumulative}`,
        );
      });
      cumulative += s.buckets[DURATION_BUCKETS.length] ?? 0;
      lines.push(
        `plumbline_router_request_duration_seconds_bucket${labelText(s.labels, '+Inf')} ${cumulative}`,
      );
      lines.push(`plumbline_router_request_duration_seconds_sum${labelText(s.labels)} ${s.durationSum}`);
      lines.push(`plumbline_router_request_duration_seconds_count${labelText(s.labels)} ${s.requests}`);
    }
    lines.push(
      '# HELP plumbline_router_retries_total Requests retried on another backend after a connection failure.',
      '# TYPE plumbline_router_retries_total counter',
      `plumbline_router_retries_total ${this.#retries}`,
      '# HELP plumbline_router_generation The routing table generation in force.',
      '# TYPE plumbline_router_generation gauge',
      `plumbline_router_generation ${extra.generation}`,
      '# HELP plumbline_router_routes Ports the router listens on.',
      '# TYPE plumbline_router_routes gauge',
      `plumbline_router_routes ${extra.routes}`,
    );
    return `${lines.join('\n')}\n`;
  }

  #get(labels: MetricLabels): Series {
    const key = `${labels.app}\u0000${labels.port}\u0000${labels.revision}`;
    let series = this.#series.get(key);
    if (series === undefined) {
      series = {
        labels: { app: labels.app, port: labels.port, revision: labels.revision },
        requests: 0,
        errors: 0,
        buckets: new Array<number>(DURATION_BUCKETS.length + 1).fill(0),
        durationSum: 0,
      };
      this.#series.set(key, series);
    }
    return series;
  }
}

/** The first bucket whose upper bound holds `seconds`; the +Inf slot past the last. */
export function bucketIndex(seconds: number): number {
  const index = DURATION_BUCKETS.findIndex((le) => seconds <= le);
  return index === -1 ? DURATION_BUCKETS.length : index;
}

/** A label value with backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: MetricLabels, le?: string): string {
  const parts = [
    `app="${escapeLabelValue(labels.app)}"`,
    `port="${labels.port}"`,
    `revision="${escapeLabelValue(labels.revision)}"`,
  ];
  if (le !== undefined) parts.push(`le="${le}"`);
  return `{${parts.join(',')}}`;
}

function compareSeries(a: Series, b: Series): number {
  return (
    a.labels.app.localeCompare(b.labels.app) ||
    a.labels.port - b.labels.port ||
    a.labels.revision.localeCompare(b.labels.revision)
  );
}
