// SARIF 2.1.0 output for GitHub code scanning and other SARIF consumers: one run, every finding as a result.
import { pathToFileURL } from 'node:url';
import type { Confidence, Finding, Severity } from '../findings/model.js';
import type { AbsentEntry, CheckReport, Reporter, RuleMeta, Skipped } from './types.js';

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';
export const INFORMATION_URI = 'https://github.com/plumbline-dev/plumbline';
/** Key of the fingerprint in `partialFingerprints`; bump the suffix if the fingerprint algorithm changes. */
export const FINGERPRINT_KEY = 'plumbline/v1';
const SRCROOT = '%SRCROOT%';

type SarifLevel = 'error' | 'warning' | 'note' | 'none';
type Precision = 'very-high' | 'high' | 'medium' | 'low';

const LEVEL: Record<Severity, SarifLevel> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

/** GitHub code scanning reads this (a string holding a CVSS-like score) to rank security alerts. */
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.0',
};

const PRECISION: Record<Confidence, Precision> = { high: 'high', medium: 'medium', low: 'low' };
const CONFIDENCE_RANK: Record<Confidence, number> = { high: 2, medium: 1, low: 0 };

// The subset of the SARIF 2.1.0 object model Plumbline writes.

interface SarifMessage {
  readonly text: string;
}

interface SarifArtifactLocation {
  readonly uri: string;
  readonly uriBaseId: string;
}

interface SarifLocation {
  readonly physicalLocation: {
    readonly artifactLocation: SarifArtifactLocation;
    readonly region?: {
      readonly startLine: number;
      readonly startColumn: number;
      readonly endLine: number;
      readonly endColumn: number;
      readonly snippet?: { readonly text: string };
    };
  };
}

interface SarifRule {
  readonly id: string;
  readonly name: string;
  readonly shortDescription: SarifMessage;
  readonly fullDescription: SarifMessage;
  readonly help: SarifMessage;
  readonly defaultConfiguration: { readonly level: SarifLevel };
  readonly properties: {
    readonly tags: readonly string[];
    readonly precision: Precision;
    readonly 'security-severity': string;
    readonly cwe?: readonly string[];
  };
}

interface SarifSuppression {
  readonly kind: 'inSource' | 'external';
  readonly justification: string;
  readonly status: 'accepted';
  readonly properties?: { readonly expires: string };
}

interface SarifResult {
  readonly ruleId: string;
  readonly ruleIndex?: number;
  readonly kind?: 'pass';
  readonly level: SarifLevel;
  readonly message: SarifMessage;
  readonly locations: readonly SarifLocation[];
  readonly partialFingerprints: Readonly<Record<string, string>>;
  readonly baselineState?: 'new' | 'unchanged' | 'absent';
  readonly suppressions?: readonly SarifSuppression[];
  readonly properties?: Readonly<Record<string, string>>;
}

interface SarifNotification {
  readonly level: 'note';
  readonly message: SarifMessage;
  readonly descriptor: { readonly id: string };
  readonly locations: readonly SarifLocation[];
  readonly properties: { readonly reason: Skipped['reason']; readonly detail: string };
}

export interface SarifLog {
  readonly $schema: typeof SARIF_SCHEMA;
  readonly version: '2.1.0';
  readonly runs: readonly [
    {
      readonly tool: {
        readonly driver: {
          readonly name: 'plumbline';
          readonly version: string;
          readonly semanticVersion: string;
          readonly informationUri: string;
          readonly rules: readonly SarifRule[];
        };
      };
      readonly invocations: readonly [
        {
          readonly executionSuccessful: true;
          readonly startTimeUtc?: string;
          readonly endTimeUtc?: string;
          readonly toolExecutionNotifications: readonly SarifNotification[];
          readonly properties: Readonly<Record<string, string | number | boolean>>;
        },
      ];
      readonly originalUriBaseIds: { readonly [SRCROOT]: { readonly uri: string } };
      readonly columnKind: 'utf16CodeUnits';
      readonly results: readonly SarifResult[];
      /** The advisory database snapshots a deps scan used, so its result can be reproduced. */
      readonly properties?: { readonly databases: readonly Readonly<Record<string, string | number>>[] };
    },
  ];
}

export const sarifReporter: Reporter = {
  name: 'sarif',
  render(report) {
    return `${JSON.stringify(toSarif(report), null, 2)}\n`;
  },
};

export function toSarif(report: CheckReport): SarifLog {
  const rules = collectRules(report);
  const ruleIndex = new Map(rules.map((rule, index) => [rule.id, index]));
  const results = [
    ...report.findings.map((finding) => findingResult(finding, ruleIndex.get(finding.ruleId))),
    ...report.absent.map((entry) => absentResult(entry, ruleIndex.get(entry.ruleId))),
  ];
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'plumbline',
            version: report.tool.version,
            semanticVersion: report.tool.version,
            informationUri: INFORMATION_URI,
            rules: rules.map((rule) => sarifRule(rule, report.findings)),
          },
        },
        invocations: [invocation(report)],
        originalUriBaseIds: { [SRCROOT]: { uri: directoryUri(report.root) } },
        columnKind: 'utf16CodeUnits',
        results,
        ...(report.databases === undefined || report.databases.length === 0
          ? {}
          : { properties: { databases: report.databases.map((d) => ({ ...d })) } }),
      },
    ],
  };
}

/**
 * The report's rule metadata, first occurrence of each id winning, followed by a rule derived from the
 * finding itself for any finding whose rule has no metadata, so every finding result gets a `ruleIndex`.
 */
function collectRules(report: CheckReport): RuleMeta[] {
  const byId = new Map<string, RuleMeta>();
  for (const rule of report.rules) if (!byId.has(rule.id)) byId.set(rule.id, rule);
  for (const finding of report.findings) {
    if (byId.has(finding.ruleId)) continue;
    byId.set(finding.ruleId, {
      id: finding.ruleId,
      analyzer: finding.analyzer,
      title: finding.title,
      severity: finding.severity,
      help: finding.help,
      cwe: finding.cwe,
      tags: finding.tags,
    });
  }
  return [...byId.values()];
}

function sarifRule(rule: RuleMeta, findings: readonly Finding[]): SarifRule {
  const cwe = rule.cwe !== undefined && rule.cwe.length > 0 ? [...rule.cwe] : undefined;
  const tags = unique(['security', rule.analyzer, ...(rule.tags ?? []), ...(cwe ?? []).flatMap(cweTag)]);
  return {
    id: rule.id,
    name: ruleName(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: {
      text: `${sentence(rule.title)} Reported by the Plumbline ${rule.analyzer} analyzer; default severity ${rule.severity}.`,
    },
    help: { text: rule.help ?? rule.title },
    defaultConfiguration: { level: LEVEL[rule.severity] },
    properties: {
      tags,
      precision: precisionOf(rule.id, findings),
      'security-severity': SECURITY_SEVERITY[rule.severity],
      ...(cwe === undefined ? {} : { cwe }),
    },
  };
}

/** `github-pat-classic` becomes `GithubPatClassic`: SARIF wants a name that reads as an identifier. */
export function ruleName(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** The highest confidence among the rule's findings; `medium` when it has none. */
function precisionOf(ruleId: string, findings: readonly Finding[]): Precision {
  let best: Confidence | undefined;
  for (const finding of findings) {
    if (finding.ruleId !== ruleId) continue;
    if (best === undefined || CONFIDENCE_RANK[finding.confidence] > CONFIDENCE_RANK[best])
      best = finding.confidence;
  }
  return PRECISION[best ?? 'medium'];
}

/** `CWE-798` (or `798`) becomes GitHub's tag form `external/cwe/cwe-798`; anything else adds no tag. */
function cweTag(cwe: string): string[] {
  const match = /^(?:cwe-?)?(\d+)$/i.exec(cwe.trim());
  return match === null ? [] : [`external/cwe/cwe-${match[1]}`];
}

function findingResult(finding: Finding, ruleIndex: number | undefined): SarifResult {
  const { location, suppression } = finding;
  const startLine = Math.max(1, location.startLine);
  const startColumn = Math.max(1, location.startColumn);
  const endLine = Math.max(startLine, location.endLine);
  const endColumn = Math.max(endLine === startLine ? startColumn : 1, location.endColumn);
  const properties: Record<string, string> = {
    severity: finding.severity,
    confidence: finding.confidence,
    analyzer: finding.analyzer,
  };
  if (location.commit !== undefined) properties.commit = location.commit;
  if (location.author !== undefined) properties.author = location.author;
  if (location.date !== undefined) properties.date = location.date;
  const dep = finding.dependency;
  if (dep !== undefined) {
    properties.package = dep.purl;
    if (dep.aliases.length > 0) properties.aliases = dep.aliases.join(', ');
    if (dep.fixedVersions.length > 0) properties.fixedVersions = dep.fixedVersions.join(', ');
    if (dep.upgradeTo !== undefined) properties.upgradeTo = dep.upgradeTo;
    if (dep.path !== undefined) properties.dependencyPath = dep.path.join(' > ');
  }
  return {
    ruleId: finding.ruleId,
    ...(ruleIndex === undefined ? {} : { ruleIndex }),
    level: LEVEL[finding.severity],
    message: { text: finding.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: artifact(location.path),
          region: {
            startLine,
            startColumn,
            endLine,
            endColumn,
            ...(finding.snippet === '' ? {} : { snippet: { text: finding.snippet } }),
          },
        },
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: finding.fingerprint },
    ...(finding.baselineState === undefined ? {} : { baselineState: finding.baselineState }),
    ...(suppression === undefined
      ? {}
      : {
          suppressions: [
            {
              kind: suppression.kind,
              justification: suppression.justification,
              status: 'accepted',
              ...(suppression.expires === undefined ? {} : { properties: { expires: suppression.expires } }),
            },
          ],
        }),
    properties,
  };
}

/**
 * A baseline entry nothing matched this run. SARIF's way to say "evaluated, no longer a problem" is
 * `kind: "pass"` with `level: "none"`; the location is only the file, since the finding is gone.
 */
function absentResult(entry: AbsentEntry, ruleIndex: number | undefined): SarifResult {
  return {
    ruleId: entry.ruleId,
    ...(ruleIndex === undefined ? {} : { ruleIndex }),
    kind: 'pass',
    level: 'none',
    message: {
      text: `A baseline finding of ${entry.ruleId} in ${entry.path} was not found this time (fixed or moved).`,
    },
    locations: [{ physicalLocation: { artifactLocation: artifact(entry.path) } }],
    partialFingerprints: { [FINGERPRINT_KEY]: entry.fingerprint },
    baselineState: 'absent',
  };
}

function invocation(report: CheckReport): SarifLog['runs'][0]['invocations'][0] {
  const started = Date.parse(report.startedAt);
  const times = Number.isNaN(started)
    ? {}
    : {
        startTimeUtc: new Date(started).toISOString(),
        endTimeUtc: new Date(started + Math.max(0, Math.round(report.stats.durationMs))).toISOString(),
      };
  return {
    executionSuccessful: true,
    ...times,
    toolExecutionNotifications: report.skipped.map(skippedNotification),
    properties: {
      source: report.stats.source,
      files: report.stats.files,
      bytes: report.stats.bytes,
      durationMs: report.stats.durationMs,
      failOn: report.gate.failOn,
      failing: report.gate.failing,
      passed: report.gate.passed,
    },
  };
}

function skippedNotification(skipped: Skipped): SarifNotification {
  const detail = skipped.detail === '' ? '' : `: ${skipped.detail}`;
  return {
    level: 'note',
    message: { text: `Skipped ${skipped.path} (${skipped.reason})${detail}` },
    descriptor: { id: `plumbline/skipped/${skipped.reason}` },
    locations: [{ physicalLocation: { artifactLocation: artifact(skipped.path) } }],
    properties: { reason: skipped.reason, detail: skipped.detail },
  };
}

function artifact(path: string): SarifArtifactLocation {
  return { uri: relativeUri(path), uriBaseId: SRCROOT };
}

/**
 * A repository-relative path as a relative URI reference: each segment percent-encoded, so spaces, `#`,
 * `?`, `%` and a `:` that would read as a scheme survive; backslashes are treated as separators.
 */
export function relativeUri(path: string): string {
  return wellFormed(path)
    .replace(/\\/g, '/')
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/** The scanned root as a `file://` URI ending in `/`, as SARIF requires of a base URI. */
export function directoryUri(root: string): string {
  const href = pathToFileURL(root).href;
  return href.endsWith('/') ? href : `${href}/`;
}

/** Lone surrogates would make `encodeURIComponent` throw; they become U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
