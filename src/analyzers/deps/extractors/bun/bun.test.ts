// Tests of the bun lockfile extractor against bun.lock files written by bun 1.4 (v2) and bun 1.2 (v1).
import { readFileSync } from 'node:fs';
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
import { extractBunLock } from './extract.js';
import { bunLockExtractor } from './index.js';

const FIXTURES = join(import.meta.dirname, '__fixtures__');

function extractFixture(folder: string) {
  const dir = join(FIXTURES, folder);
  const content = readFixture(dir, 'bun.lock');
  return { content, ...extractBunLock(content, fixtureContext(dir, 'bun.lock')) };
}

function expectKeyLines(content: string, packages: readonly Package[]): void {
  const lines = content.split('\n');
  for (const pkg of packages) expect(lines[pkg.line - 1]).toMatch(new RegExp(`^ {4}"${pkg.key}": \\[`));
}

describe('bunLockExtractor', () => {
  it('matches bun.lock and bun.lockb by base name', () => {
    expect(bunLockExtractor.matches('bun.lock')).toBe(true);
    expect(bunLockExtractor.matches('apps/api/bun.lockb')).toBe(true);
    expect(bunLockExtractor.matches('bunfig.toml')).toBe(false);
  });

  it('returns the same packages through the Extractor interface', () => {
    const dir = join(FIXTURES, 'workspace');
    const content = readFixture(dir, 'bun.lock');
    const context = fixtureContext(dir, 'bun.lock');
    expect(bunLockExtractor.extract(content, context)).toEqual(extractBunLock(content, context).packages);
  });
});

describe('bun.lock v2 (bun 1.4: workspaces, alias, git, file, link, tarball URL, peers, optional, dev)', () => {
  const { content, packages, notes } = extractFixture('workspace');

  it('reads every package entry on its key line', () => {
    expect(notes).toEqual([]);
    expect(packages).toHaveLength(21);
    expect(packages.some((pkg) => pkg.name === 'fixture-app')).toBe(false);
    expectKeyLines(content, packages);
  });

  it('reads scoped names, aliases and nested versions', () => {
    expect(byKey(packages, '@types/debug')).toMatchObject({
      name: '@types/debug',
      version: '4.1.12',
      purl: 'pkg:npm/%40types/debug@4.1.12',
      line: 51,
      direct: true,
      dev: true,
      source: 'registry',
      dependencies: ['@types/ms'],
    });
    expect(byKey(packages, 'ms-legacy')).toMatchObject({
      name: 'ms',
      version: '0.7.3',
      line: 79,
      direct: true,
    });
    expect(byKey(packages, 'debug/ms')).toMatchObject({
      name: 'ms',
      version: '2.0.0',
      line: 87,
      direct: false,
    });
    expect(byKey(packages, 'debug').dependencies).toEqual(['debug/ms']);
    expect(byName(packages, 'ms').map((pkg) => pkg.version)).toEqual(['2.1.3', '0.7.3', '2.0.0']);
  });

  it('classifies workspace, link, file, git and tarball URL entries', () => {
    expect(byKey(packages, '@fixture/lib-a')).toMatchObject({
      version: '1.0.0',
      source: 'workspace',
      direct: true,
      line: 47,
      dependencies: ['is-number', 'ms'],
    });
    expect(byKey(packages, '@fixture/lib-b').dependencies).toEqual(['@fixture/lib-a', 'ansi-regex']);
    expect(byKey(packages, 'linked-lib')).toMatchObject({ version: '2.0.0', source: 'link', line: 71 });
    expect(byKey(packages, 'local-lib')).toMatchObject({
      version: '0.1.0',
      source: 'file',
      line: 73,
      dependencies: ['escape-string-regexp'],
    });
    expect(byKey(packages, 'tiny-git')).toMatchObject({
      version: '7b6273738c32053407d0053ea455972570b8b401',
      source: 'git',
      line: 83,
    });
    expect(byKey(packages, 'is-plain-obj')).toMatchObject({ version: '4.1.0', source: 'registry', line: 65 });
  });

  it('walks from the workspaces for direct and dev', () => {
    expect(byKey(packages, 'kind-of')).toMatchObject({ direct: true, dev: true });
    expect(byKey(packages, 'is-number')).toMatchObject({ direct: true, dev: false });
    expect(byKey(packages, 'ansi-regex')).toMatchObject({ direct: true, dev: true });
    expect(byKey(packages, '@types/ms')).toMatchObject({ direct: false, dev: true });
    expect(byKey(packages, 'fsevents')).toMatchObject({ direct: true, dev: false });
    expect(byKey(packages, 'react')).toMatchObject({ direct: false, dev: false });
    expect(byKey(packages, 'use-sync-external-store').dependencies).toEqual(['react']);
  });
});

describe('bun.lock v1 (bun 1.2: single project, scoped peers, alias)', () => {
  const { content, packages, notes } = extractFixture('single');

  it('reads the packages, direct and dev', () => {
    expect(notes).toEqual([]);
    expect(packages).toHaveLength(15);
    expectKeyLines(content, packages);
    expect(byKey(packages, '@tanstack/react-query')).toMatchObject({
      purl: 'pkg:npm/%40tanstack/react-query@5.0.0',
      line: 20,
      direct: true,
      dev: false,
      dependencies: ['@tanstack/query-core', 'react', 'react-dom'],
    });
    expect(byKey(packages, 'string-width-cjs')).toMatchObject({
      name: 'string-width',
      version: '4.2.3',
      line: 44,
    });
    expect(byKey(packages, 'csstype')).toMatchObject({ direct: false, dev: true });
    expect(byKey(packages, 'ansi-regex')).toMatchObject({ direct: false, dev: false });
  });
});

describe('malformed input', () => {
  const v2 = readFixture(join(FIXTURES, 'workspace'), 'bun.lock');
  const extract = (text: string) => extractBunLock(text, bareContext('bun.lock'));

  it('refuses the binary bun.lockb with advice', () => {
    const binary = readFileSync(join(FIXTURES, 'binary', 'bun.lockb'), 'utf8');
    const error = lockfileError(() => extractBunLock(binary, bareContext('bun.lockb')));
    expect(error.message).toMatch(/bun install --save-text-lockfile/);
    expect(lockfileError(() => extract(binary)).message).toMatch(/binary lockfile/);
  });

  it('throws LockfileError with the line of truncated or broken JSONC', () => {
    expect(lockfileError(() => extract(v2.slice(0, v2.indexOf('"debug/ms"')))).line).toBe(87);
    expect(
      lockfileError(() => extract(v2.replace('"ms": "^2.1.3",\n      },', '"ms": "^2.1.3"\n      ]'))).line,
    ).toBe(33);
  });

  it('throws LockfileError for empty, binary, junk and other JSON', () => {
    expect(lockfileError(() => extract('')).message).toMatch(/empty/);
    expect(lockfileError(() => extract(binaryGarbage())).message).toMatch(/binary/);
    expect(lockfileError(() => extract('{"packages": {}}')).message).toMatch(/lockfileVersion/);
    const started = Date.now();
    expect(lockfileError(() => extract(tenMegabytesOfJunk())).line).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('skips a malformed entry with a note', () => {
    const { packages, notes } = extract(v2.replace('"kind-of": ["kind-of@6.0.3",', '"kind-of": [6.03,'));
    expect(notes).toEqual(['skipped packages["kind-of"] (line 69): not a valid package entry']);
    expect(packages).toHaveLength(20);
  });

  it('never throws anything but LockfileError on mangled lockfiles', () => {
    fuzz(v2, 300, extract);
  });
});
