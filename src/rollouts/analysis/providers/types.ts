// The contract every analysis provider implements: made once per metric and run, `begin` when the analysis
// starts (a baseline), then `measure` once per look.
import type { AnalysisMetric, MetricProvider } from '../schema.js';
import type { AnalysisContext, RevisionSummary } from '../types.js';

/** What a provider saw. Errors are thrown (a failed query, a timeout) and become Error measurements. */
export type Observation =
  /** A result for the metric's conditions to judge. */
  | { readonly kind: 'value'; readonly value: unknown; readonly message?: string }
  /** Nothing to judge (no requests, an empty vector, a path that leads nowhere): the noData policy decides. */
  | { readonly kind: 'noData'; readonly message: string }
  /** A comparison's own verdict, with what the conditions may also judge. */
  | {
      readonly kind: 'verdict';
      readonly phase: 'Successful' | 'Undecided' | 'Inconclusive' | 'Failed';
      readonly value: unknown;
      readonly canary: RevisionSummary;
      readonly stable: RevisionSummary;
      readonly message: string;
    };

export interface Look {
  /** 0 for the first measurement that counts. */
  readonly index: number;
  /** Whether this is the metric's last look (its count reached if it is not an error). */
  readonly last: boolean;
}

export interface Measurer {
  /** Called once before the first look, e.g. for a baseline of counters. A failure is reported by measure. */
  begin?(signal: AbortSignal): Promise<void>;
  measure(look: Look, signal: AbortSignal): Promise<Observation>;
}

export interface ProviderInput<P extends MetricProvider> {
  readonly provider: P;
  readonly metric: AnalysisMetric;
  readonly context: AnalysisContext;
  /** The placeholders' values: revision, app, port, args.NAME, … */
  readonly vars: ReadonlyMap<string, string>;
}

/** A provider: whether it judges the traffic of each interval (then it first measures after one). */
export interface ProviderDefinition<P extends MetricProvider> {
  readonly windowed: boolean;
  /** What the context must hold for this provider, checked before the run starts; a message when it lacks. */
  requires(context: AnalysisContext): string | undefined;
  create(input: ProviderInput<P>): Measurer;
}
