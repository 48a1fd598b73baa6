// Reads uv.lock: every `[[package]]` but the project itself (the editable or virtual source at "."). Workspace
// members are `workspace` packages. Direct packages are the dependencies of the project and its members; dev
// packages are reachable only through their `dev-dependencies` groups.

import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { normalizePypiName, pypiPurl } from '../pip/pep508.js';
import { reachable } from '../poetry/pyproject.js';
import { arrayTableLines, parseTomlLock } from '../poetry/toml.js';
import {
  type UvPackage,
  type UvSource,
  uvDependencySchema,
  uvLockSchema,
  uvPackageSchema,
} from './schema.js';

interface Entry {
  readonly data: UvPackage;
  readonly version: string | undefined;
  readonly line: number;
  readonly normalized: string;
  readonly key: string;
}

function isProject(source: UvSource | undefined): boolean {
  return source?.editable !== undefined || source?.virtual !== undefined;
}

function isRoot(source: UvSource | undefined): boolean {
  const path = source?.editable ?? source?.virtual;
  return path !== undefined && (path === '.' || path === './' || path === '');
}

function sourceOf(entry: Entry, members: ReadonlySet<string>): Package['source'] {
  const source = entry.data.source;
  if (source === undefined || source.registry !== undefined) return 'registry';
  if (source.git !== undefined) return 'git';
  if (members.has(entry.normalized) || source.virtual !== undefined) return 'workspace';
  return 'file';
}

/** Extracts the packages of a uv.lock. */
export function extractUvLock(content: string, context: ExtractContext): Package[] {
  const lock = uvLockSchema.safeParse(parseTomlLock(content, 'uv.lock'));
  if (!lock.success) throw new LockfileError('not a uv.lock: no version or [[package]]', 1);
  const table = lock.data.package !== undefined ? 'package' : 'distribution';
  const headers = arrayTableLines(content, table);
  const entries: Entry[] = [];
  (lock.data.package ?? lock.data.distribution ?? []).forEach((raw, index) => {
    const parsed = uvPackageSchema.safeParse(raw);
    if (!parsed.success) return;
    const normalized = normalizePypiName(parsed.data.name);
    const version = parsed.data.version;
    entries.push({
      data: parsed.data,
      version,
      line: headers[index] ?? 1,
      normalized,
      key: version === undefined ? normalized : `${normalized}@${version}`,
    });
  });

  const byName = new Map<string, Entry[]>();
  for (const entry of entries) byName.set(entry.normalized, [...(byName.get(entry.normalized) ?? []), entry]);
  function resolve(raw: unknown): string[] {
    const dependency = uvDependencySchema.safeParse(raw);
    if (!dependency.success) return [];
    const candidates = byName.get(normalizePypiName(dependency.data.name)) ?? [];
    const wanted = dependency.data.version;
    return candidates.filter((c) => wanted === undefined || c.version === wanted).map((c) => c.key);
  }

  const members = new Set((lock.data.manifest?.members ?? []).map(normalizePypiName));
  const projects = new Set(
    entries.filter((e) => isProject(e.data.source) && (isRoot(e.data.source) || members.has(e.normalized))),
  );
  const graph = new Map<string, string[]>();
  const runtimeRoots: string[] = [];
  const devRoots: string[] = [];
  for (const entry of entries) {
    const runtime = [
      ...(entry.data.dependencies ?? []),
      ...Object.values(entry.data['optional-dependencies'] ?? {}).flat(),
    ].flatMap(resolve);
    const dev = Object.values(entry.data['dev-dependencies'] ?? {})
      .flat()
      .flatMap(resolve);
    // A project's dev groups are edges only from the project; a dependency's are not installed.
    graph.set(entry.key, runtime);
    if (projects.has(entry)) {
      for (const key of runtime) runtimeRoots.push(key);
      for (const key of dev) devRoots.push(key);
    }
  }
  const direct = new Set([...runtimeRoots, ...devRoots]);
  const runtimeReach = reachable(graph, runtimeRoots);
  const devReach = reachable(graph, devRoots);
  // Members are needed at runtime when the project is.
  for (const project of projects) runtimeReach.add(project.key);

  const packages: Package[] = [];
  const keys = new Set<string>();
  for (const entry of entries) {
    if (isRoot(entry.data.source) || entry.version === undefined || keys.has(entry.key)) continue;
    keys.add(entry.key);
    const dependencies = [
      ...(entry.data.dependencies ?? []),
      ...Object.values(entry.data['optional-dependencies'] ?? {}).flat(),
      ...Object.values(entry.data['dev-dependencies'] ?? {}).flat(),
    ].flatMap(resolve);
    packages.push({
      ecosystem: 'PyPI',
      name: entry.data.name,
      version: entry.version,
      purl: pypiPurl(entry.data.name, entry.version),
      direct: direct.has(entry.key),
      dev: devReach.has(entry.key) && !runtimeReach.has(entry.key),
      file: context.path,
      line: entry.line,
      source: sourceOf(entry, members),
      key: entry.key,
      dependencies: [...new Set(dependencies)],
    });
  }
  return packages;
}
