// The one finding model every analyzer produces and every reporter consumes.

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CONFIDENCES = ['high', 'medium', 'low'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

/** Where a finding is. Lines and columns are 1-based; `endColumn` is exclusive, as in SARIF. */
export interface Location {
  /** Repository-relative path with forward slashes. */
  readonly path: string;
  readonly startLine: number;
  readonly startColumn: number;
  readonly endLine: number;
  readonly endColumn: number;
  /** Set when the finding came from Git history (or the index). */
  readonly commit?: string;
  readonly author?: string;
  /** ISO 8601. */
  readonly date?: string;
}

/** SARIF's baselineState, restricted to the values Plumbline produces. */
export type BaselineState = 'new' | 'unchanged' | 'absent';

export interface Suppression {
  /** `inSource` for an inline `plumbline:allow`, `external` for the suppressions file. */
  readonly kind: 'inSource' | 'external';
  readonly justification: string;
  readonly expires?: string;
}

/** What a dependency finding is about: the package, the advisory's other names, and the way out. */
export interface DependencyInfo {
  readonly ecosystem: string;
  readonly name: string;
  readonly version: string;
  readonly purl: string;
  readonly direct: boolean;
  readonly dev: boolean;
  /** The advisory's other ids (CVE, GHSA, PYSEC, …), the primary one being the finding's rule id. */
  readonly aliases: readonly string[];
  /** Every version the advisory says fixes it. */
  readonly fixedVersions: readonly string[];
  /** The smallest upgrade that fixes it, within the same major version when there is one. */
  readonly upgradeTo?: string;
  /** The smallest upgrade that fixes every vulnerability found in this package. */
  readonly upgradeFixesAll?: string;
  /** For a transitive package: names@versions from a direct dependency down to this package's parent. */
  readonly path?: readonly string[];
  readonly cvss?: { readonly score: number; readonly vector: string };
}

export interface Finding {
  /** The analyzer that produced it: `secrets`, `deps`, … */
  readonly analyzer: string;
  readonly ruleId: string;
  readonly title: string;
  /** One sentence about this occurrence; never contains a secret. */
  readonly message: string;
  readonly severity: Severity;
  readonly confidence: Confidence;
  readonly location: Location;
  readonly cwe?: readonly string[];
  /** The source line(s) with any secret redacted. */
  readonly snippet: string;
  /**
   * Where the finding is within the first line of `snippet` (0-based, end exclusive): redaction and
   * clipping make snippet offsets differ from the source columns in `location`.
   */
  readonly snippetSpan?: readonly [number, number];
  /** Line-independent identity: see fingerprint.ts. */
  readonly fingerprint: string;
  readonly help?: string;
  readonly tags?: readonly string[];
  /** Set by the deps analyzer. */
  readonly dependency?: DependencyInfo;
  readonly baselineState?: BaselineState;
  readonly suppression?: Suppression;
}

/** What an analyzer returns before the engine assigns fingerprints. */
export interface RawFinding extends Omit<Finding, 'fingerprint' | 'baselineState' | 'suppression'> {
  /**
   * The normalised matched content the fingerprint is built from (for a secret: the secret itself).
   * Never printed; only hashed.
   */
  readonly fingerprintContent: string;
  /** True when the source line carries `plumbline:allow` for this rule (or for every rule). */
  readonly inlineAllowed?: boolean;
}

const RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

export function severityRank(severity: Severity): number {
  return RANK[severity];
}

export function atLeast(severity: Severity, threshold: Severity): boolean {
  return RANK[severity] >= RANK[threshold];
}

/** Orders findings for stable output: path, line, column, rule. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    cmp(a.location.path, b.location.path) ||
    a.location.startLine - b.location.startLine ||
    a.location.startColumn - b.location.startColumn ||
    cmp(a.ruleId, b.ruleId) ||
    cmp(a.fingerprint, b.fingerprint)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
