// What every reporter is given: one finished check run.
import type { DatabaseSnapshot } from '../analyzers/types.js';
import type { Finding, Severity } from '../findings/model.js';

export interface RuleMeta {
  readonly id: string;
  readonly analyzer: string;
  readonly title: string;
  readonly severity: Severity;
  readonly help?: string;
  readonly cwe?: readonly string[];
  readonly tags?: readonly string[];
}

/** A file or source the run could not read, and why (binary, too large, unreadable). */
export interface Skipped {
  readonly path: string;
  readonly reason: 'binary' | 'too-large' | 'unreadable' | 'not-utf8' | 'other';
  readonly detail: string;
}

/** A baseline entry that no finding matched this time (fixed or moved away). */
export interface AbsentEntry {
  readonly fingerprint: string;
  readonly ruleId: string;
  readonly path: string;
}

export interface CheckReport {
  readonly tool: { readonly name: 'plumbline'; readonly version: string };
  /** Absolute path of the scanned root; locations in findings are relative to it. */
  readonly root: string;
  /** Analyzers that ran, in order. */
  readonly analyzers: readonly string[];
  /** Every finding, including suppressed and baseline-unchanged ones, sorted. */
  readonly findings: readonly Finding[];
  readonly absent: readonly AbsentEntry[];
  /** Metadata for every rule that produced a finding (reporters may list only these). */
  readonly rules: readonly RuleMeta[];
  readonly skipped: readonly Skipped[];
  /** Advisory databases the run used (the deps analyzer), each with the snapshot that reproduces it. */
  readonly databases?: readonly DatabaseSnapshot[];
  readonly gate: {
    readonly failOn: Severity;
    /** Findings that count against the gate: not suppressed, not unchanged, at or above failOn. */
    readonly failing: number;
    readonly passed: boolean;
  };
  readonly stats: {
    readonly files: number;
    readonly bytes: number;
    readonly durationMs: number;
    /** What was scanned: `tree`, `staged`, `history a..b`, `since REF`. */
    readonly source: string;
  };
  readonly startedAt: string;
}

/** A reporter turns a report into the text of one output file. */
export interface Reporter {
  readonly name: ReportFormat;
  /** `color` is true only when writing to a TTY that allows it. */
  render(report: CheckReport, options: { color: boolean }): string;
}

export type ReportFormat = 'text' | 'json' | 'sarif' | 'markdown' | 'junit';
