// Tests of the pip requirements extractor against hand-written requirements files with includes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Package } from '../../types.js';
import {
  expectDamageTolerated,
  expectJunkRejected,
  fixtureContext,
  thrown,
} from '../composer/fixtures.test-helper.js';
import { logicalLines, parseLine } from './extract.js';
import { isRequirementsFile, requirementsExtractor } from './index.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function context(path: string, files: Record<string, string> = {}) {
  return fixtureContext(FIXTURES, path, files);
}

function extractFixture(path: string): Package[] {
  return requirementsExtractor.extract(readFileSync(new URL(path, FIXTURES), 'utf8'), context(path));
}

describe('requirementsExtractor', () => {
  it('matches requirements and constraints file names', () => {
    for (const path of [
      'requirements.txt',
      'app/requirements-dev.txt',
      'requirements_test.txt',
      'requirements2.txt',
      'dev-requirements.txt',
      'requirements/prod.txt',
      'constraints.txt',
    ]) {
      expect(isRequirementsFile(path), path).toBe(true);
    }
    for (const path of ['requirements.in', 'notes.txt', 'docs/requirements.md', 'constraints.py']) {
      expect(isRequirementsFile(path), path).toBe(false);
    }
  });

  it('reads pinned requirements with extras, hashes, markers and continuations', () => {
    const packages = extractFixture('requirements.txt');
    const main = packages.filter((p) => p.file === 'requirements.txt');
    expect(main.map((p) => [p.name, p.version, p.line])).toEqual([
      ['django', '2.2.0', 7],
      ['requests', '2.19.0', 8],
      ['PyYAML', '5.1', 11],
      ['zope.interface', '5.4.0', 12],
      ['typing_extensions', '4.7.1', 13],
      ['pytest', '7.4.0', 17],
      ['Jinja2', '2.10', 21],
    ]);
    const django = packages.find((p) => p.name === 'django');
    expect(django).toEqual({
      ecosystem: 'PyPI',
      name: 'django',
      version: '2.2.0',
      purl: 'pkg:pypi/django@2.2.0',
      direct: true,
      dev: false,
      file: 'requirements.txt',
      line: 7,
      source: 'registry',
      key: 'django@2.2.0',
    });
    const byName = new Map(packages.map((p) => [p.name, p]));
    expect(byName.get('requests')?.purl).toBe('pkg:pypi/requests@2.19.0');
    expect(byName.get('PyYAML')?.purl).toBe('pkg:pypi/pyyaml@5.1');
    expect(byName.get('zope.interface')?.purl).toBe('pkg:pypi/zope-interface@5.4.0');
    expect(byName.get('typing_extensions')?.purl).toBe('pkg:pypi/typing-extensions@4.7.1');
    expect(byName.get('typing_extensions')?.key).toBe('typing-extensions@4.7.1');
    // Unpinned, wildcard, editable, local and URL requirements carry no version.
    for (const name of ['Flask', 'numpy', 'urllib3', 'lib', 'black']) {
      expect(packages.filter((p) => p.name === name && p.file === 'requirements.txt')).toEqual([]);
    }
  });

  it('follows -r and -c includes relative to the including file, once each', () => {
    const packages = extractFixture('requirements.txt');
    const included = packages.filter((p) => p.file !== 'requirements.txt');
    expect(included.map((p) => [p.file, p.name, p.version, p.line])).toEqual([
      ['requirements/base.txt', 'six', '1.16.0', 1],
      ['requirements/common.txt', 'certifi', '2019.3.9', 2],
      ['constraints.txt', 'idna', '2.7', 1],
      ['constraints.txt', 'urllib3', '1.23', 2],
    ]);
    expect(included.every((p) => p.direct)).toBe(true);
    // The one django==2.2.0 at the end is the same package.
    expect(packages.filter((p) => p.key === 'django@2.2.0')).toHaveLength(1);
  });

  it('cuts include cycles and ignores missing or escaping includes', () => {
    const files = {
      'a/requirements.txt':
        '-r ../b.txt\n-r missing.txt\n-r ../../outside.txt\n-r https://x.test/r.txt\nsix==1.0\n',
      'b.txt': '-r a/requirements.txt\n-rb.txt\nidna==3.4\n',
    };
    const packages = requirementsExtractor.extract(
      files['a/requirements.txt'],
      context('a/requirements.txt', files),
    );
    expect(packages.map((p) => `${p.file}:${p.key}`)).toEqual([
      'b.txt:idna@3.4',
      'a/requirements.txt:six@1.0',
    ]);
  });

  it('reads CRLF files', () => {
    expect(extractFixture('requirements-crlf.txt').map((p) => [p.name, p.version, p.line])).toEqual([
      ['Django', '2.2.0', 1],
      ['requests', '2.19.0', 2],
    ]);
  });

  it('parses single lines like pip', () => {
    expect(parseLine('requests[security,socks] == 2.19.0 ; python_version >= "3"')).toEqual({
      kind: 'requirement',
      name: 'requests',
      version: '2.19.0',
    });
    expect(parseLine('foo>=1,<2')).toEqual({ kind: 'requirement', name: 'foo', version: undefined });
    expect(parseLine('foo==1.0,!=1.1')).toEqual({ kind: 'requirement', name: 'foo', version: undefined });
    expect(parseLine('foo===1.0-local')).toEqual({ kind: 'requirement', name: 'foo', version: '1.0-local' });
    expect(parseLine('-rother.txt')).toEqual({ kind: 'include', path: 'other.txt', constraint: false });
    expect(parseLine('--constraint "c.txt"')).toEqual({ kind: 'include', path: 'c.txt', constraint: true });
    expect(parseLine('--pre')).toEqual({ kind: 'option' });
    expect(parseLine('foo == == 1')).toEqual({ kind: 'invalid' });
    expect(logicalLines('a==1 \\\n  --hash=x\n# c \\\nb==2 # trailing')).toEqual([
      { line: 1, text: 'a==1   --hash=x' },
      { line: 3, text: '' },
      { line: 4, text: 'b==2' },
    ]);
  });

  it('treats an empty or comment-only file as no packages', () => {
    expect(requirementsExtractor.extract('', context('requirements.txt'))).toEqual([]);
    expect(requirementsExtractor.extract('# nothing yet\n\n', context('requirements.txt'))).toEqual([]);
  });

  it('skips a malformed line among good ones', () => {
    const packages = requirementsExtractor.extract(
      'six==1.16.0\n!!! not a requirement\nidna==2.7\n',
      context('r.txt'),
    );
    expect(packages.map((p) => p.key)).toEqual(['six@1.16.0', 'idna@2.7']);
  });

  it('throws LockfileError with a line for a file that is not requirements', () => {
    expect(
      thrown(() => requirementsExtractor.extract('\n{ "not": "requirements" }\n', context('r.txt'))).line,
    ).toBe(2);
    expect(
      thrown(() => requirementsExtractor.extract('six==1\n\u0000\u0001\u0002', context('r.txt'))).line,
    ).toBe(2);
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    const [small, binary, lines, oneLine] = expectJunkRejected(requirementsExtractor, 'requirements.txt');
    expect(small?.line).toBeGreaterThanOrEqual(1);
    expect(binary?.line).toBeGreaterThanOrEqual(1);
    expect(lines?.line).toBe(1);
    expect(oneLine?.line).toBe(1);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(requirementsExtractor, FIXTURES, 'requirements.txt');
  });
});
