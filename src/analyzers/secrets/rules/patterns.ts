// Pattern builders the provider rule files share.

/** A prefixed token in group 1, not followed by another character of `chars` (the body of a character class). */
export function token(body: string, chars = 'A-Za-z0-9_-'): string {
  return String.raw`\b(${body})(?:[^${chars}]|$)`;
}

/**
 * A value assigned to a name: `name` (a regex holding one of the rule's keywords), up to 25 more identifier
 * characters, `=`, `:`, `:=` or `=>` (aligned with up to 30 spaces), optional quotes, then `value` in group 1, not
 * followed by a character of `chars`.
 */
export function assigned(name: string, value: string, chars = 'A-Za-z0-9'): string {
  return String.raw`${name}[\w.-]{0,25}["']?\s{0,30}(?::=|=>|:|=)\s{0,5}["'\x60]?(${value})(?:[^${chars}]|$)`;
}

export const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Values providers document as examples, and obvious placeholders. */
export const PLACEHOLDERS = ['example', 'xxxxxx', 'placeholder', 'dummy', 'redacted'];
