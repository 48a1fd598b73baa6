// A pull-request comment in GitHub-flavoured Markdown: verdict, summary, a table of new findings, details.
import { type Finding, SEVERITIES, type Severity, severityRank } from '../findings/model.js';
import { INFORMATION_URI } from './sarif.js';
import { disposition, formatBytes, formatDuration, groupSkipped, plural, shortSha } from './text.js';
import type { CheckReport, Reporter } from './types.js';

/** Rows in the findings table; GitHub comments are capped at 65,536 characters. */
export const MAX_TABLE_ROWS = 50;
/** Entries listed in each collapsible section. */
const MAX_DETAIL_ITEMS = 50;
/** Paths listed per skip reason. */
const MAX_SKIPPED_PATHS = 20;
/** Characters of a message shown in a table cell. */
const MAX_MESSAGE_LENGTH = 300;
/** An invisible marker a CI job can search for to update its previous comment instead of adding one. */
export const COMMENT_MARKER = '<!-- plumbline:check -->';

const SEVERITY_ICON: Record<Severity, string> = {
  critical: '🟣',
  high: '🔴',
  medium: '🟠',
  low: '🟡',
  info: '⚪',
};

export const markdownReporter: Reporter = {
  name: 'markdown',
  render(report) {
    const newFindings = report.findings.filter((finding) => disposition(finding) === 'new');
    const suppressed = report.findings.filter((finding) => disposition(finding) === 'suppressed');
    const unchanged = report.findings.filter((finding) => disposition(finding) === 'unchanged');
    const sections = [
      [COMMENT_MARKER, title(report)].join('\n'),
      summaryLine(report, newFindings, suppressed.length, unchanged.length),
      ...(newFindings.length > 0 ? [findingsTable(newFindings)] : []),
      ...(suppressed.length > 0 ? [suppressedDetails(suppressed)] : []),
      ...(unchanged.length > 0 ? [unchangedDetails(unchanged)] : []),
      ...(report.skipped.length > 0 ? [skippedDetails(report)] : []),
      footer(report),
    ];
    return `${sections.join('\n\n')}\n`;
  },
};

function title(report: CheckReport): string {
  return report.gate.passed ? '## ✅ Plumbline: passed' : '## ❌ Plumbline: failed';
}

function summaryLine(
  report: CheckReport,
  newFindings: readonly Finding[],
  suppressed: number,
  unchanged: number,
): string {
  const { gate, stats } = report;
  const verdict = gate.passed
    ? `No new findings at or above **${gate.failOn}**.`
    : `**${plural(gate.failing, 'finding')} at or above ${gate.failOn}** ${gate.failing === 1 ? 'fails' : 'fail'} the gate.`;
  const counts = SEVERITIES.map((severity) => ({
    severity,
    count: newFindings.filter((finding) => finding.severity === severity).length,
  }))
    .filter(({ count }) => count > 0)
    .map(({ severity, count }) => `${count} ${severity}`);
  const newPart = `${plural(newFindings.length, 'new finding')}${counts.length > 0 ? ` (${counts.join(', ')})` : ''}`;
  const rest = [`${suppressed} suppressed`, `${unchanged} unchanged since the baseline`];
  if (report.absent.length > 0) rest.push(`${report.absent.length} fixed since the baseline`);
  const scanned = `${plural(stats.files, 'file')} (${formatBytes(stats.bytes)}) scanned in ${formatDuration(stats.durationMs)}`;
  return `${verdict} ${newPart}, ${rest.join(', ')}; ${scanned}.`;
}

/** Most severe first (the sort is stable, so the report's order holds within a severity), then capped. */
function findingsTable(findings: readonly Finding[]): string {
  const ordered = [...findings].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  const rows = ordered
    .slice(0, MAX_TABLE_ROWS)
    .map((finding) =>
      tableRow([
        `${SEVERITY_ICON[finding.severity]} ${finding.severity}`,
        code(finding.ruleId),
        locationCell(finding),
        prose(truncate(finding.message, MAX_MESSAGE_LENGTH)),
      ]),
    );
  const lines = ['| Severity | Rule | Location | Message |', '| --- | --- | --- | --- |', ...rows];
  const more = findings.length - rows.length;
  if (more > 0) lines.push('', `…and ${plural(more, 'more new finding')}, listed in the full report.`);
  return lines.join('\n');
}

function locationCell(finding: Finding): string {
  const { location } = finding;
  const where = code(`${location.path}:${location.startLine}`);
  return location.commit === undefined ? where : `${where} in ${code(shortSha(location.commit))}`;
}

function tableRow(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function suppressedDetails(findings: readonly Finding[]): string {
  const items = findings.map((finding) => {
    const suppression = finding.suppression;
    const how = suppression?.kind === 'inSource' ? 'inline' : 'suppressions file';
    const why =
      suppression === undefined || suppression.justification === ''
        ? ''
        : `: ${prose(suppression.justification)}`;
    const expires = suppression?.expires === undefined ? '' : ` (expires ${prose(suppression.expires)})`;
    return `- ${code(finding.ruleId)} at ${locationCell(finding)}, ${how}${why}${expires}`;
  });
  return details(plural(findings.length, 'suppressed finding'), items);
}

function unchangedDetails(findings: readonly Finding[]): string {
  const items = findings.map(
    (finding) => `- ${finding.severity} ${code(finding.ruleId)} at ${locationCell(finding)}`,
  );
  return details(`${plural(findings.length, 'finding')} unchanged since the baseline`, items);
}

function skippedDetails(report: CheckReport): string {
  const items = groupSkipped(report.skipped).map((group) => {
    const shown = group.paths.slice(0, MAX_SKIPPED_PATHS).map(code);
    const more = group.paths.length - shown.length;
    return `- ${group.reason} (${group.paths.length}): ${shown.join(', ')}${more > 0 ? `, and ${more} more` : ''}`;
  });
  return details(plural(report.skipped.length, 'skipped file'), items, false);
}

/** A collapsible section; the blank line after `<summary>` lets GitHub render the list inside as Markdown. */
function details(summary: string, items: readonly string[], cap = true): string {
  const shown = cap ? items.slice(0, MAX_DETAIL_ITEMS) : items;
  const more = items.length - shown.length;
  const lines = ['<details>', `<summary>${summary}</summary>`, '', ...shown];
  if (more > 0) lines.push(`- …and ${more} more`);
  lines.push('', '</details>');
  return lines.join('\n');
}

function footer(report: CheckReport): string {
  const source = prose(report.stats.source);
  const databases = (report.databases ?? [])
    .map((d) => ` · advisories: ${prose(d.name)}, snapshot <code>${prose(d.snapshot.slice(0, 16))}</code>`)
    .join('');
  return `<sub>[Plumbline](${INFORMATION_URI}) ${prose(report.tool.version)} · scanned: ${source}${databases}</sub>`;
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '|': '&#124;',
  '`': '&#96;',
  '\\': '&#92;',
  '*': '&#42;',
  _: '&#95;',
  '~': '&#126;',
  '[': '&#91;',
  ']': '&#93;',
};

/**
 * Untrusted text as inert Markdown on one line. Every character that could open HTML, a code span, emphasis,
 * a link or a table cell becomes a numeric or named entity; GFM splits table rows on raw `|` before it
 * decodes entities, so an encoded pipe cannot break a row. Line breaks become spaces; other control
 * characters and bidirectional overrides become U+FFFD.
 */
export function escapeMarkdown(text: string): string {
  return (
    text
      .replace(/\r\n|[\r\n\t]/g, ' ')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
      .replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd')
      .replace(/[&<>"'|`\\*_~[\]]/g, (ch) => ENTITIES[ch] ?? ch)
  );
}

/**
 * Escaped running text that also cannot ping anyone: GitHub turns `@name` and `@org/team` in comment text
 * into mentions, so a zero-width space goes after every `@`.
 */
function prose(text: string): string {
  return escapeMarkdown(text).replace(/@/g, '@\u200b');
}

/**
 * Untrusted text in a `<code>` element rather than a backtick span: entities work inside it (they do not in a
 * code span, where a backtick or pipe in the text would need fragile fences), and GitHub makes no mentions
 * or references inside code.
 */
function code(text: string): string {
  return `<code>${escapeMarkdown(text)}</code>`;
}

/** Shortens text to at most `max` UTF-16 units, never splitting a surrogate pair. */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1).replace(/[\ud800-\udbff]$/, '');
  return `${cut}…`;
}
