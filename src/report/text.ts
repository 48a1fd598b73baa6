// Human-readable terminal output: one compiler-style diagnostic per new finding, then a summary and the verdict.
import { atLeast, type Finding, type Location, SEVERITIES, type Severity } from '../findings/model.js';
import type { CheckReport, Reporter, Skipped } from './types.js';

/** Snippet lines shown per finding before the rest is elided. */
const MAX_FRAME_LINES = 8;
/** Characters of one source line shown; longer lines (minified files) are cut to a window around the span. */
const MAX_LINE_WIDTH = 160;
/** Paths listed per skip reason in the summary. */
const SKIPPED_PATHS_SHOWN = 3;
const SHORT_SHA_LENGTH = 7;
const ELLIPSIS = '...';

const SKIP_REASONS: readonly Skipped['reason'][] = ['binary', 'too-large', 'unreadable', 'not-utf8', 'other'];

type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan';

const SGR: Record<Style, readonly [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
};

const SEVERITY_STYLE: Record<Severity, readonly Style[]> = {
  critical: ['bold', 'magenta'],
  high: ['bold', 'red'],
  medium: ['yellow'],
  low: ['blue'],
  info: ['dim'],
};

/** Wraps text in ANSI SGR codes, or returns it untouched when colour is off. */
type Paint = (text: string, ...styles: readonly Style[]) => string;

function makePaint(color: boolean): Paint {
  if (!color) return (text) => text;
  return (text, ...styles) =>
    styles.reduce((acc, style) => `\x1b[${SGR[style][0]}m${acc}\x1b[${SGR[style][1]}m`, text);
}

export const textReporter: Reporter = {
  name: 'text',
  render(report, options) {
    const paint = makePaint(options.color);
    const newFindings = report.findings.filter((finding) => disposition(finding) === 'new');
    const blocks = newFindings.map((finding) => renderFinding(finding, report.gate.failOn, paint).join('\n'));
    const body = blocks.length > 0 ? blocks.join('\n\n') : paint('No new findings.', 'green');
    return `${body}\n\n${renderSummary(report, newFindings, paint).join('\n')}\n`;
  },
};

/** How a finding is treated by the gate; every reporter classifies findings with these two functions. */
export type Disposition = 'new' | 'suppressed' | 'unchanged';

/**
 * Suppression wins over the baseline, so a suppressed finding is counted once, as suppressed. Anything that
 * is neither suppressed nor baseline-unchanged (including a finding with no baseline at all) is new.
 */
export function disposition(finding: Finding): Disposition {
  if (finding.suppression !== undefined) return 'suppressed';
  if (finding.baselineState === 'unchanged') return 'unchanged';
  return 'new';
}

/** A new finding at or above the gate's threshold: the ones `gate.failing` counts. */
export function countsAgainstGate(finding: Finding, failOn: Severity): boolean {
  return disposition(finding) === 'new' && atLeast(finding.severity, failOn);
}

/** The abbreviated commit SHA shown to people. */
export function shortSha(commit: string): string {
  return commit.slice(0, SHORT_SHA_LENGTH);
}

function renderFinding(finding: Finding, failOn: Severity, paint: Paint): string[] {
  const lines = [renderHeader(finding, failOn, paint)];
  const frame = renderFrame(
    finding.snippet,
    finding.location,
    oneLine(finding.message),
    paint,
    finding.snippetSpan,
  );
  lines.push(...frame.lines);
  if (!frame.labelled) lines.push(`  ${paint('=', 'blue', 'bold')} ${oneLine(finding.message)}`);
  const dep = finding.dependency;
  if (dep !== undefined) {
    const fix =
      dep.upgradeTo ?? (dep.fixedVersions.length > 0 ? dep.fixedVersions.join(', ') : 'no fixed version yet');
    lines.push(
      `  ${paint('=', 'blue', 'bold')} ${paint('fix:', 'bold')} ${oneLine(dep.upgradeTo === undefined ? fix : `upgrade to ${fix}`)}`,
    );
    if (dep.path !== undefined) {
      lines.push(
        `  ${paint('=', 'blue', 'bold')} ${paint('via:', 'bold')} ${oneLine([...dep.path, `${dep.name}@${dep.version}`].join(' > '))}`,
      );
    }
  }
  if (finding.help !== undefined && finding.help !== '') {
    lines.push(`  ${paint('=', 'blue', 'bold')} ${paint('help:', 'bold')} ${oneLine(finding.help)}`);
  }
  return lines;
}

function renderHeader(finding: Finding, failOn: Severity, paint: Paint): string {
  const { location } = finding;
  const severity = paint(finding.severity.toUpperCase().padEnd(8), ...SEVERITY_STYLE[finding.severity]);
  const rule = paint(oneLine(finding.ruleId), 'bold');
  const where = paint(`${oneLine(location.path)}:${location.startLine}:${location.startColumn}`, 'cyan');
  const parts = [`${severity} ${rule}: ${oneLine(finding.title)}  ${where}`];
  const history = historyText(location);
  if (history !== undefined) parts.push(paint(`(${history})`, 'dim'));
  if (finding.confidence !== 'high') parts.push(paint(`[${finding.confidence} confidence]`, 'dim'));
  if (!atLeast(finding.severity, failOn))
    parts.push(paint(`[below ${failOn}: does not fail the gate]`, 'dim'));
  return parts.join('  ');
}

/** `commit 1a2b3c4, Alice, 2024-03-01T…` for findings from Git history; undefined for working-tree findings. */
function historyText(location: Location): string | undefined {
  const parts: string[] = [];
  if (location.commit !== undefined) parts.push(`commit ${oneLine(shortSha(location.commit))}`);
  if (location.author !== undefined) parts.push(oneLine(location.author));
  if (location.date !== undefined) parts.push(oneLine(location.date));
  return parts.length > 0 ? parts.join(', ') : undefined;
}

interface Frame {
  readonly lines: string[];
  /** True when the message was printed after the last underline. */
  readonly labelled: boolean;
}

/**
 * Renders the snippet as a code frame, assuming its first line is `location.startLine`. The underline is
 * put under a redacted secret when the line has one, else under the location's columns (UTF-16 code units,
 * SARIF's default) when they fit the line; tabs are kept in the underline so the carets stay aligned.
 * Without an underline the caller prints the message on a line of its own.
 */
function renderFrame(
  snippet: string,
  location: Location,
  label: string,
  paint: Paint,
  snippetSpan?: readonly [number, number],
): Frame {
  const source = snippet.split(/\r\n|\r|\n/);
  if (source.length > 1 && source[source.length - 1] === '') source.pop();
  if (source.length === 1 && source[0] === '') return { lines: [], labelled: false };

  const shown = source.slice(0, MAX_FRAME_LINES);
  const lastShownNo = location.startLine + shown.length - 1;
  const width = String(lastShownNo).length;
  const blank = ' '.repeat(width);
  const bar = paint('|', 'blue', 'bold');
  const lines = [`${blank} ${bar}`];
  let lastUnderline = -1;

  shown.forEach((raw, index) => {
    const lineNo = location.startLine + index;
    const text = printable(raw, true);
    const span = spanOnLine(text, lineNo, location, snippetSpan);
    const view = windowOf(text, span?.from ?? 0);
    lines.push(`${paint(String(lineNo).padStart(width), 'blue', 'bold')} ${bar} ${view.text}`);
    if (span === undefined) return;
    const from = view.offset + span.from;
    const to = Math.min(view.offset + span.to, Math.max(view.text.length, from + 1));
    const indent = view.text.slice(0, from).replace(/[^\t]/g, ' ');
    lines.push(`${blank} ${bar} ${indent}${paint('^'.repeat(Math.max(1, to - from)), 'red', 'bold')}`);
    lastUnderline = lines.length - 1;
  });

  if (source.length > shown.length) {
    lines.push(`${blank} ${bar} ${paint(`${ELLIPSIS} ${source.length - shown.length} more lines`, 'dim')}`);
  }
  const underline = lines[lastUnderline];
  if (underline !== undefined && label !== '')
    lines[lastUnderline] = `${underline} ${paint(label, 'red', 'bold')}`;
  return { lines, labelled: underline !== undefined && label !== '' };
}

interface Span {
  /** 0-based, inclusive. */
  readonly from: number;
  /** 0-based, exclusive. */
  readonly to: number;
}

/**
 * What the secrets analyzer puts in place of a secret (redact.ts): up to 4 leading characters, then
 * `…(N chars)`. Its position in the snippet is exact, while the finding's columns are the source's: the
 * redaction changes the line's length and long lines are clipped around the secret.
 */
const REDACTION = /…\((\d+) chars\)/;

/** The underlined part of one snippet line. Undefined when the line is outside the finding or no span fits. */
function spanOnLine(
  text: string,
  lineNo: number,
  location: Location,
  snippetSpan: readonly [number, number] | undefined,
): Span | undefined {
  if (lineNo < location.startLine || lineNo > location.endLine) return undefined;
  const isFirst = lineNo === location.startLine;
  const isLast = lineNo === location.endLine;
  if (
    isFirst &&
    snippetSpan !== undefined &&
    snippetSpan[1] <= text.length &&
    snippetSpan[1] > snippetSpan[0]
  ) {
    return { from: snippetSpan[0], to: snippetSpan[1] };
  }
  if (isFirst) {
    const redacted = redactionSpan(text);
    if (redacted !== undefined) return redacted;
  }
  const from = isFirst ? Math.max(location.startColumn - 1, 0) : 0;
  // Columns past the end of the snippet: it was clipped or shortened, so any caret would point at the wrong text.
  if (from > text.length) return undefined;
  const to = isLast ? Math.min(location.endColumn - 1, text.length) : text.length;
  if (to > from) return { from, to };
  return isFirst || isLast ? { from, to: from + 1 } : undefined;
}

/** The span of a redacted secret in a snippet line, prefix included, or undefined when there is none. */
export function redactionSpan(text: string): Span | undefined {
  const match = REDACTION.exec(text);
  if (match === null) return undefined;
  // redactSecret shows min(4, length / 4) characters before the ellipsis.
  const shown = Math.min(4, Math.floor(Number(match[1]) / 4), match.index);
  return { from: match.index - shown, to: match.index + match[0].length };
}

interface View {
  readonly text: string;
  /** Add to a column of the full line to get its column in `text`. */
  readonly offset: number;
}

/** Cuts an over-long line to a window that starts a little before `focus`, marking cuts with an ellipsis. */
function windowOf(text: string, focus: number): View {
  if (text.length <= MAX_LINE_WIDTH) return { text, offset: 0 };
  const start = Math.max(0, Math.min(focus - 20, text.length - MAX_LINE_WIDTH));
  const end = Math.min(text.length, start + MAX_LINE_WIDTH);
  const head = start > 0 ? ELLIPSIS : '';
  const tail = end < text.length ? ELLIPSIS : '';
  return { text: `${head}${text.slice(start, end)}${tail}`, offset: head.length - start };
}

/**
 * Makes untrusted text safe for a terminal without changing its length: C0 controls become their Unicode
 * control pictures (so an escape sequence in a scanned file cannot drive the terminal), C1 controls and
 * bidirectional overrides (Trojan Source) become U+FFFD. Tabs are kept only when `keepTabs` is set.
 */
function printable(text: string, keepTabs = false): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const code = ch.charCodeAt(0);
    if (ch === '\t' && keepTabs) return ch;
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return '\ufffd';
  });
}

/** Untrusted text for a single line: line breaks and tabs become spaces, other controls are neutralised. */
function oneLine(text: string): string {
  return printable(text.replace(/\r\n|[\r\n\t]/g, ' '));
}

/** One line per vulnerable package: the single upgrade that fixes everything found in it. */
function upgradeLines(findings: readonly Finding[]): string[] {
  const byPackage = new Map<string, { count: number; to: string | undefined; label: string }>();
  for (const f of findings) {
    const d = f.dependency;
    if (d === undefined) continue;
    const key = `${f.location.path}\0${d.name}\0${d.version}`;
    const entry = byPackage.get(key) ?? {
      count: 0,
      to: d.upgradeFixesAll,
      label: `${d.name} ${d.version} (${f.location.path})`,
    };
    entry.count++;
    byPackage.set(key, entry);
  }
  const lines = [...byPackage.values()].map(
    (e) =>
      `    ${oneLine(e.label)}: ${plural(e.count, 'vulnerability', 'vulnerabilities')}, ${e.to === undefined ? 'no single upgrade fixes all' : `upgrade to ${oneLine(e.to)} fixes all`}`,
  );
  return lines.length === 0 ? [] : ['  upgrades:', ...lines];
}

function renderSummary(report: CheckReport, newFindings: readonly Finding[], paint: Paint): string[] {
  const suppressed = report.findings.filter((finding) => disposition(finding) === 'suppressed').length;
  const unchanged = report.findings.filter((finding) => disposition(finding) === 'unchanged').length;
  const lines = [paint('Summary', 'bold')];

  const bySeverity = SEVERITIES.map((severity) => {
    const count = newFindings.filter((finding) => finding.severity === severity).length;
    const text = `${count} ${severity}`;
    return count > 0 ? paint(text, ...SEVERITY_STYLE[severity]) : text;
  });
  lines.push(`  new findings:  ${plural(newFindings.length, 'finding')} (${bySeverity.join(', ')})`);
  lines.push(...upgradeLines(newFindings));
  lines.push(
    `  not counted:   ${suppressed} suppressed, ${unchanged} unchanged since baseline, ` +
      `${report.absent.length} baseline ${report.absent.length === 1 ? 'entry' : 'entries'} no longer found`,
  );

  if (report.skipped.length > 0) {
    lines.push(`  skipped:       ${plural(report.skipped.length, 'file')}`);
    for (const group of groupSkipped(report.skipped)) {
      const shown = group.paths.slice(0, SKIPPED_PATHS_SHOWN).map((path) => oneLine(path));
      const more = group.paths.length - shown.length;
      const list = more > 0 ? `${shown.join(', ')} and ${more} more` : shown.join(', ');
      lines.push(`    ${group.reason} (${group.paths.length}): ${list}`);
    }
  }

  const { stats } = report;
  lines.push(
    `  scanned:       ${plural(stats.files, 'file')}, ${formatBytes(stats.bytes)} in ${formatDuration(stats.durationMs)}` +
      ` (${oneLine(stats.source)})`,
  );
  for (const db of report.databases ?? []) {
    lines.push(
      `  advisories:    ${oneLine(db.name)}, ${db.documents} documents, snapshot ${oneLine(db.snapshot.slice(0, 16))}`,
    );
  }
  lines.push(`  gate:          ${verdict(report, paint)}`);
  return lines;
}

interface SkipGroup {
  readonly reason: Skipped['reason'];
  readonly paths: readonly string[];
}

/** Skipped files by reason, in a fixed reason order, keeping the report's path order inside a group. */
export function groupSkipped(skipped: readonly Skipped[]): SkipGroup[] {
  return SKIP_REASONS.map((reason) => ({
    reason,
    paths: skipped.filter((entry) => entry.reason === reason).map((entry) => entry.path),
  })).filter((group) => group.paths.length > 0);
}

function verdict(report: CheckReport, paint: Paint): string {
  const { gate } = report;
  if (gate.passed) return paint('passed', 'bold', 'green');
  return paint(`failed: ${plural(gate.failing, 'finding')} at or above ${gate.failOn}`, 'bold', 'red');
}

export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? noun : nouns}`;
}

export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
