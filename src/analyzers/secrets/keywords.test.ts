import { describe, expect, it } from 'vitest';
import { buildKeywordMatcher } from './keywords.js';

function hits(keywords: string[], text: string): string[] {
  const m = buildKeywordMatcher(keywords);
  const out: string[] = [];
  m.scan(Buffer.from(text, 'latin1'), (k, end) => out.push(`${keywords[k]}@${end}`));
  return out;
}

describe('buildKeywordMatcher', () => {
  it('finds overlapping and nested keywords, case-insensitively', () => {
    expect(hits(['he', 'she', 'his', 'hers'], 'USHERS')).toEqual(['she@4', 'he@4', 'hers@6']);
  });

  it('agrees with a naive search on random text', () => {
    const keywords = ['ab', 'abc', 'bca', 'c', 'aaa', 'ghp_', 'akia'];
    let seed = 7;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const text = Array.from({ length: 5000 }, () => 'abcAGHP_kiI'[rand() % 11]).join('');
    const naive: string[] = [];
    const lowered = text.toLowerCase();
    for (let end = 1; end <= text.length; end++) {
      keywords.forEach((k, i) => {
        if (end >= k.length && lowered.slice(end - k.length, end) === k) naive.push(`${i}@${end}`);
      });
    }
    const m = buildKeywordMatcher(keywords);
    const found: string[] = [];
    m.scan(Buffer.from(text, 'latin1'), (k, end) => found.push(`${k}@${end}`));
    expect(found.sort()).toEqual(naive.sort());
  });

  it('rejects empty and non-ASCII keywords', () => {
    expect(() => buildKeywordMatcher([''])).toThrow(/empty/);
    expect(() => buildKeywordMatcher(['é'])).toThrow(/ASCII/);
  });
});
