// Reads Gradle dependency lockfiles: `group:artifact:version=configuration,…` lines of gradle.lockfile, and the
// older one-file-per-configuration `gradle/dependency-locks/<configuration>.lockfile` with bare coordinates.
// A package is dev when every configuration that resolves it is a test one.
import { posix } from 'node:path';
import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { purl } from '../purl.js';

const COORDINATE = /^([^\s:=#]+):([^\s:=#]+):([^\s:=#]+)(?:=([^\s=]*))?$/;
const EMPTY = /^empty=[^\s=]*$/;

/** `testCompileClasspath`, `debugUnitTestRuntimeClasspath`, `androidTestImplementation`, `testFixturesApi`. */
export function isTestConfiguration(configuration: string): boolean {
  return /^test(?=[A-Z]|$)/.test(configuration) || /Test(?=[A-Z]|$)/.test(configuration);
}

/** The configuration an old-style per-configuration lockfile locks, from its name. */
function configurationOfFile(path: string): string | undefined {
  const parts = path.split('/');
  const base = parts[parts.length - 1] ?? '';
  if (base === 'gradle.lockfile' || base.endsWith('-gradle.lockfile')) return undefined;
  return base.replace(/\.lockfile$/, '');
}

/** Extracts the locked modules of a Gradle lockfile. */
export function extractGradleLockfile(content: string, context: ExtractContext): Package[] {
  if (content.trim() === '') throw new LockfileError('Gradle lockfile is empty');
  const nul = content.indexOf('\u0000');
  if (nul !== -1)
    throw new LockfileError('Gradle lockfile is binary', content.slice(0, nul).split('\n').length);
  const fileConfiguration = configurationOfFile(posix.normalize(context.path));
  const packages: Package[] = [];
  const keys = new Set<string>();
  let recognized = 0;
  let firstInvalid: number | undefined;
  content.split('\n').forEach((raw, index) => {
    const text = raw.trim();
    const line = index + 1;
    if (text === '' || text.startsWith('#')) return;
    if (EMPTY.test(text)) {
      recognized++;
      return;
    }
    const match = COORDINATE.exec(text);
    if (match === null) {
      firstInvalid ??= line;
      return;
    }
    recognized++;
    const [, group = '', artifact = '', version = '', list] = match;
    const configurations =
      list === undefined ? (fileConfiguration === undefined ? [] : [fileConfiguration]) : list.split(',');
    const name = `${group}:${artifact}`;
    const key = `${name}@${version}`;
    if (keys.has(key)) return;
    keys.add(key);
    packages.push({
      ecosystem: 'Maven',
      name,
      version,
      purl: purl('maven', group, artifact, version),
      direct: false,
      dev: configurations.length > 0 && configurations.every(isTestConfiguration),
      file: context.path,
      line,
      source: 'registry',
      key,
    });
  });
  if (recognized === 0 && firstInvalid !== undefined) {
    throw new LockfileError(
      `not a Gradle lockfile: line ${firstInvalid} is not a locked module`,
      firstInvalid,
    );
  }
  return packages;
}
