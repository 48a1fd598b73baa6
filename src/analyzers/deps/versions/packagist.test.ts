// Packagist ordering: the shared oracle (php-src and composer/semver cases) and version_compare's quirks.
import { describe, it } from 'vitest';
import { describeOracle, expectInvalid, expectOrdered } from './oracle.test-helper.js';
import { packagistScheme } from './packagist.js';

describeOracle('packagist-versions.txt', packagistScheme, [
  {
    line: (line) => line.text === '1.2.3.# = 1.2.3' || line.text === '1.2.3.# = 1.2.3.1',
    actual: '<',
    reason:
      'PHP\'s version_compare("1.2.3.#", "1.2.3") and version_compare("1.2.3.#", "1.2.3.1") are -1: php_canonicalize_version turns "#" (like every non-alphanumeric character) into a separator, leaving "1.2.3." whose trailing empty part sorts first; the oracle follows OSV-SCALIBR, which keeps "#" as a part',
  },
]);

function expectAscending(versions: readonly string[]): void {
  versions.forEach((low, i) => {
    for (const high of versions.slice(i + 1)) expectOrdered(packagistScheme, low, '<', high);
  });
}

describe('Packagist versions', () => {
  it('orders the special forms dev < alpha < beta < RC < number < patch level', () => {
    expectAscending([
      '1.0.0-dev',
      '1.0.0-alpha1',
      '1.0.0-beta1',
      '1.0.0-beta2',
      '1.0.0-RC1',
      '1.0.0',
      '1.0.0.1',
      '1.0.0-patch1', // pl/p ranks above a number: version_compare('1.0.0-patch1', '1.0.0.1') is 1
      '1.0.1',
    ]);
    expectOrdered(packagistScheme, '1.0.0-alpha', '=', '1.0.0-a');
    expectOrdered(packagistScheme, '1.0.0-b2', '=', '1.0.0beta2');
    expectOrdered(packagistScheme, '1.0.0-pl1', '=', '1.0.0-p1');
  });

  it('canonicalises separators and letter/digit boundaries like php_canonicalize_version', () => {
    for (const version of [
      '1.0.0-alpha',
      '1.0.0alpha',
      '1.0.0_alpha',
      '1.0.0+alpha',
      '1.0.0.alpha',
      'v1.0.0-alpha',
      'V1.0.0-alpha',
    ]) {
      expectOrdered(packagistScheme, version, '=', '1.0.0.alpha');
    }
  });

  it('keeps version_compare’s quirks', () => {
    expectOrdered(packagistScheme, '1.0', '<', '1.0.0'); // an extra number part is greater
    expectOrdered(packagistScheme, '1.0Rc1', '<', '1.0-dev'); // forms are case-sensitive: "Rc" is unknown
    expectOrdered(packagistScheme, '1.0-', '<', '1.0'); // a trailing separator leaves an empty part
    expectOrdered(packagistScheme, 'dev-main', '<', '0.0.1');
    // Branch versions: "x" is an unknown word, below any number (Composer's branch-alias handling is not modelled).
    expectOrdered(packagistScheme, '2.x-dev', '<', '2.0.0');
  });

  it('compares long numbers exactly (PHP’s strtol would stop at 2^63-1)', () => {
    expectOrdered(packagistScheme, '1.99999999999999999999', '>', '1.99999999999999999998');
  });

  it('rejects constraints, blanks and characters no version has', () => {
    for (const version of [
      '',
      ' ',
      '^1.0',
      '~1.0',
      '1.0.*',
      '>=1.0',
      '1.0 || 2.0',
      '1.0 2.0',
      '-1.0',
      '.1',
      'é1',
      '1.0@dev',
    ]) {
      expectInvalid(packagistScheme, version, '1.0');
    }
  });
});
