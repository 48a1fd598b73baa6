// Tests of the uv.lock extractor: a workspace with git, path and editable sources, forked versions, dev groups.
import { describe, expect, it } from 'vitest';
import {
  expectDamageTolerated,
  expectJunkRejected,
  extractFixture,
  fixtureContext,
  thrown,
} from '../composer/fixtures.test-helper.js';
import { uvLockExtractor } from './index.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function extract(content: string) {
  return uvLockExtractor.extract(content, fixtureContext(new URL('file:///none/'), 'uv.lock'));
}

describe('uvLockExtractor', () => {
  it('matches uv.lock', () => {
    expect(uvLockExtractor.matches('uv.lock')).toBe(true);
    expect(uvLockExtractor.matches('a/b/uv.lock')).toBe(true);
    expect(uvLockExtractor.matches('uv.toml')).toBe(false);
  });

  it('reads a workspace lock: sources, direct and dev from the project, the project itself left out', () => {
    const packages = extractFixture(uvLockExtractor, FIXTURES, 'workspace/uv.lock');
    expect(packages.map((p) => [p.key, p.line, p.direct, p.dev, p.source])).toEqual([
      ['anyio@4.4.0', 15, true, false, 'registry'],
      ['colorama@0.4.6', 28, false, true, 'registry'],
      ['django@2.2.0', 34, true, false, 'registry'],
      ['idna@3.7', 43, false, false, 'registry'],
      ['iniconfig@2.0.0', 49, false, true, 'registry'],
      ['legacy-lib@0.3.0', 55, true, false, 'git'],
      ['local-wheel@1.0.0', 60, true, false, 'file'],
      ['pytest@8.3.2', 68, true, true, 'registry'],
      ['pytz@2024.1', 78, false, false, 'registry'],
      ['shared-utils@0.1.0', 84, true, false, 'workspace'],
      ['sniffio@1.3.1', 95, true, false, 'registry'],
      ['urllib3@1.26.19', 101, true, false, 'registry'],
      ['urllib3@2.2.2', 110, true, false, 'registry'],
    ]);
    expect(packages.find((p) => p.name === 'django')).toEqual({
      ecosystem: 'PyPI',
      name: 'django',
      version: '2.2.0',
      purl: 'pkg:pypi/django@2.2.0',
      direct: true,
      dev: false,
      file: 'workspace/uv.lock',
      line: 34,
      source: 'registry',
      key: 'django@2.2.0',
      dependencies: ['pytz@2024.1'],
    });
    expect(packages.find((p) => p.name === 'anyio')?.dependencies).toEqual(['idna@3.7', 'sniffio@1.3.1']);
  });

  it('leaves out a virtual root project', () => {
    const packages = extractFixture(uvLockExtractor, FIXTURES, 'virtual/uv.lock');
    expect(packages).toMatchObject([{ key: 'requests@2.19.0', line: 4, direct: true, dev: false }]);
    expect(packages[0]?.purl).toBe('pkg:pypi/requests@2.19.0');
  });

  it('skips a malformed package entry', () => {
    const packages = extract(
      'version = 1\n\n[[package]]\nname = "a"\nversion = "1.0"\nsource = "weird"\n\n[[package]]\nname = "b"\nversion = "2.0"\nsource = { registry = "https://pypi.org/simple" }\n',
    );
    expect(packages.map((p) => [p.key, p.line])).toEqual([['b@2.0', 8]]);
  });

  it('throws LockfileError with the line of a TOML syntax error', () => {
    expect(
      thrown(() => extract('version = 1\n\n[[package]]\nname = "a"\nsource = { registry = }\n')).line,
    ).toBe(5);
    expect(thrown(() => extract('   \n')).line).toBeUndefined();
    expect(thrown(() => extract('[tool]\nx = 1\n')).message).toMatch(/not a uv.lock/);
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    for (const error of expectJunkRejected(uvLockExtractor, 'uv.lock')) expect(error.line).toBeGreaterThan(0);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(uvLockExtractor, FIXTURES, 'workspace/uv.lock');
  });
});
