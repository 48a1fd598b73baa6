// Durations as people write them in GitOps documents (`30s`, `2m`, `1h30m`, `500ms`), to and from milliseconds,
// and the zod schema every document kind validates them with.
import { z } from 'zod';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Units in the order they must appear, largest first. */
const UNIT_ORDER = ['d', 'h', 'm', 's', 'ms'] as const;

const PART = /(\d+(?:\.\d+)?)(ms|d|h|m|s)/y;

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

/**
 * Parses `1h30m`, `30s`, `500ms`, `1.5s`, `2d`: one or more number-unit parts, largest unit first, each unit
 * once. A bare number is refused (is `30` seconds or milliseconds?). The result is rounded to whole ms.
 */
export function parseDuration(text: string): DurationResult {
  const value = text.trim();
  const hint = 'write a number with a unit (ms, s, m, h, d), e.g. 500ms, 30s, 2m or 1h30m';
  if (value === '') return { ok: false, message: `an empty duration; ${hint}` };
  if (/^\d+(\.\d+)?$/.test(value)) return { ok: false, message: `"${value}" has no unit; ${hint}` };
  let total = 0;
  let offset = 0;
  let lastRank = -1;
  PART.lastIndex = 0;
  while (offset < value.length) {
    PART.lastIndex = offset;
    const m = PART.exec(value);
    if (m === null) return { ok: false, message: `"${value}" is not a duration; ${hint}` };
    const unit = m[2] as (typeof UNIT_ORDER)[number];
    const rank = UNIT_ORDER.indexOf(unit);
    if (rank <= lastRank) {
      return { ok: false, message: `"${value}" repeats a unit or puts a smaller one first; ${hint}` };
    }
    lastRank = rank;
    total += Number(m[1]) * (UNIT_MS[unit] ?? 0);
    offset = PART.lastIndex;
  }
  if (!Number.isFinite(total) || total > Number.MAX_SAFE_INTEGER) {
    return { ok: false, message: `"${value}" is too long` };
  }
  return { ok: true, ms: Math.round(total) };
}

/** Like parseDuration, but throws a RangeError; for values known to be valid (defaults, tests). */
export function durationMs(text: string): number {
  const result = parseDuration(text);
  if (!result.ok) throw new RangeError(result.message);
  return result.ms;
}

/** 90_000 → `1m30s`, 500 → `500ms`, 0 → `0s`: the shortest form parseDuration reads back to the same value. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return `${ms}ms`;
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of UNIT_ORDER) {
    const size = UNIT_MS[unit] ?? 1;
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

/** `30s`, `2m`, `1h30m`, `500ms` in a document → milliseconds, within [min, max]. */
export function durationSchema(min: number, max: number): z.ZodType<number, string> {
  return z
    .string({ error: 'write a duration as a string with a unit, e.g. 30s, 2m or 1h30m' })
    .transform((value, ctx) => {
      const parsed = parseDuration(value);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.message });
        return z.NEVER;
      }
      if (parsed.ms < min || parsed.ms > max) {
        ctx.addIssue({
          code: 'custom',
          message: `must be between ${formatDuration(min)} and ${formatDuration(max)} (found ${value.trim()})`,
        });
        return z.NEVER;
      }
      return parsed.ms;
    });
}
