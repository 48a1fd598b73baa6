// Reads Cargo.lock (v1 to v4): every `[[package]]`. A `registry+`/`sparse+` source is the registry, `git+` is
// git, none is a path or workspace crate; the root crate named by the Cargo.toml beside the lock is left out.
// Direct crates are the dependencies of local crates; dev ones are reachable only through [dev-dependencies]
// of the local manifests that can be read (the root Cargo.toml and its listed workspace members).
import { posix } from 'node:path';
import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { reachable } from '../poetry/pyproject.js';
import {
  arrayTableLines,
  asArray,
  asTable,
  parseTomlLock,
  readSiblingToml,
  type TomlTable,
} from '../poetry/toml.js';
import { purl } from '../purl.js';
import { type CargoPackage, cargoLockSchema, cargoPackageSchema } from './schema.js';

interface Entry {
  readonly data: CargoPackage;
  readonly line: number;
  key: string;
}

function sourceOf(source: string | undefined): Package['source'] {
  if (source === undefined) return 'workspace';
  if (source.startsWith('git+')) return 'git';
  return 'registry';
}

/** Names of the crates a manifest's dependency tables name, by the name the lock uses (`package = …`). */
function manifestDependencies(manifest: TomlTable, table: string): Set<string> {
  const tables = [asTable(manifest[table])];
  for (const target of Object.values(asTable(manifest.target) ?? {}))
    tables.push(asTable(asTable(target)?.[table]));
  const names = new Set<string>();
  for (const [name, spec] of tables.flatMap((t) => Object.entries(t ?? {}))) {
    const renamed = asTable(spec)?.package;
    names.add(typeof renamed === 'string' ? renamed : name);
  }
  return names;
}

interface Manifest {
  readonly name: string;
  readonly devOnly: Set<string>;
}

/** The root manifest and those of its non-glob workspace members, by crate name. */
function readManifests(context: ExtractContext): {
  root: string | undefined;
  manifests: Map<string, Manifest>;
} {
  const manifests = new Map<string, Manifest>();
  const root = readSiblingToml(context, 'Cargo.toml');
  if (root === undefined) return { root: undefined, manifests };
  const add = (manifest: TomlTable): string | undefined => {
    const name = asTable(manifest.package)?.name;
    if (typeof name !== 'string') return undefined;
    const normal = new Set([
      ...manifestDependencies(manifest, 'dependencies'),
      ...manifestDependencies(manifest, 'build-dependencies'),
    ]);
    const dev = manifestDependencies(manifest, 'dev-dependencies');
    manifests.set(name, { name, devOnly: new Set([...dev].filter((d) => !normal.has(d))) });
    return name;
  };
  const rootName = add(root);
  const dir = posix.dirname(context.path);
  for (const member of asArray(asTable(root.workspace)?.members)) {
    if (typeof member !== 'string' || /[*?[]/.test(member)) continue;
    const memberContext = { ...context, path: posix.join(dir, member, 'Cargo.lock') };
    const manifest = readSiblingToml(memberContext, 'Cargo.toml');
    if (manifest !== undefined) add(manifest);
  }
  return { root: rootName, manifests };
}

/** Extracts the crates of a Cargo.lock. */
export function extractCargoLock(content: string, context: ExtractContext): Package[] {
  const lock = cargoLockSchema.safeParse(parseTomlLock(content, 'Cargo.lock'));
  if (!lock.success) throw new LockfileError('not a Cargo.lock: no version, [root] or [[package]]', 1);
  const headers = arrayTableLines(content, 'package');
  const entries: Entry[] = [];
  (lock.data.package ?? []).forEach((raw, index) => {
    const parsed = cargoPackageSchema.safeParse(raw);
    if (parsed.success) entries.push({ data: parsed.data, line: headers[index] ?? 1, key: '' });
  });
  // Keys: name@version, with the source when two crates share both.
  const counts = new Map<string, number>();
  for (const { data } of entries) {
    const base = `${data.name}@${data.version}`;
    counts.set(base, (counts.get(base) ?? 0) + 1);
  }
  for (const entry of entries) {
    const base = `${entry.data.name}@${entry.data.version}`;
    entry.key =
      (counts.get(base) ?? 0) > 1 && entry.data.source !== undefined
        ? `${base} (${entry.data.source})`
        : base;
  }

  // v1 lists checksums apart and names dependencies in full; v2+ only as much as needed to be unambiguous.
  const byName = new Map<string, Entry[]>();
  for (const entry of entries) byName.set(entry.data.name, [...(byName.get(entry.data.name) ?? []), entry]);
  function resolve(reference: string): Entry | undefined {
    const match = /^(\S+)(?: (\S+))?(?: \((.+)\))?$/.exec(reference.trim());
    if (match === null) return undefined;
    const [, name = '', version, source] = match;
    const candidates = (byName.get(name) ?? []).filter(
      (c) =>
        (version === undefined || c.data.version === version) &&
        (source === undefined || c.data.source === source),
    );
    return candidates[0];
  }

  const { root, manifests } = readManifests(context);
  const v1Root = cargoPackageSchema.safeParse(lock.data.root);
  const locals = entries.filter((e) => e.data.source === undefined);
  const graph = new Map<string, string[]>();
  const edgesOf = new Map<string, Entry[]>();
  for (const entry of entries) {
    const children = (entry.data.dependencies ?? []).flatMap((d) => resolve(d) ?? []);
    edgesOf.set(entry.key, children);
    const manifest = entry.data.source === undefined ? manifests.get(entry.data.name) : undefined;
    graph.set(
      entry.key,
      children.filter((c) => !manifest?.devOnly.has(c.data.name)).map((c) => c.key),
    );
  }
  // A local crate only a manifest's [dev-dependencies] name (a test-helper path crate) is no runtime root.
  const devTargets = new Set([...manifests.values()].flatMap((m) => [...m.devOnly]));
  const localRoots = locals.filter((e) => manifests.has(e.data.name) || !devTargets.has(e.data.name));
  const rootChildren = v1Root.success
    ? (v1Root.data.dependencies ?? []).flatMap((d) => resolve(d) ?? [])
    : [];
  const direct = new Set(
    [...locals.flatMap((e) => edgesOf.get(e.key) ?? []), ...rootChildren].map((e) => e.key),
  );
  const runtime = reachable(graph, [...localRoots.map((e) => e.key), ...rootChildren.map((e) => e.key)]);
  const everything = reachable(
    new Map([...edgesOf].map(([key, children]) => [key, children.map((c) => c.key)])),
    [...locals.map((e) => e.key), ...rootChildren.map((e) => e.key)],
  );

  const packages: Package[] = [];
  for (const entry of entries) {
    const { name, version, source } = entry.data;
    if (source === undefined && name === root) continue;
    packages.push({
      ecosystem: 'crates.io',
      name,
      version,
      purl: purl('cargo', undefined, name, version),
      direct: direct.has(entry.key),
      dev: manifests.size > 0 && everything.has(entry.key) && !runtime.has(entry.key),
      file: context.path,
      line: entry.line,
      source: sourceOf(source),
      key: entry.key,
      dependencies: (edgesOf.get(entry.key) ?? []).map((c) => c.key),
    });
  }
  return packages;
}
