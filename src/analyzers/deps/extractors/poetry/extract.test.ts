// Tests of the poetry.lock extractor: Poetry 1.1 categories, 1.5–1.8 locks without groups, Poetry 2 groups.
import { describe, expect, it } from 'vitest';
import {
  expectDamageTolerated,
  expectJunkRejected,
  extractFixture,
  fixtureContext,
  thrown,
} from '../composer/fixtures.test-helper.js';
import { poetryLockExtractor } from './index.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function extract(content: string) {
  return poetryLockExtractor.extract(content, fixtureContext(new URL('file:///none/'), 'poetry.lock'));
}

describe('poetryLockExtractor', () => {
  it('matches poetry.lock', () => {
    expect(poetryLockExtractor.matches('api/poetry.lock')).toBe(true);
    expect(poetryLockExtractor.matches('poetry.toml')).toBe(false);
  });

  it('reads a Poetry 1.1 lock: category, directory and git sources, direct from pyproject.toml', () => {
    const packages = extractFixture(poetryLockExtractor, FIXTURES, 'category/poetry.lock');
    expect(packages.map((p) => [p.name, p.version, p.line, p.direct, p.dev, p.source])).toEqual([
      ['atomicwrites', '1.4.1', 1, false, true, 'registry'],
      ['Django', '2.2.0', 9, true, false, 'registry'],
      ['mylib', '0.1.0', 25, true, false, 'file'],
      ['pytest', '6.2.5', 38, true, true, 'registry'],
      ['pytz', '2021.3', 52, false, false, 'registry'],
      ['requests', '2.27.0', 60, true, false, 'git'],
      ['sqlparse', '0.4.2', 75, false, false, 'registry'],
    ]);
    expect(packages[1]).toEqual({
      ecosystem: 'PyPI',
      name: 'Django',
      version: '2.2.0',
      purl: 'pkg:pypi/django@2.2.0',
      direct: true,
      dev: false,
      file: 'category/poetry.lock',
      line: 9,
      source: 'registry',
      key: 'django@2.2.0',
      dependencies: ['pytz@2021.3', 'sqlparse@0.4.2'],
    });
  });

  it('computes dev from pyproject.toml groups when the lock records no category or groups', () => {
    const packages = extractFixture(poetryLockExtractor, FIXTURES, 'no-groups/poetry.lock');
    expect(packages.map((p) => [p.name, p.line, p.direct, p.dev, p.source])).toEqual([
      ['certifi', 3, false, false, 'registry'],
      ['iniconfig', 14, false, true, 'registry'],
      ['pytest', 24, true, true, 'registry'],
      ['requests', 41, true, false, 'registry'],
      ['private-lib', 54, true, false, 'registry'],
    ]);
    expect(packages.find((p) => p.name === 'pytest')?.dependencies).toEqual([
      'iniconfig@2.0.0',
      'requests@2.32.3',
    ]);
  });

  it('reads Poetry 2 groups and several versions of one package', () => {
    const packages = extractFixture(poetryLockExtractor, FIXTURES, 'groups/poetry.lock');
    expect(packages.map((p) => [p.key, p.line, p.direct, p.dev])).toEqual([
      ['black@24.8.0', 3, true, true],
      ['numpy@1.24.4', 14, false, false],
      ['numpy@1.26.4', 26, false, false],
      ['pandas@2.0.3', 38, true, false],
      ['typing-extensions@4.12.2', 55, true, false],
    ]);
    expect(packages.find((p) => p.name === 'pandas')?.dependencies).toEqual(['numpy@1.24.4', 'numpy@1.26.4']);
    expect(packages.find((p) => p.name === 'typing-extensions')?.purl).toBe(
      'pkg:pypi/typing-extensions@4.12.2',
    );
  });

  it('leaves direct and dev unknown (false) without pyproject.toml and without categories', () => {
    const packages = extract(
      '[[package]]\nname = "six"\nversion = "1.16.0"\n\n[metadata]\nlock-version = "2.0"\n',
    );
    expect(packages).toMatchObject([{ name: 'six', direct: false, dev: false, line: 1 }]);
  });

  it('throws LockfileError with the line of a TOML syntax error', () => {
    expect(thrown(() => extract('[[package]]\nname = "six"\nversion = 1.16.0"\n')).line).toBe(3);
    expect(thrown(() => extract('[[package]]\nname = "six"\n[[package\n')).line).toBe(3);
    expect(thrown(() => extract('')).line).toBeUndefined();
    expect(thrown(() => extract('title = "not a lock"\n')).message).toMatch(/not a poetry.lock/);
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    for (const error of expectJunkRejected(poetryLockExtractor, 'poetry.lock'))
      expect(error.line).toBeGreaterThan(0);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(poetryLockExtractor, FIXTURES, 'groups/poetry.lock');
  });
});
