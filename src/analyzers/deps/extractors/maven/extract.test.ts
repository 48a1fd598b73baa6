// Tests of the pom.xml extractor: properties (nested, project and parent coordinates), dependency management.
import { describe, expect, it } from 'vitest';
import {
  expectDamageTolerated,
  expectJunkRejected,
  extractFixture,
  fixtureContext,
  thrown,
} from '../composer/fixtures.test-helper.js';
import { resolveProperties } from './extract.js';
import { pomExtractor } from './index.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function extract(content: string) {
  return pomExtractor.extract(content, fixtureContext(new URL('file:///none/'), 'pom.xml'));
}

describe('pomExtractor', () => {
  it('matches pom.xml', () => {
    expect(pomExtractor.matches('service/pom.xml')).toBe(true);
    expect(pomExtractor.matches('pom.xml.bak')).toBe(false);
  });

  it('reads declared and managed dependencies with properties resolved', () => {
    const packages = extractFixture(pomExtractor, FIXTURES, 'pom.xml');
    expect(packages.map((p) => [p.name, p.version, p.line, p.dev])).toEqual([
      ['org.springframework:spring-webmvc', '5.3.30', 53, false],
      ['org.apache.logging.log4j:log4j-core', '2.14.1', 58, false],
      ['com.example:gate-common', '2.7.18', 62, false],
      ['org.mockito:mockito-core', '4.11.0', 72, true],
      ['junit:junit', '4.13.2', 76, true],
      ['com.example:parent-versioned', '2.7.18', 97, false],
      ['com.fasterxml.jackson:jackson-bom', '2.9.8', 31, false],
    ]);
    expect(packages[1]).toEqual({
      ecosystem: 'Maven',
      name: 'org.apache.logging.log4j:log4j-core',
      version: '2.14.1',
      purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
      direct: true,
      dev: false,
      file: 'pom.xml',
      line: 58,
      source: 'registry',
      key: 'org.apache.logging.log4j:log4j-core@2.14.1',
    });
    expect(packages.every((p) => p.direct && p.source === 'registry')).toBe(true);
  });

  it('resolves nested properties and gives up on unknown or cyclic ones', () => {
    const properties = new Map([
      ['a', '${b}.1'],
      ['b', '${c}'],
      ['c', '2'],
      ['loop', '${loop}'],
    ]);
    expect(resolveProperties('v${a}-${c}', properties)).toBe('v2.1-2');
    expect(resolveProperties('${missing}', properties)).toBeUndefined();
    expect(resolveProperties('${loop}', properties)).toBeUndefined();
    expect(resolveProperties('1.0', properties)).toBe('1.0');
  });

  it('reads a minimal pom without a namespace, with CRLF line ends, and a project with its own version', () => {
    const pom = [
      '<project>',
      '  <groupId>g</groupId><artifactId>a</artifactId><version>3.0</version>',
      '  <dependencies>',
      '    <dependency><groupId>x</groupId><artifactId>y</artifactId><version>${project.version}</version></dependency>',
      '  </dependencies>',
      '</project>',
    ].join('\r\n');
    expect(extract(pom).map((p) => [p.key, p.line])).toEqual([['x:y@3.0', 4]]);
    expect(extract('<project><modelVersion>4.0.0</modelVersion></project>')).toEqual([]);
  });

  it('throws LockfileError with the line of an XML error', () => {
    expect(
      thrown(() => extract('<project>\n  <dependencies>\n    <dependency>\n  </dependencies>\n</project>'))
        .line,
    ).toBe(4);
    expect(thrown(() => extract('<project>\n<dependencies>\n')).line).toBeGreaterThan(0);
    expect(thrown(() => extract('<settings><x>1</x></settings>')).message).toMatch(/not a pom.xml/);
    expect(thrown(() => extract('')).line).toBeUndefined();
    const deep = `<project>${'<a>'.repeat(500)}${'</a>'.repeat(500)}</project>`;
    expect(thrown(() => extract(deep)).message).toMatch(/pom.xml/);
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    for (const error of expectJunkRejected(pomExtractor, 'pom.xml')) expect(error.line).toBeGreaterThan(0);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(pomExtractor, FIXTURES, 'pom.xml');
  });
});
