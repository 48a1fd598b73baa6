// Go ordering: the shared SemVer oracle, pseudo-versions, +incompatible, shorthands and OSV's v-less versions.
import { describe, expect, it } from 'vitest';
import { goScheme } from './go.js';
import { describeOracle, expectInvalid, expectOrdered } from './oracle.test-helper.js';

describeOracle('semver-versions.txt', goScheme, [
  {
    line: '1.1.3.4.5 = 1.1.3.4.5',
    actual: 'invalid',
    reason:
      'golang.org/x/mod/semver: a version has at most three numbers (semver.IsValid("v1.1.3.4.5") is false)',
  },
]);

describe('Go versions', () => {
  it('orders pseudo-versions by base version, then by timestamp', () => {
    const ascending = [
      'v0.0.0-20190101000000-000000000000',
      'v0.0.0-20210226172049-e18ecbb05110',
      'v0.0.0-20210301000000-abcdefabcdef',
      'v0.0.0',
      'v1.2.3-pre',
      'v1.2.3-pre.0.20210226172049-e18ecbb05110',
      'v1.2.3-pre.1',
      'v1.2.3',
      'v1.2.4-0.20190101000000-abcdefabcdef',
      'v1.2.4-0.20210226172049-e18ecbb05110',
      'v1.2.4-alpha',
      'v1.2.4',
    ];
    ascending.forEach((low, i) => {
      for (const high of ascending.slice(i + 1)) expectOrdered(goScheme, low, '<', high);
    });
  });

  it('ignores +incompatible', () => {
    expectOrdered(goScheme, 'v2.0.0+incompatible', '=', 'v2.0.0');
    expectOrdered(goScheme, 'v2.0.0+incompatible', '<', 'v2.0.1+incompatible');
    expectOrdered(goScheme, 'v2.1.0+incompatible', '>', 'v2.0.0');
    expectOrdered(goScheme, 'v4.0.0-20200101000000-abcdefabcdef+incompatible', '<', 'v4.0.0+incompatible');
  });

  it('compares go.mod versions with OSV’s, which have no v', () => {
    expectOrdered(goScheme, 'v0.0.0-20210226172049-e18ecbb05110', '=', '0.0.0-20210226172049-e18ecbb05110');
    expectOrdered(goScheme, 'v1.2.3', '<', '1.2.4');
  });

  it('reads vMAJOR and vMAJOR.MINOR as x/mod/semver does', () => {
    expectOrdered(goScheme, 'v1', '=', 'v1.0.0');
    expectOrdered(goScheme, 'v1.2', '=', 'v1.2.0');
    expectOrdered(goScheme, 'v1.2', '<', 'v1.2.1');
  });

  it('has no size limit on numbers', () => {
    expectOrdered(goScheme, 'v99999999999999999999.0.0', '>', 'v9999999999999999999.0.0');
    expectOrdered(goScheme, 'v1.0.0-99999999999999999999', '<', 'v1.0.0-100000000000000000000');
  });

  it('rejects what x/mod/semver rejects', () => {
    for (const version of [
      '',
      'v',
      'vv1.2.3',
      'V1.2.3',
      'v01.2.3',
      'v1.02.3',
      'v1.2.3-',
      'v1.2.3+',
      'v1.2.3-01',
      'v1.2-pre',
      'v1+meta',
      'v1.2.3.4',
      ' v1.2.3',
      'latest',
      'master',
    ]) {
      expectInvalid(goScheme, version, 'v1.0.0');
    }
    expect(goScheme.isValid('v1.2.3')).toBe(true);
  });
});
