// Checks every provider rule's shape, regex dialect and examples, running the examples through the scanner.
import { describe, expect, it } from 'vitest';
import { compileRules, EXAMPLE_PATH, scanText } from '../engine.js';
import type { SecretRule } from '../rule.js';
import { PROVIDER_RULES } from './providers.js';

const KEBAB = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Why a pattern falls outside the dialect JavaScript and Rust's regex crate share, or undefined when it does not.
 * A scan of the source text: escapes are skipped, character classes tracked.
 */
function unsupportedSyntax(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!inClass && /[1-9]/.test(next)) return `backreference \\${next}`;
      if (next === 'k' && pattern[i + 2] === '<') return 'named backreference';
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      // Rust reads these inside a class as nested classes and set operations; JavaScript as literals.
      else if (c === '[') return 'unescaped [ inside a character class';
      else if ((c === '-' || c === '&' || c === '~') && pattern[i + 1] === c)
        return `${c}${c} inside a character class`;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
      continue;
    }
    if (c === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (rest.startsWith(':')) continue;
      if (rest.startsWith('=') || rest.startsWith('!')) return 'lookahead';
      if (rest.startsWith('<=') || rest.startsWith('<!')) return 'lookbehind';
      if (rest.startsWith('<') || rest.startsWith('P<')) return 'named group';
      return 'inline flags';
    }
  }
  return inClass ? 'unterminated character class' : undefined;
}

function compile(rule: SecretRule): RegExp {
  return new RegExp(rule.pattern, `g${rule.caseInsensitive === true ? 'i' : ''}`);
}

function captureGroups(rule: SecretRule): number {
  return (new RegExp(`${rule.pattern}|`).exec('') as RegExpExecArray).length - 1;
}

function matchesOf(rule: SecretRule, text: string) {
  return scanText(text, EXAMPLE_PATH, compileRules([rule])).filter((m) => m.rule.id === rule.id);
}

describe('PROVIDER_RULES', () => {
  it('holds at least 145 rules', () => {
    expect(PROVIDER_RULES.length).toBeGreaterThanOrEqual(145);
  });

  it('has unique, kebab-case ids', () => {
    const ids = PROVIDER_RULES.map((r) => r.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(ids.filter((id) => !KEBAB.test(id))).toEqual([]);
  });

  it('compiles every pattern and allow regex as JavaScript', () => {
    for (const rule of PROVIDER_RULES) {
      expect(() => compile(rule), rule.id).not.toThrow();
      for (const re of rule.allow?.regexes ?? []) expect(() => new RegExp(re), rule.id).not.toThrow();
    }
  });

  it('keeps every pattern in the dialect shared with Rust (no lookaround, backreferences, named groups, flags)', () => {
    const offenders = PROVIDER_RULES.flatMap((rule) =>
      [rule.pattern, ...(rule.allow?.regexes ?? [])]
        .map((p) => unsupportedSyntax(p))
        .filter((why) => why !== undefined)
        .map((why) => `${rule.id}: ${why}`),
    );
    expect(offenders).toEqual([]);
  });

  it('has non-empty, lower-case keywords', () => {
    for (const rule of PROVIDER_RULES) {
      expect(rule.keywords.length, rule.id).toBeGreaterThan(0);
      for (const keyword of rule.keywords) {
        expect(keyword.length, rule.id).toBeGreaterThan(0);
        expect(keyword, rule.id).toBe(keyword.toLowerCase());
      }
    }
  });

  it('names only capture groups that exist as secret groups', () => {
    for (const rule of PROVIDER_RULES) {
      const groups = captureGroups(rule);
      for (const g of rule.secretGroups ?? []) {
        expect(g, rule.id).toBeGreaterThanOrEqual(1);
        expect(g, rule.id).toBeLessThanOrEqual(groups);
      }
    }
  });

  it('has at least one positive and one negative example per rule', () => {
    for (const rule of PROVIDER_RULES) {
      expect(rule.examples.positive.length, rule.id).toBeGreaterThan(0);
      expect(rule.examples.negative.length, rule.id).toBeGreaterThan(0);
    }
  });

  it('finds a keyword inside every match of every positive example', () => {
    const offenders: string[] = [];
    for (const rule of PROVIDER_RULES) {
      for (const example of rule.examples.positive) {
        const matches = [...example.matchAll(compile(rule))];
        if (matches.length === 0) offenders.push(`${rule.id}: no match in ${JSON.stringify(example)}`);
        for (const m of matches) {
          const text = m[0].toLowerCase();
          if (!rule.keywords.some((k) => text.includes(k))) {
            offenders.push(`${rule.id}: no keyword in ${JSON.stringify(m[0])}`);
          }
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe.each(PROVIDER_RULES.map((rule) => [rule.id, rule] as const))('%s', (_id, rule) => {
  it('fires on every positive example', () => {
    for (const example of rule.examples.positive) {
      expect(matchesOf(rule, example).length, example).toBeGreaterThan(0);
    }
  });

  it('stays silent on every negative example', () => {
    for (const example of rule.examples.negative) {
      expect(
        matchesOf(rule, example).map((m) => m.secret),
        example,
      ).toEqual([]);
    }
  });
});
