// Runs the shared version-ordering oracles (../shared/data/version-ordering) against a VersionScheme.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidVersionError, type VersionScheme } from '../types.js';

export type Relation = '<' | '=' | '>';

/** One assertion of an oracle file: `A < B`, `A = B` or `A > B`. */
export interface OracleLine {
  /** 1-based line number in the file. */
  readonly lineNumber: number;
  /** The line as written (trimmed). */
  readonly text: string;
  readonly a: string;
  readonly relation: Relation;
  readonly b: string;
}

/**
 * An oracle line the ecosystem's own tool disagrees with. It stays in the suite: the test asserts what the
 * real tool answers instead (an ordering, or that a version is rejected), so the exclusion cannot go stale.
 */
export interface OracleExclusion {
  /** The line exactly as written, or a predicate for a family of lines. */
  readonly line: string | ((line: OracleLine) => boolean);
  /** The real tool's answer for A against B, or 'invalid' when it rejects A or B. */
  readonly actual: Relation | 'invalid';
  /** Why, citing the tool. */
  readonly reason: string;
}

/** The repository root (this file is src/analyzers/deps/versions/…). */
const REPOSITORY_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const ORACLE_DIR = resolve(REPOSITORY_ROOT, '../shared/data/version-ordering');

const LINE = /^(\S+)\s+([<=>])\s+(\S+)$/;

/** The assertions of one oracle file, or undefined when the file is absent. Throws on a malformed line. */
export function readOracle(fileName: string): OracleLine[] | undefined {
  const path = resolve(ORACLE_DIR, fileName);
  if (!existsSync(path)) return undefined;
  const lines: OracleLine[] = [];
  readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const text = raw.trim();
      if (text === '' || text.startsWith('//') || text.startsWith('#')) return;
      const match = LINE.exec(text);
      if (match === null)
        throw new Error(`${fileName}:${index + 1}: not "A < B", "A = B" or "A > B": ${text}`);
      const [, a = '', relation = '=', b = ''] = match;
      lines.push({ lineNumber: index + 1, text, a, relation: relation as Relation, b });
    });
  return lines;
}

function sign(relation: Relation): number {
  return relation === '<' ? -1 : relation === '>' ? 1 : 0;
}

function reversed(relation: Relation): Relation {
  return relation === '<' ? '>' : relation === '>' ? '<' : '=';
}

function applies(exclusion: OracleExclusion, line: OracleLine): boolean {
  return typeof exclusion.line === 'string' ? exclusion.line === line.text : exclusion.line(line);
}

/** Asserts compare(a, b) and compare(b, a) both agree with `relation`. */
export function expectOrdered(scheme: VersionScheme, a: string, relation: Relation, b: string): void {
  expect(scheme.compare(a, b), `${a} ${relation} ${b}`).toBe(sign(relation));
  expect(scheme.compare(b, a), `${b} vs ${a} (reversed)`).toBe(sign(reversed(relation)));
}

/** Asserts `version` is rejected: isValid is false and compare throws InvalidVersionError either way round. */
export function expectInvalid(scheme: VersionScheme, version: string, other: string): void {
  expect(scheme.isValid(version), `isValid(${JSON.stringify(version)})`).toBe(false);
  expect(() => scheme.compare(version, other)).toThrow(InvalidVersionError);
  expect(() => scheme.compare(other, version)).toThrow(InvalidVersionError);
}

/**
 * One test per oracle line, each checked both ways round; excluded lines assert the real tool's answer.
 * Skips, saying why, when the oracle folder is absent.
 */
export function describeOracle(
  fileName: string,
  scheme: VersionScheme,
  exclusions: readonly OracleExclusion[] = [],
): void {
  const lines = readOracle(fileName);
  describe(`oracle ${fileName} (${scheme.ecosystem})`, () => {
    const path = resolve(ORACLE_DIR, fileName);
    it.skipIf(lines === undefined)(
      `reads ${path} (skipped: that file is absent, the shared oracle data is not checked out next to the repository)`,
      () => {
        expect(lines?.length ?? 0).toBeGreaterThan(0);
      },
    );
    if (lines === undefined) return;

    for (const line of lines) {
      const exclusion = exclusions.find((candidate) => applies(candidate, line));
      if (exclusion === undefined) {
        it(`line ${line.lineNumber}: ${line.text}`, () => {
          expectOrdered(scheme, line.a, line.relation, line.b);
        });
      } else {
        it(`line ${line.lineNumber}: ${line.text} — excluded, the real tool says ${exclusion.actual}: ${exclusion.reason}`, () => {
          if (exclusion.actual === 'invalid') {
            const rejected = [line.a, line.b].filter((version) => !scheme.isValid(version));
            expect(rejected.length, `${line.text}: one side should be rejected`).toBeGreaterThan(0);
            for (const version of rejected)
              expectInvalid(scheme, version, version === line.a ? line.b : line.a);
          } else {
            expect(exclusion.actual, 'an exclusion must disagree with the oracle').not.toBe(line.relation);
            expectOrdered(scheme, line.a, exclusion.actual, line.b);
          }
        });
      }
    }

    it('has no exclusion that matches no line', () => {
      const unused = exclusions.filter((exclusion) => !lines.some((line) => applies(exclusion, line)));
      expect(unused.map((exclusion) => exclusion.reason)).toEqual([]);
    });
  });
}
