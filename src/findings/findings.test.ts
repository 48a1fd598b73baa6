import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, InputError } from '../errors.js';
import { applyBaseline, readBaseline, writeBaseline } from './baseline.js';
import { assignFingerprints, fingerprintOf } from './fingerprint.js';
import type { RawFinding } from './model.js';
import { applySuppressions, readSuppressions } from './suppressions.js';

function raw(path: string, line: number, content: string, ruleId = 'r-1'): RawFinding {
  return {
    analyzer: 'secrets',
    ruleId,
    title: 't',
    message: 'm',
    severity: 'high',
    confidence: 'high',
    location: { path, startLine: line, startColumn: 1, endLine: line, endColumn: 5 },
    snippet: 's',
    fingerprintContent: content,
  };
}

describe('fingerprints', () => {
  it('ignore line numbers and whitespace, and number repeated occurrences', () => {
    const a = assignFingerprints([raw('a', 10, 'k1'), raw('a', 20, 'k1'), raw('a', 5, ' k2 ')]);
    const moved = assignFingerprints([raw('a', 110, 'k1'), raw('a', 120, 'k1'), raw('a', 1, 'k2')]);
    expect(new Set(a.map((f) => f.fingerprint))).toEqual(new Set(moved.map((f) => f.fingerprint)));
    expect(new Set(a.map((f) => f.fingerprint)).size).toBe(3);
    expect(fingerprintOf('r', 'p', 'c', 0)).not.toBe(fingerprintOf('r', 'p', 'c', 1));
    expect(fingerprintOf('r', 'p', 'c', 0)).not.toBe(fingerprintOf('r', 'q', 'c', 0));
  });
});

describe('baseline', () => {
  it('round-trips sorted entries, one per line, and classifies findings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pl-baseline-'));
    const file = join(dir, 'b', 'baseline.json');
    const findings = assignFingerprints([raw('b', 1, 'x'), raw('a', 1, 'y')]);
    expect(writeBaseline(file, findings)).toBe(2);
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').filter((l) => l.includes('fingerprint'));
    expect(lines).toHaveLength(2);
    expect([...lines].sort()).toEqual(lines);
    const entries = readBaseline(file);
    const next = assignFingerprints([raw('a', 9, 'y'), raw('c', 1, 'z')]);
    const applied = applyBaseline(next, entries);
    expect(applied.findings.map((f) => [f.location.path, f.baselineState])).toEqual([
      ['a', 'unchanged'],
      ['c', 'new'],
    ]);
    expect(applied.absent.map((e) => e.path)).toEqual(['b']);
  });

  it('rejects a malformed baseline clearly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pl-baseline-'));
    const file = join(dir, 'b.json');
    writeFileSync(file, JSON.stringify({ version: 2, findings: [] }));
    expect(() => readBaseline(file)).toThrow(InputError);
    expect(() => readBaseline(join(dir, 'missing.json'))).toThrow(/does not exist/);
  });
});

describe('suppressions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pl-supp-'));
  const file = join(dir, 'suppressions.yaml');

  it('match by rule, path glob and fingerprint; expired ones are reported', async () => {
    const findings = assignFingerprints([
      raw('test/a.py', 1, 'x'),
      raw('src/b.py', 1, 'y', 'r-2'),
      raw('src/c.py', 1, 'z'),
    ]);
    writeFileSync(
      file,
      `suppressions:
  - path: "test/**"
    reason: fixtures
  - rule: r-2
    reason: accepted risk
    expires: 2099-12-31
  - fingerprint: ${findings.find((f) => f.location.path === 'src/c.py')?.fingerprint}
    reason: old
    expires: 2020-01-01
`,
    );
    const entries = await readSuppressions(file);
    expect(entries.map((e) => e.line)).toEqual([2, 4, 7]);
    const { findings: out, expired } = applySuppressions(
      findings,
      entries,
      '.plumbline/suppressions.yaml',
      new Date('2026-06-01'),
    );
    expect(out.map((f) => [f.location.path, f.suppression?.justification])).toEqual([
      ['src/b.py', 'accepted risk'],
      ['src/c.py', undefined],
      ['test/a.py', 'fixtures'],
    ]);
    expect(expired).toHaveLength(1);
    expect(expired[0]?.location).toMatchObject({ path: '.plumbline/suppressions.yaml', startLine: 7 });
  });

  it('require a scope and a reason, and a real date', async () => {
    for (const [yaml, pattern] of [
      ['suppressions:\n  - reason: no scope here\n', /give a scope/],
      ['suppressions:\n  - rule: x\n', /reason/],
      [
        'suppressions:\n  - rule: x\n    reason: ok then\n    expires: tomorrow\n',
        /:4: .*expires.*YYYY-MM-DD/,
      ],
      ['suppressions: [\n', /YAML syntax error/],
    ] as const) {
      writeFileSync(file, yaml);
      await expect(readSuppressions(file)).rejects.toThrow(ConfigError);
      await expect(readSuppressions(file)).rejects.toThrow(pattern);
    }
    expect(await readSuppressions(join(dir, 'none.yaml'))).toEqual([]);
  });
});
