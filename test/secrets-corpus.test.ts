// Precision and recall of the secret scanner on a labelled corpus of realistic files (test/corpus/secrets).
// The labels are what a careful reviewer would say, not what the scanner does: a failure here is a scanner
// weakness to fix, never a label to change.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compileRules, scanText } from '../src/analyzers/secrets/engine.js';
import { BUILTIN_RULES } from '../src/analyzers/secrets/rules/index.js';
import { type Label, parseLabels, type Score, type ScoredFinding, score } from './corpus/secrets/score.js';

const CORPUS = fileURLToPath(new URL('./corpus/secrets/', import.meta.url));
const FILES = join(CORPUS, 'files');

/** Floors: raise them as the scanner improves, never lower them to make a change pass. */
const PROVIDER_RECALL_FLOOR = 0.95;
const OVERALL_PRECISION_FLOOR = 0.9;

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? listFiles(path) : [path];
    })
    .sort();
}

function scanCorpus(): { files: Map<string, string>; findings: ScoredFinding[] } {
  const compiled = compileRules(BUILTIN_RULES);
  const files = new Map<string, string>();
  const findings: ScoredFinding[] = [];
  for (const absolute of listFiles(FILES)) {
    const path = relative(FILES, absolute).split(sep).join('/');
    const text = readFileSync(absolute, 'utf8');
    files.set(path, text);
    for (const match of scanText(text, path, compiled)) {
      if (match.inlineAllowed) continue;
      findings.push({
        file: path,
        line: match.line,
        rule: match.rule.id,
        kind: match.rule.generic === true ? 'generic' : 'provider',
      });
    }
  }
  return { files, findings };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function report(result: Score, files: number, hardNegatives: ReadonlySet<string>): string {
  const row = (name: string, c: Score | Score['byKind']['provider']): string =>
    `${name.padEnd(9)} ${String(c.tp).padStart(4)} ${String(c.fp).padStart(4)} ${String(c.fn).padStart(4)}  ` +
    `${pct(c.precision).padStart(6)} ${pct(c.recall).padStart(6)} ${pct(c.f1).padStart(6)}`;
  const lines = [
    `Secret scanner on the labelled corpus: ${files} files, ${result.tp + result.fn} labelled secrets`,
    'kind        TP   FP   FN    prec    rec     F1',
    row('provider', result.byKind.provider),
    row('generic', result.byKind.generic),
    row('overall', result),
  ];
  const mismatched = result.truePositives.filter((t) => t.ruleMatched === false);
  if (result.falsePositives.length > 0) {
    lines.push('', `False positives (${result.falsePositives.length}):`);
    for (const f of result.falsePositives) {
      const hard = hardNegatives.has(`${f.file}:${f.line}`) ? ' [hard negative]' : '';
      lines.push(`  ${f.file}:${f.line}  ${f.rules.join(', ')}${hard}`);
    }
  }
  if (result.falseNegatives.length > 0) {
    lines.push('', `False negatives (${result.falseNegatives.length}):`);
    for (const l of result.falseNegatives) {
      lines.push(
        `  ${l.file}:${l.line}  ${l.kind}${l.rule === undefined ? '' : ` (${l.rule})`}  ${l.note ?? ''}`,
      );
    }
  }
  if (mismatched.length > 0) {
    lines.push('', `Found by another rule than expected (${mismatched.length}, information only):`);
    for (const t of mismatched) {
      lines.push(`  ${t.label.file}:${t.label.line}  expected ${t.label.rule}, got ${t.rules.join(', ')}`);
    }
  }
  return lines.join('\n');
}

describe('secret scanner on the labelled corpus', () => {
  const doc: unknown = parse(readFileSync(join(CORPUS, 'labels.yaml'), 'utf8'));
  const labels = parseLabels(doc);
  const hardNegatives = new Set(
    ((doc as { hardNegatives?: { file: string; line: number }[] }).hardNegatives ?? []).map(
      (n) => `${n.file}:${n.line}`,
    ),
  );
  const { files, findings } = scanCorpus();
  const result = score(labels, findings);

  it('has labels that point at existing, non-blank lines and never at a hard negative', () => {
    const problems: string[] = [];
    for (const label of labels) {
      const text = files.get(label.file);
      const line = text?.split('\n')[label.line - 1];
      if (text === undefined) problems.push(`${label.file}: no such file`);
      else if (line === undefined || line.trim() === '')
        problems.push(`${label.file}:${label.line}: blank line`);
      if (hardNegatives.has(`${label.file}:${label.line}`))
        problems.push(`${label.file}:${label.line}: both`);
    }
    expect(problems).toEqual([]);
    expect(files.size).toBeGreaterThanOrEqual(60);
    expect(hardNegatives.size).toBeGreaterThanOrEqual(labels.length);
  });

  it(`finds at least ${pct(PROVIDER_RECALL_FLOOR)} of provider tokens and keeps precision above ${pct(OVERALL_PRECISION_FLOOR)}`, () => {
    console.log(report(result, files.size, hardNegatives));
    expect
      .soft(result.byKind.provider.recall, 'provider recall')
      .toBeGreaterThanOrEqual(PROVIDER_RECALL_FLOOR);
    expect.soft(result.precision, 'overall precision').toBeGreaterThanOrEqual(OVERALL_PRECISION_FLOOR);
  });
});

describe('score', () => {
  const labels: Label[] = [
    { file: 'a.py', line: 1, kind: 'provider', rule: 'aws-access-key-id' },
    { file: 'a.py', line: 5, kind: 'generic' },
    { file: 'b.env', line: 2, kind: 'generic', rule: 'generic-password' },
  ];

  it('matches findings to labels by file and line, whatever the rule', () => {
    const s = score(labels, [
      { file: 'a.py', line: 1, rule: 'aws-access-key-id', kind: 'provider' },
      { file: 'b.env', line: 2, rule: 'generic-secret', kind: 'generic' },
      { file: 'b.env', line: 2, rule: 'generic-password', kind: 'generic' },
      { file: 'b.env', line: 9, rule: 'generic-token', kind: 'generic' },
      { file: 'b.env', line: 9, rule: 'generic-secret', kind: 'generic' },
      { file: 'c.md', line: 3, rule: 'other-scanner-rule' },
    ]);
    expect([s.tp, s.fp, s.fn]).toEqual([2, 2, 1]);
    expect(s.precision).toBe(0.5);
    expect(s.recall).toBeCloseTo(2 / 3);
    expect(s.f1).toBeCloseTo(4 / 7);
    expect(s.falseNegatives).toEqual([labels[1]]);
    expect(s.falsePositives).toEqual([
      { file: 'b.env', line: 9, rules: ['generic-token', 'generic-secret'], kind: 'generic' },
      { file: 'c.md', line: 3, rules: ['other-scanner-rule'], kind: undefined },
    ]);
    expect(s.truePositives.map((t) => t.ruleMatched)).toEqual([true, true]);
    expect(s.byKind.provider).toMatchObject({ tp: 1, fp: 0, fn: 0, precision: 1, recall: 1 });
    expect(s.byKind.generic).toMatchObject({ tp: 1, fp: 1, fn: 1, precision: 0.5, recall: 0.5 });
  });

  it('records whether the expected rule found the secret', () => {
    const s = score(labels, [{ file: 'a.py', line: 1, rule: 'generic-api-key' }]);
    expect(s.truePositives[0]?.ruleMatched).toBe(false);
    expect(
      score(labels, [{ file: 'a.py', line: 5, rule: 'x' }]).truePositives[0]?.ruleMatched,
    ).toBeUndefined();
  });

  it('is vacuously perfect on nothing and rejects two labels on one line', () => {
    expect(score([], [])).toMatchObject({ tp: 0, fp: 0, fn: 0, precision: 1, recall: 1, f1: 1 });
    expect(score(labels, [])).toMatchObject({ precision: 1, recall: 0, f1: 0 });
    expect(() => score([labels[0] as Label, labels[0] as Label], [])).toThrow(/two labels/);
  });

  it('parses and validates labels.yaml documents', () => {
    expect(parseLabels({ secrets: [{ file: 'a', line: 2, kind: 'generic', note: 'n' }] })).toEqual([
      { file: 'a', line: 2, kind: 'generic', note: 'n' },
    ]);
    expect(() => parseLabels({ secrets: [{ file: 'a', line: 0, kind: 'generic' }] })).toThrow(/line/);
    expect(() => parseLabels({ secrets: [{ file: 'a', line: 1, kind: 'other' }] })).toThrow(/kind/);
    expect(() => parseLabels({})).toThrow(/secrets/);
  });
});
