// NuGet ordering: the shared oracle, four-part versions, release labels and what NuGetVersion.TryParse rejects.
import { describe, it } from 'vitest';
import { nugetScheme } from './nuget.js';
import { describeOracle, expectInvalid, expectOrdered } from './oracle.test-helper.js';

describeOracle('nuget-versions.txt', nugetScheme, [
  {
    line: (line) => line.a.startsWith('999999999999999999999999999991'),
    actual: 'invalid',
    reason:
      'NuGetVersion keeps each part in a .NET int (System.Version); 999…991 does not fit, so no NuGet package can carry it',
  },
]);

function expectAscending(versions: readonly string[]): void {
  versions.forEach((low, i) => {
    for (const high of versions.slice(i + 1)) expectOrdered(nugetScheme, low, '<', high);
  });
}

describe('NuGet versions', () => {
  it('pads to four parts and allows leading zeros in them', () => {
    for (const version of ['1', '1.0', '1.0.0', '1.0.0.0', '01.00.000', ' 1.0.0 ']) {
      expectOrdered(nugetScheme, version, '=', '1.0.0');
    }
    expectAscending(['1.0.0', '1.0.0.1', '1.0.1', '1.0.1.2', '1.1', '2']);
  });

  it('orders release labels: numbers numerically and first, words case-insensitively', () => {
    expectAscending([
      '1.0.0-2',
      '1.0.0-10',
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-BETA',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ]);
    expectOrdered(nugetScheme, '1.0.0-Alpha.X', '=', '1.0.0-alpha.x');
    expectOrdered(nugetScheme, '1.0.0.1-alpha', '>', '1.0.0');
  });

  it('reads a label as a number only when .NET’s int.TryParse does', () => {
    // 2147483648 overflows an int, so NuGet compares it as a word, after every number.
    expectOrdered(nugetScheme, '1.0.0-2147483648', '>', '1.0.0-2147483647');
    expectOrdered(nugetScheme, '1.0.0--1', '<', '1.0.0-0');
  });

  it('ignores metadata', () => {
    expectOrdered(nugetScheme, '1.0.0+abc', '=', '1.0.0+def');
    expectOrdered(nugetScheme, '1.0.0-beta+abc', '=', '1.0.0-BETA');
  });

  it('rejects what NuGetVersion.TryParse rejects', () => {
    for (const version of [
      '',
      ' ',
      '1.0.0.0.0',
      '1..0',
      '1.0.',
      '.1',
      'v1.0.0',
      '1.0.0-',
      '1.0.0+',
      '1.0.0-01',
      '1.0.0-a..b',
      '1.0.0-a_b',
      '1.0.0+a..b',
      '1.0.0-beta+',
      '[1.0,2.0)',
      '1.*',
      '-1.0',
      '2147483648.0',
      'latest',
    ]) {
      expectInvalid(nugetScheme, version, '1.0.0');
    }
  });
});
