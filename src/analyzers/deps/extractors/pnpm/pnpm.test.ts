// Tests of the pnpm lockfile extractor against lockfiles written by pnpm 7 (5.4), pnpm 8 (6.0) and pnpm 9 (9.0).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Package } from '../../types.js';
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
} from '../npm/fixtures.test-helper.js';
import { depId, extractPnpmLock, parseKey } from './extract.js';
import { pnpmLockExtractor } from './index.js';

const FIXTURES = join(import.meta.dirname, '__fixtures__');

function extractFixture(folder: string) {
  const dir = join(FIXTURES, folder);
  const content = readFixture(dir, 'pnpm-lock.yaml');
  return { content, ...extractPnpmLock(content, fixtureContext(dir, 'pnpm-lock.yaml')) };
}

/** Every package's line is the line where its entry (or importer, or importer dependency) is written. */
function expectEntryLines(content: string, packages: readonly Package[]): void {
  const lines = content.split('\n');
  for (const pkg of packages) {
    const line = lines[pkg.line - 1] ?? '';
    expect(
      line.includes(pkg.name) || line.includes(pkg.key),
      `line ${pkg.line} for ${pkg.key}: ${line}`,
    ).toBe(true);
    expect(line.trimEnd().endsWith(':') || line.includes(': '), `line ${pkg.line} starts an entry`).toBe(
      true,
    );
  }
}

describe('pnpmLockExtractor', () => {
  it('matches pnpm-lock.yaml by base name', () => {
    expect(pnpmLockExtractor.matches('pnpm-lock.yaml')).toBe(true);
    expect(pnpmLockExtractor.matches('packages/web/pnpm-lock.yaml')).toBe(true);
    expect(pnpmLockExtractor.matches('pnpm-workspace.yaml')).toBe(false);
    expect(pnpmLockExtractor.matches('pnpm-lock.yml')).toBe(false);
  });

  it('returns the same packages through the Extractor interface', () => {
    const dir = join(FIXTURES, 'v9-workspace');
    const content = readFixture(dir, 'pnpm-lock.yaml');
    const context = fixtureContext(dir, 'pnpm-lock.yaml');
    expect(pnpmLockExtractor.extract(content, context)).toEqual(extractPnpmLock(content, context).packages);
  });
});

const WORKSPACE_LINES = {
  'v9-workspace': { types: 74, legacy: 123, react: 132, uses: 140, local: 116, libB: 62 },
  'v6-workspace': { types: 68, legacy: 132, react: 144, uses: 151, local: 159, libB: 56 },
  'v5-workspace': { types: 54, legacy: 118, react: 130, uses: 141, local: 149, libB: 43 },
} as const;

describe.each(Object.entries(WORKSPACE_LINES))(
  '%s (workspaces, alias, file, link, git, peers, optional, dev)',
  (folder, at) => {
    const { content, packages, notes } = extractFixture(folder);

    it('reads each package once, the workspaces as workspace packages, not the root', () => {
      expect(notes).toEqual([]);
      expect(new Set(packages.map((pkg) => pkg.key)).size).toBe(packages.length);
      expect(packages.some((pkg) => pkg.name === 'fixture-app')).toBe(false);
      expect(byKey(packages, 'packages/lib-b')).toMatchObject({
        name: '@fixture/lib-b',
        version: '1.0.0',
        source: 'workspace',
        direct: true,
        dev: false,
        line: at.libB,
        dependencies: ['packages/lib-a', 'ansi-regex@5.0.1'],
      });
      expect(byKey(packages, 'packages/lib-a').dependencies).toEqual(['is-number@7.0.0', 'ms@2.1.3']);
      expectEntryLines(content, packages);
    });

    it('reads scoped names, aliases and every version of a package', () => {
      expect(byKey(packages, '@types/debug@4.1.12')).toMatchObject({
        name: '@types/debug',
        purl: 'pkg:npm/%40types/debug@4.1.12',
        direct: true,
        dev: true,
        line: at.types,
        dependencies: ['@types/ms@2.1.0'],
      });
      expect(byKey(packages, 'ms@0.7.3')).toMatchObject({
        name: 'ms',
        direct: true,
        dev: false,
        line: at.legacy,
      });
      expect(byName(packages, 'ms').map((pkg) => pkg.version)).toEqual(['0.7.3', '2.0.0', '2.1.3']);
      expect(byKey(packages, 'debug@2.6.9').dependencies).toEqual(['ms@2.0.0']);
    });

    it('strips peer suffixes and follows peer dependencies', () => {
      expect(byKey(packages, 'use-sync-external-store@1.2.0')).toMatchObject({
        version: '1.2.0',
        purl: 'pkg:npm/use-sync-external-store@1.2.0',
        line: at.uses,
        dependencies: ['react@18.3.1'],
      });
      expect(byKey(packages, 'react@18.3.1')).toMatchObject({ direct: false, dev: false, line: at.react });
    });

    it('reads dev flags: dev only when reached solely from devDependencies', () => {
      expect(byKey(packages, 'kind-of@6.0.3')).toMatchObject({ direct: true, dev: true });
      expect(byKey(packages, 'ansi-regex@5.0.1')).toMatchObject({ direct: true, dev: true });
      expect(byKey(packages, 'is-number@7.0.0')).toMatchObject({ direct: true, dev: false });
      expect(byKey(packages, '@types/ms@2.1.0')).toMatchObject({ direct: false, dev: true });
      expect(byKey(packages, 'fsevents@2.3.3')).toMatchObject({
        direct: true,
        dev: false,
        source: 'registry',
      });
    });

    it('reads file: directories and tarball URLs', () => {
      const local = packages.find((pkg) => pkg.name === 'local-lib');
      expect(local).toMatchObject({ version: '0.1.0', source: 'file', direct: true, line: at.local });
      expect(local?.dependencies).toEqual(['escape-string-regexp@4.0.0']);
      expect(byKey(packages, 'is-plain-obj@4.1.0')).toMatchObject({ source: 'registry', direct: true });
    });
  },
);

describe('git and link sources', () => {
  it('v9: git+file repository and link: folder', () => {
    const { packages } = extractFixture('v9-workspace');
    expect(
      byKey(
        packages,
        'tiny-git@git+file:///tmp/gitrepos/tiny-git.git#7b6273738c32053407d0053ea455972570b8b401',
      ),
    ).toMatchObject({
      name: 'tiny-git',
      version: '1.0.0',
      source: 'git',
      direct: true,
      line: 136,
    });
    expect(byKey(packages, 'link:linked-dir')).toMatchObject({
      name: 'linked-lib',
      version: '2.0.0',
      source: 'link',
      direct: true,
      line: 20,
    });
  });

  it('v5: a git entry the lockfile does not name takes the name it is depended on by', () => {
    const { packages } = extractFixture('v5-workspace');
    expect(byKey(packages, 'tmp/gitrepos/tiny-git/7b6273738c32053407d0053ea455972570b8b401')).toMatchObject({
      name: 'tiny-git',
      version: '7b6273738c32053407d0053ea455972570b8b401',
      source: 'git',
      direct: true,
      line: 137,
    });
  });

  it('v9: codeload tarballs, remote tarballs, registry mirrors and git repositories (hand-written)', () => {
    const { packages, content } = extractFixture('v9-git');
    expectEntryLines(content, packages);
    expect(packages.find((pkg) => pkg.name === 'is-odd')).toMatchObject({
      version: '3.0.1',
      source: 'git',
      direct: true,
      line: 30,
      dependencies: ['is-number@6.0.0'],
    });
    expect(packages.find((pkg) => pkg.name === 'left-pad')).toMatchObject({
      version: '1.3.0',
      source: 'file',
      line: 35,
    });
    expect(byKey(packages, 'mirror-pkg@2.0.0')).toMatchObject({ source: 'registry', line: 39 });
    expect(packages.find((pkg) => pkg.name === 'tiny-git')).toMatchObject({
      version: '1.0.0',
      source: 'git',
      line: 42,
    });
    expect(byKey(packages, 'is-number@6.0.0')).toMatchObject({ direct: false, source: 'registry', line: 26 });
  });

  it.each([
    ['v6-git', 14, 19],
    ['v5-git', 11, 16],
  ])('%s: github.com/… keys with name and version fields (hand-written)', (folder, numberLine, oddLine) => {
    const { packages } = extractFixture(folder);
    expect(
      byKey(packages, 'github.com/jonschlinkert/is-odd/e0ae4f5db1bd3c17b8ebd2fac9d65f1f8e5e8cb5'),
    ).toMatchObject({
      name: 'is-odd',
      version: '3.0.1',
      source: 'git',
      direct: true,
      dev: false,
      line: oddLine,
      dependencies: ['is-number@6.0.0'],
    });
    expect(byKey(packages, 'is-number@6.0.0')).toMatchObject({ direct: false, line: numberLine });
  });
});

const SINGLE_LINES = {
  'v9-single': { query: 33, types: 48, width: 84 },
  'v6-single': { query: 32, types: 53, width: 112 },
  'v5-single': { query: 25, types: 46, width: 105 },
} as const;

describe.each(Object.entries(SINGLE_LINES))(
  '%s (single project, scoped peers, hashed peer suffix, alias)',
  (folder, at) => {
    const { content, packages, notes } = extractFixture(folder);

    it('reads the top-level dependencies as direct', () => {
      expect(notes).toEqual([]);
      expect(packages).toHaveLength(15);
      expectEntryLines(content, packages);
      expect(byKey(packages, '@tanstack/react-query@5.0.0')).toMatchObject({
        name: '@tanstack/react-query',
        version: '5.0.0',
        purl: 'pkg:npm/%40tanstack/react-query@5.0.0',
        direct: true,
        dev: false,
        line: at.query,
      });
      expect(byKey(packages, '@tanstack/react-query@5.0.0').dependencies).toContain('react-dom@18.3.1');
      expect(byKey(packages, '@types/react@18.3.3')).toMatchObject({
        direct: true,
        dev: true,
        line: at.types,
      });
      expect(byKey(packages, 'csstype@3.2.4')).toMatchObject({ direct: false, dev: true });
      expect(byKey(packages, 'string-width@4.2.3')).toMatchObject({
        direct: true,
        dev: false,
        line: at.width,
      });
      expect(byKey(packages, 'ansi-regex@5.0.1')).toMatchObject({ direct: false, dev: false });
    });
  },
);

describe('depPath parsing', () => {
  it('splits keys of every format', () => {
    expect(parseKey('/@scope/name/1.0.0_react@18.2.0+react-dom@18.2.0', 5)).toEqual({
      id: '@scope/name@1.0.0',
      name: '@scope/name',
      version: '1.0.0',
    });
    expect(parseKey('/name/1.0.0_3vhbvqjsaqr2nuyk2vnbbgqgwi', 5).id).toBe('name@1.0.0');
    expect(parseKey('/@scope/name@1.0.0(@types/react@18.0.0)(react@18.2.0)', 6).id).toBe('@scope/name@1.0.0');
    expect(parseKey('name@1.0.0(patch_hash=abc)(react@18.2.0)', 9).id).toBe('name@1.0.0');
    expect(parseKey('file:../x', 6)).toEqual({ id: 'file:../x', name: undefined, version: undefined });
  });

  it('turns dependency references into ids', () => {
    expect(depId('a', '1.0.0_react@18.2.0', 5)).toBe('a@1.0.0');
    expect(depId('a', '/b/2.0.0', 5)).toBe('b@2.0.0');
    expect(depId('a', '1.0.0(@types/react@18.0.0)', 6)).toBe('a@1.0.0');
    expect(depId('a', '/b@2.0.0', 6)).toBe('b@2.0.0');
    expect(depId('a', 'github.com/u/r/abc', 6)).toBe('github.com/u/r/abc');
    expect(depId('a', '@s/b@2.0.0(react@18.2.0)', 9)).toBe('@s/b@2.0.0');
    expect(depId('a', 'git+ssh://git@github.com/u/r.git#abc', 9)).toBe(
      'a@git+ssh://git@github.com/u/r.git#abc',
    );
    expect(depId('a', 'link:../b', 9)).toBeUndefined();
  });
});

describe('malformed input', () => {
  const v9 = readFixture(join(FIXTURES, 'v9-workspace'), 'pnpm-lock.yaml');
  const extract = (text: string) => extractPnpmLock(text, bareContext('pnpm-lock.yaml'));

  it('throws LockfileError with the line of a YAML syntax error', () => {
    const broken = v9.replace(
      '  ms@0.7.3:\n    resolution: {integrity:',
      '  ms@0.7.3:\n    resolution: {integrity: [',
    );
    const error = lockfileError(() => extract(broken));
    expect(error.message).toMatch(/not valid YAML/);
    expect(error.line).toBe(124);
    // `b` followed by a more indented `c: d` is a nested mapping on line 3
    expect(lockfileError(() => extract("lockfileVersion: '9.0'\npackages:\n  a: b\n   c: d\n")).line).toBe(3);
  });

  it('throws LockfileError for a truncated lockfile', () => {
    const cut = v9.indexOf('tiny-git@git+file') + 40;
    const error = lockfileError(() => extract(`${v9.slice(0, cut)}\n    resolution: {commit: 7b62`));
    expect(error.line).toBeGreaterThan(130);
  });

  it('throws LockfileError for empty, binary, junk and other YAML', () => {
    expect(lockfileError(() => extract('')).message).toMatch(/empty/);
    expect(lockfileError(() => extract(binaryGarbage())).message).toMatch(/binary/);
    expect(lockfileError(() => extract('packages:\n  a@1.0.0: {}\n')).line).toBe(1);
    expect(lockfileError(() => extract('lockfileVersion: [9]\n')).line).toBe(1);
    expect(lockfileError(() => extract('lockfileVersion:\n- 1\n')).line).toBe(1);
    const started = Date.now();
    expect(lockfileError(() => extract(tenMegabytesOfJunk())).line).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('skips a malformed entry with a note and reads the rest', () => {
    const broken = v9.replace(/( {2}ms@2\.0\.0:\n {4}resolution: )\{[^}]*\}/, '$1[sha512-none]');
    const { packages, notes } = extract(broken);
    expect(notes).toEqual(['skipped packages["ms@2.0.0"] (line 126): not a valid entry']);
    expect(byName(packages, 'ms')).toHaveLength(2);
    expect(byKey(packages, 'debug@2.6.9').dependencies).toEqual([]);
  });

  it('never throws anything but LockfileError on mangled lockfiles', () => {
    fuzz(v9, 200, extract);
    fuzz(readFixture(join(FIXTURES, 'v5-single'), 'pnpm-lock.yaml'), 200, extract);
  });
});
