// Maven ordering: the shared oracle and ComparableVersionTest's cases, all checked against maven-artifact 3.9.6.
import { describe, it } from 'vitest';
import { mavenScheme } from './maven.js';
import { describeOracle, expectInvalid, expectOrdered } from './oracle.test-helper.js';

describeOracle('maven-versions.txt', mavenScheme, [
  {
    line: '1-1 = 1-ga-1',
    actual: '>',
    reason:
      'maven-artifact 3.8.7 and 3.9.6 both say 1-1 > 1-ga-1: "1-ga-1" parses to [1, [[1]]] ("ga" is null and normalize() drops it, keeping the nested list), and an int item is greater than a list item',
  },
]);

function expectAscending(versions: readonly string[]): void {
  versions.forEach((low, i) => {
    for (const high of versions.slice(i + 1)) expectOrdered(mavenScheme, low, '<', high);
  });
}

// Every expectation here was also checked against org.apache.maven:maven-artifact:3.9.6.
describe('Maven versions', () => {
  it('orders qualifiers as ComparableVersionTest.VERSIONS_QUALIFIER', () => {
    expectAscending([
      '1-alpha2snapshot',
      '1-alpha2',
      '1-alpha-123',
      '1-beta-2',
      '1-beta123',
      '1-m2',
      '1-m11',
      '1-rc',
      '1-cr2',
      '1-rc123',
      '1-SNAPSHOT',
      '1',
      '1-sp',
      '1-sp2',
      '1-sp123',
      '1-abc',
      '1-def',
      '1-pom-1',
      '1-1-snapshot',
      '1-1',
      '1-2',
      '1-123',
    ]);
  });

  it('orders numbers as ComparableVersionTest.VERSIONS_NUMBER (3.9, after MNG-7644)', () => {
    expectAscending([
      '2.0',
      '2.0.a',
      '2-1',
      '2.0.2',
      '2.0.123',
      '2.1.0',
      '2.1-a',
      '2.1b',
      '2.1-c',
      '2.1-1',
      '2.1.0.1',
      '2.2',
      '2.123',
      '11.a2',
      '11.a11',
      '11.b2',
      '11.b11',
      '11.m2',
      '11.m11',
      '11',
      '11.a',
      '11b',
      '11c',
      '11m',
    ]);
  });

  it('treats .X like -X for a qualifier X (MNG-7644)', () => {
    for (const x of ['abc', 'alpha', 'a', 'beta', 'b', 'def', 'milestone', 'm', 'RC']) {
      expectOrdered(mavenScheme, `1.0.0.${x}1`, '<', `1.0.0-${x}2`);
      expectOrdered(mavenScheme, `2-${x}`, '=', `2.0.${x}`);
      expectOrdered(mavenScheme, `2.0.${x}`, '=', `2.0.0.${x}`);
    }
  });

  it('compares a whole sub-list against nothing (MNG-6964)', () => {
    expectAscending(['1-0.alpha', '1-0.beta', '1']);
  });

  it('orders real-world release trains', () => {
    expectAscending([
      '1.0-alpha-1',
      '1.0-beta-1',
      '1.0-milestone-1',
      '1.0-rc-1',
      '1.0-SNAPSHOT',
      '1.0',
      '1.0-sp-1',
      '1.0-1',
      '1.0.1',
    ]);
    expectAscending([
      '5.3.1.Final',
      '5.3.2.Final',
      '5.4.0.Alpha1',
      '5.4.0.Beta2',
      '5.4.0.CR1',
      '5.4.0.Final',
      '5.4.0.SP1',
    ]);
    expectAscending(['9.4.44.v20210927', '9.4.45.v20220203', '9.4.46.v20220331']);
    expectOrdered(mavenScheme, '2.0.0.RELEASE', '=', '2.0.0');
    expectOrdered(mavenScheme, '1.0.0.Final', '=', '1.0.0');
    expectOrdered(mavenScheme, '1.0-GA', '=', '1');
  });

  it('ignores leading zeros and compares long numbers exactly', () => {
    for (const zeros of ['01', '0001', '000000001', '0000000000000000001'])
      expectOrdered(mavenScheme, zeros, '=', '1');
    for (const zeros of ['00', '000000000', '0000000000', '0000000000000000000'])
      expectOrdered(mavenScheme, zeros, '=', '0');
    expectAscending([
      '20190126.230843',
      '1234567890.12345',
      '123456789012345.1H.5-beta',
      '12345678901234567890.1H.5-beta',
    ]);
  });

  it('rejects blanks, ranges, unresolved properties and characters Maven bans', () => {
    for (const version of [
      '',
      ' ',
      '1.0 ',
      '1.0\t',
      '[1.0,2.0)',
      '(,1.0]',
      '1.0,2.0',
      '${project.version}',
      '1.0/2',
      'a:b',
      '1.0*',
      '1.0?',
      '"1.0"',
      'ö1',
    ]) {
      expectInvalid(mavenScheme, version, '1.0');
    }
  });
});
