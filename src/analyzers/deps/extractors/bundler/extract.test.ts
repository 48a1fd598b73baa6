// Tests of the Gemfile.lock extractor: GIT, PATH and GEM sections, platform variants, DEPENDENCIES.
import { describe, expect, it } from 'vitest';
import {
  expectDamageTolerated,
  expectJunkRejected,
  extractFixture,
  fixtureContext,
  thrown,
} from '../composer/fixtures.test-helper.js';
import { gemfileLockExtractor } from './index.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function extract(content: string) {
  return gemfileLockExtractor.extract(content, fixtureContext(new URL('file:///none/'), 'Gemfile.lock'));
}

describe('gemfileLockExtractor', () => {
  it('matches Gemfile.lock and gems.locked', () => {
    expect(gemfileLockExtractor.matches('Gemfile.lock')).toBe(true);
    expect(gemfileLockExtractor.matches('app/gems.locked')).toBe(true);
    expect(gemfileLockExtractor.matches('Gemfile')).toBe(false);
  });

  it('reads every source section, strips platforms, and marks DEPENDENCIES as direct', () => {
    const packages = extractFixture(gemfileLockExtractor, FIXTURES, 'Gemfile.lock');
    expect(packages.map((p) => [p.name, p.version, p.line, p.direct, p.source])).toEqual([
      ['rails', '7.2.0.alpha', 6, true, 'git'],
      ['gate', '0.1.0', 12, true, 'file'],
      ['actionpack', '7.1.3', 18, true, 'registry'],
      ['mini_portile2', '2.8.7', 20, false, 'registry'],
      ['nokogiri', '1.15.0', 21, true, 'registry'],
      ['racc', '1.8.0', 28, false, 'registry'],
      ['rack', '2.2.8', 29, false, 'registry'],
      ['rspec', '3.13.0', 30, true, 'registry'],
      ['rspec-core', '3.13.0', 32, false, 'registry'],
    ]);
    expect(packages.find((p) => p.name === 'nokogiri')).toEqual({
      ecosystem: 'RubyGems',
      name: 'nokogiri',
      version: '1.15.0',
      purl: 'pkg:gem/nokogiri@1.15.0',
      direct: true,
      dev: false,
      file: 'Gemfile.lock',
      line: 21,
      source: 'registry',
      key: 'nokogiri@1.15.0',
      dependencies: ['mini_portile2@2.8.7', 'racc@1.8.0'],
    });
    expect(packages.find((p) => p.name === 'rails')?.dependencies).toEqual(['rack@2.2.8']);
  });

  it('reads a platform-only gem and CRLF line ends', () => {
    const lock =
      'GEM\r\n  remote: https://rubygems.org/\r\n  specs:\r\n    nokogiri (1.15.0-x86_64-linux)\r\n\r\nDEPENDENCIES\r\n  nokogiri\r\n';
    expect(extract(lock)).toMatchObject([{ key: 'nokogiri@1.15.0', line: 4, direct: true }]);
  });

  it('throws LockfileError with a line for text that is not a Gemfile.lock', () => {
    expect(thrown(() => extract('GEM\n  specs:\n<<<<<<< HEAD\n    rack (2.2.8)\n')).line).toBe(3);
    expect(thrown(() => extract('source "https://rubygems.org"\ngem "rails"\n')).line).toBe(1);
    expect(thrown(() => extract('    rack (2.2.8)\n')).line).toBe(1);
    expect(thrown(() => extract('')).line).toBeUndefined();
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    for (const error of expectJunkRejected(gemfileLockExtractor, 'Gemfile.lock'))
      expect(error.line).toBeGreaterThan(0);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(gemfileLockExtractor, FIXTURES, 'Gemfile.lock');
  });
});
