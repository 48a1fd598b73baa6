import { describe, expect, it } from 'vitest';
import { compileCondition, evaluateCondition } from './cel.js';

describe('compileCondition', () => {
  it.each([
    ['result >= 0.99', ['result']],
    ['result[0] > 1 && size(result) == 2', ['result']],
    ['result.all(x, x < 0.5)', ['result']],
    ['result.exists(k, result[k] > 1)', ['result']],
    ['canary.errorRate <= stable.errorRate * 2.0', ['result', 'canary', 'stable']],
    ['{"a": result}.a > 0', ['result']],
  ])('accepts %s', (expr, allowed) => {
    expect(compileCondition(expr, allowed)).toEqual({ ok: true });
  });

  it('refuses bad syntax with the parser message', () => {
    const compiled = compileCondition('result >', ['result']);
    expect(compiled.ok).toBe(false);
    expect(compiled.ok ? '' : compiled.message).toMatch(/^not a valid CEL expression: /);
  });

  it('refuses variables the metric does not have, but not comprehension variables', () => {
    expect(compileCondition('reslt > 1', ['result'])).toEqual({
      ok: false,
      message: 'unknown variable "reslt"; a condition can read result',
    });
    expect(compileCondition('canary.p99 < 1', ['result']).ok).toBe(false);
    expect(compileCondition('result.all(x, x > y)', ['result'])).toMatchObject({ ok: false });
  });
});

describe('evaluateCondition', () => {
  it('compares numbers whatever their literal (double result, int literal)', () => {
    expect(evaluateCondition('result >= 1', { result: 1 })).toBe(true);
    expect(evaluateCondition('result == 1', { result: 1 })).toBe(true);
    expect(evaluateCondition('result < 0.5', { result: 0.7 })).toBe(false);
  });

  it('reads JSON objects and lists', () => {
    const result = { data: { rates: [0.1, 0.2] }, ok: true, name: 'x' };
    expect(
      evaluateCondition('result.data.rates[1] > 0.15 && result.ok && result.name == "x"', { result }),
    ).toBe(true);
    expect(evaluateCondition('result.all(x, x < 1.0)', { result: [0.1, 0.9] })).toBe(true);
    expect(evaluateCondition('has(result.missing)', { result: { a: null } })).toBe(false);
  });

  it('throws on a type error and on a result that is not a boolean', () => {
    expect(() => evaluateCondition('result > 1', { result: 'text' })).toThrow(
      /failed: .*no matching overload/,
    );
    expect(() => evaluateCondition('result + 1.0', { result: 1 })).toThrow(
      'gave number 2, not true or false',
    );
    expect(() => evaluateCondition('result', { result: null })).toThrow('gave null, not true or false');
  });
});
