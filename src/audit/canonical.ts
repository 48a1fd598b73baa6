// Canonical JSON (RFC 8785, JCS): one byte sequence per JSON value, so a ledger leaf's bytes — and its hash —
// are well defined. Object members sorted by their keys' UTF-16 code units, no whitespace, numbers as
// ECMAScript prints them, strings with the minimal escaping of JSON.stringify. Anything that is not plain
// JSON (NaN, Infinity, undefined in an array, bigint, Date, Map, a lone surrogate, a cycle) is refused.
import { InputError } from '../errors.js';

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** Deeper than this is refused: a ledger entry is shallow, and recursion must not blow the stack. */
export const MAX_DEPTH = 64;

// With the `u` flag a surrogate pair is one code point, so this matches only unpaired surrogates.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * The canonical JSON text of `value`; throws InputError naming the JSON path of anything not plain JSON
 * (`root` names the value itself in that path, e.g. `$.after`).
 */
export function canonicalize(value: unknown, root = '$'): string {
  const out: string[] = [];
  const path: Path = [];
  try {
    write(value, path, new Set<object>(), out);
  } catch (error) {
    if (error instanceof InputError && root !== '$') {
      throw new InputError(error.message.replace('canonical JSON: $', `canonical JSON: ${root}`), error.hint);
    }
    throw error;
  }
  return out.join('');
}

/** The canonical JSON of `value` as UTF-8 bytes: what a ledger leaf holds. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}

/**
 * Parses text that must already be canonical JSON (a stored leaf, a proof bundle's entry): the value, or
 * undefined when the text does not parse or is not byte-for-byte the canonical form of what it parses to.
 */
export function parseCanonical(text: string): JsonValue | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  try {
    return canonicalize(value) === text ? (value as JsonValue) : undefined;
  } catch {
    return undefined;
  }
}

/** The JSON path (`$.a[2]["odd key"]`) of a position, built only when something fails there. */
type Path = (string | number)[];

function pathText(path: Path): string {
  return `$${path
    .map((part) =>
      typeof part === 'number'
        ? `[${part}]`
        : /^[A-Za-z_$][\w$]*$/.test(part)
          ? `.${part}`
          : `[${JSON.stringify(part)}]`,
    )
    .join('')}`;
}

function fail(path: Path, what: string): never {
  throw new InputError(
    `canonical JSON: ${pathText(path)}: ${what}`,
    'a ledger entry holds plain JSON only: null, booleans, finite numbers, well-formed strings, arrays and plain objects',
  );
}

function write(value: unknown, path: Path, open: Set<object>, out: string[]): void {
  if (path.length > MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH} levels`);
  switch (typeof value) {
    case 'string':
      out.push(quote(value, path));
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, `${String(value)} is not a finite number`);
      // ECMAScript's Number::toString is what RFC 8785 prescribes; it also turns -0 into "0".
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      fail(path, `a ${typeof value} is not JSON`);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (open.has(value)) fail(path, 'a cycle (the value contains itself)');
  open.add(value);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      path.push(i);
      // A hole or undefined in an array has no JSON form (JSON.stringify would invent a null).
      if (!(i in value) || value[i] === undefined) fail(path, 'undefined is not JSON');
      write(value[i], path, open, out);
      path.pop();
    }
    out.push(']');
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      fail(path, `a ${name} is not a plain object`);
    }
    const record = value as Record<string, unknown>;
    if (Object.getOwnPropertySymbols(record).length > 0) fail(path, 'symbol keys are not JSON');
    // Members whose value is undefined are absent, as in JSON.stringify; the rest sorted by UTF-16 code units.
    const keys = Object.keys(record).sort();
    out.push('{');
    let first = true;
    for (const key of keys) {
      const member = record[key];
      if (member === undefined) continue;
      if (!first) out.push(',');
      first = false;
      path.push(key);
      out.push(quote(key, path), ':');
      write(member, path, open, out);
      path.pop();
    }
    out.push('}');
  }
  open.delete(value);
}

function quote(text: string, path: Path): string {
  if (LONE_SURROGATE.test(text))
    fail(path, 'a string with an unpaired UTF-16 surrogate is not valid Unicode');
  // ES2019 JSON.stringify escapes exactly what RFC 8785 requires: `"`, `\` and U+0000–U+001F (as \b \t \n \f
  // \r or \u00xx in lower case); everything else is written as itself.
  return JSON.stringify(text);
}
