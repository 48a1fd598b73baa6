// crates.io ordering: the shared SemVer oracle (v-prefixed lines rejected, as Cargo rejects them) and u64 limits.
import { describe, expect, it } from 'vitest';
import { cargoScheme } from './cargo.js';
import { describeOracle, expectInvalid, expectOrdered } from './oracle.test-helper.js';

describeOracle('semver-versions.txt', cargoScheme, [
  {
    line: (line) => line.a.startsWith('v') || line.b.startsWith('v'),
    actual: 'invalid',
    reason:
      'crates.io versions have no v prefix; the semver crate: "unexpected character \'v\' while parsing major version number"',
  },
  {
    line: (line) => line.a.startsWith('999999999999999999999999999991'),
    actual: 'invalid',
    reason: 'the semver crate keeps major, minor and patch in a u64 (and a single number is not SemVer)',
  },
  {
    line: '1.1.3.4.5 = 1.1.3.4.5',
    actual: 'invalid',
    reason: 'SemVer has exactly three numbers; the semver crate rejects a fourth',
  },
]);

describe('crates.io versions', () => {
  it('orders SemVer prereleases and ignores build metadata', () => {
    const ascending = [
      '0.1.0-alpha',
      '0.1.0-alpha.1',
      '0.1.0-beta.2',
      '0.1.0-beta.11',
      '0.1.0-rc.1',
      '0.1.0',
      '0.1.1',
    ];
    ascending.forEach((low, i) => {
      for (const high of ascending.slice(i + 1)) expectOrdered(cargoScheme, low, '<', high);
    });
    expectOrdered(cargoScheme, '1.0.0+build.5', '=', '1.0.0');
  });

  it('accepts numbers up to u64::MAX and compares them exactly', () => {
    expectOrdered(cargoScheme, '18446744073709551615.0.0', '>', '18446744073709551614.0.0');
    expect(cargoScheme.isValid('18446744073709551616.0.0')).toBe(false);
  });

  it('rejects anything the semver crate rejects', () => {
    for (const version of [
      '',
      'v1.2.3',
      '=1.2.3',
      ' 1.2.3',
      '1.2',
      '1.2.3.4',
      '01.2.3',
      '1.0.0-01',
      '1.0.0-',
      '^1.0',
    ]) {
      expectInvalid(cargoScheme, version, '1.0.0');
    }
  });
});
