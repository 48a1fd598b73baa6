// What an analysis run takes and gives: the context a rollout passes in, measurements, and per-metric and
// whole-run phases (unions ordered from best to worst where they are compared).
import type { StatsResponse } from '../../targets/local/router/protocol.js';

/**
 * One measurement's verdict. `Undecided` is a comparison metric's look that cannot decide yet and is not the
 * last one (more data are coming); it counts as a measurement but neither for nor against.
 */
export type MeasurementPhase = 'Successful' | 'Undecided' | 'Inconclusive' | 'Error' | 'Failed';

/**
 * A metric's state: `Running` until its limits or count decide it; `Stopped` when another metric's failure
 * ended the run first.
 */
export type MetricPhase = 'Running' | 'Stopped' | 'Successful' | 'Inconclusive' | 'Error' | 'Failed';

/**
 * The run's verdict, the worst of its metrics: Successful (go on), Inconclusive (pause for a person), Error
 * (a provider kept failing: treat as failed), Failed (roll back).
 */
export type AnalysisPhase = 'Successful' | 'Inconclusive' | 'Error' | 'Failed';

/** What the router provider needs of the router: RouterClient fits. */
export interface RouterStatsSource {
  stats(options?: { signal?: AbortSignal }): Promise<StatsResponse>;
}

/** One revision over a comparison's window. Latencies in seconds; null without requests. */
export interface RevisionSummary {
  readonly requests: number;
  readonly errors: number;
  readonly errorRate: number | null;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

/** Whom the analysis judges, and where to look. */
export interface AnalysisContext {
  readonly environment: string;
  readonly app: string;
  /** The app's router port: only its series count. Without it, every port of the app counts. */
  readonly port?: number;
  /** The revision being judged (the canary, or blue-green's preview), as the router labels its backends. */
  readonly revision: string;
  /** The revision serving users; comparison metrics and {{stableRevision}} need it. */
  readonly stableRevision?: string;
  /** Router and comparison metrics read the router's per-revision counters through it. */
  readonly router?: RouterStatsSource;
  /** Values for the templates' spec.args (over their defaults), by name. */
  readonly args?: Readonly<Record<string, string>>;
}

export interface Measurement {
  readonly phase: MeasurementPhase;
  /** The result the conditions saw (a number, or JSON for web and comparison results); absent on error. */
  readonly value?: unknown;
  /** For comparison metrics: the two revisions over the window. */
  readonly canary?: RevisionSummary;
  readonly stable?: RevisionSummary;
  /** True when the provider had no data and the noData policy decided the phase. */
  readonly noData?: boolean;
  /** Why: the error, the missing data, the statistic. Never a credential. */
  readonly message?: string;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export interface MetricResult {
  readonly template: string;
  readonly name: string;
  readonly phase: MetricPhase;
  /** Measurements that were not errors (what `count` counts). */
  readonly count: number;
  readonly successful: number;
  readonly failed: number;
  readonly inconclusive: number;
  readonly errors: number;
  readonly consecutiveErrors: number;
  readonly measurements: readonly Measurement[];
  /** Why the metric ended as it did. */
  readonly message?: string;
}

export interface AnalysisResult {
  readonly phase: AnalysisPhase;
  /** One line for a status: which metric decided, and why. */
  readonly message: string;
  readonly metrics: readonly MetricResult[];
  readonly startedAt: string;
  readonly finishedAt: string;
}

export interface MeasurementEvent {
  readonly template: string;
  readonly metric: string;
  readonly measurement: Measurement;
  /** The metric after this measurement (its phase is no longer Running when this measurement decided it). */
  readonly result: MetricResult;
}
