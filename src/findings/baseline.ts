// The baseline: fingerprints of findings that already existed, so a check gates only on what is new.
// One entry per line, sorted, no line numbers: two branches that each add entries merge cleanly.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../errors.js';
import type { AbsentEntry } from '../report/types.js';
import type { Finding } from './model.js';

export const DEFAULT_BASELINE = '.plumbline/baseline.json';

export interface BaselineEntry {
  readonly fingerprint: string;
  readonly ruleId: string;
  readonly path: string;
}

export function readBaseline(file: string): BaselineEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      `baseline ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`,
      'create it with `plumbline baseline`, or drop --baseline',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(
      `baseline ${file} is not valid JSON: ${(error as Error).message}`,
      'regenerate it with `plumbline baseline`',
    );
  }
  const problem = baselineProblem(json);
  if (problem !== undefined) {
    throw new InputError(`baseline ${file}: ${problem}`, 'regenerate it with `plumbline baseline`');
  }
  return (json as { findings: BaselineEntry[] }).findings;
}

/** What is wrong with a parsed baseline document, or undefined. (No schema library: this runs at start-up.) */
function baselineProblem(json: unknown): string | undefined {
  if (json === null || typeof json !== 'object') return 'not a JSON object';
  const doc = json as { version?: unknown; findings?: unknown };
  if (doc.version !== 1) return `version: expected 1, found ${JSON.stringify(doc.version ?? null)}`;
  if (!Array.isArray(doc.findings)) return 'findings: expected a list';
  for (const [i, e] of doc.findings.entries()) {
    const entry = e as Partial<Record<keyof BaselineEntry, unknown>> | null;
    if (entry === null || typeof entry !== 'object') return `findings[${i}]: expected an object`;
    if (typeof entry.fingerprint !== 'string' || !/^[0-9a-f]{16,64}$/.test(entry.fingerprint)) {
      return `findings[${i}].fingerprint: expected a hex fingerprint`;
    }
    if (typeof entry.ruleId !== 'string') return `findings[${i}].ruleId: expected a string`;
    if (typeof entry.path !== 'string') return `findings[${i}].path: expected a string`;
  }
  return undefined;
}

export function writeBaseline(file: string, findings: readonly Finding[]): number {
  const entries = new Map<string, BaselineEntry>();
  for (const f of findings) {
    entries.set(f.fingerprint, { fingerprint: f.fingerprint, ruleId: f.ruleId, path: f.location.path });
  }
  const sorted = [...entries.values()].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
  const lines = sorted.map((e) => `    ${JSON.stringify(e)}`);
  const text = `{\n  "version": 1,\n  "findings": [\n${lines.join(',\n')}${lines.length > 0 ? '\n' : ''}  ]\n}\n`;
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, file); // atomic: a crash never leaves half a baseline
  return sorted.length;
}

/** Marks findings new or unchanged, and returns the baseline entries nothing matched. */
export function applyBaseline(
  findings: readonly Finding[],
  baseline: readonly BaselineEntry[],
): { findings: Finding[]; absent: AbsentEntry[] } {
  const known = new Set(baseline.map((e) => e.fingerprint));
  const present = new Set<string>();
  const marked = findings.map((f): Finding => {
    if (known.has(f.fingerprint)) {
      present.add(f.fingerprint);
      return { ...f, baselineState: 'unchanged' };
    }
    return { ...f, baselineState: 'new' };
  });
  const absent = baseline.filter((e) => !present.has(e.fingerprint));
  return { findings: marked, absent };
}
