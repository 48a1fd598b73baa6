// Reads package-lock.json / npm-shrinkwrap.json: the v2/v3 `packages` map, or the v1 nested `dependencies` tree.
import { posix } from 'node:path';
import picomatch from 'picomatch';
import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { isJsonObject, type JsonObject, type ParsedJson, parseJson } from './json.js';
import { type PackagesEntry, PackagesEntrySchema, type TreeEntry, TreeEntrySchema } from './schema.js';
import {
  assertText,
  declaredDependencies,
  dependencyNames,
  type ExtractResult,
  filePath,
  gitCommit,
  isGitReference,
  npmPackage,
  parseNpmAlias,
  readManifest,
  registryTarballVersion,
  type Source,
  sourceOfResolved,
  workspacePatterns,
} from './shared.js';

/** Parses an npm lockfile (v1, v2 or v3). Throws LockfileError when the content is not one. */
export function extractNpmLock(content: string, context: ExtractContext): ExtractResult {
  const what = posix.basename(filePath(context)) || 'package-lock.json';
  assertText(content, what);
  const parsed = parseJson(content, { what });
  const root = parsed.value;
  if (!isJsonObject(root))
    throw new LockfileError(`${what} is not an npm lockfile: the top level is not an object`, 1);
  const version = root.lockfileVersion;
  if (typeof version !== 'number') {
    throw new LockfileError(`${what} is not an npm lockfile: no numeric "lockfileVersion"`, 1);
  }
  const notes: string[] = [];
  if (version > 3) notes.push(`${what}: lockfileVersion ${version} is newer than 3; read as version 3`);
  if (version >= 2 && isJsonObject(root.packages)) return fromPackages(root.packages, parsed, context, notes);
  if (isJsonObject(root.dependencies)) return fromTree(root.dependencies, parsed, context, notes);
  if (version >= 2 && root.packages !== undefined) {
    throw new LockfileError(`${what}: "packages" is not an object`, parsed.keyLine(root, 'packages') ?? 1);
  }
  return { packages: [], notes };
}

/** Resolves `name` from the folder `from` the way Node does: `from/node_modules/name`, then each parent's. */
export function resolveFrom(
  from: string,
  name: string,
  exists: (key: string) => boolean,
): string | undefined {
  const segments = from === '' ? [] : from.split('/');
  for (let i = segments.length; i >= 0; i--) {
    if (i > 0 && segments[i - 1] === 'node_modules') continue;
    const candidate = [...segments.slice(0, i), 'node_modules', name].join('/');
    if (exists(candidate)) return candidate;
  }
  return undefined;
}

/** The package name a `node_modules/…` path installs (`node_modules/a/node_modules/@s/b` → `@s/b`). */
function nameFromPath(key: string): string {
  const index = key.lastIndexOf('node_modules/');
  return index === -1 ? posix.basename(key) : key.slice(index + 'node_modules/'.length);
}

function normalizeTarget(resolved: string): string {
  return posix.normalize(resolved.replace(/^file:/, '').replaceAll('\\', '/')).replace(/\/$/, '');
}

function fromPackages(
  packages: JsonObject,
  parsed: ParsedJson,
  context: ExtractContext,
  notes: string[],
): ExtractResult {
  const entries = new Map<string, PackagesEntry>();
  for (const [key, raw] of Object.entries(packages)) {
    const result = PackagesEntrySchema.safeParse(raw);
    if (!result.success) {
      notes.push(
        `skipped packages["${key}"] (line ${parsed.keyLine(packages, key) ?? '?'}): not a valid entry`,
      );
      continue;
    }
    entries.set(key, result.data);
  }
  const rootEntry = entries.get('') ?? {};
  const isWorkspace = picomatch(
    workspacePatterns({ workspaces: rootEntry.workspaces }).map((pattern) =>
      pattern.replace(/^\.\//, '').replace(/\/+$/, ''),
    ),
  );

  // link entries (node_modules/x → folder) point at a folder entry, which is the package itself
  const linkTarget = new Map<string, string>();
  const linkedFrom = new Map<string, string>();
  for (const [key, entry] of entries) {
    if (entry.link !== true || entry.resolved === undefined) continue;
    const target = normalizeTarget(entry.resolved);
    linkTarget.set(key, target);
    if (!linkedFrom.has(target)) linkedFrom.set(target, key);
  }
  function exists(key: string): boolean {
    return entries.has(key);
  }
  function follow(key: string): string {
    const target = linkTarget.get(key);
    return target !== undefined && entries.has(target) ? target : key;
  }

  // the folders whose declared dependencies are the project's own: the root and its workspaces
  const direct = new Set<string>();
  for (const [key, entry] of entries) {
    const isRootOrWorkspace =
      key === '' || (!key.includes('node_modules/') && !key.startsWith('node_modules') && isWorkspace(key));
    if (!isRootOrWorkspace) continue;
    const { prod, dev } = declaredDependencies(entry);
    for (const name of [...Object.keys(prod), ...Object.keys(dev)]) {
      const resolved = resolveFrom(key, name, exists);
      if (resolved !== undefined) direct.add(follow(resolved));
    }
  }

  const file = filePath(context);
  const result: Package[] = [];
  for (const [key, entry] of entries) {
    if (key === '') continue;
    const line = parsed.keyLine(packages, key) ?? 1;
    const isLink = entry.link === true;
    const target = linkTarget.get(key);
    if (isLink && target !== undefined && entries.has(target)) continue; // reported as its folder
    const inNodeModules = key.startsWith('node_modules/') || key.includes('/node_modules/');
    let source: Source;
    let name: string;
    if (!inNodeModules || isLink) {
      const folder = isLink ? (target ?? key) : key;
      source = isWorkspace(folder) ? 'workspace' : 'file';
      const linkKey = isLink ? key : linkedFrom.get(key);
      name = entry.name ?? (linkKey !== undefined ? nameFromPath(linkKey) : posix.basename(key));
    } else {
      source = sourceOfResolved(entry.resolved, entry.name ?? nameFromPath(key));
      name = entry.name ?? nameFromPath(key);
    }
    let version = entry.version ?? '';
    if (version === '' && source !== 'registry' && source !== 'git') {
      version = readManifest(context, isLink ? (target ?? key) : key)?.version ?? '';
    }
    const deps: string[] = [];
    for (const dep of dependencyNames(
      entry.dependencies,
      entry.optionalDependencies,
      entry.peerDependencies,
    )) {
      const resolved = resolveFrom(key, dep, exists);
      if (resolved !== undefined) deps.push(follow(resolved));
    }
    result.push(
      npmPackage({
        name,
        version,
        direct: direct.has(key),
        dev: entry.dev === true,
        file,
        line,
        source,
        key,
        dependencies: deps,
      }),
    );
  }
  return { packages: result, notes };
}

interface TreeNode {
  readonly key: string;
  readonly alias: string;
  readonly entry: TreeEntry;
  readonly line: number;
  readonly topLevel: boolean;
}

function fromTree(
  dependencies: JsonObject,
  parsed: ParsedJson,
  context: ExtractContext,
  notes: string[],
): ExtractResult {
  const nodes = new Map<string, TreeNode>();
  function walk(object: JsonObject, parent: string, depth: number): void {
    for (const [alias, raw] of Object.entries(object)) {
      const line = parsed.keyLine(object, alias) ?? 1;
      const result = TreeEntrySchema.safeParse(raw);
      if (!result.success) {
        notes.push(`skipped dependencies["${alias}"] (line ${line}): not a valid entry`);
        continue;
      }
      const key = parent === '' ? `node_modules/${alias}` : `${parent}/node_modules/${alias}`;
      nodes.set(key, { key, alias, entry: result.data, line, topLevel: depth === 0 });
      const children = result.data.dependencies;
      if (children !== undefined && isJsonObject(raw) && isJsonObject(raw.dependencies)) {
        walk(raw.dependencies, key, depth + 1);
      }
    }
  }
  walk(dependencies, '', 0);

  const manifest = readManifest(context, '.');
  const declared = manifest === undefined ? undefined : declaredDependencies(manifest);
  function exists(key: string): boolean {
    return nodes.has(key);
  }
  const file = filePath(context);
  const result: Package[] = [];
  for (const node of nodes.values()) {
    const { entry } = node;
    const described = describeV1Version(node.alias, entry, context);
    const requires = typeof entry.requires === 'object' ? entry.requires : {};
    const deps: string[] = [];
    for (const dep of Object.keys(requires)) {
      const resolved = resolveFrom(node.key, dep, exists);
      if (resolved !== undefined) deps.push(resolved);
    }
    const direct =
      node.topLevel &&
      (declared === undefined ||
        Object.hasOwn(declared.prod, node.alias) ||
        Object.hasOwn(declared.dev, node.alias));
    result.push(
      npmPackage({
        ...described,
        direct,
        dev: entry.dev === true,
        file,
        line: node.line,
        key: node.key,
        dependencies: deps,
      }),
    );
  }
  return { packages: result, notes };
}

/** A v1 `version` is a semver, or `npm:real@1.0.0`, `file:dir`, a git URL, or a tarball URL. */
function describeV1Version(
  alias: string,
  entry: TreeEntry,
  context: ExtractContext,
): { name: string; version: string; source: Source } {
  const raw = entry.version;
  const aliased = parseNpmAlias(raw);
  if (aliased !== undefined) return { name: aliased.name, version: aliased.range, source: 'registry' };
  if (raw.startsWith('file:')) {
    const path = raw.slice('file:'.length);
    const version = /\.(?:tgz|tar\.gz|tar)$/.test(path) ? '' : (readManifest(context, path)?.version ?? '');
    return { name: alias, version, source: 'file' };
  }
  if (isGitReference(raw)) return { name: alias, version: gitCommit(raw) ?? '', source: 'git' };
  if (/^https?:\/\//.test(raw)) {
    const version = registryTarballVersion(raw, alias);
    return version !== undefined
      ? { name: alias, version, source: 'registry' }
      : { name: alias, version: '', source: 'file' };
  }
  return { name: alias, version: raw, source: sourceOfResolved(entry.resolved, alias) };
}
