// JSON lockfiles with line numbers: JSON.parse for the values, and a validating scanner that records the line
// where each shallow entry starts and the line of the first syntax error. Shared by composer, pipenv and nuget.
import { LockfileError } from '../../types.js';

/** Maps character offsets to 1-based line numbers. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    let at = text.indexOf('\n');
    while (at !== -1) {
      this.starts.push(at + 1);
      at = text.indexOf('\n', at + 1);
    }
  }

  /** The 1-based line holding `offset`. */
  lineAt(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }
}

export interface JsonDocument {
  readonly value: unknown;
  /** Line where the value at `path` starts: the line of its key in an object, of its first character in an array. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

interface Frame {
  readonly kind: 'object' | 'array';
  key: string;
  index: number;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings may not hold raw control characters.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const SEPARATOR = '\u0000';

function skipSpace(text: string, at: number): number {
  let i = at;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

function matchAt(pattern: RegExp, text: string, at: number): number {
  pattern.lastIndex = at;
  return pattern.test(text) ? pattern.lastIndex : -1;
}

/**
 * Walks the JSON text without building values. Calls `record(path, offset)` for every value at most `maxDepth`
 * levels deep (object members at their key). Returns the offset of the first syntax error, or -1.
 */
function scan(text: string, maxDepth: number, record: (path: string, offset: number) => void): number {
  const stack: Frame[] = [];
  const pathKey = (): string =>
    stack.map((frame) => (frame.kind === 'object' ? frame.key : String(frame.index))).join(SEPARATOR);
  // Reads `"key" :` at i into the top frame; returns the offset after the colon, or -1.
  const readKey = (at: number): number => {
    const top = stack[stack.length - 1];
    const end = matchAt(STRING, text, at);
    if (end < 0 || top === undefined) return -1;
    if (stack.length <= maxDepth) {
      top.key = JSON.parse(text.slice(at, end)) as string;
      record(pathKey(), at);
    }
    const colon = skipSpace(text, end);
    return text.charCodeAt(colon) === 0x3a ? colon + 1 : -1;
  };
  let i = 0;
  let expectValue = true;
  for (;;) {
    i = skipSpace(text, i);
    if (expectValue) {
      if (i >= text.length) return i;
      const top = stack[stack.length - 1];
      if (top?.kind === 'array' && stack.length <= maxDepth) record(pathKey(), i);
      const c = text.charCodeAt(i);
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        const close = c === 0x7b ? 0x7d : 0x5d;
        const next = skipSpace(text, i + 1);
        if (text.charCodeAt(next) === close) {
          i = next + 1;
          expectValue = false;
          continue;
        }
        stack.push({ kind: c === 0x7b ? 'object' : 'array', key: '', index: 0 });
        if (c === 0x7b) {
          const after = readKey(next);
          if (after < 0) return next;
          i = after;
        } else {
          i = next;
        }
        continue;
      }
      let end: number;
      if (c === 0x22) end = matchAt(STRING, text, i);
      else if (text.startsWith('true', i)) end = i + 4;
      else if (text.startsWith('false', i)) end = i + 5;
      else if (text.startsWith('null', i)) end = i + 4;
      else end = matchAt(NUMBER, text, i);
      if (end < 0) return i;
      i = end;
      expectValue = false;
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) return i >= text.length ? -1 : i;
    if (i >= text.length) return i;
    const c = text.charCodeAt(i);
    if (c === 0x2c /* , */) {
      if (top.kind === 'array') {
        top.index++;
        i++;
      } else {
        const keyAt = skipSpace(text, i + 1);
        const after = readKey(keyAt);
        if (after < 0) return keyAt;
        i = after;
      }
      expectValue = true;
      continue;
    }
    if ((c === 0x7d && top.kind === 'object') || (c === 0x5d && top.kind === 'array')) {
      stack.pop();
      i++;
      continue;
    }
    return i;
  }
}

/**
 * Parses a JSON lockfile. Throws LockfileError for an empty file or invalid JSON, with the line of the first
 * syntax error. Lines are recorded for values at most `maxDepth` levels deep.
 */
export function parseJsonWithLines(content: string, what: string, maxDepth: number): JsonDocument {
  const text = content.charCodeAt(0) === 0xfeff ? content.slice(1) : content;
  if (text.trim() === '') throw new LockfileError(`${what} is empty`);
  const lines = new LineIndex(text);
  const offsets = new Map<string, number>();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const at = scan(text, 0, () => {});
    const reason = error instanceof Error ? error.message.slice(0, 120) : 'syntax error';
    throw new LockfileError(`${what} is not valid JSON: ${reason}`, at >= 0 ? lines.lineAt(at) : undefined);
  }
  scan(text, maxDepth, (path, offset) => {
    if (!offsets.has(path)) offsets.set(path, offset);
  });
  return {
    value,
    lineOf(path) {
      const offset = offsets.get(path.map(String).join(SEPARATOR));
      return offset === undefined ? undefined : lines.lineAt(offset);
    },
  };
}
