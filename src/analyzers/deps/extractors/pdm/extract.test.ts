// Tests of the pdm.lock extractor: groups, extras entries, git and path sources, and locks without groups.
import { describe, expect, it } from 'vitest';
import {
  expectDamageTolerated,
  expectJunkRejected,
  extractFixture,
  fixtureContext,
  thrown,
} from '../composer/fixtures.test-helper.js';
import { pdmLockExtractor } from './index.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function extract(content: string) {
  return pdmLockExtractor.extract(content, fixtureContext(new URL('file:///none/'), 'pdm.lock'));
}

describe('pdmLockExtractor', () => {
  it('matches pdm.lock', () => {
    expect(pdmLockExtractor.matches('svc/pdm.lock')).toBe(true);
    expect(pdmLockExtractor.matches('pdm.toml')).toBe(false);
  });

  it('reads groups, merges the extras entry, and takes direct ones from pyproject.toml', () => {
    const packages = extractFixture(pdmLockExtractor, FIXTURES, 'groups/pdm.lock');
    expect(packages.map((p) => [p.key, p.line, p.direct, p.dev, p.source])).toEqual([
      ['certifi@2024.7.4', 10, false, false, 'registry'],
      ['django@2.2.0', 21, true, false, 'registry'],
      ['mkdocs@1.6.0', 35, true, true, 'registry'],
      ['pysocks@1.7.1', 45, false, false, 'registry'],
      ['pytest@8.3.2', 55, true, true, 'registry'],
      ['requests@2.19.0', 69, true, false, 'registry'],
      ['toolkit@0.5.0', 95, true, false, 'git'],
      ['shared@0.1.0', 105, true, false, 'file'],
    ]);
    expect(packages.find((p) => p.name === 'Django')).toEqual({
      ecosystem: 'PyPI',
      name: 'Django',
      version: '2.2.0',
      purl: 'pkg:pypi/django@2.2.0',
      direct: true,
      dev: false,
      file: 'groups/pdm.lock',
      line: 21,
      source: 'registry',
      key: 'django@2.2.0',
      dependencies: [],
    });
    expect(packages.find((p) => p.name === 'requests')?.dependencies).toEqual([
      'certifi@2024.7.4',
      'pysocks@1.7.1',
    ]);
  });

  it('computes dev from pyproject.toml dependency groups when the lock has no groups', () => {
    const packages = extractFixture(pdmLockExtractor, FIXTURES, 'no-groups/pdm.lock');
    expect(packages.map((p) => [p.key, p.line, p.direct, p.dev])).toEqual([
      ['coverage@7.2.7', 11, false, true],
      ['flask@2.3.2', 17, true, false],
      ['pytest-cov@4.1.0', 26, true, true],
      ['werkzeug@2.3.6', 36, false, false],
    ]);
  });

  it('throws LockfileError with the line of a TOML syntax error', () => {
    expect(
      thrown(() => extract('[metadata]\ngroups = ["default"\n\n[[package]]\n')).line,
    ).toBeGreaterThanOrEqual(2);
    expect(thrown(() => extract('[[package]]\nname = "a"\nversion = "1"\nname = "b"\n')).line).toBe(4);
    expect(thrown(() => extract('')).line).toBeUndefined();
    expect(thrown(() => extract('[other]\n')).message).toMatch(/not a pdm.lock/);
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    for (const error of expectJunkRejected(pdmLockExtractor, 'pdm.lock'))
      expect(error.line).toBeGreaterThan(0);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(pdmLockExtractor, FIXTURES, 'groups/pdm.lock');
  });
});
