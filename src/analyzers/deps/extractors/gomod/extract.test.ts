// Tests of the go.mod extractor: blocks, indirect requirements, replace directives, pseudo-versions.
import { describe, expect, it } from 'vitest';
import {
  expectDamageTolerated,
  expectJunkRejected,
  extractFixture,
  fixtureContext,
  thrown,
} from '../composer/fixtures.test-helper.js';
import { goPurl } from './extract.js';
import { goModExtractor } from './index.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function extract(content: string) {
  return goModExtractor.extract(content, fixtureContext(new URL('file:///none/'), 'go.mod'));
}

describe('goModExtractor', () => {
  it('matches go.mod', () => {
    expect(goModExtractor.matches('go.mod')).toBe(true);
    expect(goModExtractor.matches('tools/go.mod')).toBe(true);
    expect(goModExtractor.matches('go.sum')).toBe(false);
  });

  it('reads requirements with replace directives applied', () => {
    const packages = extractFixture(goModExtractor, FIXTURES, 'go.mod');
    expect(packages.map((p) => [p.name, p.version, p.line, p.direct, p.source])).toEqual([
      ['github.com/gin-gonic/gin', 'v1.9.1', 8, true, 'registry'],
      ['golang.org/x/net', 'v0.0.0-20210226172049-e18ecbb05110', 9, true, 'registry'],
      ['github.com/docker/docker', 'v20.10.7+incompatible', 10, true, 'registry'],
      ['gopkg.in/yaml.v3', 'v3.0.1', 11, true, 'registry'],
      ['github.com/bytedance/sonic', 'v1.9.1', 15, false, 'registry'],
      ['golang.org/x/text', 'v0.3.8', 16, false, 'registry'],
      ['github.com/example/shared', 'v0.0.0-00010101000000-000000000000', 17, false, 'file'],
      ['github.com/pkg/errors', 'v0.9.1', 18, false, 'registry'],
      ['github.com/example/logrus-fork', 'v1.9.4-fixed', 21, true, 'registry'],
      ['github.com/quoted/mod', 'v1.0.0', 23, true, 'registry'],
    ]);
    expect(packages[1]).toEqual({
      ecosystem: 'Go',
      name: 'golang.org/x/net',
      version: 'v0.0.0-20210226172049-e18ecbb05110',
      purl: 'pkg:golang/golang.org/x/net@v0.0.0-20210226172049-e18ecbb05110',
      direct: true,
      dev: false,
      file: 'go.mod',
      line: 9,
      source: 'registry',
      key: 'golang.org/x/net@v0.0.0-20210226172049-e18ecbb05110',
    });
    expect(packages[2]?.purl).toBe('pkg:golang/github.com/docker/docker@v20.10.7%2Bincompatible');
    expect(packages.every((p) => !p.dev)).toBe(true);
  });

  it('builds purls from the module path', () => {
    expect(goPurl('gopkg.in/yaml.v3', 'v3.0.1')).toBe('pkg:golang/gopkg.in/yaml.v3@v3.0.1');
    expect(goPurl('github.com/foo/bar/v2', 'v2.1.0')).toBe('pkg:golang/github.com/foo/bar/v2@v2.1.0');
  });

  it('leaves out the main module, go, toolchain and malformed requirements', () => {
    const packages = extract(
      'module example.com/m\n\ngo 1.22.0\ntoolchain go1.22.3\nrequire example.com/m v1.0.0\nrequire example.com/a\nrequire example.com/b v1.0.0 extra\nrequire example.com/c latest\nrequire example.com/d v0.1.0\n',
    );
    expect(packages.map((p) => [p.key, p.line])).toEqual([['example.com/d@v0.1.0', 9]]);
  });

  it('applies a version-specific replace only to that version, and a Windows path replace', () => {
    const packages = extract(
      'module m\nrequire (\n\tx.io/a v1.0.0\n\tx.io/b v2.0.0\n)\nreplace x.io/a v0.9.0 => x.io/a v1.1.0\nreplace x.io/b => C:\\src\\b\n',
    );
    expect(packages.map((p) => [p.key, p.source])).toEqual([
      ['x.io/a@v1.0.0', 'registry'],
      ['x.io/b@v2.0.0', 'file'],
    ]);
  });

  it('throws LockfileError with a line for syntax errors', () => {
    expect(thrown(() => extract('module m\n\nrequire (\n\tx.io/a v1.0.0\n')).line).toBe(3);
    expect(thrown(() => extract('module m\n\n<<<<<<< HEAD\nrequire x.io/a v1.0.0\n')).line).toBe(3);
    expect(thrown(() => extract('module m\nrequire (\n(\n)\n')).line).toBe(3);
    expect(thrown(() => extract('require x.io/a v1.0.0\n')).message).toMatch(/no module directive/);
    expect(thrown(() => extract('')).line).toBeUndefined();
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    for (const error of expectJunkRejected(goModExtractor, 'go.mod')) expect(error.line).toBeGreaterThan(0);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(goModExtractor, FIXTURES, 'go.mod');
  });
});
