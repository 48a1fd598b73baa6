// Secrets never reach output whole: a short prefix and the length.

/** `ghp_…(40 chars)`: at most 4 characters, and never more than a quarter of the secret. */
export function redactSecret(secret: string): string {
  const shown = Math.min(4, Math.floor(secret.length / 4));
  return `${secret.slice(0, shown)}…(${secret.length} chars)`;
}

const SNIPPET_CONTEXT = 60;

export interface LineSecret {
  /** Columns of the secret in the line (0-based, end exclusive). */
  readonly span: readonly [number, number];
  readonly secret: string;
}

export interface RedactedLine {
  readonly text: string;
  /** Where the focused secret (or its redaction) stands in `text`. */
  readonly span: [number, number];
}

/**
 * The line with every secret found on it redacted (or kept, with `show`), clipped around the focused
 * one when the line is long (minified code). Other secrets on the line are redacted too, so a snippet
 * never carries a neighbour's secret.
 */
export function redactLine(
  line: string,
  secrets: readonly LineSecret[],
  focus: number,
  show: boolean,
): RedactedLine {
  const target = secrets[focus] as LineSecret;
  const from = Math.max(0, target.span[0] - SNIPPET_CONTEXT);
  const to = Math.min(line.length, target.span[1] + SNIPPET_CONTEXT);
  const ordered = secrets
    .map((s, index) => ({ ...s, index }))
    .filter((s) => s.span[1] > from && s.span[0] < to)
    .sort((a, b) => a.span[0] - b.span[0]);
  let text = from > 0 ? '…' : '';
  let cursor = from;
  let span: [number, number] = [0, 0];
  for (const s of ordered) {
    const start = Math.max(s.span[0], cursor);
    if (start >= s.span[1]) continue; // overlaps one already redacted
    text += line.slice(cursor, start);
    const replacement = show ? line.slice(start, s.span[1]) : redactSecret(s.secret);
    if (s.index === focus) span = [text.length, text.length + replacement.length];
    text += replacement;
    cursor = s.span[1];
  }
  text += line.slice(cursor, to);
  if (to < line.length) text += '…';
  return { text, span };
}
