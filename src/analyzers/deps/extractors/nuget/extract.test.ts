// Tests of the NuGet packages.lock.json extractor: several target frameworks, central transitive pins, projects.
import { describe, expect, it } from 'vitest';
import {
  expectDamageTolerated,
  expectJunkRejected,
  extractFixture,
  fixtureContext,
  thrown,
} from '../composer/fixtures.test-helper.js';
import { nugetLockExtractor } from './index.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function extract(content: string) {
  return nugetLockExtractor.extract(content, fixtureContext(new URL('file:///none/'), 'packages.lock.json'));
}

describe('nugetLockExtractor', () => {
  it('matches packages.lock.json and project-named lock files', () => {
    expect(nugetLockExtractor.matches('src/App/packages.lock.json')).toBe(true);
    expect(nugetLockExtractor.matches('packages.App.lock.json')).toBe(true);
    expect(nugetLockExtractor.matches('package-lock.json')).toBe(false);
  });

  it('reads every framework once per name and version, without projects', () => {
    const packages = extractFixture(nugetLockExtractor, FIXTURES, 'packages.lock.json');
    expect(packages.map((p) => [p.name, p.version, p.line, p.direct])).toEqual([
      ['Newtonsoft.Json', '13.0.1', 5, true],
      ['Serilog', '2.10.0', 11, true],
      ['System.Text.Json', '8.0.4', 17, false],
      ['System.Text.Encodings.Web', '8.0.0', 26, false],
      ['Serilog', '3.1.1', 45, true],
      ['runtime.linux-x64.Microsoft.DotNet.ILCompiler', '8.0.7', 61, false],
    ]);
    expect(packages[2]).toEqual({
      ecosystem: 'NuGet',
      name: 'System.Text.Json',
      version: '8.0.4',
      purl: 'pkg:nuget/System.Text.Json@8.0.4',
      direct: false,
      dev: false,
      file: 'packages.lock.json',
      line: 17,
      source: 'registry',
      key: 'system.text.json@8.0.4',
      dependencies: ['system.text.encodings.web@8.0.0'],
    });
  });

  it('skips a malformed entry', () => {
    const packages = extract(
      '{"version": 1, "dependencies": {"net8.0": {"A": "x", "B": {"type": "Direct", "resolved": "1.0.0"}}}}',
    );
    expect(packages.map((p) => p.key)).toEqual(['b@1.0.0']);
  });

  it('throws LockfileError with the line of a JSON syntax error', () => {
    expect(
      thrown(() => extract('{\n  "version": 1,\n  "dependencies": {\n    "net8.0": {\n  }\n')).line,
    ).toBe(6);
    expect(thrown(() => extract('{"version": 1}')).message).toMatch(/not a packages.lock.json/);
    expect(thrown(() => extract('')).line).toBeUndefined();
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    for (const error of expectJunkRejected(nugetLockExtractor, 'packages.lock.json'))
      expect(error.line).toBe(1);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(nugetLockExtractor, FIXTURES, 'packages.lock.json');
  });
});
