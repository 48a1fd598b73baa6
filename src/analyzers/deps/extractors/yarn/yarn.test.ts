// Tests of the yarn lockfile extractor against lockfiles written by yarn 1.22 (classic) and yarn 4 (Berry).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExtractContext, Package } from '../../types.js';
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
import { parseClassic } from './classic.js';
import { extractYarnLock } from './extract.js';
import { yarnLockExtractor } from './index.js';

const FIXTURES = join(import.meta.dirname, '__fixtures__');

function extractFixture(folder: string, context?: ExtractContext) {
  const dir = join(FIXTURES, folder);
  const content = readFixture(dir, 'yarn.lock');
  return { content, ...extractYarnLock(content, context ?? fixtureContext(dir, 'yarn.lock')) };
}

/** Every package's line is the header line of its entry. */
function expectHeaderLines(content: string, packages: readonly Package[]): void {
  const lines = content.split('\n');
  for (const pkg of packages) {
    const line = lines[pkg.line - 1] ?? '';
    expect(line.startsWith(' '), `line ${pkg.line} is a header`).toBe(false);
    expect(line.trimEnd().endsWith(':'), `line ${pkg.line} is a header`).toBe(true);
  }
}

describe('yarnLockExtractor', () => {
  it('matches yarn.lock by base name', () => {
    expect(yarnLockExtractor.matches('yarn.lock')).toBe(true);
    expect(yarnLockExtractor.matches('web/yarn.lock')).toBe(true);
    expect(yarnLockExtractor.matches('.yarnrc.yml')).toBe(false);
    expect(yarnLockExtractor.matches('yarn.lock.bak')).toBe(false);
  });

  it('returns the same packages through the Extractor interface', () => {
    const dir = join(FIXTURES, 'berry');
    const content = readFixture(dir, 'yarn.lock');
    const context = fixtureContext(dir, 'yarn.lock');
    expect(yarnLockExtractor.extract(content, context)).toEqual(extractYarnLock(content, context).packages);
  });
});

describe('classic (yarn 1.22: workspaces, alias, git, file, link, tarball URL, multi-descriptor headers)', () => {
  const { content, packages, notes } = extractFixture('classic');

  it('reads every entry on its header line', () => {
    expect(notes).toEqual([]);
    expect(packages).toHaveLength(16);
    expectHeaderLines(content, packages);
    expect(byKey(packages, '@types/debug@4.1.12')).toMatchObject({
      name: '@types/debug',
      version: '4.1.12',
      purl: 'pkg:npm/%40types/debug@4.1.12',
      line: 5,
      source: 'registry',
      direct: true,
      dev: true,
      dependencies: ['@types/ms@*'],
    });
    expect(byKey(packages, '@types/ms@*')).toMatchObject({
      version: '2.1.0',
      line: 12,
      direct: false,
      dev: true,
    });
  });

  it('merges a header of several descriptors into one package and keeps each version', () => {
    expect(byKey(packages, 'ms@^2.1.0')).toMatchObject({
      version: '2.1.3',
      line: 72,
      direct: true,
      dev: false,
    });
    expect(byName(packages, 'ms').map((pkg) => pkg.version)).toEqual(['0.7.3', '2.0.0', '2.1.3']);
    expect(byKey(packages, 'debug@2.6.9').dependencies).toEqual(['ms@2.0.0']);
  });

  it('reports an npm: alias under the real name', () => {
    expect(byKey(packages, 'ms-legacy@npm:ms@0.7.3')).toMatchObject({
      name: 'ms',
      version: '0.7.3',
      purl: 'pkg:npm/ms@0.7.3',
      line: 62,
      direct: true,
    });
  });

  it('classifies git, file, link and tarball URL entries', () => {
    expect(byKey(packages, 'tiny-git@git+file:///tmp/gitrepos/tiny-git.git')).toMatchObject({
      version: '1.0.0',
      source: 'git',
      line: 77,
      direct: true,
    });
    expect(byKey(packages, 'local-lib@file:./local-lib')).toMatchObject({
      version: '0.1.0',
      source: 'file',
      line: 57,
      dependencies: ['escape-string-regexp@^4.0.0'],
    });
    // yarn writes 0.0.0 for link: entries; the linked folder's package.json has the real version
    expect(byKey(packages, 'linked-lib@link:./linked-dir')).toMatchObject({
      version: '2.0.0',
      source: 'link',
      line: 53,
    });
    expect(
      byKey(packages, 'is-plain-obj@https://registry.npmjs.org/is-plain-obj/-/is-plain-obj-4.1.0.tgz'),
    ).toMatchObject({
      version: '4.1.0',
      source: 'registry',
    });
  });

  it('walks from package.json and the workspaces found beside it for direct and dev', () => {
    expect(byKey(packages, 'kind-of@^6.0.3')).toMatchObject({ direct: true, dev: true });
    // a devDependency of the root, but a dependency of the lib-a workspace (packages/lib-a)
    expect(byKey(packages, 'is-number@^7.0.0')).toMatchObject({ direct: true, dev: false });
    // a devDependency of lib-b only
    expect(byKey(packages, 'ansi-regex@^5.0.1')).toMatchObject({ direct: true, dev: true });
    expect(byKey(packages, 'fsevents@^2.3.3')).toMatchObject({ direct: true, dev: false });
    expect(byKey(packages, 'escape-string-regexp@^4.0.0')).toMatchObject({ direct: false, dev: false });
  });

  it('without package.json, guesses direct from the graph and sets no dev flags', () => {
    const { packages: bare, notes: bareNotes } = extractFixture('classic', bareContext('yarn.lock'));
    expect(bareNotes).toHaveLength(1);
    expect(bare.every((pkg) => !pkg.dev)).toBe(true);
    expect(byKey(bare, 'debug@2.6.9').direct).toBe(true);
    expect(byKey(bare, 'ms@2.0.0').direct).toBe(false);
  });

  it('when a workspace package.json cannot be found, sets no dev flags rather than wrong ones', () => {
    const dir = join(FIXTURES, 'classic');
    const full = fixtureContext(dir, 'yarn.lock');
    const rootOnly: ExtractContext = {
      path: 'yarn.lock',
      readFile: (path) => (path.startsWith('packages/') ? undefined : full.readFile(path)),
    };
    const { packages: partial, notes: partialNotes } = extractFixture('classic', rootOnly);
    expect(partialNotes.join('\n')).toMatch(/dev flags not set/);
    expect(byKey(partial, 'is-number@^7.0.0').dev).toBe(false);
    expect(byKey(partial, 'kind-of@^6.0.3')).toMatchObject({ direct: true, dev: false });
  });
});

describe('Berry (yarn 4: workspaces, alias, portal, link, file, builtin patch, tarball URL)', () => {
  const { content, packages, notes } = extractFixture('berry');

  it('reads every entry but the root workspace, on its header line', () => {
    expect(notes).toEqual([]);
    expect(packages).toHaveLength(38);
    expect(packages.some((pkg) => pkg.name === 'fixture-app')).toBe(false);
    expectHeaderLines(content, packages);
  });

  it('reads workspaces with their package.json version', () => {
    expect(byKey(packages, '@fixture/lib-a@workspace:packages/lib-a')).toMatchObject({
      name: '@fixture/lib-a',
      version: '1.0.0',
      purl: 'pkg:npm/%40fixture/lib-a@1.0.0',
      source: 'workspace',
      direct: true,
      line: 8,
      dependencies: ['is-number@npm:7.0.0', 'ms@npm:2.1.3'],
    });
    expect(byKey(packages, '@fixture/lib-b@workspace:packages/lib-b').dependencies).toEqual([
      '@fixture/lib-a@workspace:packages/lib-a',
      'ansi-regex@npm:5.0.1',
    ]);
  });

  it('reads aliases, scoped names and multiple versions', () => {
    expect(byKey(packages, 'ms@npm:0.7.3')).toMatchObject({
      name: 'ms',
      version: '0.7.3',
      line: 222,
      direct: true,
    });
    expect(byName(packages, 'ms').map((pkg) => pkg.line)).toEqual([222, 229, 236]);
    expect(byKey(packages, '@types/debug@npm:4.1.12')).toMatchObject({
      purl: 'pkg:npm/%40types/debug@4.1.12',
      line: 35,
      dev: true,
      dependencies: ['@types/ms@npm:2.1.0'],
    });
  });

  it('reports a builtin-patched package once, as the package it patches', () => {
    expect(byName(packages, 'fsevents')).toHaveLength(1);
    expect(byKey(packages, 'fsevents@npm:2.3.3')).toMatchObject({
      version: '2.3.3',
      source: 'registry',
      line: 137,
      direct: true,
      dev: false,
      dependencies: ['node-gyp@npm:13.1.0'],
    });
    expect(byKey(packages, 'node-gyp@npm:13.1.0')).toMatchObject({ direct: false, dev: false });
  });

  it('classifies link, portal, file and tarball URL entries', () => {
    expect(packages.find((pkg) => pkg.name === 'linked-lib')).toMatchObject({
      version: '2.0.0',
      source: 'link',
      line: 191,
    });
    expect(packages.find((pkg) => pkg.name === 'portal-lib')).toMatchObject({
      version: '3.0.0',
      source: 'link',
      line: 281,
    });
    expect(packages.find((pkg) => pkg.name === 'local-lib')).toMatchObject({
      version: '0.1.0',
      source: 'file',
      line: 197,
      dependencies: ['escape-string-regexp@npm:4.0.0'],
    });
    expect(packages.find((pkg) => pkg.name === 'is-plain-obj')).toMatchObject({
      version: '4.1.0',
      source: 'registry',
    });
  });

  it('walks from each workspace’s package.json for dev flags', () => {
    expect(byKey(packages, 'kind-of@npm:6.0.3')).toMatchObject({ direct: true, dev: true });
    expect(byKey(packages, 'is-number@npm:7.0.0')).toMatchObject({ direct: true, dev: false });
    expect(byKey(packages, 'ansi-regex@npm:5.0.1')).toMatchObject({ direct: true, dev: true });
    expect(byKey(packages, '@types/ms@npm:2.1.0')).toMatchObject({ direct: false, dev: true });
  });

  it('git, github and user patches (hand-written entries)', () => {
    const { packages: git, notes: gitNotes } = extractFixture('berry-git');
    expect(gitNotes).toEqual([]);
    expect(git.find((pkg) => pkg.name === 'is-odd')).toMatchObject({
      version: '3.0.1',
      source: 'git',
      direct: true,
      line: 25,
      dependencies: ['is-number@npm:6.0.0'],
    });
    expect(git.find((pkg) => pkg.name === 'tiny-git')).toMatchObject({
      version: '1.0.0',
      source: 'git',
      line: 45,
    });
    expect(git.find((pkg) => pkg.name === 'left-pad')).toMatchObject({
      version: '1.3.0',
      source: 'file',
      line: 33,
    });
    expect(git.find((pkg) => pkg.name === 'lodash-es')).toMatchObject({
      version: '4.17.21',
      source: 'registry',
      purl: 'pkg:npm/lodash-es@4.17.21',
      line: 39,
    });
    expect(byKey(git, 'is-number@npm:6.0.0')).toMatchObject({ direct: false, line: 19 });
  });
});

describe('the classic syntax', () => {
  it('reads quoted and bare keys, colons and nested blocks', () => {
    const text = [
      '# yarn lockfile v1',
      '',
      '"@a/b@^1.0.0", "@a/b@^1.1.0":',
      '  version "1.2.0"',
      '  resolved "https://registry.yarnpkg.com/@a/b/-/b-1.2.0.tgz#abc"',
      '  dependencies:',
      '    c "^2.0.0"',
      '    "@d/e" "~3.0.0"',
      '  optionalDependencies:',
      '    f: "1.0.0"',
      '',
      'c@^2.0.0:',
      '  version: 2.1.0',
    ].join('\n');
    const { blocks, notes } = parseClassic(text, 'yarn.lock');
    expect(notes).toEqual([]);
    expect(blocks).toEqual([
      {
        descriptors: ['@a/b@^1.0.0', '@a/b@^1.1.0'],
        line: 3,
        fields: {
          version: '1.2.0',
          resolved: 'https://registry.yarnpkg.com/@a/b/-/b-1.2.0.tgz#abc',
          dependencies: { c: '^2.0.0', '@d/e': '~3.0.0' },
          optionalDependencies: { f: '1.0.0' },
        },
      },
      { descriptors: ['c@^2.0.0'], line: 12, fields: { version: '2.1.0' } },
    ]);
  });
});

describe('malformed input', () => {
  const classic = readFixture(join(FIXTURES, 'classic'), 'yarn.lock');
  const berry = readFixture(join(FIXTURES, 'berry'), 'yarn.lock');
  const extract = (text: string) => extractYarnLock(text, bareContext('yarn.lock'));

  it('throws LockfileError with the line where a classic file stops being one', () => {
    const error = lockfileError(() => extract('# yarn lockfile v1\n\nthis is not a lockfile\n'));
    expect(error.line).toBe(3);
    expect(lockfileError(() => extract('{"lockfileVersion": 3}')).line).toBe(1);
  });

  it('skips a malformed classic entry with a note', () => {
    const broken = classic.replace(
      'debug@2.6.9:\n  version "2.6.9"',
      'debug@2.6.9:\n  version "2.6.9" "extra"',
    );
    const { packages, notes } = extract(broken.replace('kind-of@^6.0.3:', 'kind-of@^6.0.3'));
    expect(notes).toContain('skipped line 23: cannot read "version "2.6.9" "extra""');
    expect(notes).toContain('skipped "debug@2.6.9" (line 22): not a valid entry');
    expect(notes).toContain('skipped line 48: not an entry header');
    expect(packages).toHaveLength(14);
    expect(extract('# yarn lockfile v1\n\n').packages).toEqual([]);
  });

  it('throws LockfileError with the line of a Berry YAML syntax error', () => {
    const broken = berry.replace('  resolution: "debug@npm:2.6.9"', '  resolution: "debug@npm:2.6.9');
    expect(lockfileError(() => extract(broken)).message).toMatch(/not valid YAML/);
    expect(lockfileError(() => extract(broken)).line).toBeGreaterThanOrEqual(74);
    const badIndent = berry.replace('  version: 2.6.9\n', '  version: 2.6.9\n    nope: [\n');
    // the parser notices at `version: 2.6.9`, which the deeper `nope:` would turn into a mapping
    expect(lockfileError(() => extract(badIndent)).line).toBe(73);
  });

  it('skips a malformed Berry entry with a note', () => {
    const { packages, notes } = extract(berry.replace('  resolution: "debug@npm:2.6.9"\n', ''));
    expect(notes).toEqual(['skipped "debug@npm:2.6.9" (line 72): not a valid entry']);
    expect(packages).toHaveLength(37);
  });

  it('throws LockfileError for empty, binary and junk content', () => {
    expect(lockfileError(() => extract('')).message).toMatch(/empty/);
    expect(lockfileError(() => extract(binaryGarbage())).message).toMatch(/binary/);
    const started = Date.now();
    expect(lockfileError(() => extract(tenMegabytesOfJunk())).line).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('never throws anything but LockfileError on mangled lockfiles', () => {
    fuzz(classic, 300, extract);
    fuzz(berry, 150, extract);
  });
});
