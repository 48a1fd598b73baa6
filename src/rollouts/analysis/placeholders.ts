// `{{revision}}` and friends in a metric's query, URL, headers and body, each substituted with the escaping
// its place needs: a PromQL string literal gets its quote and backslash escaped, a URL gets percent-encoding,
// a header refuses line breaks. A value is never able to end the literal it sits in.
import { PlumblineError } from '../../errors.js';

/** The variables every metric can use; `args.NAME` adds the template's arguments. */
export const BUILTIN_VARIABLES = [
  'revision',
  'stableRevision',
  'app',
  'environment',
  'port',
  'interval',
] as const;

const PLACEHOLDER = /\{\{\s*([A-Za-z][\w-]*(?:\.[A-Za-z][\w-]*)?)\s*\}\}/g;
const PLACEHOLDER_AT = /\{\{\s*([A-Za-z][\w-]*(?:\.[A-Za-z][\w-]*)?)\s*\}\}/y;
/** What a value may be where PromQL reads it as code, not inside a string: a number, a duration, a name. */
const BARE = /^[A-Za-z0-9_.:-]+$/;

/** A value that cannot be placed where a template puts it. */
export class PlaceholderError extends PlumblineError {
  constructor(message: string, hint?: string) {
    super('PLUMBLINE_E_INPUT', message, hint === undefined ? {} : { hint });
  }
}

/** The names of the placeholders in a text, in order, each once. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1] ?? ''))];
}

function lookup(vars: ReadonlyMap<string, string>, name: string): string {
  const value = vars.get(name);
  if (value === undefined) {
    throw new PlaceholderError(
      `{{${name}}} has no value`,
      name === 'stableRevision'
        ? 'a metric that reads the stable revision needs one: run the analysis with a stable revision'
        : `pass a value for ${name}`,
    );
  }
  return value;
}

/**
 * Substitutes the placeholders of a PromQL query. Inside "…" and '…' a value is escaped for that literal;
 * inside `…` (raw, no escapes) a value with a backtick is refused; elsewhere only a bare word is allowed.
 */
export function renderPromQL(query: string, vars: ReadonlyMap<string, string>): string {
  let out = '';
  let quote: '"' | "'" | '`' | undefined;
  let comment = false;
  let offset = 0;
  while (offset < query.length) {
    const ch = query[offset] ?? '';
    if (ch === '{' && query[offset + 1] === '{') {
      PLACEHOLDER_AT.lastIndex = offset;
      const match = PLACEHOLDER_AT.exec(query);
      if (match !== null) {
        const name = match[1] ?? '';
        out += escapeForPromQL(lookup(vars, name), name, quote, comment);
        offset = PLACEHOLDER_AT.lastIndex;
        continue;
      }
    }
    out += ch;
    offset += 1;
    if (comment) {
      if (ch === '\n') comment = false;
    } else if (quote === undefined) {
      if (ch === '"' || ch === "'" || ch === '`') quote = ch;
      else if (ch === '#') comment = true;
    } else if (ch === '\\' && quote !== '`') {
      out += query[offset] ?? '';
      offset += 1;
    } else if (ch === quote) {
      quote = undefined;
    }
  }
  return out;
}

function escapeForPromQL(
  value: string,
  name: string,
  quote: '"' | "'" | '`' | undefined,
  comment: boolean,
): string {
  if (comment) return value.replace(/[\r\n]+/g, ' ');
  if (quote === '`') {
    if (value.includes('`')) {
      throw new PlaceholderError(
        `the value of {{${name}}} has a backtick, which a raw string cannot hold`,
        'put the placeholder in a "…" string',
      );
    }
    return value;
  }
  if (quote === undefined) {
    if (!BARE.test(value)) {
      throw new PlaceholderError(
        `the value of {{${name}}} is not a plain word, so it cannot stand outside a string in the query`,
        `put the placeholder in quotes, e.g. revision="{{${name}}}"`,
      );
    }
    return value;
  }
  let escaped = '';
  for (const ch of value) {
    if (ch === '\\' || ch === quote) escaped += `\\${ch}`;
    else if (ch === '\n') escaped += '\\n';
    else if (ch === '\r') escaped += '\\r';
    else if (ch === '\t') escaped += '\\t';
    else if (ch < ' ' || ch === '\u007f') escaped += `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else escaped += ch;
  }
  return escaped;
}

/** Substitutes placeholders in a URL, each value percent-encoded as one component. */
export function renderUrl(url: string, vars: ReadonlyMap<string, string>): string {
  return url.replace(PLACEHOLDER, (_all, name: string) => encodeURIComponent(lookup(vars, name)));
}

/** Substitutes placeholders in a header value; a value with a line break is refused. */
export function renderHeader(value: string, vars: ReadonlyMap<string, string>): string {
  return value.replace(PLACEHOLDER, (_all, name: string) => {
    const substituted = lookup(vars, name);
    if (/[\r\n\0]/.test(substituted)) {
      throw new PlaceholderError(`the value of {{${name}}} has a line break, which a header cannot hold`);
    }
    return substituted;
  });
}

/** Substitutes placeholders in a request body, each value escaped as inside a JSON string. */
export function renderJsonBody(body: string, vars: ReadonlyMap<string, string>): string {
  return body.replace(PLACEHOLDER, (_all, name: string) => JSON.stringify(lookup(vars, name)).slice(1, -1));
}
