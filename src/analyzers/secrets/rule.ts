// A secret rule is data: what to look for, how sure we are, and examples that prove it.
import type { Confidence, Severity } from '../../findings/model.js';

export interface SecretRule {
  /** Stable, kebab-case, unique: `github-pat-classic`. */
  readonly id: string;
  /** A short title: "GitHub personal access token (classic)". */
  readonly description: string;
  readonly severity: Severity;
  /** How likely a match is a real secret. Defaults to `high`. */
  readonly confidence?: Confidence;
  /**
   * Literal strings (lower case) of which at least one occurs, case-insensitively, inside every match.
   * The scanner runs a rule's pattern only near its keywords, which is what makes it fast.
   */
  readonly keywords: readonly string[];
  /**
   * A regular expression in the subset that JavaScript and Rust's regex crate (ripgrep) share:
   * no lookaround, no backreferences, no named groups, no inline flags (use `caseInsensitive`).
   */
  readonly pattern: string;
  readonly caseInsensitive?: boolean;
  /**
   * Capture groups, in order, that may hold the secret; the first that took part in the match wins.
   * Empty or absent: the whole match is the secret.
   */
  readonly secretGroups?: readonly number[];
  /** Minimum Shannon entropy (bits per character) of the secret. */
  readonly entropy?: number;
  /** The match may span lines (PEM blocks). Such rules look up to 64 KiB past their keyword. */
  readonly multiline?: boolean;
  /**
   * Generic credential rules (a password or token assigned a literal) go through the precision filters in
   * generic.ts: placeholders, templates, environment reads, dictionary words, fixtures.
   */
  readonly generic?: boolean;
  readonly allow?: {
    /** A secret matching any of these is not reported. Same regex subset as `pattern`. */
    readonly regexes?: readonly string[];
    /** A secret containing any of these (case-insensitive) is not reported. */
    readonly stopwords?: readonly string[];
    /** Globs of paths where this rule does not apply. */
    readonly paths?: readonly string[];
  };
  readonly tags?: readonly string[];
  /** Lines of text: each `positive` must produce this rule, each `negative` must not. Checked by tests. */
  readonly examples: {
    readonly positive: readonly string[];
    readonly negative: readonly string[];
  };
}
