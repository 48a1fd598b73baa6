import { describe, expect, it } from 'vitest';
import { compileRules, EXAMPLE_PATH, isInlineAllowed, literalPrefixes, scanText } from './engine.js';
import type { SecretRule } from './rule.js';
import { GENERIC_RULES } from './rules/generic.js';

const prefixRule: SecretRule = {
  id: 'test-token',
  description: 'Test token',
  severity: 'high',
  keywords: ['tok_'],
  pattern: String.raw`\btok_([A-Za-z0-9]{20})\b`,
  secretGroups: [1],
  examples: { positive: [], negative: [] },
};

const pemRule: SecretRule = {
  id: 'test-pem',
  description: 'PEM',
  severity: 'critical',
  keywords: ['-----begin test key-----'],
  pattern: String.raw`-----BEGIN TEST KEY-----[\s\S]{10,4000}?-----END TEST KEY-----`,
  multiline: true,
  examples: { positive: [], negative: [] },
};

describe('scanText', () => {
  const compiled = compileRules([prefixRule, pemRule]);

  it('finds a keyword-anchored secret with line and column of the secret group', () => {
    const text = 'first line\n  const t = "tok_abcdefghij0123456789";\n';
    const [m, ...rest] = scanText(text, 'a.js', compiled);
    expect(rest).toHaveLength(0);
    expect(m?.rule.id).toBe('test-token');
    expect(m?.secret).toBe('abcdefghij0123456789');
    expect(m?.line).toBe(2);
    expect(m?.column).toBe(18);
    expect(m?.endColumn).toBe(38);
    expect(m?.lineText).toBe('  const t = "tok_abcdefghij0123456789";');
  });

  it('matches keywords case-insensitively and counts columns in characters after multi-byte text', () => {
    const text = 'é€ TOK_abcdefghij0123456789';
    const compiledCi = compileRules([{ ...prefixRule, caseInsensitive: true }]);
    const [m] = scanText(text, 'a.txt', compiledCi);
    expect(m?.column).toBe(8);
  });

  it('reports nothing when the keyword is absent or the shape is wrong', () => {
    expect(scanText('nothing to see', 'a', compiled)).toEqual([]);
    expect(scanText('tok_short', 'a', compiled)).toEqual([]);
  });

  it('spans lines for multiline rules', () => {
    const body = 'x'.repeat(64);
    const text = `a\n-----BEGIN TEST KEY-----\n${body}\n${body}\n-----END TEST KEY-----\n`;
    const [m] = scanText(text, 'k.pem', compiled);
    expect(m?.line).toBe(2);
    expect(m?.endLine).toBe(5);
  });

  it('finds every occurrence on a very long minified line', () => {
    const parts = Array.from(
      { length: 50 },
      (_, i) => `a=${'y'.repeat(500)};t${i}="tok_${String(i).padStart(20, 'Z')}"`,
    );
    const matches = scanText(parts.join(''), 'min.js', compiled);
    expect(matches).toHaveLength(50);
    expect(new Set(matches.map((m) => m.line))).toEqual(new Set([1]));
  });

  it('handles CRLF line endings', () => {
    const [m] = scanText('a\r\nb tok_abcdefghij0123456789\r\n', 'a', compiled);
    expect(m?.line).toBe(2);
    expect(m?.lineText).toBe('b tok_abcdefghij0123456789');
  });

  it('applies global stop words and allow regexes', () => {
    const allowed = compileRules([prefixRule], { stopwords: ['abcdef'] });
    expect(scanText('tok_abcdefghij0123456789', 'a', allowed)).toEqual([]);
    const byRegex = compileRules([prefixRule], { regexes: ['^abc'] });
    expect(scanText('tok_abcdefghij0123456789', 'a', byRegex)).toEqual([]);
  });

  it('marks inline allows', () => {
    const [m] = scanText('tok_abcdefghij0123456789 // plumbline:allow', 'a', compiled);
    expect(m?.inlineAllowed).toBe(true);
  });
});

describe('isInlineAllowed', () => {
  it('allows every rule without a list, and only the named rules with one', () => {
    expect(isInlineAllowed('x # plumbline:allow', 'a-b')).toBe(true);
    expect(isInlineAllowed('x # plumbline:allow a-b, c-d', 'c-d')).toBe(true);
    expect(isInlineAllowed('x # plumbline:allow a-b', 'c-d')).toBe(false);
    expect(isInlineAllowed('x', 'a-b')).toBe(false);
  });
});

describe('generic rules examples', () => {
  for (const rule of GENERIC_RULES) {
    const compiled = compileRules([rule]);
    for (const example of rule.examples.positive) {
      it(`${rule.id} finds: ${example}`, () => {
        expect(scanText(example, EXAMPLE_PATH, compiled).map((m) => m.rule.id)).toContain(rule.id);
      });
    }
    for (const example of rule.examples.negative) {
      it(`${rule.id} ignores: ${example}`, () => {
        expect(scanText(example, EXAMPLE_PATH, compiled)).toEqual([]);
      });
    }
  }
});

describe('literalPrefixes', () => {
  it('finds the fixed text every match starts with', () => {
    expect(literalPrefixes(String.raw`\b(ghp_[A-Za-z0-9]{36})\b`)).toEqual(['ghp_']);
    expect(literalPrefixes(String.raw`\b((?:AKIA|ABIA)[A-Z0-9]{16})`)).toEqual(['AKIA', 'ABIA']);
    expect(literalPrefixes(String.raw`amzn\.mws\.[0-9a-f]{8}`)).toEqual(['amzn.mws.']);
    expect(literalPrefixes(String.raw`xox[bp]-[0-9]+`)).toEqual(['xox']);
  });
  it('gives up where a match may start elsewhere', () => {
    expect(literalPrefixes(String.raw`[\w.-]{0,40}password`)).toBeUndefined();
    expect(literalPrefixes(String.raw`(?:aws|amazon)?_key`)).toBeUndefined();
    expect(literalPrefixes(String.raw`ab?c`)).toEqual(['a']);
    expect(literalPrefixes(String.raw`a|b`)).toBeUndefined();
  });
});

describe('anchored rules', () => {
  it('find the same matches as windowed ones', () => {
    const sticky = compileRules([prefixRule]);
    const windowed = compileRules([{ ...prefixRule, pattern: `(?:)${prefixRule.pattern}` }]);
    const text = 'a tok_abcdefghij0123456789 b TOK_abcdefghij0123456789 tok_abcdefghij012345678Z';
    expect(scanText(text, 'a', sticky).map((m) => m.column)).toEqual(
      scanText(text, 'a', windowed).map((m) => m.column),
    );
  });
});
