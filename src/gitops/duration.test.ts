import { describe, expect, it } from 'vitest';
import { durationMs, formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['2d', 172_800_000],
    [' 10s ', 10_000],
    ['1h0m5s250ms', 3_605_250],
    ['0s', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
    expect(durationMs(text)).toBe(ms);
  });

  it.each([
    ['', /empty/],
    ['30', /no unit/],
    ['30 s', /not a duration/],
    ['s', /not a duration/],
    ['10sec', /not a duration/],
    ['30m1h', /smaller one first/],
    ['1s1s', /repeats/],
    ['-5s', /not a duration/],
  ])('refuses %j', (text, message) => {
    const result = parseDuration(text);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
    expect(() => durationMs(text)).toThrow(RangeError);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [30_000, '30s'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [90_061_001, '1d1h1m1s1ms'],
  ])('%d ms is %s, and reads back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(durationMs(text)).toBe(ms);
  });
});
