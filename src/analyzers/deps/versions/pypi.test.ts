// PyPI ordering: the shared PEP 440 oracle (legacy lines rejected) and PEP 440's normalisation and ordering rules.
import { describe, it } from 'vitest';
import { describeOracle, expectInvalid, expectOrdered } from './oracle.test-helper.js';
import { pypiScheme } from './pypi.js';

/** The oracle's legacy (pre-PEP 440) versions, which packaging ≥ 22 no longer parses. */
const LEGACY = new Set([
  '0.1-bulbasaur',
  '0.1-charmander',
  '0.9-doduo',
  '0.9-eevee',
  '0.9-fearow',
  '0.9-gyarados',
  '0.9-horsea',
  '0.9-ivysaur',
  '-class.-jw.util.version.version-pre',
  '-class.-jw.util.version.version-preview',
  '-class.-jw.util.version.version-dev',
]);

describeOracle('pypi-versions.txt', pypiScheme, [
  {
    line: (line) => LEGACY.has(line.a) || LEGACY.has(line.b),
    actual: 'invalid',
    reason:
      'a legacy version: packaging.version.Version raises InvalidVersion (LegacyVersion was removed in 22.0)',
  },
]);

function expectAscending(versions: readonly string[]): void {
  versions.forEach((low, i) => {
    for (const high of versions.slice(i + 1)) expectOrdered(pypiScheme, low, '<', high);
  });
}

function expectAllEqual(versions: readonly string[]): void {
  for (const version of versions.slice(1)) expectOrdered(pypiScheme, version, '=', versions[0] ?? '');
}

describe('PyPI versions', () => {
  it('orders dev, pre, post and local releases as PEP 440 does', () => {
    expectAscending([
      '1.0.dev0',
      '1.0a1.dev0',
      '1.0a1',
      '1.0a1.post1.dev0',
      '1.0a1.post1',
      '1.0rc1',
      '1.0',
      '1.0+local',
      '1.0.post1.dev0',
      '1.0.post1',
    ]);
    expectAscending([
      '1.0a1',
      '1.0a2',
      '1.0b1',
      '1.0rc1',
      '1.0rc2',
      '1.0',
      '1.0.1.dev1',
      '1.0.1',
      '1.1.dev1',
      '1.1',
    ]);
  });

  it('pads release segments with zeros', () => {
    expectAllEqual(['1.0', '1', '1.0.0', '1.0.0.0', '01.00']);
    expectOrdered(pypiScheme, '1.0.0.1', '>', '1.0');
  });

  it('normalises spellings, case, separators and implicit numbers', () => {
    expectAllEqual([
      '1.0a1',
      '1.0alpha1',
      '1.0-a-1',
      '1.0_A_1',
      '1.0.a.1',
      '1.0ALPHA.1',
      'v1.0a1',
      ' 1.0a1\n',
    ]);
    expectAllEqual(['1.0b2', '1.0beta2', '1.0-BETA-2']);
    expectAllEqual(['1.0rc1', '1.0c1', '1.0pre1', '1.0preview1', '1.0-RC.1']);
    expectAllEqual(['1.0rc', '1.0rc0', '1.0.c']);
    expectAllEqual(['1.0.post1', '1.0-1', '1.0post1', '1.0.rev1', '1.0-r-1', '1.0.r1', '1.0_POST_1']);
    expectAllEqual(['1.0.post', '1.0.post0', '1.0-r']);
    expectAllEqual(['1.0.dev', '1.0.dev0', '1.0-DEV']);
    expectAllEqual(['1.0+ubuntu.1', '1.0+UBUNTU-1', '1.0+ubuntu_1']);
    expectAllEqual(['0!1.0', '1.0']);
  });

  it('compares epochs first', () => {
    expectAscending(['2.0', '1!1.0', '1!1.1', '2!0.1']);
  });

  it('compares local versions segment by segment, numbers above strings', () => {
    expectAscending([
      '1.0',
      '1.0+a',
      '1.0+abc',
      '1.0+abc.5',
      '1.0+abc.10',
      '1.0+abc.10.a',
      '1.0+b',
      '1.0+0',
      '1.0+1',
    ]);
  });

  it('compares large numbers exactly', () => {
    expectOrdered(pypiScheme, '1.0.99999999999999999999', '>', '1.0.9999999999999999999');
    expectOrdered(pypiScheme, '2023.10.99999999999999999999.dev0', '<', '2023.10.99999999999999999999');
  });

  it('rejects legacy versions and specifiers', () => {
    for (const version of [
      '',
      'v',
      '1.0-foo',
      '0.1-bulbasaur',
      '2004d',
      '1.0+',
      '1.0+foo..bar',
      '1..0',
      '1.0.',
      '.1',
      'latest',
      '1.0a1b1',
      '1.0.post1.post2',
      '1.0.dev1.dev2',
      '1.0+loc al',
      '!1.0',
      '1.0 1',
      '==1.0',
      '>=1.0',
      '1.*',
    ]) {
      expectInvalid(pypiScheme, version, '1.0');
    }
  });
});
