// A go.mod tokenizer: directives as lines of tokens, blocks (`require ( … )`) expanded, `//` comments kept
// apart so that `// indirect` can be read.
import { LockfileError } from '../../types.js';

/** One directive line: `require golang.org/x/net v0.1.0 // indirect` → verb `require`, args, comment. */
export interface GoModLine {
  readonly verb: string;
  readonly args: readonly string[];
  /** The text after `//`, trimmed; empty without a comment. */
  readonly comment: string;
  /** 1-based. */
  readonly line: number;
}

/** No go.mod line is this long; a file that has one is not a go.mod. */
const MAX_LINE = 64 * 1024;

/** Splits a line into tokens (`(`, `)` and `=>` apart, quoted strings whole) and the trailing comment. */
function tokenize(text: string): { tokens: string[]; comment: string } {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith('//', i)) {
      return { tokens, comment: text.slice(i + 2).trim() };
    } else if (c === '(' || c === ')') {
      tokens.push(c);
      i++;
    } else if (text.startsWith('=>', i)) {
      tokens.push('=>');
      i += 2;
    } else if (c === '"' || c === '`') {
      let end = i + 1;
      while (end < text.length && text.charAt(end) !== c)
        end += c === '"' && text.charAt(end) === '\\' ? 2 : 1;
      tokens.push(text.slice(i, end + 1));
      i = end + 1;
    } else {
      let end = i + 1;
      while (end < text.length && !/[\s()"`]/.test(text.charAt(end)) && !text.startsWith('//', end)) {
        if (text.startsWith('=>', end)) break;
        end++;
      }
      tokens.push(text.slice(i, end));
      i = end;
    }
  }
  return { tokens, comment: '' };
}

function unquote(token: string): string {
  if (token.startsWith('`')) return token.slice(1, -1);
  if (token.startsWith('"')) {
    try {
      return JSON.parse(token) as string;
    } catch {
      return token.slice(1, -1);
    }
  }
  return token;
}

/**
 * Reads go.mod into directive lines. Throws LockfileError for a line that is not a directive, an unbalanced
 * block, and a file without a `module` directive.
 */
export function parseGoMod(content: string): GoModLine[] {
  const nul = content.indexOf('\u0000');
  if (nul !== -1) throw new LockfileError('go.mod is binary', content.slice(0, nul).split('\n').length);
  const out: GoModLine[] = [];
  let block: { verb: string; line: number } | undefined;
  const lines = content.split('\n');
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.length > MAX_LINE) throw new LockfileError('go.mod: line too long', line);
    const { tokens, comment } = tokenize(raw);
    const [first, ...rest] = tokens;
    if (first === undefined) return;
    if (block !== undefined) {
      if (first === ')' && rest.length === 0) {
        block = undefined;
        return;
      }
      if (first === '(') throw new LockfileError('go.mod: nested block', line);
      out.push({ verb: block.verb, args: tokens.map(unquote), comment, line });
      return;
    }
    if (!/^[a-z]+$/.test(first)) throw new LockfileError(`go.mod: unexpected "${first.slice(0, 40)}"`, line);
    if (rest.length === 1 && rest[0] === '(') {
      block = { verb: first, line };
      return;
    }
    if (rest.length === 2 && rest[0] === '(' && rest[1] === ')') return;
    out.push({ verb: first, args: rest.map(unquote), comment, line });
  });
  if (block !== undefined)
    throw new LockfileError(`go.mod: the ${block.verb} block is never closed`, block.line);
  if (!out.some((directive) => directive.verb === 'module')) {
    throw new LockfileError('go.mod has no module directive', content.trim() === '' ? undefined : 1);
  }
  return out;
}
