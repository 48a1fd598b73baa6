// Tests of the Pipfile.lock extractor.
import { describe, expect, it } from 'vitest';
import {
  expectDamageTolerated,
  expectJunkRejected,
  extractFixture,
  fixtureContext,
  thrown,
} from '../composer/fixtures.test-helper.js';
import { pipfileLockExtractor } from './index.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function extract(content: string) {
  return pipfileLockExtractor.extract(content, fixtureContext(new URL('file:///none/'), 'Pipfile.lock'));
}

describe('pipfileLockExtractor', () => {
  it('matches Pipfile.lock only', () => {
    expect(pipfileLockExtractor.matches('Pipfile.lock')).toBe(true);
    expect(pipfileLockExtractor.matches('svc/Pipfile.lock')).toBe(true);
    expect(pipfileLockExtractor.matches('Pipfile')).toBe(false);
  });

  it('reads default and develop, dev only when in develop alone, direct from the Pipfile', () => {
    const packages = extractFixture(pipfileLockExtractor, FIXTURES, 'Pipfile.lock');
    expect(packages.map((p) => [p.name, p.version, p.line, p.direct, p.dev, p.source])).toEqual([
      ['certifi', '2023.7.22', 19, false, false, 'registry'],
      ['django', '2.2.0', 28, true, false, 'registry'],
      ['pytz', '2023.3', 41, false, false, 'registry'],
      ['requests', '0e322af87745eff34caffe4df68456ebc20d9068', 47, true, false, 'git'],
      ['sqlparse', '0.4.4', 51, false, false, 'registry'],
      ['iniconfig', '2.0.0', 70, false, true, 'registry'],
      ['pytest', '7.4.0', 77, true, true, 'registry'],
    ]);
    expect(packages[1]).toEqual({
      ecosystem: 'PyPI',
      name: 'django',
      version: '2.2.0',
      purl: 'pkg:pypi/django@2.2.0',
      direct: true,
      dev: false,
      file: 'Pipfile.lock',
      line: 28,
      source: 'registry',
      key: 'django@2.2.0',
    });
  });

  it('leaves direct unknown (false) without a Pipfile', () => {
    const packages = extract('{"default": {"Django": {"version": "==2.2.0"}}, "develop": {}}');
    expect(packages).toMatchObject([
      { name: 'Django', purl: 'pkg:pypi/django@2.2.0', direct: false, line: 1 },
    ]);
  });

  it('throws LockfileError with the line of a JSON syntax error', () => {
    expect(
      thrown(() => extract('{\n  "default": {\n    "django": {"version": "==2.2.0",}\n  }\n}')).line,
    ).toBe(3);
    expect(thrown(() => extract('{\n  "default": {\n')).line).toBe(3);
    expect(thrown(() => extract('')).line).toBeUndefined();
    expect(thrown(() => extract('["not", "a", "lock"]')).message).toMatch(/not a Pipfile.lock/);
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    for (const error of expectJunkRejected(pipfileLockExtractor, 'Pipfile.lock')) expect(error.line).toBe(1);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(pipfileLockExtractor, FIXTURES, 'Pipfile.lock');
  });
});
