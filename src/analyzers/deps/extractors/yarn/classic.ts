// A parser for the yarn classic (v1) lockfile syntax: indentation blocks of `key "value"` lines.
import { LockfileError } from '../../types.js';

export interface ClassicBlock {
  /** The descriptors of the header line (`"a@^1", a@^1.1:` → [`a@^1`, `a@^1.1`]). */
  readonly descriptors: string[];
  readonly line: number;
  /** Scalar fields and nested blocks (`dependencies`), as written. */
  readonly fields: Record<string, string | Record<string, string>>;
}

export interface ClassicParse {
  readonly blocks: ClassicBlock[];
  readonly notes: string[];
}

/** Splits one line into tokens: quoted strings (JSON escapes), bare words, and `,` / `:` separators. */
function tokenize(text: string): string[] | undefined {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] ?? '';
    if (char === ' ' || char === '\t') {
      i++;
    } else if (char === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) return undefined;
      try {
        tokens.push(JSON.parse(text.slice(i, j + 1)) as string);
      } catch {
        return undefined;
      }
      i = j + 1;
    } else if (char === ',') {
      tokens.push(',');
      i++;
    } else if (char === ':' && (i + 1 === text.length || text[i + 1] === ' ')) {
      tokens.push(':');
      i++;
    } else {
      let j = i;
      while (
        j < text.length &&
        !/[\s,]/.test(text[j] ?? '') &&
        !(text[j] === ':' && (j + 1 === text.length || text[j + 1] === ' '))
      )
        j++;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

/** Parses a header line (`"a@^1", a@^1.1:`) into its descriptors; undefined when it is not one. */
function parseHeader(text: string): string[] | undefined {
  const tokens = tokenize(text);
  if (tokens === undefined || tokens.at(-1) !== ':') return undefined;
  const descriptors: string[] = [];
  for (let i = 0; i < tokens.length - 1; i++) {
    const token = tokens[i] ?? '';
    if (i % 2 === 1) {
      if (token !== ',') return undefined;
    } else {
      if (token === ',' || token === ':' || token === '') return undefined;
      descriptors.push(token);
    }
  }
  return descriptors.length > 0 && tokens.length % 2 === 0 ? descriptors : undefined;
}

/** Parses a `key value` / `key: value` / `key:` line; undefined when it is none of them. */
function parseField(text: string): { key: string; value: string | undefined } | undefined {
  const tokens = tokenize(text);
  if (tokens === undefined || tokens.length === 0) return undefined;
  const [key, second, third] = tokens;
  if (key === undefined || key === ',' || key === ':') return undefined;
  if (tokens.length === 2 && second === ':') return { key, value: undefined };
  if (tokens.length === 2 && second !== undefined && second !== ',') return { key, value: second };
  if (tokens.length === 3 && second === ':' && third !== undefined && third !== ',' && third !== ':') {
    return { key, value: third };
  }
  return undefined;
}

/**
 * Parses yarn classic lockfile text. A first entry line that is not a header means the file is not this
 * format (LockfileError with that line); a later malformed line is skipped with a note.
 */
export function parseClassic(content: string, what: string): ClassicParse {
  const lines = content.split(/\r?\n/);
  const blocks: ClassicBlock[] = [];
  const notes: string[] = [];
  let current:
    | { descriptors: string[]; line: number; fields: Record<string, string | Record<string, string>> }
    | undefined;
  let nested: Record<string, string> | undefined;
  let nestedIndent = 0;
  let broken = false;
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] ?? '';
    const lineNumber = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const indent = raw.length - raw.trimStart().length;
    if (indent === 0) {
      nested = undefined;
      const descriptors = parseHeader(trimmed);
      if (descriptors === undefined) {
        if (blocks.length === 0 && current === undefined) {
          throw new LockfileError(
            `${what} is not a yarn lockfile: line ${lineNumber} is not an entry header`,
            lineNumber,
          );
        }
        notes.push(`skipped line ${lineNumber}: not an entry header`);
        current = undefined;
        broken = true;
        continue;
      }
      current = { descriptors, line: lineNumber, fields: {} };
      blocks.push(current);
      broken = false;
      continue;
    }
    if (current === undefined) {
      if (!broken) notes.push(`skipped line ${lineNumber}: indented line outside an entry`);
      continue;
    }
    const field = parseField(trimmed);
    if (field === undefined) {
      notes.push(`skipped line ${lineNumber}: cannot read "${trimmed.slice(0, 60)}"`);
      continue;
    }
    if (nested !== undefined && indent > nestedIndent) {
      if (field.value !== undefined) nested[field.key] = field.value;
      continue;
    }
    nested = undefined;
    if (field.value === undefined) {
      nested = {};
      nestedIndent = indent;
      current.fields[field.key] = nested;
    } else {
      current.fields[field.key] = field.value;
    }
  }
  return { blocks, notes };
}
