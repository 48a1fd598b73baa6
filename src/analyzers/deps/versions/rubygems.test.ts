// RubyGems ordering: the shared oracle and the cases of rubygems' own test_gem_version.rb.
import { describe, it } from 'vitest';
import { describeOracle, expectInvalid, expectOrdered } from './oracle.test-helper.js';
import { rubygemsScheme } from './rubygems.js';

describeOracle('rubygems-versions.txt', rubygemsScheme, [
  {
    line: (line) => ['1beta', '1gamma'].includes(line.b),
    actual: 'invalid',
    reason:
      'Gem::Version.new raises "Malformed version number string": ANCHORED_VERSION_PATTERN only lets letters follow a "." or "-" ([0-9]+(?>\\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?)',
  },
]);

describe('RubyGems versions', () => {
  it('orders as rubygems’ own test suite expects (test_gem_version.rb)', () => {
    expectOrdered(rubygemsScheme, '1.0', '=', '1.0.0');
    expectOrdered(rubygemsScheme, '1.0', '>', '1.0.a');
    expectOrdered(rubygemsScheme, '1.8.2', '>', '0.0.0');
    expectOrdered(rubygemsScheme, '1.8.2', '>', '1.8.2.a');
    expectOrdered(rubygemsScheme, '1.8.2.b', '>', '1.8.2.a');
    expectOrdered(rubygemsScheme, '1.8.2.a10', '>', '1.8.2.a9');
    expectOrdered(rubygemsScheme, '0.beta.1', '=', '0.0.beta.1');
    expectOrdered(rubygemsScheme, '0.0.beta', '<', '0.0.beta.1');
    expectOrdered(rubygemsScheme, '0.0.beta', '<', '0.beta.1');
    expectOrdered(rubygemsScheme, '5.a', '<', '5.0.0.rc2');
    expectOrdered(rubygemsScheme, '5.x', '>', '5.0.0.rc2');
    expectOrdered(rubygemsScheme, '1.2.b1', '=', '1.2.b.1');
    expectOrdered(rubygemsScheme, '1.0.0.a.1.0', '=', '1.a.1');
    expectOrdered(rubygemsScheme, '1.freeze.test', '<', '1');
  });

  it('reads - as .pre.', () => {
    const ascending = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ];
    ascending.forEach((low, i) => {
      for (const high of ascending.slice(i + 1)) expectOrdered(rubygemsScheme, low, '<', high);
    });
    expectOrdered(rubygemsScheme, '1.0.0-rc1', '<', '1.0.0');
    expectOrdered(rubygemsScheme, '1.0.0-1', '<', '1');
    expectOrdered(rubygemsScheme, '1.2.3-1', '=', '1.2.3.pre.1');
  });

  it('ignores surrounding whitespace, as Gem::Version does', () => {
    for (const version of ['1.0 ', ' 1.0 ', '1.0\n', '\n1.0\n'])
      expectOrdered(rubygemsScheme, version, '=', '1.0');
  });

  it('rejects malformed versions and requirements', () => {
    for (const version of [
      '',
      '   ',
      'junk',
      '1.0\n2.0',
      '1..2',
      '1.2 3.4',
      '2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.',
      'v1.0',
      '1.0.',
      '-1',
      '1.0-',
      '1beta',
      '~> 1.0',
      '>= 1.0',
    ]) {
      expectInvalid(rubygemsScheme, version, '1.0');
    }
  });
});
