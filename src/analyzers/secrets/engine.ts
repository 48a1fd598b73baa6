// The secret scanning engine: keyword pre-filter, windowed rule patterns, filters, de-duplication.
// Pure: bytes in, matches out. Files, Git and workers live elsewhere.
import picomatch from 'picomatch';
import { shannonEntropy } from './entropy.js';
import { judgeGenericValue } from './generic.js';
import { buildKeywordMatcher, type KeywordMatcher } from './keywords.js';
import type { SecretRule } from './rule.js';

/** How far before a keyword, and after it, a single-line rule's pattern is run. */
const WINDOW_BEFORE = 200;
const WINDOW_AFTER = 300;
/** A token running past the window is followed this far so it is not cut short. */
const TOKEN_TAIL = 4096;
/** How far past its keyword a multi-line rule (PEM blocks) may reach. */
const MULTILINE_SPAN = 64 * 1024;

/** The path the rule examples are scanned as (see rule.ts). */
export const EXAMPLE_PATH = 'src/settings.conf';

export interface GlobalAllow {
  /** Secrets matching any of these are not reported. */
  readonly regexes?: readonly string[];
  /** Secrets containing any of these (case-insensitively) are not reported. */
  readonly stopwords?: readonly string[];
}

interface CompiledRule {
  readonly rule: SecretRule;
  readonly regex: RegExp;
  /** Set when every match starts with a keyword: the pattern is tried at each keyword hit instead. */
  readonly sticky: RegExp | undefined;
  readonly allowRegexes: readonly RegExp[];
  readonly stopwords: readonly string[];
  readonly allowPath: ((path: string) => boolean) | undefined;
}

export interface CompiledRules {
  readonly rules: readonly CompiledRule[];
  readonly matcher: KeywordMatcher;
  /** For each keyword, the indexes of the rules that use it. */
  readonly rulesByKeyword: readonly (readonly number[])[];
  readonly globalRegexes: readonly RegExp[];
  readonly globalStopwords: readonly string[];
}

export interface SecretMatch {
  readonly rule: SecretRule;
  /** The secret, decoded as UTF-8. */
  readonly secret: string;
  /** Byte offsets of the secret. */
  readonly start: number;
  readonly end: number;
  /** 1-based line and column (columns count characters, end exclusive). */
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  /** The full text of the first line of the match (UTF-8), unredacted: callers redact. */
  readonly lineText: string;
  /** Columns of the secret within `lineText` (0-based, end exclusive; clipped to the line). */
  readonly lineSpan: readonly [number, number];
  readonly inlineAllowed: boolean;
  /** Lowered by the generic filters for values in test or example files, for instance. */
  readonly confidence: 'high' | 'medium' | 'low';
}

export function compileRules(rules: readonly SecretRule[], allow: GlobalAllow = {}): CompiledRules {
  const keywordIndex = new Map<string, number>();
  const rulesByKeyword: number[][] = [];
  const compiled = rules.map((rule, ruleIndex): CompiledRule => {
    for (const raw of rule.keywords) {
      const keyword = raw.toLowerCase();
      let index = keywordIndex.get(keyword);
      if (index === undefined) {
        index = keywordIndex.size;
        keywordIndex.set(keyword, index);
        rulesByKeyword.push([]);
      }
      (rulesByKeyword[index] as number[]).push(ruleIndex);
    }
    const flags = `gd${rule.caseInsensitive === true ? 'i' : ''}`;
    const prefixes = rule.multiline === true ? undefined : literalPrefixes(rule.pattern);
    const anchored =
      prefixes?.every((p) => rule.keywords.some((k) => p.toLowerCase().startsWith(k.toLowerCase()))) === true;
    return {
      rule,
      regex: new RegExp(rule.pattern, flags),
      sticky: anchored ? new RegExp(rule.pattern, `${flags}y`) : undefined,
      allowRegexes: (rule.allow?.regexes ?? []).map((r) => new RegExp(r)),
      stopwords: (rule.allow?.stopwords ?? []).map((s) => s.toLowerCase()),
      allowPath:
        rule.allow?.paths === undefined || rule.allow.paths.length === 0
          ? undefined
          : picomatch([...rule.allow.paths], { dot: true }),
    };
  });
  return {
    rules: compiled,
    matcher: buildKeywordMatcher([...keywordIndex.keys()]),
    rulesByKeyword,
    globalRegexes: (allow.regexes ?? []).map((r) => new RegExp(r)),
    globalStopwords: (allow.stopwords ?? []).map((s) => s.toLowerCase()),
  };
}

/** Scans a JavaScript string (encoded as UTF-8 first, so offsets are bytes as for files). */
export function scanText(text: string, path: string, compiled: CompiledRules): SecretMatch[] {
  return scanBytes(Buffer.from(text, 'utf8'), path, compiled);
}

interface Candidate {
  readonly ruleIndex: number;
  readonly start: number;
  readonly end: number;
  readonly confidence: 'high' | 'medium' | 'low';
}

/** Scans one file's bytes. Binary detection and size limits are the caller's. */
export function scanBytes(bytes: Buffer, path: string, compiled: CompiledRules): SecretMatch[] {
  const n = bytes.length;
  // One char per byte: regex offsets are byte offsets, and decoding is a copy, not a UTF-8 validation.
  // Decoded only once a keyword is found: most files have none.
  let decoded: string | undefined;
  const text = (): string => {
    decoded ??= bytes.toString('latin1');
    return decoded;
  };
  const windows = new Map<number, [number, number][]>();
  const candidates: Candidate[] = [];
  const seen = new Set<string>();

  const consider = (ruleIndex: number, m: RegExpExecArray, base: number): void => {
    const entry = compiled.rules[ruleIndex] as CompiledRule;
    const span = secretSpan(m, entry.rule.secretGroups);
    if (span === undefined) return;
    const secretStart = base + span[0];
    const key = `${ruleIndex}:${secretStart}`;
    if (seen.has(key)) return;
    seen.add(key);
    const secretEnd = base + span[1];
    const verdict = judge(entry, bytes, text(), secretStart, secretEnd, base + m.index, path, compiled);
    if (verdict !== undefined)
      candidates.push({ ruleIndex, start: secretStart, end: secretEnd, confidence: verdict });
  };

  compiled.matcher.scan(bytes, (keyword, hitEnd) => {
    const hitStart = hitEnd - (compiled.matcher.keywords[keyword] as string).length;
    // The single-line window around this hit, computed once for all its rules.
    let lineStart = -1;
    let lineEnd = -1;
    for (const ruleIndex of compiled.rulesByKeyword[keyword] as number[]) {
      const entry = compiled.rules[ruleIndex] as CompiledRule;
      if (entry.sticky !== undefined) {
        // Every match of this rule starts with one of its keywords: try it right here, no window.
        entry.sticky.lastIndex = hitStart;
        const m = entry.sticky.exec(text());
        if (m !== null && m[0].length > 0) consider(ruleIndex, m, 0);
        continue;
      }
      if (lineStart === -1) {
        lineStart = hitStart;
        const startLimit = Math.max(0, hitStart - WINDOW_BEFORE);
        while (lineStart > startLimit && bytes[lineStart - 1] !== 0x0a) lineStart--;
        lineEnd = hitEnd;
        const endLimit = Math.min(n, hitEnd + WINDOW_AFTER);
        while (lineEnd < endLimit && bytes[lineEnd] !== 0x0a) lineEnd++;
        const tailLimit = Math.min(n, lineEnd + TOKEN_TAIL);
        while (lineEnd < tailLimit && isTokenByte(bytes[lineEnd] as number)) lineEnd++;
      }
      const start = lineStart;
      const end = entry.rule.multiline === true ? Math.min(n, hitEnd + MULTILINE_SPAN) : lineEnd;
      let list = windows.get(ruleIndex);
      if (list === undefined) {
        list = [];
        windows.set(ruleIndex, list);
      }
      const last = list[list.length - 1];
      if (last !== undefined && start <= last[1]) {
        if (end > last[1]) last[1] = end;
      } else {
        list.push([start, end]);
      }
    }
  });

  for (const [ruleIndex, list] of windows) {
    const entry = compiled.rules[ruleIndex] as CompiledRule;
    for (const [start, end] of list) {
      const window = text().slice(start, end);
      entry.regex.lastIndex = 0;
      for (let m = entry.regex.exec(window); m !== null; m = entry.regex.exec(window)) {
        if (m[0].length === 0) {
          entry.regex.lastIndex++;
          continue;
        }
        consider(ruleIndex, m, start);
      }
    }
  }
  if (candidates.length === 0) return [];
  const allowed = candidates.filter(
    (c) => (compiled.rules[c.ruleIndex] as CompiledRule).allowPath?.(path) !== true,
  );
  return locate(bytes, text(), dedupe(allowed, compiled), compiled);
}

/**
 * The literal texts every match of `pattern` starts with, or undefined when that cannot be told simply.
 * Understands a leading `\b`, groups, one alternation of literals, and escaped punctuation.
 */
export function literalPrefixes(pattern: string): string[] | undefined {
  if (isAlternationGroup(pattern, 0)) return undefined; // `a|b`: a match may start with either
  let i = 0;
  const skipOpeners = (): void => {
    for (;;) {
      if (pattern.startsWith('\\b', i)) i += 2;
      else if (pattern.startsWith('(?:', i) && !isAlternationGroup(pattern, i + 3)) i += 3;
      else if (pattern[i] === '(' && pattern[i + 1] !== '?' && !isAlternationGroup(pattern, i + 1)) i += 1;
      else return;
    }
  };
  const literal = (stop: string): string => {
    let out = '';
    while (i < pattern.length && !stop.includes(pattern[i] as string)) {
      let ch: string;
      let width: number;
      if (pattern[i] === '\\') {
        const next = pattern[i + 1] ?? '';
        if (!/[.\-/_:=+@#]/.test(next)) break; // \w, \d, \s, \b…: not a literal
        ch = next;
        width = 2;
      } else if (/[A-Za-z0-9_\-:=/@#]/.test(pattern[i] as string)) {
        ch = pattern[i] as string;
        width = 1;
      } else {
        break;
      }
      if (/[?*{]/.test(pattern[i + width] ?? '')) break; // optional or repeated: not a fixed prefix
      out += ch;
      i += width;
    }
    return out;
  };
  skipOpeners();
  let heads = [''];
  const groupStart = pattern.startsWith('(?:', i)
    ? i + 3
    : pattern[i] === '(' && pattern[i + 1] !== '?'
      ? i + 1
      : -1;
  if (groupStart !== -1) {
    i = groupStart;
    const alternatives: string[] = [];
    for (;;) {
      const alt = literal('|)');
      if (alt === '') return undefined;
      alternatives.push(alt);
      if (pattern[i] === '|') i++;
      else if (pattern[i] === ')') {
        i++;
        break;
      } else return undefined;
    }
    if (/[?*{+]/.test(pattern[i] ?? '')) return undefined;
    heads = alternatives;
  }
  const tail = literal('|)');
  const prefixes = heads.map((h) => h + tail).filter((p) => p.length > 0);
  return prefixes.length === heads.length ? prefixes : undefined;
}

function isAlternationGroup(pattern: string, from: number): boolean {
  let depth = 0;
  for (let i = from; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) return false;
      depth--;
    } else if (c === '|' && depth === 0) return true;
  }
  return false;
}

function isTokenByte(b: number): boolean {
  // Anything but white space, quotes and common delimiters.
  return (
    b > 0x20 && b !== 0x22 && b !== 0x27 && b !== 0x60 && b !== 0x2c && b !== 0x3b && b !== 0x29 && b !== 0x7d
  );
}

function secretSpan(m: RegExpExecArray, groups: readonly number[] | undefined): [number, number] | undefined {
  const indices = m.indices;
  if (indices === undefined) return undefined;
  if (groups === undefined || groups.length === 0) return indices[0];
  for (const g of groups) {
    const span = indices[g];
    if (span !== undefined && span[1] > span[0]) return span;
  }
  return undefined;
}

/** Returns the confidence to report with, or undefined when the match is not a secret. */
function judge(
  entry: CompiledRule,
  bytes: Buffer,
  text: string,
  start: number,
  end: number,
  matchStart: number,
  path: string,
  compiled: CompiledRules,
): 'high' | 'medium' | 'low' | undefined {
  const rule = entry.rule;
  const secret = bytes.toString('utf8', start, end);
  if (rule.entropy !== undefined && shannonEntropy(secret) < rule.entropy) return undefined;
  const lowered = secret.toLowerCase();
  for (const word of entry.stopwords) if (lowered.includes(word)) return undefined;
  for (const word of compiled.globalStopwords) if (lowered.includes(word)) return undefined;
  for (const re of entry.allowRegexes) if (re.test(secret)) return undefined;
  for (const re of compiled.globalRegexes) if (re.test(secret)) return undefined;
  const confidence = rule.confidence ?? 'high';
  if (rule.generic !== true) return confidence;
  const lineStart = text.lastIndexOf('\n', matchStart) + 1;
  const verdict = judgeGenericValue({
    path,
    assignment: text.slice(Math.max(lineStart, matchStart), start),
    value: secret,
    quoted: isQuote(text.charCodeAt(start - 1)),
    after: text.slice(end, Math.min(end + 80, text.length)),
  });
  return verdict.secret ? (verdict.lowConfidence ? 'low' : confidence) : undefined;
}

function isQuote(c: number): boolean {
  return c === 0x22 || c === 0x27 || c === 0x60;
}

/**
 * Overlapping secrets found by several rules are reported once, by the most specific rule: a provider rule
 * over a generic one, higher confidence over lower, then the longer secret, then the earlier rule.
 */
function dedupe(candidates: Candidate[], compiled: CompiledRules): Candidate[] {
  const CONFIDENCE = { high: 3, medium: 2, low: 1 } as const;
  const better = (a: Candidate, b: Candidate): number => {
    const ra = (compiled.rules[a.ruleIndex] as CompiledRule).rule;
    const rb = (compiled.rules[b.ruleIndex] as CompiledRule).rule;
    return (
      Number(rb.generic === true) - Number(ra.generic === true) ||
      CONFIDENCE[ra.confidence ?? 'high'] - CONFIDENCE[rb.confidence ?? 'high'] ||
      a.end - a.start - (b.end - b.start) ||
      b.ruleIndex - a.ruleIndex
    );
  };
  candidates.sort((a, b) => a.start - b.start || better(b, a));
  const kept: Candidate[] = [];
  for (const c of candidates) {
    const overlapping = kept.findIndex((k) => c.start < k.end && k.start < c.end);
    if (overlapping === -1) {
      kept.push(c);
    } else if (better(c, kept[overlapping] as Candidate) > 0) {
      kept[overlapping] = c;
    }
  }
  return kept.sort((a, b) => a.start - b.start || a.ruleIndex - b.ruleIndex);
}

function locate(
  bytes: Buffer,
  text: string,
  candidates: Candidate[],
  compiled: CompiledRules,
): SecretMatch[] {
  const matches: SecretMatch[] = [];
  let line = 1;
  let cursor = 0;
  for (const c of candidates) {
    for (let nl = text.indexOf('\n', cursor); nl !== -1 && nl < c.start; nl = text.indexOf('\n', nl + 1)) {
      line++;
      cursor = nl + 1;
    }
    const lineStart = cursor;
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = text.length;
    let endLine = line;
    let endLineStart = lineStart;
    for (let nl = text.indexOf('\n', c.start); nl !== -1 && nl < c.end; nl = text.indexOf('\n', nl + 1)) {
      endLine++;
      endLineStart = nl + 1;
    }
    const rawLineEnd = lineEnd > lineStart && bytes[lineEnd - 1] === 0x0d ? lineEnd - 1 : lineEnd;
    const lineText = bytes.toString('utf8', lineStart, rawLineEnd);
    const column = utf8Length(bytes, lineStart, c.start) + 1;
    const endColumn = utf8Length(bytes, endLineStart, c.end) + 1;
    const spanEnd = endLine === line ? endColumn - 1 : lineText.length;
    const rule = (compiled.rules[c.ruleIndex] as CompiledRule).rule;
    matches.push({
      rule,
      secret: bytes.toString('utf8', c.start, c.end),
      start: c.start,
      end: c.end,
      line,
      column,
      endLine,
      endColumn,
      lineText,
      lineSpan: [column - 1, spanEnd],
      inlineAllowed: isInlineAllowed(lineText, rule.id),
      confidence: c.confidence,
    });
  }
  return matches;
}

/** Characters (UTF-16 code units, as JavaScript and SARIF count them) in bytes[from, to). */
function utf8Length(bytes: Buffer, from: number, to: number): number {
  let ascii = true;
  for (let i = from; i < to; i++) {
    if ((bytes[i] as number) >= 0x80) {
      ascii = false;
      break;
    }
  }
  return ascii ? to - from : bytes.toString('utf8', from, to).length;
}

const ALLOW_MARK = 'plumbline:allow';

/** `plumbline:allow` on the line allows every rule; `plumbline:allow RULE-ID[,RULE-ID]` only those. */
export function isInlineAllowed(lineText: string, ruleId: string): boolean {
  const at = lineText.indexOf(ALLOW_MARK);
  if (at === -1) return false;
  const rest = lineText.slice(at + ALLOW_MARK.length);
  const named = /^[ \t]+([a-z0-9][a-z0-9-]*(?:\s*,\s*[a-z0-9][a-z0-9-]*)*)/.exec(rest);
  if (named === null) return true;
  return (named[1] as string).split(',').some((id) => id.trim() === ruleId);
}
