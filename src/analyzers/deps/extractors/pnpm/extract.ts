// Reads pnpm-lock.yaml: lockfile versions 5.x (`/name/1.0.0`), 6.x (`/name@1.0.0`) and 9.x (`packages` + `snapshots`).
import { posix } from 'node:path';
import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import {
  assertText,
  devOnly,
  type ExtractResult,
  filePath,
  gitCommit,
  isGitReference,
  isPackageName,
  npmPackage,
  readManifest,
  registryTarballVersion,
  type Source,
  splitAt,
} from '../npm/shared.js';
import { isRecord, parseYaml } from '../npm/yaml.js';
import {
  ImporterDependencySchema,
  type PackageEntry,
  PackageEntrySchema,
  type Resolution,
  SnapshotSchema,
} from './schema.js';

const GROUPS = ['dependencies', 'optionalDependencies', 'devDependencies'] as const;

interface KeyInfo {
  /** The depPath without the leading `/` and the peer suffix: `ms@2.1.3`, `file:local-lib`, `github.com/u/r/sha`. */
  readonly id: string;
  readonly name: string | undefined;
  readonly version: string | undefined;
}

interface Node {
  readonly id: string;
  name: string;
  version: string;
  source: Source;
  line: number;
  /** v5/v6 `dev` flags of every entry (peer variants) merged into this node. */
  devFlags: boolean[];
  readonly deps: Set<string>;
}

/** Parses a pnpm lockfile. Throws LockfileError when the content is not one. */
export function extractPnpmLock(content: string, context: ExtractContext): ExtractResult {
  const what = posix.basename(filePath(context)) || 'pnpm-lock.yaml';
  assertText(content, what);
  if (!/^lockfileVersion:/m.test(content.slice(0, 4096))) {
    throw new LockfileError(`${what} is not a pnpm lockfile: it does not start with "lockfileVersion"`, 1);
  }
  const yaml = parseYaml(content, what);
  const root = yaml.value;
  if (!isRecord(root)) throw new LockfileError(`${what} is not a pnpm lockfile`, 1);
  const rawVersion = root.lockfileVersion;
  const major = typeof rawVersion === 'string' ? Math.floor(Number.parseFloat(rawVersion)) : Number.NaN;
  if (Number.isNaN(major)) {
    throw new LockfileError(
      `${what}: "lockfileVersion" is not a number`,
      yaml.keyLines([]).get('lockfileVersion') ?? 1,
    );
  }
  const notes: string[] = [];
  if (major < 5) notes.push(`${what}: lockfileVersion ${rawVersion} is older than 5; read as 5`);
  if (major > 9) notes.push(`${what}: lockfileVersion ${rawVersion} is newer than 9; read as 9`);
  if (yaml.documents > 1) notes.push(`${what}: ${yaml.documents} YAML documents; read the last`);
  // lockfile 7.0 was a pnpm 9 pre-release with the 9.0 layout
  const format: 5 | 6 | 9 = major >= 7 ? 9 : major === 6 ? 6 : 5;

  const file = filePath(context);
  const nodes = new Map<string, Node>();
  const packages = isRecord(root.packages) ? root.packages : {};
  const packageLines = yaml.keyLines(['packages']);
  const entries = new Map<string, PackageEntry>();
  for (const [rawKey, raw] of Object.entries(packages)) {
    const line = packageLines.get(rawKey) ?? 1;
    const parsed = PackageEntrySchema.safeParse(raw ?? {});
    if (!parsed.success) {
      notes.push(`skipped packages["${rawKey}"] (line ${line}): not a valid entry`);
      continue;
    }
    const entry = parsed.data;
    entries.set(rawKey, entry);
    const info = parseKey(rawKey, format);
    const existing = nodes.get(info.id);
    const dev = entry.dev === 'true';
    if (existing !== undefined) {
      existing.devFlags.push(dev);
      continue;
    }
    const source = sourceOf(entry.resolution, info);
    const keyVersion = info.version !== undefined && /^\d/.test(info.version) ? info.version : undefined;
    let version =
      entry.version ??
      keyVersion ??
      (source === 'git' ? (entry.resolution?.commit ?? gitCommit(info.id) ?? '') : '');
    const directory = entry.resolution?.directory;
    if (version === '' && directory !== undefined) version = readManifest(context, directory)?.version ?? '';
    nodes.set(info.id, {
      id: info.id,
      name: entry.name ?? info.name ?? '',
      version,
      source,
      line,
      devFlags: [dev],
      deps: new Set(),
    });
  }

  // dependencies: v5/v6 on the package entries, v9 on the snapshots (keyed with peer suffixes)
  const aliasOf = new Map<string, string>();
  function link(from: Node | undefined, name: string, ref: string): string | undefined {
    const id = depId(name, ref, format);
    if (id === undefined || !nodes.has(id)) return undefined;
    if (!aliasOf.has(id)) aliasOf.set(id, name);
    from?.deps.add(id);
    return id;
  }
  const depSources: Array<
    [string, { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> }]
  > = [];
  if (format === 9) {
    const snapshots = isRecord(root.snapshots) ? root.snapshots : {};
    const snapshotLines = yaml.keyLines(['snapshots']);
    for (const [rawKey, raw] of Object.entries(snapshots)) {
      const parsed = SnapshotSchema.safeParse(raw ?? {});
      if (!parsed.success) {
        notes.push(
          `skipped snapshots["${rawKey}"] (line ${snapshotLines.get(rawKey) ?? '?'}): not a valid entry`,
        );
        continue;
      }
      depSources.push([rawKey, parsed.data]);
    }
  } else {
    for (const [rawKey, entry] of entries) depSources.push([rawKey, entry]);
  }
  for (const [rawKey, entry] of depSources) {
    const node = nodes.get(parseKey(rawKey, format).id);
    for (const map of [entry.dependencies, entry.optionalDependencies]) {
      for (const [name, ref] of Object.entries(map ?? {})) link(node, name, ref);
    }
  }

  // importers: every workspace project (v5/v6 single-project lockfiles keep them at the top level)
  const importers: Array<{ path: string; value: Record<string, unknown>; line: number; lines: string[] }> =
    [];
  if (isRecord(root.importers)) {
    const importerLines = yaml.keyLines(['importers']);
    for (const [path, value] of Object.entries(root.importers)) {
      if (isRecord(value))
        importers.push({ path, value, line: importerLines.get(path) ?? 1, lines: ['importers', path] });
    }
  } else {
    importers.push({ path: '.', value: root, line: 1, lines: [] });
  }
  const importerPaths = new Set(importers.map((importer) => posix.normalize(importer.path)));
  const direct = new Set<string>();
  const prodRoots: string[] = [];
  const devRoots: string[] = [];
  const workspaceRefs = new Map<string, string>();
  for (const importer of importers) {
    const from = posix.normalize(importer.path);
    for (const group of GROUPS) {
      const deps = importer.value[group];
      if (!isRecord(deps)) continue;
      const lines = yaml.keyLines([...importer.lines, group]);
      for (const [alias, raw] of Object.entries(deps)) {
        const parsed = ImporterDependencySchema.safeParse(raw);
        if (!parsed.success) {
          notes.push(`skipped ${group}["${alias}"] of importer "${importer.path}": not a valid dependency`);
          continue;
        }
        const ref = typeof parsed.data === 'string' ? parsed.data : parsed.data.version;
        let id: string | undefined;
        if (ref.startsWith('link:')) {
          const target = posix.normalize(posix.join(from, ref.slice('link:'.length)));
          if (importerPaths.has(target)) {
            if (!workspaceRefs.has(target)) workspaceRefs.set(target, alias);
            direct.add(`importer:${target}`);
            continue;
          }
          id = `link:${target}`;
          if (!nodes.has(id)) {
            const manifest = readManifest(context, target);
            nodes.set(id, {
              id,
              name: manifest?.name ?? alias,
              version: manifest?.version ?? '',
              source: 'link',
              line: lines.get(alias) ?? importer.line,
              devFlags: [group === 'devDependencies'],
              deps: new Set(),
            });
          }
        } else {
          id = link(undefined, alias, ref);
        }
        if (id === undefined) continue;
        direct.add(id);
        (group === 'devDependencies' ? devRoots : prodRoots).push(id);
      }
    }
  }

  const walkedDev =
    format === 9 ? devOnly(prodRoots, devRoots, (id) => nodes.get(id)?.deps ?? []) : undefined;
  const result: Package[] = [];
  for (const importer of importers) {
    const path = posix.normalize(importer.path);
    if (path === '.' || !isRecord(root.importers)) continue;
    const manifest = readManifest(context, path);
    const deps: string[] = [];
    for (const group of GROUPS) {
      const values = importer.value[group];
      if (!isRecord(values)) continue;
      for (const [alias, raw] of Object.entries(values)) {
        const parsed = ImporterDependencySchema.safeParse(raw);
        if (!parsed.success) continue;
        const ref = typeof parsed.data === 'string' ? parsed.data : parsed.data.version;
        if (ref.startsWith('link:')) {
          const target = posix.normalize(posix.join(path, ref.slice('link:'.length)));
          deps.push(importerPaths.has(target) ? target : `link:${target}`);
        } else {
          const id = depId(alias, ref, format);
          if (id !== undefined && nodes.has(id)) deps.push(id);
        }
      }
    }
    result.push(
      npmPackage({
        name: manifest?.name ?? workspaceRefs.get(path) ?? posix.basename(path),
        version: manifest?.version ?? '',
        direct: direct.has(`importer:${path}`),
        dev: false,
        file,
        line: importer.line,
        source: 'workspace',
        key: path,
        dependencies: deps,
      }),
    );
  }
  for (const node of nodes.values()) {
    const name = node.name !== '' ? node.name : (aliasOf.get(node.id) ?? guessName(node.id));
    const dev = walkedDev !== undefined ? walkedDev.has(node.id) : node.devFlags.every((flag) => flag);
    result.push(
      npmPackage({
        name,
        version: node.version,
        direct: direct.has(node.id),
        dev,
        file,
        line: node.line,
        source: node.source,
        key: node.id,
        dependencies: [...node.deps].map((id) => id),
      }),
    );
  }
  result.sort((a, b) => a.line - b.line);
  return { packages: result, notes };
}

/** Strips a v6/v9 peer suffix: `1.2.0(react@18.2.0)(react-dom@18.2.0)` → `1.2.0`. */
function stripParens(ref: string): string {
  const index = ref.indexOf('(');
  return index === -1 ? ref : ref.slice(0, index);
}

/** Splits a depPath (a `packages` or `snapshots` key) into its id, name and version. */
export function parseKey(raw: string, format: 5 | 6 | 9): KeyInfo {
  const key = raw.startsWith('/') ? raw.slice(1) : raw;
  if (format === 5) {
    if (raw.startsWith('/')) {
      const segments = key.split('/');
      const count = segments[0]?.startsWith('@') ? 3 : 2;
      const last = segments[count - 1];
      if (segments.length === count && last !== undefined) {
        const name = segments.slice(0, count - 1).join('/');
        // `1.0.0_react@18.2.0` or `1.0.0_<hash>`: the peer suffix starts at the first `_`
        const version = last.split('_')[0] ?? last;
        if (isPackageName(name) && version !== '') return { id: `${name}@${version}`, name, version };
      }
    }
    return { id: key, name: undefined, version: undefined };
  }
  const id = stripParens(key);
  const split = splitAt(id);
  if (split !== undefined && isPackageName(split.name)) return { id, name: split.name, version: split.rest };
  return { id, name: undefined, version: undefined };
}

/** The id a dependency reference points at, from the dependency's name and its reference. */
export function depId(name: string, ref: string, format: 5 | 6 | 9): string | undefined {
  if (ref === '' || ref.startsWith('link:')) return undefined;
  if (format === 9) {
    const base = stripParens(ref);
    const alias = splitAt(base);
    if (alias !== undefined && isPackageName(alias.name)) return base; // `npm:` alias: `real@1.0.0`
    return `${name}@${base}`;
  }
  if (format === 6) {
    if (ref.startsWith('/')) return stripParens(ref.slice(1));
    if (ref.startsWith('file:') || stripParens(ref).includes('/')) return stripParens(ref);
    return `${name}@${stripParens(ref)}`;
  }
  if (ref.startsWith('/') || ref.startsWith('file:')) return parseKey(ref, 5).id;
  if ((ref.split('_')[0] ?? ref).includes('/')) return parseKey(ref, 5).id;
  return parseKey(`/${name}/${ref}`, 5).id;
}

function sourceOf(resolution: Resolution | undefined, info: KeyInfo): Source {
  if (resolution?.type === 'git') return 'git';
  if (resolution?.type === 'directory') return 'file';
  const tarball = resolution?.tarball;
  if (tarball !== undefined) {
    if (tarball.startsWith('file:')) return 'file';
    if (isGitReference(tarball)) return 'git';
    if (resolution?.integrity !== undefined && info.version !== undefined && /^\d/.test(info.version))
      return 'registry';
    return registryTarballVersion(tarball, info.name) !== undefined ? 'registry' : 'file';
  }
  if (info.id.startsWith('file:') || info.version?.startsWith('file:') === true) return 'file';
  if (isGitReference(info.id) || (info.version !== undefined && isGitReference(info.version))) return 'git';
  return 'registry';
}

/** A name for an entry the lockfile does not name: `github.com/user/repo/sha` → `repo`. */
function guessName(id: string): string {
  const segments = id.replace(/^file:/, '').split('/');
  return segments.length >= 2 ? (segments.at(-2) ?? id) : (segments[0] ?? id);
}
