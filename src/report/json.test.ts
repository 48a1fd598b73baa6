import { describe, expect, it } from 'vitest';
import { ALL_FINDINGS, criticalFinding, makeReport } from './fixtures.test-helper.js';
import { jsonReporter } from './json.js';

function render(report = makeReport()): string {
  return jsonReporter.render(report, { color: false });
}

describe('jsonReporter', () => {
  it('writes the documented top-level keys in a stable order', () => {
    const document = JSON.parse(render()) as Record<string, unknown>;
    expect(Object.keys(document)).toEqual([
      'version',
      'tool',
      'root',
      'startedAt',
      'analyzers',
      'gate',
      'stats',
      'findings',
      'absent',
      'skipped',
    ]);
    expect(document).toMatchObject({
      version: 1,
      tool: { name: 'plumbline', version: '0.1.0' },
      root: '/home/ci/work/acme app',
      startedAt: '2024-05-01T12:00:00.000Z',
      analyzers: ['secrets', 'deps'],
      gate: { failOn: 'high', failing: 3, passed: false },
      stats: { files: 1234, bytes: 5_678_901, durationMs: 1534, source: 'tree' },
    });
  });

  it('round-trips every finding, absent entry and skipped file', () => {
    const report = makeReport();
    const document = JSON.parse(render(report)) as Record<string, unknown>;
    expect(document.findings).toEqual(ALL_FINDINGS);
    expect(document.absent).toEqual(report.absent);
    expect(document.skipped).toEqual(report.skipped);
  });

  it('is pretty-printed and ends with a newline', () => {
    const text = render();
    expect(text.startsWith('{\n  "version": 1,\n')).toBe(true);
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('is deterministic', () => {
    expect(render()).toBe(render());
  });

  it('keeps hostile text intact but escaped as JSON', () => {
    const text = render();
    expect(text).toContain('\\u001b[31mred');
    expect(text).not.toContain('\u001b');
  });

  it('writes only the model fields of a finding, never an analyzer raw match', () => {
    const leaky = { ...criticalFinding, fingerprintContent: 'ghp_THE_REAL_SECRET', inlineAllowed: true };
    const text = render(makeReport({ findings: [leaky] }));
    expect(text).not.toContain('THE_REAL_SECRET');
    expect(text).not.toContain('inlineAllowed');
    const [finding] = (JSON.parse(text) as { findings: unknown[] }).findings;
    expect(finding).toEqual(criticalFinding);
  });

  it('leaves unset optional fields out', () => {
    const [finding] = (JSON.parse(render()) as { findings: Record<string, unknown>[] }).findings;
    expect(finding).toBeDefined();
    for (const value of Object.values(finding ?? {})) expect(value).not.toBeNull();
  });
});
