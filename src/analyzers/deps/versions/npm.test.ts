// npm ordering: the shared SemVer oracle, semver.org's precedence example, npm's loose prefix and rejected ranges.
import { describe, expect, it } from 'vitest';
import { npmScheme } from './npm.js';
import { describeOracle, expectInvalid, expectOrdered } from './oracle.test-helper.js';

/** Every pair of a list in ascending order, checked both ways round. */
function expectAscending(versions: readonly string[]): void {
  versions.forEach((low, i) => {
    for (const high of versions.slice(i + 1)) expectOrdered(npmScheme, low, '<', high);
  });
}

describeOracle('semver-versions.txt', npmScheme, [
  {
    line: '999999999999999999999999999991 < 999999999999999999999999999999',
    actual: 'invalid',
    reason: 'a single number is not SemVer; node-semver: "Invalid Version"',
  },
  {
    line: (line) => line.a.startsWith('999999999999999999999999999991.'),
    actual: 'invalid',
    reason: 'node-semver rejects a major version above Number.MAX_SAFE_INTEGER ("Invalid major version")',
  },
  {
    line: '1.1.3.4.5 = 1.1.3.4.5',
    actual: 'invalid',
    reason: 'SemVer has exactly three numbers; node-semver: "Invalid Version" (even in loose mode)',
  },
]);

describe('npm versions', () => {
  it('orders the precedence example of semver.org §11', () => {
    expectAscending([
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '2.0.0',
      '2.1.0',
      '2.1.1',
    ]);
  });

  it('puts numeric identifiers below alphanumeric ones and a longer prerelease above its prefix', () => {
    expectAscending([
      '1.0.0-0',
      '1.0.0-1',
      '1.0.0-9',
      '1.0.0-10',
      '1.0.0-a',
      '1.0.0-a.1',
      '1.0.0-a.b',
      '1.0.0-b',
    ]);
    expectOrdered(npmScheme, '1.0.0-x-1', '>', '1.0.0-x');
    expectOrdered(npmScheme, '1.0.0-Z', '<', '1.0.0-a');
  });

  it('ignores build metadata', () => {
    expectOrdered(npmScheme, '1.0.0+build.1', '=', '1.0.0+build.2');
    expectOrdered(npmScheme, '1.0.0-alpha+001', '=', '1.0.0-alpha');
    expectOrdered(npmScheme, '1.0.0+20130313144700', '=', '1.0.0');
  });

  it('accepts a leading v and = and surrounding space, as npm does', () => {
    for (const version of ['v1.2.3', '=1.2.3', '=v1.2.3', ' 1.2.3 ', 'v 1.2.3']) {
      expectOrdered(npmScheme, version, '=', '1.2.3');
    }
  });

  it('compares large numbers exactly up to npm’s limit', () => {
    expectOrdered(npmScheme, '9007199254740991.0.0', '>', '9007199254740990.0.0');
    expectOrdered(npmScheme, '1.0.0-99999999999999999999', '<', '1.0.0-100000000000000000000');
    expect(npmScheme.isValid('9007199254740992.0.0')).toBe(false);
  });

  it('rejects partial versions, ranges, tags and malformed versions', () => {
    for (const version of [
      '',
      '1',
      '1.2',
      '1.2.3.4',
      '01.2.3',
      '1.02.3',
      '1.2.03',
      '1.2.3-',
      '1.2.3+',
      '1.2.3-01',
      '1.2.3-a..b',
      '1.2.3+a..b',
      '1.2.3-a_b',
      'V1.2.3',
      '^1.2.3',
      '~1.2.3',
      '>=1.2.3',
      '1.x',
      '1.2.*',
      '*',
      '1.2.3 - 2.0.0',
      '1.2.3 || 2.0.0',
      'latest',
      `1.2.3-${'a'.repeat(260)}`,
    ]) {
      expectInvalid(npmScheme, version, '1.0.0');
    }
  });
});
