// Tests of the composer.lock extractor and its JSON line scanner.
import { describe, expect, it } from 'vitest';
import {
  expectDamageTolerated,
  expectJunkRejected,
  extractFixture,
  fixtureContext,
  thrown,
} from './fixtures.test-helper.js';
import { composerLockExtractor } from './index.js';
import { LineIndex, parseJsonWithLines } from './json-lines.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function extract(content: string) {
  return composerLockExtractor.extract(content, fixtureContext(new URL('file:///none/'), 'composer.lock'));
}

describe('composerLockExtractor', () => {
  it('matches composer.lock', () => {
    expect(composerLockExtractor.matches('web/composer.lock')).toBe(true);
    expect(composerLockExtractor.matches('composer.json')).toBe(false);
  });

  it('reads packages and packages-dev, v-prefixed versions as written, path and branch sources', () => {
    const packages = extractFixture(composerLockExtractor, FIXTURES, 'composer.lock');
    expect(packages.map((p) => [p.name, p.version, p.line, p.direct, p.dev, p.source, p.purl])).toEqual([
      ['acme/internal-lib', 'dev-main', 9, true, false, 'git', 'pkg:composer/acme/internal-lib@dev-main'],
      ['acme/shared', '1.0.0', 23, true, false, 'file', 'pkg:composer/acme/shared@1.0.0'],
      ['guzzlehttp/guzzle', '7.8.1', 36, false, false, 'registry', 'pkg:composer/guzzlehttp/guzzle@7.8.1'],
      ['guzzlehttp/psr7', '2.6.2', 60, false, false, 'registry', 'pkg:composer/guzzlehttp/psr7@2.6.2'],
      ['symfony/console', 'v5.4.0', 76, true, false, 'registry', 'pkg:composer/symfony/console@v5.4.0'],
      [
        'symfony/polyfill-mbstring',
        'v1.29.0',
        96,
        false,
        false,
        'registry',
        'pkg:composer/symfony/polyfill-mbstring@v1.29.0',
      ],
      ['phpunit/phpunit', '10.5.20', 107, true, true, 'registry', 'pkg:composer/phpunit/phpunit@10.5.20'],
    ]);
    expect(packages.find((p) => p.name === 'guzzlehttp/guzzle')).toEqual({
      ecosystem: 'Packagist',
      name: 'guzzlehttp/guzzle',
      version: '7.8.1',
      purl: 'pkg:composer/guzzlehttp/guzzle@7.8.1',
      direct: false,
      dev: false,
      file: 'composer.lock',
      line: 36,
      source: 'registry',
      key: 'guzzlehttp/guzzle@7.8.1',
      dependencies: ['guzzlehttp/psr7@2.6.2'],
    });
    expect(packages.find((p) => p.name === 'symfony/console')?.dependencies).toEqual([
      'symfony/polyfill-mbstring@v1.29.0',
    ]);
  });

  it('leaves direct unknown (false) without composer.json; accepts a null packages-dev', () => {
    const packages = extract('{"packages": [{"name": "a/b", "version": "1.0.0"}], "packages-dev": null}');
    expect(packages).toMatchObject([{ name: 'a/b', direct: false, dev: false, line: 1 }]);
  });

  it('throws LockfileError with the line of a JSON syntax error', () => {
    expect(thrown(() => extract('{\n  "packages": [\n    {"name": "a/b",}\n  ]\n}')).line).toBe(3);
    expect(thrown(() => extract('{\n  "packages": []\n}\ntrailing')).line).toBe(4);
    expect(thrown(() => extract('{"packages": {"a": 1}}')).message).toMatch(/not a composer.lock/);
    expect(thrown(() => extract('\n')).line).toBeUndefined();
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    for (const error of expectJunkRejected(composerLockExtractor, 'composer.lock'))
      expect(error.line).toBe(1);
  });
});

describe('parseJsonWithLines', () => {
  it('records the line of keys and array elements up to the depth asked', () => {
    const text = '{\n  "a": [\n    1,\n    {"b": 2}\n  ],\n  "c\\"d": {\n    "e": true\n  }\n}';
    const document = parseJsonWithLines(text, 'x', 3);
    expect(document.value).toEqual({ a: [1, { b: 2 }], 'c"d': { e: true } });
    expect(document.lineOf(['a'])).toBe(2);
    expect(document.lineOf(['a', 0])).toBe(3);
    expect(document.lineOf(['a', 1])).toBe(4);
    expect(document.lineOf(['a', 1, 'b'])).toBe(4);
    expect(document.lineOf(['c"d', 'e'])).toBe(7);
    expect(document.lineOf(['missing'])).toBeUndefined();
  });

  it('finds the line of the first error', () => {
    for (const [text, line] of [
      ['{"a": 1,\n"b": }', 2],
      ['[1, 2,\n]', 2],
      ['{"a"\n:\n1\n\n', 5],
      ['\n\n"unterminated', 3],
      ['{"a": tru}', 1],
      ['[\n01]', 2],
      ['{"a": "\u0001"}', 1],
    ] as const) {
      expect(thrown(() => parseJsonWithLines(text, 'x', 1)).line, text).toBe(line);
    }
  });

  it('strips a byte order mark and handles deep nesting without recursion', () => {
    expect(parseJsonWithLines('\ufeff{"a": 1}', 'x', 1).value).toEqual({ a: 1 });
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(() => parseJsonWithLines(deep, 'x', 2)).not.toThrow();
  });

  it('maps offsets to lines', () => {
    const lines = new LineIndex('a\nbc\n\nd');
    expect([0, 1, 2, 4, 5, 6].map((offset) => lines.lineAt(offset))).toEqual([1, 1, 2, 2, 3, 4]);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(composerLockExtractor, FIXTURES, 'composer.lock');
  });
});
