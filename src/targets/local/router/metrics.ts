// Per-revision request metrics of the router (requests, errors, a latency histogram) and their Prometheus
// text exposition, written by hand: a few counters do not need a metrics library. The exposition is also
// read back (parseRouterMetrics) for the admin API's per-revision snapshot that canary analysis judges, so
// the snapshot and /metrics can never disagree.

/** Prometheus' default latency buckets, in seconds; LATENCY_BUCKETS holds every one of them. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * The buckets the router counts latencies in (seconds): Prometheus' defaults plus 0.5, 1 and 2.5 ms, because
 * an app on loopback answers in about a millisecond, and a rank test or a p50 needs resolution there.
 */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

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
    const index = bucketIndex(seconds, LATENCY_BUCKETS);
    series.buckets[index] = (series.buckets[index] ?? 0) + 1;
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
      LATENCY_BUCKETS.forEach((le, index) => {
        cumulative += s.buckets[index] ?? 0;
        lines.push(
          `plumbline_router_request_duration_seconds_bucket${labelText(s.labels, String(le))} ${cumulative}`,
        );
      });
      cumulative += s.buckets[LATENCY_BUCKETS.length] ?? 0;
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
        buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
        durationSum: 0,
      };
      this.#series.set(key, series);
    }
    return series;
  }
}

/** The first of `bounds` that holds `seconds`; the +Inf slot past the last. */
export function bucketIndex(seconds: number, bounds: readonly number[] = DURATION_BUCKETS): number {
  const index = bounds.findIndex((le) => seconds <= le);
  return index === -1 ? bounds.length : index;
}

/** One revision's counters as the exposition states them; `buckets` per bucket (not cumulative), +Inf last. */
export interface RevisionCounters {
  readonly app: string;
  readonly port: number;
  readonly revision: string;
  readonly requests: number;
  readonly errors: number;
  readonly durationSum: number;
  readonly buckets: number[];
}

const SERIES_LINE =
  /^plumbline_router_(requests_total|errors_total|request_duration_seconds_bucket|request_duration_seconds_sum)\{(.*)\} (\S+)$/;
const LABEL = /([a-z]+)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

/**
 * The per-revision series of `RouterMetrics.text()` read back: the exact counters (the text holds integers
 * and shortest round-trip floats), per bucket of LATENCY_BUCKETS. Lines it does not know are skipped.
 */
export function parseRouterMetrics(text: string): RevisionCounters[] {
  interface Mutable {
    app: string;
    port: number;
    revision: string;
    requests: number;
    errors: number;
    durationSum: number;
    cumulative: number[];
  }
  const byKey = new Map<string, Mutable>();
  for (const line of text.split('\n')) {
    const match = SERIES_LINE.exec(line);
    if (match === null) continue;
    const [, name, labelText = '', valueText = ''] = match;
    const labels = parseLabels(labelText);
    const app = labels.get('app');
    const revision = labels.get('revision');
    const port = Number(labels.get('port'));
    const value = Number(valueText);
    if (app === undefined || revision === undefined || !Number.isInteger(port) || Number.isNaN(value))
      continue;
    const key = `${app}\u0000${port}\u0000${revision}`;
    let series = byKey.get(key);
    if (series === undefined) {
      series = { app, port, revision, requests: 0, errors: 0, durationSum: 0, cumulative: [] };
      byKey.set(key, series);
    }
    if (name === 'requests_total') series.requests = value;
    else if (name === 'errors_total') series.errors = value;
    else if (name === 'request_duration_seconds_sum') series.durationSum = value;
    else {
      const le = labels.get('le');
      const index =
        le === '+Inf' ? LATENCY_BUCKETS.length : LATENCY_BUCKETS.findIndex((b) => String(b) === le);
      if (index !== -1) series.cumulative[index] = value;
    }
  }
  return [...byKey.values()].map((s) => {
    const buckets: number[] = [];
    let previous = 0;
    for (let index = 0; index <= LATENCY_BUCKETS.length; index++) {
      const cumulative = s.cumulative[index] ?? previous;
      buckets.push(cumulative - previous);
      previous = cumulative;
    }
    return {
      app: s.app,
      port: s.port,
      revision: s.revision,
      requests: s.requests,
      errors: s.errors,
      durationSum: s.durationSum,
      buckets,
    };
  });
}

/** `a="x",b="y\"z"` → a map of unescaped values. */
function parseLabels(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (match === null) break;
    const [, key = '', raw = ''] = match;
    labels.set(
      key,
      raw.replace(/\\(.)/g, (_all, ch: string) => (ch === 'n' ? '\n' : ch)),
    );
  }
  return labels;
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
