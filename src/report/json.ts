// Machine-readable output: a stable, versioned JSON document of one check run.
import type { DatabaseSnapshot } from '../analyzers/types.js';
import type { DependencyInfo, Finding } from '../findings/model.js';
import type { AbsentEntry, CheckReport, Reporter, Skipped } from './types.js';

/**
 * The JSON report, format version 1. Keys appear in this order; optional keys are left out when unset.
 *
 * - `version`: the format version, `1`. Incompatible changes bump it; new optional keys do not.
 * - `tool`: `{ name: "plumbline", version }`.
 * - `root`: absolute path of the scanned root; every `path` in the document is relative to it.
 * - `startedAt`: ISO 8601 time the run started.
 * - `analyzers`: the analyzers that ran, in order.
 * - `gate`: `{ failOn, failing, passed }`: the threshold, how many findings count against it, the verdict.
 * - `stats`: `{ files, bytes, durationMs, source }`.
 * - `findings`: every finding, including suppressed (`suppression` set) and baseline-unchanged
 *   (`baselineState: "unchanged"`) ones, in the report's order. Each has `analyzer`, `ruleId`, `title`,
 *   `message`, `severity`, `confidence`, `location` (`path`, 1-based `startLine`/`startColumn`/`endLine`, exclusive
 *   `endColumn`, and `commit`/`author`/`date` for history findings), `cwe?`, `snippet` (redacted), `fingerprint`,
 *   `help?`, `tags?`, `dependency?` (deps findings: `ecosystem`, `name`, `version`, `purl`, `direct`, `dev`,
 *   `aliases`, `fixedVersions`, `upgradeTo?`, `path?`, `cvss?`), `baselineState?`, `suppression?` (`kind`,
 *   `justification`, `expires?`).
 * - `absent`: baseline entries no finding matched this time: `{ fingerprint, ruleId, path }`.
 * - `skipped`: files that were not scanned: `{ path, reason, detail }`.
 * - `databases?`: advisory databases used: `{ name, snapshot, documents, newestModified? }`.
 *
 * Findings are copied field by field, so nothing outside the model (such as an analyzer's raw match) can
 * reach the output even if a caller passes a richer object.
 */
export interface JsonReport {
  readonly version: 1;
  readonly tool: CheckReport['tool'];
  readonly root: string;
  readonly startedAt: string;
  readonly analyzers: readonly string[];
  readonly gate: CheckReport['gate'];
  readonly stats: CheckReport['stats'];
  readonly findings: readonly Finding[];
  readonly absent: readonly AbsentEntry[];
  readonly skipped: readonly Skipped[];
  readonly databases?: readonly DatabaseSnapshot[];
}

export const jsonReporter: Reporter = {
  name: 'json',
  render(report) {
    return `${JSON.stringify(toJsonReport(report), null, 2)}\n`;
  },
};

export function toJsonReport(report: CheckReport): JsonReport {
  const { tool, gate, stats } = report;
  return {
    version: 1,
    tool: { name: tool.name, version: tool.version },
    root: report.root,
    startedAt: report.startedAt,
    analyzers: [...report.analyzers],
    gate: { failOn: gate.failOn, failing: gate.failing, passed: gate.passed },
    stats: { files: stats.files, bytes: stats.bytes, durationMs: stats.durationMs, source: stats.source },
    findings: report.findings.map(copyFinding),
    absent: report.absent.map(({ fingerprint, ruleId, path }) => ({ fingerprint, ruleId, path })),
    skipped: report.skipped.map(({ path, reason, detail }) => ({ path, reason, detail })),
    ...(report.databases === undefined ? {} : { databases: report.databases.map((d) => ({ ...d })) }),
  };
}

function copyDependency(d: DependencyInfo): DependencyInfo {
  return {
    ecosystem: d.ecosystem,
    name: d.name,
    version: d.version,
    purl: d.purl,
    direct: d.direct,
    dev: d.dev,
    aliases: [...d.aliases],
    fixedVersions: [...d.fixedVersions],
    ...(d.upgradeTo === undefined ? {} : { upgradeTo: d.upgradeTo }),
    ...(d.upgradeFixesAll === undefined ? {} : { upgradeFixesAll: d.upgradeFixesAll }),
    ...(d.path === undefined ? {} : { path: [...d.path] }),
    ...(d.cvss === undefined ? {} : { cvss: { score: d.cvss.score, vector: d.cvss.vector } }),
  };
}

/** A copy with exactly the model's fields, in a fixed order; `undefined` fields vanish in JSON. */
function copyFinding(finding: Finding): Finding {
  const { location, suppression } = finding;
  return {
    analyzer: finding.analyzer,
    ruleId: finding.ruleId,
    title: finding.title,
    message: finding.message,
    severity: finding.severity,
    confidence: finding.confidence,
    location: {
      path: location.path,
      startLine: location.startLine,
      startColumn: location.startColumn,
      endLine: location.endLine,
      endColumn: location.endColumn,
      commit: location.commit,
      author: location.author,
      date: location.date,
    },
    cwe: finding.cwe === undefined ? undefined : [...finding.cwe],
    snippet: finding.snippet,
    fingerprint: finding.fingerprint,
    help: finding.help,
    tags: finding.tags === undefined ? undefined : [...finding.tags],
    dependency: finding.dependency === undefined ? undefined : copyDependency(finding.dependency),
    baselineState: finding.baselineState,
    suppression:
      suppression === undefined
        ? undefined
        : { kind: suppression.kind, justification: suppression.justification, expires: suppression.expires },
  };
}
