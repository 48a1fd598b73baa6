// Tests of the npm lockfile extractor against lockfiles written by npm 6 (v1), npm 8 (v2) and npm 11 (v3).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockfileError } from '../../types.js';
import { extractNpmLock } from './extract.js';
import {
  bareContext,
  binaryGarbage,
  byKey,
  byName,
  fixtureContext,
  fuzz,
  lockfileError,
  readFixture,
  tenMegabytesOfJunk,
} from './fixtures.test-helper.js';
import { npmLockExtractor } from './index.js';
import { parseJson } from './json.js';

const FIXTURES = join(import.meta.dirname, '__fixtures__');

function extractFixture(folder: string, path = 'package-lock.json') {
  const dir = join(FIXTURES, folder);
  const content = readFixture(dir, 'package-lock.json');
  return { content, ...extractNpmLock(content, fixtureContext(dir, path)) };
}

/** Every package's line is the line of its key in the `packages` map (or its `dependencies` tree). */
function expectKeyLines(content: string, packages: ReturnType<typeof extractNpmLock>['packages']): void {
  const lines = content.split('\n');
  for (const pkg of packages) {
    const last =
      pkg.key
        .split('/node_modules/')
        .at(-1)
        ?.replace(/^node_modules\//, '') ?? pkg.key;
    const expected = pkg.key.includes('node_modules/') && !content.includes('"packages"') ? last : pkg.key;
    expect(lines[pkg.line - 1], `line ${pkg.line} of ${pkg.key}`).toContain(`"${expected}": {`);
  }
}

describe('npmLockExtractor', () => {
  it('matches package-lock.json and npm-shrinkwrap.json by base name', () => {
    expect(npmLockExtractor.matches('package-lock.json')).toBe(true);
    expect(npmLockExtractor.matches('apps/web/package-lock.json')).toBe(true);
    expect(npmLockExtractor.matches('npm-shrinkwrap.json')).toBe(true);
    expect(npmLockExtractor.matches('apps\\web\\npm-shrinkwrap.json')).toBe(true);
    expect(npmLockExtractor.matches('package.json')).toBe(false);
    expect(npmLockExtractor.matches('node_modules/.package-lock.json')).toBe(false);
    expect(npmLockExtractor.matches('yarn.lock')).toBe(false);
    expect(npmLockExtractor.ecosystem).toBe('npm');
  });

  it('returns the same packages through the Extractor interface', () => {
    const dir = join(FIXTURES, 'v3');
    const content = readFixture(dir, 'package-lock.json');
    const context = fixtureContext(dir, 'package-lock.json');
    expect(npmLockExtractor.extract(content, context)).toEqual(extractNpmLock(content, context).packages);
  });
});

describe.each(['v3', 'v2'])(
  'lockfile %s (workspaces, alias, git, file, tarball URL, peer, optional, dev)',
  (folder) => {
    const { content, packages, notes } = extractFixture(folder, 'app/package-lock.json');

    it('reads every installed package once, without the root project or the workspace links', () => {
      expect(notes).toEqual([]);
      expect(packages).toHaveLength(20);
      expect(packages.some((pkg) => pkg.name === 'fixture-app')).toBe(false);
      expect(byName(packages, '@fixture/lib-a')).toHaveLength(1);
      for (const pkg of packages) {
        expect(pkg.ecosystem).toBe('npm');
        expect(pkg.file).toBe('app/package-lock.json');
      }
    });

    it('puts each package on the line of its key', () => {
      expect(byKey(packages, 'local-lib').line).toBe(32);
      expect(byKey(packages, 'node_modules/@types/debug').line).toBe(46);
      expect(byKey(packages, 'node_modules/debug/node_modules/ms').line).toBe(82);
      expect(byKey(packages, 'node_modules/ms-legacy').line).toBe(174);
      expect(byKey(packages, 'packages/lib-b').line).toBe(215);
      expectKeyLines(content, packages);
    });

    it('names scoped packages and percent-encodes their scope in the purl', () => {
      const debugTypes = byKey(packages, 'node_modules/@types/debug');
      expect(debugTypes).toMatchObject({
        name: '@types/debug',
        version: '4.1.12',
        purl: 'pkg:npm/%40types/debug@4.1.12',
        source: 'registry',
        direct: true,
        dev: true,
        dependencies: ['node_modules/@types/ms'],
      });
      expect(byKey(packages, 'node_modules/@types/ms')).toMatchObject({ direct: false, dev: true });
    });

    it('reports an npm: alias under the real package name', () => {
      expect(byKey(packages, 'node_modules/ms-legacy')).toMatchObject({
        name: 'ms',
        version: '0.7.3',
        purl: 'pkg:npm/ms@0.7.3',
        direct: true,
        source: 'registry',
      });
    });

    it('keeps every version of a package, and resolves requires through nested node_modules', () => {
      expect(byName(packages, 'ms').map((pkg) => pkg.version)).toEqual(['2.0.0', '2.1.3', '0.7.3']);
      expect(byKey(packages, 'node_modules/debug').dependencies).toEqual([
        'node_modules/debug/node_modules/ms',
      ]);
      expect(byKey(packages, 'node_modules/debug/node_modules/ms')).toMatchObject({
        direct: false,
        dev: false,
      });
    });

    it('classifies workspaces, file and git dependencies and tarball URLs', () => {
      expect(byKey(packages, 'packages/lib-a')).toMatchObject({
        name: '@fixture/lib-a',
        version: '1.0.0',
        source: 'workspace',
        direct: true,
        dependencies: ['node_modules/is-number', 'node_modules/ms'],
      });
      expect(byKey(packages, 'packages/lib-b').dependencies).toEqual(['packages/lib-a']);
      expect(byKey(packages, 'local-lib')).toMatchObject({
        name: 'local-lib',
        version: '0.1.0',
        source: 'file',
        direct: true,
        dependencies: ['node_modules/escape-string-regexp'],
      });
      expect(byKey(packages, 'node_modules/tiny-git')).toMatchObject({
        version: '1.0.0',
        source: 'git',
        direct: true,
      });
      expect(byKey(packages, 'node_modules/is-plain-obj')).toMatchObject({
        version: '4.1.0',
        source: 'registry',
      });
    });

    it('reads dev, optional and peer flags: dev only when solely reached from devDependencies', () => {
      expect(byKey(packages, 'node_modules/kind-of')).toMatchObject({ direct: true, dev: true });
      // a devDependency of the root, but a dependency of the lib-a workspace
      expect(byKey(packages, 'node_modules/is-number')).toMatchObject({ direct: true, dev: false });
      // a devDependency of the lib-b workspace only
      expect(byKey(packages, 'node_modules/ansi-regex')).toMatchObject({ direct: true, dev: true });
      expect(byKey(packages, 'node_modules/fsevents')).toMatchObject({ direct: true, dev: false });
      // installed for use-sync-external-store's peer dependency
      expect(byKey(packages, 'node_modules/react')).toMatchObject({
        version: '18.3.1',
        direct: false,
        dev: false,
      });
      expect(byKey(packages, 'node_modules/use-sync-external-store').dependencies).toEqual([
        'node_modules/react',
      ]);
    });
  },
);

describe('lockfile v1 (npm 6: nested dependencies tree)', () => {
  const { content, packages, notes } = extractFixture('v1');

  it('walks the nested tree with node_modules keys and key lines', () => {
    expect(notes).toEqual([]);
    expect(packages).toHaveLength(13);
    expect(byKey(packages, 'node_modules/@types/debug').line).toBe(7);
    expect(byKey(packages, 'node_modules/debug/node_modules/ms').line).toBe(30);
    expect(byKey(packages, 'node_modules/ms-legacy').line).toBe(69);
    expectKeyLines(content, packages);
  });

  it('reads aliases, file, git and tarball versions', () => {
    expect(byKey(packages, 'node_modules/ms-legacy')).toMatchObject({ name: 'ms', version: '0.7.3' });
    expect(byKey(packages, 'node_modules/local-lib')).toMatchObject({ version: '0.1.0', source: 'file' });
    expect(byKey(packages, 'node_modules/tiny-git')).toMatchObject({
      version: '7b6273738c32053407d0053ea455972570b8b401',
      source: 'git',
    });
    expect(byKey(packages, 'node_modules/is-plain-obj')).toMatchObject({
      version: '4.1.0',
      purl: 'pkg:npm/is-plain-obj@4.1.0',
      source: 'registry',
    });
  });

  it('marks direct dependencies from package.json and dev from the dev flags', () => {
    expect(byKey(packages, 'node_modules/debug')).toMatchObject({
      direct: true,
      dev: false,
      dependencies: ['node_modules/debug/node_modules/ms'],
    });
    expect(byKey(packages, 'node_modules/escape-string-regexp')).toMatchObject({ direct: false, dev: false });
    expect(byKey(packages, 'node_modules/@types/ms')).toMatchObject({ direct: false, dev: true });
    expect(byKey(packages, 'node_modules/@types/debug').dependencies).toEqual(['node_modules/@types/ms']);
  });

  it('without package.json, takes every top-level entry as direct', () => {
    const dir = join(FIXTURES, 'v1');
    const { packages: bare } = extractNpmLock(
      readFixture(dir, 'package-lock.json'),
      bareContext('package-lock.json'),
    );
    expect(byKey(bare, 'node_modules/escape-string-regexp').direct).toBe(true);
    expect(byKey(bare, 'node_modules/debug/node_modules/ms').direct).toBe(false);
    expect(byKey(bare, 'node_modules/local-lib').version).toBe('');
  });

  it('reads npm-shrinkwrap.json the same way', () => {
    const dir = join(FIXTURES, 'v1');
    const content = readFixture(dir, 'package-lock.json');
    const shrinkwrap = extractNpmLock(content, fixtureContext(dir, 'npm-shrinkwrap.json')).packages;
    expect(shrinkwrap.map((pkg) => pkg.purl)).toEqual(packages.map((pkg) => pkg.purl));
    expect(shrinkwrap[0]?.file).toBe('npm-shrinkwrap.json');
  });
});

describe('this repository’s own lockfile (npm 11, v3, registry `resolved` omitted)', () => {
  const { content, packages } = extractFixture('plumbline');

  it('reads all 184 packages on their key lines', () => {
    expect(packages).toHaveLength(184);
    expectKeyLines(content, packages);
    expect(new Set(packages.map((pkg) => pkg.key)).size).toBe(184);
  });

  it('reads direct, dev and nested duplicates', () => {
    expect(byKey(packages, 'node_modules/yaml')).toMatchObject({
      version: '2.9.1',
      direct: true,
      dev: false,
      line: 2561,
    });
    expect(byKey(packages, 'node_modules/vitest')).toMatchObject({ direct: true, dev: true, line: 2421 });
    expect(byKey(packages, 'node_modules/@biomejs/biome')).toMatchObject({
      purl: 'pkg:npm/%40biomejs/biome@2.6.8',
      direct: true,
      dev: true,
      line: 98,
    });
    const ajv = byName(packages, 'ajv');
    expect(ajv.length).toBeGreaterThan(1);
    expect(byKey(packages, 'node_modules/@microsoft/jest-sarif/node_modules/ajv')).toMatchObject({
      direct: false,
      dev: true,
      line: 415,
    });
    expect(packages.filter((pkg) => pkg.dev)).toHaveLength(131);
    expect(packages.every((pkg) => pkg.source === 'registry')).toBe(true);
  });
});

describe('flags and layouts the fixtures do not have', () => {
  const lock = JSON.stringify(
    {
      name: 'app',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': {
          name: 'app',
          workspaces: ['./apps/*'],
          devDependencies: { a: '1' },
          optionalDependencies: { a: '1' },
        },
        'apps/web': { name: 'web', version: '2.0.0', dependencies: { b: '^1' } },
        'apps/web/node_modules/b': { version: '1.5.0' },
        'node_modules/a': { version: '1.0.0', devOptional: true },
        'node_modules/b': { version: '2.0.0', dev: true },
        'node_modules/web': { resolved: 'apps/web', link: true },
        'node_modules/outside': { resolved: '../vendor/outside', link: true },
        'node_modules/tarball': { version: '0.1.0', resolved: 'file:vendor/tarball-0.1.0.tgz' },
        'node_modules/remote': { version: '3.0.0', resolved: 'https://example.com/remote.tgz' },
      },
    },
    null,
    2,
  );
  const { packages } = extractNpmLock(lock, bareContext('package-lock.json'));

  it('treats devOptional as not dev-only, and resolves a workspace’s own node_modules first', () => {
    expect(byKey(packages, 'node_modules/a')).toMatchObject({ direct: true, dev: false });
    expect(byKey(packages, 'apps/web')).toMatchObject({
      source: 'workspace',
      dependencies: ['apps/web/node_modules/b'],
    });
    expect(byKey(packages, 'apps/web/node_modules/b')).toMatchObject({ version: '1.5.0', direct: true });
    expect(byKey(packages, 'node_modules/b')).toMatchObject({ direct: false, dev: true });
  });

  it('reports links to folders without an entry, file tarballs and remote tarballs', () => {
    expect(byKey(packages, 'node_modules/outside')).toMatchObject({
      name: 'outside',
      version: '',
      source: 'file',
    });
    expect(byKey(packages, 'node_modules/tarball')).toMatchObject({ version: '0.1.0', source: 'file' });
    expect(byKey(packages, 'node_modules/remote')).toMatchObject({ version: '3.0.0', source: 'file' });
    const remoteLine = lock.split('\n').findIndex((line) => line.includes('"node_modules/remote": {')) + 1;
    expect(byKey(packages, 'node_modules/remote').line).toBe(remoteLine);
  });
});

describe('malformed input', () => {
  const v3 = readFixture(join(FIXTURES, 'v3'), 'package-lock.json');
  const extract = (text: string) => extractNpmLock(text, bareContext('package-lock.json'));

  it('throws LockfileError with the line of truncated JSON', () => {
    const cut = v3.indexOf('"node_modules/debug"');
    const error = lockfileError(() => extract(v3.slice(0, cut + 10)));
    expect(error.line).toBe(73);
    expect(error.message).toMatch(/line 73/);
  });

  it('throws LockfileError with the line of a syntax error', () => {
    const broken = v3.replace(
      '"license": "MIT",\n      "peer": true',
      '"license": "MIT"\n      "peer": true',
    );
    // the comma is missing at the end of line 138; the parser stops at the next key, line 139
    expect(lockfileError(() => extract(broken)).line).toBe(139);
  });

  it('throws LockfileError for empty, binary, junk and non-lockfile JSON', () => {
    expect(lockfileError(() => extract('')).message).toMatch(/empty/);
    expect(lockfileError(() => extract('  \n\n')).message).toMatch(/empty/);
    expect(lockfileError(() => extract(binaryGarbage())).message).toMatch(/binary/);
    expect(lockfileError(() => extract('[1, 2]')).line).toBe(1);
    expect(lockfileError(() => extract('{"name": "x", "version": "1.0.0"}')).message).toMatch(
      /lockfileVersion/,
    );
    expect(lockfileError(() => extract('{"lockfileVersion": 3, "packages": []}')).line).toBe(1);
    expect(lockfileError(() => extract('{"lockfileVersion": 3}\n{}')).line).toBe(2);
    expect(lockfileError(() => extract('[\n'.repeat(100_000))).message).toMatch(/too deep/);
  });

  it('throws LockfileError quickly for 10 MB of junk', () => {
    const started = Date.now();
    expect(lockfileError(() => extract(tenMegabytesOfJunk())).line).toBe(1);
    expect(lockfileError(() => extract(`{"lockfileVersion": 3, "x": "${tenMegabytesOfJunk()}`)).line).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('skips a malformed entry with a note and reads the rest', () => {
    const broken = v3.replace('"version": "2.6.9",', '"version": 2.6,');
    const { packages, notes } = extract(broken);
    expect(notes).toEqual(['skipped packages["node_modules/debug"] (line 73): not a valid entry']);
    expect(packages).toHaveLength(19);
    expect(() => extract(v3.replace('"lockfileVersion": 3', '"lockfileVersion": 4'))).not.toThrow();
  });

  it('never throws anything but LockfileError on mangled lockfiles', () => {
    fuzz(v3, 300, extract);
    fuzz(readFixture(join(FIXTURES, 'v1'), 'package-lock.json'), 300, extract);
  });
});

describe('parseJson', () => {
  it('records the line of every key, including after escapes and multi-line values', () => {
    const parsed = parseJson('{\n  "a\\"b": [\n    1,\n    2\n  ],\n  "c": {"d": true}\n}');
    const value = parsed.value as Record<string, unknown>;
    expect(parsed.keyLine(value as never, 'a"b')).toBe(2);
    expect(parsed.keyLine(value as never, 'c')).toBe(6);
    expect(parsed.keyLine(value.c as never, 'd')).toBe(6);
  });

  it('accepts JSONC comments and trailing commas only when asked', () => {
    const text = '{\n  // comment\n  "a": [1, 2,],\n  /* block\n  */ "b": {"c": 1,},\n}';
    expect(parseJson(text, { jsonc: true }).value).toEqual({ a: [1, 2], b: { c: 1 } });
    expect(() => parseJson(text)).toThrow(LockfileError);
  });

  it('does not let a "__proto__" key reach the prototype', () => {
    const value = parseJson('{"__proto__": {"polluted": true}}').value as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(value)).toEqual(['__proto__']);
  });
});
