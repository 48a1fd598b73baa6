import { describe, expect, it } from 'vitest';
import type { Finding } from '../findings/model.js';
import {
  cleanReport,
  criticalFinding,
  externalSuppressed,
  historyFinding,
  inlineSuppressed,
  makeReport,
  mediumFinding,
  unchangedFinding,
} from './fixtures.test-helper.js';
import { formatBytes, formatDuration, redactionSpan, textReporter } from './text.js';

function render(report = makeReport(), color = false): string {
  return textReporter.render(report, { color });
}

/** The source line of the frame showing `lineNo`, and the underline below it. */
function frameAt(output: string, lineNo: number): { code: string; underline: string } {
  const lines = output.split('\n');
  const index = lines.findIndex((line) => new RegExp(`^\\s*${lineNo} \\| `).test(line));
  const code = lines[index];
  const underline = lines[index + 1];
  if (index < 0 || code === undefined || underline === undefined)
    throw new Error(`no frame for line ${lineNo}`);
  return { code, underline };
}

function only(finding: Finding): string {
  return render(makeReport({ findings: [finding], absent: [], skipped: [] }));
}

describe('textReporter', () => {
  it('writes no escape codes without colour, even from hostile content', () => {
    expect(render()).not.toContain('\x1b');
  });

  it('colours output when asked to', () => {
    const output = render(makeReport(), true);
    expect(output).toContain('\x1b[');
    expect(output).toContain('\x1b[31m');
    // The escape sequence inside the hostile message is still neutralised.
    expect(output).toContain('\u241b[31mred');
  });

  it('writes a header with severity, rule, title and path:line:col', () => {
    const header = render()
      .split('\n')
      .find((line) => line.includes('github-pat-classic'));
    expect(header).toMatch(/^CRITICAL\s+github-pat-classic: GitHub personal access token \(classic\)/);
    expect(header).toContain('src/config/settings.ts:12:16');
  });

  it('adds short commit, author and date for history findings', () => {
    const header = render()
      .split('\n')
      .find((line) => line.includes('stripe-secret-key'));
    expect(header).toContain('src/payments.ts:5:14');
    expect(header).toContain('commit a1b2c3d,');
    expect(header).not.toContain(historyFinding.location.commit);
    expect(header).toContain('Alice Example <alice@example.com>');
    expect(header).toContain('2024-03-01T10:22:33Z');
  });

  it('shows a code frame with the line number and a caret under the finding', () => {
    const { code, underline } = frameAt(render(), 12);
    expect(code).toBe("12 | const token = 'ghp_…(40 chars)';");
    // under the redacted secret, not under source columns 16–56, which the shorter snippet does not have
    expect(underline.indexOf('^')).toBe(code.indexOf('ghp_'));
    expect(underline.match(/\^+/)?.[0]).toHaveLength('ghp_…(40 chars)'.length);
    expect(underline).toContain('A GitHub personal access token is assigned to `token`.');
    // the gutter is as wide as the two-digit line number
    expect(underline).toMatch(/^ {3}\| /);
  });

  it('keeps tabs in the underline so carets stay under the right column', () => {
    const { code, underline } = frameAt(render(), 7);
    expect(code).toBe('7 | \tconst password = "********";');
    expect(underline.startsWith('  | \t')).toBe(true);
    expect(underline.indexOf('^')).toBe(code.indexOf('"'));
    expect(underline.match(/\^+/)?.[0]).toHaveLength(10);
  });

  it('numbers and underlines every line of a multi-line finding', () => {
    const pem: Finding = { ...externalSuppressed, suppression: undefined, baselineState: 'new' };
    const output = only(pem);
    expect(frameAt(output, 1).code).toBe('1 | -----BEGIN PRIVATE KEY-----');
    expect(frameAt(output, 1).underline).toBe(`  | ${'^'.repeat(27)}`);
    expect(frameAt(output, 2).code).toBe('2 | ****');
    expect(frameAt(output, 3).code).toBe('3 | -----END PRIVATE KEY-----');
    expect(frameAt(output, 3).underline).toMatch(/^ {2}\| \^{25} SUPPRESSED-EXTERNAL/);
  });

  it('finds the redacted secret in a snippet the analyzer clipped around it', () => {
    const clipped: Finding = {
      ...criticalFinding,
      snippet: `…${'x'.repeat(60)}ghp_…(40 chars)${'y'.repeat(60)}…`,
      location: { ...criticalFinding.location, startColumn: 501, endColumn: 541 },
    };
    const { code, underline } = frameAt(only(clipped), 12);
    expect(underline.indexOf('^')).toBe(code.indexOf('ghp_'));
    expect(underline.match(/\^+/)?.[0]).toHaveLength(15);
  });

  it('draws no caret when the columns do not fit the snippet, and still prints the message', () => {
    const clipped: Finding = {
      ...criticalFinding,
      snippet: `…${'x'.repeat(60)}${'y'.repeat(60)}…`,
      location: { ...criticalFinding.location, startColumn: 501, endColumn: 541 },
    };
    const output = only(clipped);
    expect(output).not.toContain('^');
    expect(output).toContain(`  = ${criticalFinding.message}`);
  });

  it('clamps the underline to a line that redaction made shorter', () => {
    const short: Finding = {
      ...criticalFinding,
      snippet: "const token = '****';",
      location: { ...criticalFinding.location, endColumn: 80 },
    };
    const { code, underline } = frameAt(only(short), 12);
    // from column 16 (the first `*`) to the end of the 21-character line
    expect(underline.indexOf('^')).toBe(code.indexOf('*'));
    expect(underline.match(/\^+/)?.[0]).toHaveLength(6);
  });

  it('cuts very long lines to a window around the finding', () => {
    const prefix = 'x'.repeat(5000);
    const long: Finding = {
      ...criticalFinding,
      snippet: `${prefix}TOKEN********${'y'.repeat(5000)}`,
      location: { ...criticalFinding.location, startColumn: 5001, endColumn: 5014 },
    };
    const { code, underline } = frameAt(only(long), 12);
    expect(code.length).toBeLessThan(200);
    expect(underline.indexOf('^')).toBe(code.indexOf('TOKEN'));
    expect(underline.match(/\^+/)?.[0]).toHaveLength(13);
  });

  it('never lists suppressed or baseline-unchanged findings one by one', () => {
    const output = render();
    for (const finding of [inlineSuppressed, externalSuppressed, unchangedFinding]) {
      expect(output).not.toContain(finding.ruleId);
      expect(output).not.toContain(finding.message);
      expect(output).not.toContain(finding.location.path);
    }
    expect(output).toContain('2 suppressed, 1 unchanged since baseline, 2 baseline entries no longer found');
  });

  it('summarises severities, skipped files, volume, time and the failed verdict', () => {
    const output = render();
    expect(output).toContain('5 findings (1 critical, 2 high, 1 medium, 1 low, 0 info)');
    expect(output).toContain('skipped:       6 files');
    expect(output).toContain('binary (4): assets/logo.png, assets/font.woff2, assets/icon.ico and 1 more');
    expect(output).toContain('too-large (1): data/dump.sql');
    expect(output).toContain('1,234 files, 5.4 MiB in 1.5 s (tree)');
    expect(output.trimEnd().endsWith('gate:          failed: 3 findings at or above high')).toBe(true);
  });

  it('says passed for a clean run', () => {
    const output = render(cleanReport());
    expect(output).toContain('No new findings.');
    expect(output).not.toContain('skipped:');
    expect(output.trimEnd().endsWith('gate:          passed')).toBe(true);
  });

  it('marks new findings below the threshold as not failing the gate', () => {
    const header = render()
      .split('\n')
      .find((line) => line.includes('generic-password'));
    expect(header).toContain('[below high: does not fail the gate]');
    expect(header).toContain('[low confidence]');
    expect(mediumFinding.confidence).toBe('low');
  });

  it('neutralises control and bidi characters from scanned files', () => {
    const sneaky: Finding = {
      ...criticalFinding,
      snippet: "const token = '\u202e****\u001b[2J';",
      message: 'line one\nline two \u0007',
    };
    const output = only(sneaky);
    for (const char of ['\u0007', '\u001b', '\u202e']) expect(output).not.toContain(char);
    expect(output).toContain('line one line two \u2407');
  });

  it('locates a redaction with its shown prefix', () => {
    expect(redactionSpan("k = 'ghp_…(40 chars)'")).toEqual({ from: 5, to: 20 });
    expect(redactionSpan('p=ab…(8 chars);')).toEqual({ from: 2, to: 14 });
    expect(redactionSpan('…(3 chars)')).toEqual({ from: 0, to: 10 });
    expect(redactionSpan('nothing here…')).toBeUndefined();
  });

  it('formats bytes and durations', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
    expect(formatDuration(12.4)).toBe('12 ms');
    expect(formatDuration(61_000)).toBe('61.0 s');
  });
});
