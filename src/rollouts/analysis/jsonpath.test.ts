import { describe, expect, it } from 'vitest';
import { parseJsonPath, selectJsonPath } from './jsonpath.js';

function select(document: unknown, path: string): unknown {
  const parsed = parseJsonPath(path);
  if (!parsed.ok) throw new Error(parsed.message);
  return selectJsonPath(document, parsed.steps);
}

describe('the JSONPath subset', () => {
  const document = { data: { results: [{ rate: 0.5 }, { rate: 0.7 }], 'error-rate': 0.01, "it's": 1 } };

  it.each([
    ['$', document],
    ['$.data.results[0].rate', 0.5],
    ['$.data.results[-1].rate', 0.7],
    ['$.data["error-rate"]', 0.01],
    ["$['data']['it\\'s']", 1],
    ['$.data.results', document.data.results],
  ])('%s', (path, expected) => {
    expect(select(document, path)).toEqual(expected);
  });

  it('leads nowhere without throwing', () => {
    expect(select(document, '$.data.missing.deeper')).toBeUndefined();
    expect(select(document, '$.data.results[5]')).toBeUndefined();
    expect(select(document, '$.data[0]')).toBeUndefined();
    expect(select([1], '$.length')).toBeUndefined();
    expect(select({ a: 'text' }, '$.a.b')).toBeUndefined();
    expect(select({}, '$.constructor')).toBeUndefined();
  });

  it.each(['data.a', '$..a', '$.a[*]', '$.*', '$[?(@.a)]', '$.', '$.a[x]', '$a'])('refuses %s', (path) => {
    expect(parseJsonPath(path).ok).toBe(false);
  });
});
