// Reads poetry.lock: every `[[package]]`. Dev comes from `category = "dev"` (Poetry < 1.5), from `groups`
// without `main` (Poetry 2), or, when the lock records neither, from the pyproject.toml beside it; direct
// packages are the ones pyproject.toml declares.

import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { normalizePypiName, pypiPurl } from '../pip/pep508.js';
import { type DeclaredDependencies, declaredDependencies, devOnlyNames } from './pyproject.js';
import { type PoetryPackage, poetryLockSchema, poetryPackageSchema } from './schema.js';
import { arrayTableLines, parseTomlLock, readSiblingToml } from './toml.js';

function sourceOf(entry: PoetryPackage): Package['source'] {
  switch (entry.source?.type) {
    case undefined:
    case 'legacy':
    case 'pypi':
      return 'registry';
    case 'git':
      return 'git';
    default:
      // directory, file, url
      return 'file';
  }
}

interface Entry {
  readonly data: PoetryPackage;
  readonly line: number;
  readonly normalized: string;
}

/** Extracts the packages of a poetry.lock. */
export function extractPoetryLock(content: string, context: ExtractContext): Package[] {
  const lock = poetryLockSchema.safeParse(parseTomlLock(content, 'poetry.lock'));
  if (!lock.success) throw new LockfileError('not a poetry.lock: no [[package]] or [metadata]', 1);
  const headers = arrayTableLines(content, 'package');
  const entries: Entry[] = [];
  (lock.data.package ?? []).forEach((raw, index) => {
    const parsed = poetryPackageSchema.safeParse(raw);
    if (!parsed.success) return;
    entries.push({
      data: parsed.data,
      line: headers[index] ?? 1,
      normalized: normalizePypiName(parsed.data.name),
    });
  });

  const pyproject = readSiblingToml(context, 'pyproject.toml');
  const declared: DeclaredDependencies | undefined = pyproject ? declaredDependencies(pyproject) : undefined;
  const graph = new Map<string, string[]>();
  const keysByName = new Map<string, string[]>();
  for (const { data, normalized } of entries) {
    const deps = Object.keys(data.dependencies ?? {}).map(normalizePypiName);
    graph.set(normalized, [...(graph.get(normalized) ?? []), ...deps]);
    keysByName.set(normalized, [...(keysByName.get(normalized) ?? []), `${normalized}@${data.version}`]);
  }
  const devOnly = declared ? devOnlyNames(graph, declared) : new Set<string>();

  const packages: Package[] = [];
  const keys = new Set<string>();
  for (const { data, line, normalized } of entries) {
    const key = `${normalized}@${data.version}`;
    if (keys.has(key)) continue;
    keys.add(key);
    let dev: boolean;
    if (data.category !== undefined) dev = data.category === 'dev';
    else if (data.groups !== undefined) dev = !data.groups.includes('main');
    else dev = devOnly.has(normalized);
    const dependencies = Object.keys(data.dependencies ?? {}).flatMap(
      (name) => keysByName.get(normalizePypiName(name)) ?? [],
    );
    packages.push({
      ecosystem: 'PyPI',
      name: data.name,
      version: data.version,
      purl: pypiPurl(data.name, data.version),
      direct: declared ? declared.main.has(normalized) || declared.dev.has(normalized) : false,
      dev,
      file: context.path,
      line,
      source: sourceOf(data),
      key,
      dependencies,
    });
  }
  return packages;
}
