// Reads Gemfile.lock: the specs of the GEM (registry), GIT and PATH sections, with their dependencies, and the
// DEPENDENCIES section for the direct gems. A platform suffix (`nokogiri (1.15.0-x86_64-linux)`) is not part of
// the version; the platform variants of one gem are one package.

import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { purl } from '../purl.js';

const SECTION = /^[A-Z][A-Z ]*$/;
const SPEC = /^ {4}([^\s(]+) \(([^)\s]+)\)$/;
const SPEC_DEPENDENCY = /^ {6}([^\s(!]+)(?: \([^)]*\))?$/;
const DEPENDENCY = /^ {2}([^\s(!]+)!?(?: \([^)]*\))?$/;

const SOURCES: Readonly<Record<string, Package['source']>> = { GEM: 'registry', GIT: 'git', PATH: 'file' };

interface Spec {
  readonly name: string;
  readonly version: string;
  readonly line: number;
  readonly source: Package['source'];
  readonly key: string;
  readonly dependencies: string[];
}

/** Extracts the gems of a Gemfile.lock. */
export function extractGemfileLock(content: string, context: ExtractContext): Package[] {
  if (content.trim() === '') throw new LockfileError('Gemfile.lock is empty');
  const specs = new Map<string, Spec>();
  const direct = new Set<string>();
  let section: string | undefined;
  let inSpecs = false;
  let current: Spec | undefined;
  content.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const lineNumber = index + 1;
    if (line.trim() === '') return;
    if (!line.startsWith(' ')) {
      if (!SECTION.test(line)) {
        throw new LockfileError(`not a Gemfile.lock: unexpected "${line.slice(0, 40)}"`, lineNumber);
      }
      section = line;
      inSpecs = false;
      current = undefined;
      return;
    }
    if (section === 'DEPENDENCIES') {
      const name = DEPENDENCY.exec(line)?.[1];
      if (name !== undefined) direct.add(name);
      return;
    }
    const source = section === undefined ? undefined : SOURCES[section];
    if (source === undefined) return;
    if (line === '  specs:') {
      inSpecs = true;
      return;
    }
    if (!inSpecs) return;
    const spec = SPEC.exec(line);
    if (spec !== null) {
      const name = spec[1] ?? '';
      // RubyGems versions have no `-`: what follows one is the platform.
      const version = (spec[2] ?? '').split('-')[0] ?? '';
      const key = `${name}@${version}`;
      current = specs.get(key);
      if (current === undefined) {
        current = { name, version, line: lineNumber, source, key, dependencies: [] };
        specs.set(key, current);
      }
      return;
    }
    const dependency = SPEC_DEPENDENCY.exec(line)?.[1];
    if (dependency !== undefined && current !== undefined && !current.dependencies.includes(dependency)) {
      current.dependencies.push(dependency);
    }
  });
  if (section === undefined) throw new LockfileError('not a Gemfile.lock: no sections', 1);

  const keysByName = new Map<string, string[]>();
  for (const spec of specs.values())
    keysByName.set(spec.name, [...(keysByName.get(spec.name) ?? []), spec.key]);
  return [...specs.values()].map((spec) => ({
    ecosystem: 'RubyGems',
    name: spec.name,
    version: spec.version,
    purl: purl('gem', undefined, spec.name, spec.version),
    direct: direct.has(spec.name),
    dev: false,
    file: context.path,
    line: spec.line,
    source: spec.source,
    key: spec.key,
    dependencies: spec.dependencies.flatMap((name) => keysByName.get(name) ?? []),
  }));
}
