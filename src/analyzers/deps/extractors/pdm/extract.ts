// Reads pdm.lock: every `[[package]]`. Dev packages are those whose `groups` leave out `default` (or, in a lock
// without groups, those only the pyproject.toml dev groups reach); direct ones are what pyproject.toml declares.
// An entry repeated for extras (`extras = [...]`) is merged into the first.

import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { normalizePypiName, pypiPurl, requirementName } from '../pip/pep508.js';
import { type DeclaredDependencies, declaredDependencies, devOnlyNames } from '../poetry/pyproject.js';
import { arrayTableLines, parseTomlLock, readSiblingToml } from '../poetry/toml.js';
import { type PdmPackage, pdmLockSchema, pdmPackageSchema } from './schema.js';

function sourceOf(entry: PdmPackage): Package['source'] {
  if (entry.git !== undefined) return 'git';
  if (entry.path !== undefined || entry.url !== undefined || entry.editable === true) return 'file';
  return 'registry';
}

function dependencyNames(entry: PdmPackage): string[] {
  return (entry.dependencies ?? []).flatMap((spec) => {
    const name = typeof spec === 'string' ? requirementName(spec) : undefined;
    return name === undefined ? [] : [normalizePypiName(name)];
  });
}

interface Merged {
  readonly data: PdmPackage;
  readonly line: number;
  readonly normalized: string;
  readonly key: string;
  groups: string[] | undefined;
  dependencies: string[];
}

/** Extracts the packages of a pdm.lock. */
export function extractPdmLock(content: string, context: ExtractContext): Package[] {
  const lock = pdmLockSchema.safeParse(parseTomlLock(content, 'pdm.lock'));
  if (!lock.success) throw new LockfileError('not a pdm.lock: no [[package]] or [metadata]', 1);
  const headers = arrayTableLines(content, 'package');
  const merged = new Map<string, Merged>();
  (lock.data.package ?? []).forEach((raw, index) => {
    const parsed = pdmPackageSchema.safeParse(raw);
    if (!parsed.success) return;
    const data = parsed.data;
    const normalized = normalizePypiName(data.name);
    const key = `${normalized}@${data.version}`;
    const groups = data.groups ?? data.sections;
    const seen = merged.get(key);
    if (seen === undefined) {
      merged.set(key, {
        data,
        line: headers[index] ?? 1,
        normalized,
        key,
        groups,
        dependencies: dependencyNames(data),
      });
      return;
    }
    seen.groups = seen.groups === undefined || groups === undefined ? undefined : [...seen.groups, ...groups];
    for (const name of dependencyNames(data)) seen.dependencies.push(name);
  });
  const entries = [...merged.values()];

  const pyproject = readSiblingToml(context, 'pyproject.toml');
  const declared: DeclaredDependencies | undefined = pyproject ? declaredDependencies(pyproject) : undefined;
  const graph = new Map<string, string[]>();
  const keysByName = new Map<string, string[]>();
  for (const entry of entries) {
    graph.set(entry.normalized, [...(graph.get(entry.normalized) ?? []), ...entry.dependencies]);
    keysByName.set(entry.normalized, [...(keysByName.get(entry.normalized) ?? []), entry.key]);
  }
  const devOnly = declared ? devOnlyNames(graph, declared) : new Set<string>();

  return entries.map((entry) => ({
    ecosystem: 'PyPI',
    name: entry.data.name,
    version: entry.data.version,
    purl: pypiPurl(entry.data.name, entry.data.version),
    direct: declared ? declared.main.has(entry.normalized) || declared.dev.has(entry.normalized) : false,
    dev: entry.groups !== undefined ? !entry.groups.includes('default') : devOnly.has(entry.normalized),
    file: context.path,
    line: entry.line,
    source: sourceOf(entry.data),
    key: entry.key,
    dependencies: [
      ...new Set(
        entry.dependencies.flatMap((name) => (keysByName.get(name) ?? []).filter((k) => k !== entry.key)),
      ),
    ],
  }));
}
