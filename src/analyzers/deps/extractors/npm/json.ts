// A small JSON / JSONC parser that remembers the line of every object key, for lockfile line numbers.
import { LockfileError } from '../../types.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue | undefined;
}

export interface ParsedJson {
  readonly value: JsonValue;
  /** The 1-based line where `key` is written in `object` (an object from `value`), if it is. */
  keyLine(object: JsonObject, key: string): number | undefined;
}

export interface JsonOptions {
  /** JSONC: `//` and `/* *\/` comments and trailing commas (bun.lock). */
  readonly jsonc?: boolean;
  /** What the file is, for error messages (`package-lock.json`). */
  readonly what?: string;
}

const MAX_DEPTH = 512;

/** Parses `text`; throws LockfileError (with the line) on anything that is not JSON (or JSONC). */
export function parseJson(text: string, options: JsonOptions = {}): ParsedJson {
  const jsonc = options.jsonc === true;
  const what = options.what ?? 'file';
  const lines = new WeakMap<object, Map<string, number>>();
  let pos = 0;
  let line = 1;

  function fail(message: string): never {
    throw new LockfileError(`${what} is not valid JSON${jsonc ? 'C' : ''}: ${message} at line ${line}`, line);
  }

  function describe(index: number): string {
    if (index >= text.length) return 'unexpected end of file';
    const char = text[index] ?? '';
    const code = char.charCodeAt(0);
    return code < 0x20 || code === 0xfffd
      ? `unexpected character U+${code.toString(16).padStart(4, '0')}`
      : `unexpected "${char}"`;
  }

  function skipSpace(): void {
    while (pos < text.length) {
      const code = text.charCodeAt(pos);
      if (code === 0x0a) {
        line++;
        pos++;
      } else if (code === 0x20 || code === 0x09 || code === 0x0d) {
        pos++;
      } else if (jsonc && code === 0x2f && text.charCodeAt(pos + 1) === 0x2f) {
        const end = text.indexOf('\n', pos);
        pos = end === -1 ? text.length : end;
      } else if (jsonc && code === 0x2f && text.charCodeAt(pos + 1) === 0x2a) {
        const end = text.indexOf('*/', pos + 2);
        if (end === -1) fail('unterminated comment');
        for (let i = pos; i < end; i++) if (text.charCodeAt(i) === 0x0a) line++;
        pos = end + 2;
      } else {
        return;
      }
    }
  }

  function parseString(): string {
    // pos is at the opening quote
    const start = pos + 1;
    let index = start;
    let simple = true;
    while (index < text.length) {
      const code = text.charCodeAt(index);
      if (code === 0x22) break;
      if (code === 0x5c) {
        simple = false;
        index += 2;
        continue;
      }
      if (code < 0x20) {
        pos = index;
        fail(code === 0x0a ? 'unterminated string' : describe(index));
      }
      index++;
    }
    if (index >= text.length) {
      pos = index;
      fail('unterminated string');
    }
    const raw = text.slice(start, index);
    pos = index + 1;
    if (simple) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return fail('invalid escape in string');
    }
  }

  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

  function parseValue(depth: number): JsonValue {
    if (depth > MAX_DEPTH) fail('nesting too deep');
    skipSpace();
    const code = text.charCodeAt(pos);
    if (code === 0x7b) return parseObject(depth);
    if (code === 0x5b) return parseArray(depth);
    if (code === 0x22) return parseString();
    if (text.startsWith('true', pos)) {
      pos += 4;
      return true;
    }
    if (text.startsWith('false', pos)) {
      pos += 5;
      return false;
    }
    if (text.startsWith('null', pos)) {
      pos += 4;
      return null;
    }
    NUMBER.lastIndex = pos;
    const match = NUMBER.exec(text);
    if (match !== null) {
      pos += match[0].length;
      return Number(match[0]);
    }
    return fail(describe(pos));
  }

  function parseObject(depth: number): JsonObject {
    pos++; // {
    const object: JsonObject = Object.create(null) as JsonObject;
    const keyLines = new Map<string, number>();
    lines.set(object, keyLines);
    skipSpace();
    if (text.charCodeAt(pos) === 0x7d) {
      pos++;
      return object;
    }
    for (;;) {
      skipSpace();
      if (text.charCodeAt(pos) !== 0x22) {
        if (jsonc && text.charCodeAt(pos) === 0x7d && keyLines.size > 0) {
          pos++;
          return object;
        }
        fail(`${describe(pos)} where an object key was expected`);
      }
      const keyLine = line;
      const key = parseString();
      skipSpace();
      if (text.charCodeAt(pos) !== 0x3a) fail(`${describe(pos)} where ":" was expected`);
      pos++;
      const value = parseValue(depth + 1);
      object[key] = value;
      keyLines.set(key, keyLine);
      skipSpace();
      const next = text.charCodeAt(pos);
      if (next === 0x2c) {
        pos++;
        continue;
      }
      if (next === 0x7d) {
        pos++;
        return object;
      }
      fail(`${describe(pos)} where "," or "}" was expected`);
    }
  }

  function parseArray(depth: number): JsonValue[] {
    pos++; // [
    const array: JsonValue[] = [];
    skipSpace();
    if (text.charCodeAt(pos) === 0x5d) {
      pos++;
      return array;
    }
    for (;;) {
      skipSpace();
      if (jsonc && text.charCodeAt(pos) === 0x5d && array.length > 0) {
        pos++;
        return array;
      }
      array.push(parseValue(depth + 1));
      skipSpace();
      const next = text.charCodeAt(pos);
      if (next === 0x2c) {
        pos++;
        continue;
      }
      if (next === 0x5d) {
        pos++;
        return array;
      }
      fail(`${describe(pos)} where "," or "]" was expected`);
    }
  }

  if (text.charCodeAt(0) === 0xfeff) pos = 1;
  const value = parseValue(0);
  skipSpace();
  if (pos < text.length) fail(`${describe(pos)} after the end of the document`);
  return {
    value,
    keyLine(object: JsonObject, key: string): number | undefined {
      return lines.get(object)?.get(key);
    },
  };
}

/** True for a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
