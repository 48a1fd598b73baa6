// Tests of the Gradle lockfile extractor: the single-file format and the older per-configuration files.
import { describe, expect, it } from 'vitest';
import {
  expectDamageTolerated,
  expectJunkRejected,
  extractFixture,
  fixtureContext,
  thrown,
} from '../composer/fixtures.test-helper.js';
import { isTestConfiguration } from './extract.js';
import { gradleLockfileExtractor } from './index.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function extract(content: string, path = 'gradle.lockfile') {
  return gradleLockfileExtractor.extract(content, fixtureContext(new URL('file:///none/'), path));
}

describe('gradleLockfileExtractor', () => {
  it('matches gradle.lockfile and per-configuration lockfiles', () => {
    for (const path of [
      'gradle.lockfile',
      'app/gradle.lockfile',
      'buildscript-gradle.lockfile',
      'settings-gradle.lockfile',
      'gradle/dependency-locks/compileClasspath.lockfile',
      'lib/gradle/dependency-locks/buildscript-classpath.lockfile',
    ]) {
      expect(gradleLockfileExtractor.matches(path), path).toBe(true);
    }
    for (const path of ['app/other.lockfile', 'gradle.properties', 'gradle/libs.versions.toml']) {
      expect(gradleLockfileExtractor.matches(path), path).toBe(false);
    }
  });

  it('reads coordinates, dev only when every configuration is a test one', () => {
    const packages = extractFixture(gradleLockfileExtractor, FIXTURES, 'app/gradle.lockfile');
    expect(packages.map((p) => [p.name, p.version, p.line, p.dev])).toEqual([
      ['com.fasterxml.jackson.core:jackson-databind', '2.9.8', 4, false],
      ['com.google.guava:guava', '31.1-jre', 5, false],
      ['junit:junit', '4.13.2', 6, true],
      ['org.apache.logging.log4j:log4j-core', '2.14.1', 7, false],
      ['org.hamcrest:hamcrest-core', '1.3', 8, true],
      ['org.mockito:mockito-core', '5.11.0', 9, true],
      ['org.projectlombok:lombok', '1.18.32', 10, false],
      ['com.squareup.leakcanary:leakcanary-android', '2.12', 11, false],
    ]);
    expect(packages[3]).toEqual({
      ecosystem: 'Maven',
      name: 'org.apache.logging.log4j:log4j-core',
      version: '2.14.1',
      purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
      direct: false,
      dev: false,
      file: 'app/gradle.lockfile',
      line: 7,
      source: 'registry',
      key: 'org.apache.logging.log4j:log4j-core@2.14.1',
    });
  });

  it('reads per-configuration lockfiles, the file name being the configuration', () => {
    const main = extractFixture(
      gradleLockfileExtractor,
      FIXTURES,
      'app/gradle/dependency-locks/compileClasspath.lockfile',
    );
    expect(main.map((p) => [p.key, p.line, p.dev])).toEqual([
      ['com.google.guava:failureaccess@1.0.1', 4, false],
      ['com.google.guava:guava@28.2-jre', 5, false],
    ]);
    const test = extractFixture(
      gradleLockfileExtractor,
      FIXTURES,
      'app/gradle/dependency-locks/testRuntimeClasspath.lockfile',
    );
    expect(test.map((p) => [p.key, p.dev])).toEqual([
      ['junit:junit@4.12', true],
      ['org.hamcrest:hamcrest-core@1.3', true],
    ]);
  });

  it('knows test configurations', () => {
    for (const name of [
      'testCompileClasspath',
      'testFixturesRuntimeClasspath',
      'debugAndroidTestCompileClasspath',
      'integrationTestRuntimeClasspath',
    ]) {
      expect(isTestConfiguration(name), name).toBe(true);
    }
    for (const name of [
      'compileClasspath',
      'latestRuntimeClasspath',
      'contestCompileClasspath',
      'annotationProcessor',
    ]) {
      expect(isTestConfiguration(name), name).toBe(false);
    }
  });

  it('skips a malformed line among good ones; a header-only file has no packages', () => {
    expect(
      extract('a:b:1.0=compileClasspath\nnot a coordinate\nc:d:2.0=runtimeClasspath\n').map((p) => p.key),
    ).toEqual(['a:b@1.0', 'c:d@2.0']);
    expect(extract('# This is a Gradle generated file for dependency locking.\nempty=\n')).toEqual([]);
  });

  it('throws LockfileError with a line for a file that is not a lockfile', () => {
    expect(thrown(() => extract('# header\n\n<html><body>nope</body></html>\n')).line).toBe(3);
    expect(thrown(() => extract('')).line).toBeUndefined();
  });

  it('throws LockfileError on binary garbage and 10 MB of junk, quickly', () => {
    for (const error of expectJunkRejected(gradleLockfileExtractor, 'gradle.lockfile'))
      expect(error.line).toBeGreaterThan(0);
  });

  it('returns packages or throws LockfileError for truncated and corrupted copies of the fixture', () => {
    expectDamageTolerated(gradleLockfileExtractor, FIXTURES, 'app/gradle.lockfile');
  });
});
