// The contract every analyzer implements, and what the engine gives it.
import type { CheckSpec } from '../config/schema.js';
import type { RawFinding } from '../findings/model.js';
import type { Progress } from '../observe/progress.js';
import type { RuleMeta, Skipped } from '../report/types.js';

/** What part of the repository a check reads. */
export type ScanSource =
  | { readonly kind: 'tree' }
  | { readonly kind: 'staged' }
  | { readonly kind: 'history'; readonly range: string | undefined };

export interface AnalyzerContext {
  /** Absolute path of the scanned folder; tree-scan locations are relative to it. */
  readonly root: string;
  /** Top of the Git work tree, when there is one; history and staged locations are relative to it. */
  readonly workTree: string | undefined;
  readonly config: CheckSpec;
  readonly source: ScanSource;
  /**
   * Files of a tree scan, relative to root: listed once for every analyzer, and resolved after the
   * analyzers have started, so that their set-up (worker threads) overlaps the listing.
   */
  readonly files: Promise<readonly string[]>;
  readonly showSecrets: boolean;
  /** With `--since`: the merge-base commit, for analyzers that judge "what changed" themselves. */
  readonly sinceBase: string | undefined;
  /** Command-line overrides of the Check's deps settings. */
  readonly deps: { readonly dataDir?: string; readonly online?: boolean; readonly fixableOnly?: boolean };
  readonly progress: Progress;
  readonly signal: AbortSignal;
}

export interface AnalyzerResult {
  readonly findings: readonly RawFinding[];
  readonly rules: readonly RuleMeta[];
  readonly skipped: readonly Skipped[];
  readonly files: number;
  readonly bytes: number;
  /** The advisory database a result was computed from, so it can be reproduced. */
  readonly database?: DatabaseSnapshot;
}

export interface DatabaseSnapshot {
  readonly name: string;
  /** The store's content hash, or `online` for the OSV API. */
  readonly snapshot: string;
  readonly documents: number;
  readonly newestModified?: string;
}

export interface Analyzer {
  readonly name: string;
  readonly description: string;
  /** Sources it can read; the engine reports a usage error for others. */
  readonly sources: readonly ScanSource['kind'][];
  /**
   * True when the analyzer applies `--since` itself (from `sinceBase`); otherwise the engine keeps only
   * findings on lines added since the merge-base.
   */
  readonly ownsSince?: boolean;
  run(context: AnalyzerContext): Promise<AnalyzerResult>;
}
