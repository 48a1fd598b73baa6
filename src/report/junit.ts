// JUnit XML for CI test-report views (GitLab, Jenkins, …): analyzers are suites, new findings are test cases.
import { atLeast, type Finding } from '../findings/model.js';
import { countsAgainstGate, disposition, shortSha } from './text.js';
import type { CheckReport, Reporter } from './types.js';

/**
 * Layout: `<testsuites>` holds one `<testsuite>` per analyzer (those that ran, in order, plus any other
 * analyzer a finding names). Each new finding is a `<testcase>` named `ruleId path:line` with the analyzer
 * as `classname`; it has a `<failure>` when it counts against the gate and passes (with its details in
 * `<system-out>`) when it is below the threshold. An analyzer without new findings gets one passing test
 * case, so no suite is ever empty. Suppressed and baseline-unchanged findings are not test cases: their
 * counts are suite `<properties>`, as the text report counts them in its summary.
 */
export const junitReporter: Reporter = {
  name: 'junit',
  render(report) {
    const analyzers = analyzerOrder(report);
    const suites = analyzers.map((analyzer) => suiteOf(report, analyzer));
    const tests = suites.reduce((sum, suite) => sum + suite.tests, 0);
    const failures = suites.reduce((sum, suite) => sum + suite.failures, 0);
    const timestamp = junitTimestamp(report.startedAt);
    const rootAttrs = attributes({
      name: 'plumbline',
      tests,
      failures,
      errors: 0,
      skipped: 0,
      time: seconds(report.stats.durationMs),
      ...(timestamp === undefined ? {} : { timestamp }),
    });
    const lines = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      `<testsuites${rootAttrs}>`,
      ...suites.flatMap((suite) => renderSuite(suite, timestamp)),
      '</testsuites>',
    ];
    return `${lines.join('\n')}\n`;
  },
};

interface Case {
  readonly name: string;
  readonly classname: string;
  readonly file?: string;
  readonly failure?: { readonly message: string; readonly type: string; readonly body: string };
  readonly systemOut?: string;
}

interface Suite {
  readonly name: string;
  readonly tests: number;
  readonly failures: number;
  readonly cases: readonly Case[];
  readonly properties: Readonly<Record<string, string>>;
}

function analyzerOrder(report: CheckReport): string[] {
  const names = [...report.analyzers];
  for (const finding of report.findings) if (!names.includes(finding.analyzer)) names.push(finding.analyzer);
  return names;
}

function suiteOf(report: CheckReport, analyzer: string): Suite {
  const own = report.findings.filter((finding) => finding.analyzer === analyzer);
  const fresh = own.filter((finding) => disposition(finding) === 'new');
  const names = caseNames(fresh);
  const cases: Case[] =
    fresh.length > 0
      ? fresh.map((finding, index) => findingCase(finding, names[index] ?? finding.ruleId, report))
      : [{ name: 'no new findings', classname: analyzer }];
  return {
    name: analyzer,
    tests: cases.length,
    failures: cases.filter((testCase) => testCase.failure !== undefined).length,
    cases,
    properties: {
      failOn: report.gate.failOn,
      newFindings: String(fresh.length),
      suppressed: String(own.filter((finding) => disposition(finding) === 'suppressed').length),
      unchanged: String(own.filter((finding) => disposition(finding) === 'unchanged').length),
    },
  };
}

/**
 * `ruleId path:line`, plus the short commit for history findings. CI views merge test cases with equal
 * names, so a name that repeats gets its column, and one that still repeats a counter.
 */
function caseNames(findings: readonly Finding[]): string[] {
  const base = findings.map((finding) => {
    const { location } = finding;
    const commit = location.commit === undefined ? '' : ` @${shortSha(location.commit)}`;
    return {
      short: `${finding.ruleId} ${location.path}:${location.startLine}`,
      column: location.startColumn,
      commit,
    };
  });
  const shortCounts = countBy(base.map((entry) => entry.short + entry.commit));
  const named = base.map((entry) =>
    (shortCounts.get(entry.short + entry.commit) ?? 0) > 1
      ? `${entry.short}:${entry.column}${entry.commit}`
      : `${entry.short}${entry.commit}`,
  );
  const seen = new Map<string, number>();
  return named.map((name) => {
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    return count === 1 ? name : `${name} (${count})`;
  });
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

function findingCase(finding: Finding, name: string, report: CheckReport): Case {
  const body = describe(finding);
  const base = { name, classname: finding.analyzer, file: finding.location.path };
  if (countsAgainstGate(finding, report.gate.failOn)) {
    return { ...base, failure: { message: finding.message, type: finding.severity, body } };
  }
  const note = atLeast(finding.severity, report.gate.failOn)
    ? ''
    : `Below the gate (${report.gate.failOn}).\n`;
  return { ...base, systemOut: `${note}${body}` };
}

/** The plain-text details of a finding: what, where, when, the redacted snippet and the help. */
function describe(finding: Finding): string {
  const { location } = finding;
  const lines = [
    `${finding.title} (${finding.severity} severity, ${finding.confidence} confidence)`,
    `${location.path}:${location.startLine}:${location.startColumn}`,
  ];
  if (location.commit !== undefined) {
    const by = location.author === undefined ? '' : ` by ${location.author}`;
    const on = location.date === undefined ? '' : ` on ${location.date}`;
    lines.push(`commit ${location.commit}${by}${on}`);
  }
  lines.push(finding.message);
  if (finding.snippet !== '') {
    const snippet = finding.snippet.replace(/\r?\n$/, '').split(/\r\n|\r|\n/);
    const width = String(location.startLine + snippet.length - 1).length;
    lines.push(
      '',
      ...snippet.map((text, index) => `${String(location.startLine + index).padStart(width)} | ${text}`),
    );
  }
  if (finding.help !== undefined && finding.help !== '') lines.push('', `Help: ${finding.help}`);
  lines.push('', `Fingerprint: ${finding.fingerprint}`);
  return lines.join('\n');
}

function renderSuite(suite: Suite, timestamp: string | undefined): string[] {
  const attrs = attributes({
    name: suite.name,
    tests: suite.tests,
    failures: suite.failures,
    errors: 0,
    skipped: 0,
    time: '0',
    ...(timestamp === undefined ? {} : { timestamp }),
  });
  const properties = Object.entries(suite.properties).map(
    ([name, value]) => `      <property${attributes({ name, value })}/>`,
  );
  return [
    `  <testsuite${attrs}>`,
    '    <properties>',
    ...properties,
    '    </properties>',
    ...suite.cases.flatMap(renderCase),
    '  </testsuite>',
  ];
}

function renderCase(testCase: Case): string[] {
  const attrs = attributes({
    name: testCase.name,
    classname: testCase.classname,
    ...(testCase.file === undefined ? {} : { file: testCase.file }),
    time: '0',
  });
  const { failure, systemOut } = testCase;
  if (failure === undefined && systemOut === undefined) return [`    <testcase${attrs}/>`];
  const inner =
    failure !== undefined
      ? `      <failure${attributes({ message: failure.message, type: failure.type })}>${xmlText(failure.body)}</failure>`
      : `      <system-out>${xmlText(systemOut ?? '')}</system-out>`;
  return [`    <testcase${attrs}>`, inner, '    </testcase>'];
}

/** ` a="1" b="2"` in insertion order. */
function attributes(values: Readonly<Record<string, string | number>>): string {
  return Object.entries(values)
    .map(([key, value]) => ` ${key}="${xmlAttribute(String(value))}"`)
    .join('');
}

/** Code points XML 1.0 does not allow anywhere (most C0 controls, lone surrogates, U+FFFE/U+FFFF). */
const ILLEGAL_XML = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

export function stripIllegalXml(text: string): string {
  return text.replace(ILLEGAL_XML, '');
}

/** Character data: `&`, `<` and `>` (so `]]>` cannot appear) escaped, illegal characters removed. */
export function xmlText(text: string): string {
  return stripIllegalXml(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * An attribute value for double quotes. Tab and line breaks are written as character references, because
 * a parser normalises literal ones in attributes to spaces.
 */
export function xmlAttribute(text: string): string {
  return xmlText(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}

/** JUnit's schema wants a local date-time without a zone; we write UTC. */
function junitTimestamp(startedAt: string): string | undefined {
  const time = Date.parse(startedAt);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString().slice(0, 19);
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}
