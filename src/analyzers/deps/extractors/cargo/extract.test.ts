// Tests of the Cargo.lock extractor: v1 ([root], full references), v3 workspaces, v4, several versions of a crate.
import { describe, expect, it } from 'vitest';
import {
  expectDamageTolerated,
  expectJunkRejected,
  extractFixture,
  fixtureContext,
  thrown,
} from '../composer/fixtures.test-helper.js';
import { cargoLockExtractor } from './index.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function extract(content: string) {
  return cargoLockExtractor.extract(content, fixtureContext(new URL('file:///none/'), 'Cargo.lock'));
}

describe('cargoLockExtractor', () => {
  it('matches Cargo.lock', () => {
    expect(cargoLockExtractor.matches('Cargo.lock')).toBe(true);
    expect(cargoLockExtractor.matches('rust/Cargo.lock')).toBe(true);
    expect(cargoLockExtractor.matches('Cargo.toml')).toBe(false);
  });

  it('reads a v3 workspace: sources, two versions of syn, direct and dev from the manifests', () => {
    const packages = extractFixture(cargoLockExtractor, FIXTURES, 'workspace/Cargo.lock');
    expect(packages.map((p) => [p.key, p.line, p.direct, p.dev, p.source])).toEqual([
      ['cfg-if@1.0.0', 17, false, true, 'registry'],
      ['fastrand@2.1.0', 23, false, true, 'registry'],
      ['helper@0.2.0', 29, true, false, 'workspace'],
      ['log@0.4.22', 36, true, false, 'registry'],
      ['proc-macro2@1.0.86', 42, false, false, 'registry'],
      ['serde@1.0.204', 48, true, false, 'registry'],
      ['serde_derive@1.0.204', 57, false, false, 'registry'],
      ['syn@1.0.109', 67, true, false, 'registry'],
      ['syn@2.0.72', 76, true, false, 'registry'],
      ['tempfile@3.10.1', 85, true, true, 'registry'],
      ['tokio-util@0.7.11', 95, true, false, 'git'],
    ]);
    expect(packages.find((p) => p.key === 'serde_derive@1.0.204')).toEqual({
      ecosystem: 'crates.io',
      name: 'serde_derive',
      version: '1.0.204',
      purl: 'pkg:cargo/serde_derive@1.0.204',
      direct: false,
      dev: false,
      file: 'workspace/Cargo.lock',
      line: 57,
      source: 'registry',
      key: 'serde_derive@1.0.204',
      dependencies: ['proc-macro2@1.0.86', 'syn@2.0.72'],
    });
    expect(packages.find((p) => p.name === 'helper')?.dependencies).toEqual(['syn@1.0.109']);
  });

  it('reads a v1 lock with [root] and full dependency references', () => {
    const packages = extractFixture(cargoLockExtractor, FIXTURES, 'v1/Cargo.lock');
    expect(packages.map((p) => [p.key, p.line, p.direct, p.dev])).toEqual([
      ['bitflags@1.0.4', 8, false, false],
      ['libc@0.2.43', 13, false, false],
      ['nix@0.11.0', 18, true, false],
    ]);
    expect(packages[2]?.dependencies).toEqual(['bitflags@1.0.4', 'libc@0.2.43']);
  });

  it('reads a v4 lock with a sparse registry; without Cargo.toml the local crate is listed as workspace', () => {
    const packages = extractFixture(cargoLockExtractor, FIXTURES, 'v4/Cargo.lock');
    expect(packages.map((p) => [p.key, p.line, p.direct, p.source, p.purl])).toEqual([
      ['demo@0.1.0', 5, false, 'workspace', 'pkg:cargo/demo@0.1.0'],
      ['internal-crate@1.2.0', 13, true, 'registry', 'pkg:cargo/internal-crate@1.2.0'],
      ['regex@1.10.5', 19, true, 'registry', 'pkg:cargo/regex@1.10.5'],
    ]);
  });

  it('keys two crates of one name and version by source', () => {
    const packages = extract(
      'version = 3\n\n[[package]]\nname = "a"\nversion = "1.0.0"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n\n[[package]]\nname = "a"\nversion = "1.0.0"\nsource = "git+https://example.com/a#abc"\n\n[[package]]\nname = "broken"\n',
    );
    expect(packages.map((p) => [p.key, p.line, p.source])).toEqual([
      ['a@1.0.0 (registry+https://github.com/rust-lang/crates.io-index)', 3, 'registry'],
      ['a@1.0.0 (git+https://example.com/a#abc)', 8, 'git'],
    ]);
  });

  it('throws LockfileError with the line of a TOML syntax error', () => {
    expect(thrown(() => extract('version = 3\n\n[[package]]\nname = "a"\nversion = \n')).line).toBe(5);
    expect(thrown(() => extract('<<<<<<< HEAD\nversion = 3\n')).line).toBe(1);
    expect(thrown(() => extract('\n\n')).line).toBeUndefined();
    expect(thrown(() => extract('[workspace]\nmembers = []\n')).message).toMatch(/not a Cargo.lock/);
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    for (const error of expectJunkRejected(cargoLockExtractor, 'Cargo.lock'))
      expect(error.line).toBeGreaterThan(0);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(cargoLockExtractor, FIXTURES, 'workspace/Cargo.lock');
  });
});
