// Every shape of answer /api/v1/query gives (the real server is in test/analysis-prometheus.e2e.test.ts).
import { describe, expect, it } from 'vitest';
import { readAnswer } from './prometheus.js';

const ok = (resultType: string, result: unknown) => ({ status: 'success', data: { resultType, result } });
const read = (json: unknown, status = 200) =>
  readAnswer(status, json, JSON.stringify(json) ?? '', 'http://p/api/v1/query');

describe('readAnswer', () => {
  it('reads a scalar and a one-sample vector as a number, a longer vector as a list', () => {
    expect(read(ok('scalar', [1, '0.25']))).toEqual({ kind: 'value', value: 0.25 });
    expect(read(ok('vector', [{ metric: {}, value: [1, '0.5'] }]))).toEqual({ kind: 'value', value: 0.5 });
    expect(
      read(
        ok('vector', [
          { metric: { a: '1' }, value: [1, '1'] },
          { metric: { a: '2' }, value: [1, '+Inf'] },
          { metric: { a: '3' }, value: [1, 'NaN'] },
          { metric: { a: '4' }, value: [1, '-Inf'] },
        ]),
      ),
    ).toEqual({ kind: 'value', value: [1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] });
  });

  it('has no data for an empty vector or NaN (0/0 when nothing was served)', () => {
    expect(read(ok('vector', []))).toEqual({ kind: 'noData', message: 'the query matched no series' });
    expect(read(ok('vector', [{ value: [1, 'NaN'] }]))).toEqual({
      kind: 'noData',
      message: 'every sample of the query was NaN',
    });
    expect(read(ok('scalar', [1, 'NaN']))).toMatchObject({ kind: 'noData' });
  });

  it('makes errors of refusals, ranges, strings and non-JSON', () => {
    expect(() =>
      read({ status: 'error', errorType: 'bad_data', error: 'parse error at char 5' }, 400),
    ).toThrow('Prometheus refused the query (bad_data): parse error at char 5');
    expect(() => read({ status: 'error' }, 503)).toThrow('(HTTP 503): no message');
    expect(() => read(ok('matrix', []))).toThrow('range vector');
    expect(() => read(ok('string', [1, 'x']))).toThrow('gave a string, not a number');
    expect(() => read({ status: 'success' })).toThrow('answered without data');
    expect(() => read(ok('vector', 'nope'))).toThrow('a vector without samples');
    expect(() => readAnswer(502, undefined, '<html>bad gateway', 'http://p/api/v1/query')).toThrow(
      'http://p/api/v1/query answered HTTP 502 with something not JSON: "<html>bad gateway"',
    );
  });
});
