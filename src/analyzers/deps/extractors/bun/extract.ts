// Reads bun.lock, bun's text lockfile (JSONC): `workspaces` and `packages: { key: ["name@version", …] }`.
import { posix } from 'node:path';
import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { isJsonObject, parseJson } from '../npm/json.js';
import {
  assertText,
  declaredDependencies,
  dependencyNames,
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
import {
  type PackageMeta,
  PackageMetaSchema,
  PackageTupleSchema,
  type Workspace,
  WorkspaceSchema,
} from './schema.js';

const BINARY_HINT =
  'bun.lockb is bun’s binary lockfile, which cannot be read; run `bun install --save-text-lockfile` ' +
  '(or upgrade to bun 1.2 or later, which writes bun.lock) and scan bun.lock instead';

/** Parses bun.lock. Throws LockfileError for the binary bun.lockb and for content that is not a bun.lock. */
export function extractBunLock(content: string, context: ExtractContext): ExtractResult {
  const path = filePath(context);
  const what = posix.basename(path) || 'bun.lock';
  if (what.endsWith('.lockb') || content.startsWith('#!/usr/bin/env bun'))
    throw new LockfileError(BINARY_HINT);
  assertText(content, what);
  const parsed = parseJson(content, { jsonc: true, what });
  const root = parsed.value;
  if (!isJsonObject(root) || typeof root.lockfileVersion !== 'number') {
    throw new LockfileError(`${what} is not a bun lockfile: no numeric "lockfileVersion"`, 1);
  }
  const notes: string[] = [];
  if (root.lockfileVersion > 2)
    notes.push(`${what}: lockfileVersion ${root.lockfileVersion} is newer than 2`);

  const workspaces = new Map<string, Workspace>();
  if (isJsonObject(root.workspaces)) {
    for (const [dir, raw] of Object.entries(root.workspaces)) {
      const result = WorkspaceSchema.safeParse(raw);
      if (result.success) workspaces.set(dir, result.data);
      else
        notes.push(
          `skipped workspaces["${dir}"] (line ${parsed.keyLine(root.workspaces, dir) ?? '?'}): not valid`,
        );
    }
  }
  const packages = isJsonObject(root.packages) ? root.packages : {};

  interface Entry {
    readonly key: string;
    readonly name: string;
    readonly version: string;
    readonly source: Source;
    readonly line: number;
    readonly meta: PackageMeta;
    deps: string[];
  }
  const entries = new Map<string, Entry>();
  for (const [key, raw] of Object.entries(packages)) {
    const line = parsed.keyLine(packages, key) ?? 1;
    const tuple = PackageTupleSchema.safeParse(raw);
    const split = tuple.success ? splitAt(tuple.data[0]) : undefined;
    if (!tuple.success || split === undefined || !isPackageName(split.name)) {
      notes.push(`skipped packages["${key}"] (line ${line}): not a valid package entry`);
      continue;
    }
    const metaItem = tuple.data.slice(1).find((item) => isJsonObject(item));
    const meta = PackageMetaSchema.safeParse(metaItem ?? {});
    const described = describeRef(split.name, split.rest, context, workspaces);
    entries.set(key, {
      key,
      name: split.name,
      ...described,
      line,
      meta: meta.success ? meta.data : {},
      deps: [],
    });
  }

  // keys nest like node_modules folders: `debug/ms` is the ms that debug sees before the hoisted `ms`
  function resolve(fromKey: string, name: string): string | undefined {
    const chain = keyChain(fromKey);
    for (let i = chain.length; i >= 0; i--) {
      const candidate = [...chain.slice(0, i), name].join('/');
      if (entries.has(candidate)) return candidate;
    }
    return undefined;
  }
  const workspaceEntries = new Map<string, string>();
  for (const entry of entries.values()) {
    if (entry.source === 'workspace') {
      workspaceEntries.set(entry.name, entry.key);
      continue;
    }
    const { dependencies, optionalDependencies, peerDependencies } = entry.meta;
    for (const dep of dependencyNames(dependencies, optionalDependencies, peerDependencies)) {
      const target = resolve(entry.key, dep);
      if (target !== undefined) entry.deps.push(target);
    }
  }

  const direct = new Set<string>();
  const prodRoots: string[] = [];
  const devRoots: string[] = [];
  for (const [dir, workspace] of workspaces) {
    const { prod, dev } = declaredDependencies(workspace);
    const scope = dir === '' ? '' : (workspace.name ?? '');
    for (const [set, roots] of [
      [prod, prodRoots],
      [dev, devRoots],
    ] as const) {
      for (const name of Object.keys(set)) {
        const target = (scope !== '' ? resolve(scope, name) : undefined) ?? resolve('', name);
        if (target === undefined) continue;
        direct.add(target);
        roots.push(target);
      }
    }
  }
  // a workspace's own dependencies are roots above; a workspace entry lists them for the graph only
  const dev = devOnly(prodRoots, devRoots, (key) => entries.get(key)?.deps ?? []);
  for (const [dir, workspace] of workspaces) {
    const entry = dir === '' ? undefined : entries.get(workspaceEntries.get(workspace.name ?? '') ?? '');
    if (entry === undefined) continue;
    const { prod, dev: devDeps } = declaredDependencies(workspace);
    for (const name of Object.keys({ ...prod, ...devDeps })) {
      const target = resolve(entry.key, name);
      if (target !== undefined) entry.deps.push(target);
    }
  }

  const result: Package[] = [];
  for (const entry of entries.values()) {
    result.push(
      npmPackage({
        name: entry.name,
        version: entry.version,
        direct: direct.has(entry.key),
        dev: dev.has(entry.key),
        file: path,
        line: entry.line,
        source: entry.source,
        key: entry.key,
        dependencies: entry.deps,
      }),
    );
  }
  return { packages: result.sort((a, b) => a.line - b.line), notes };
}

/** `debug/@types/ms` → [`debug`, `@types/ms`]. */
function keyChain(key: string): string[] {
  const chain: string[] = [];
  const segments = key.split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? '';
    if (segment.startsWith('@') && i + 1 < segments.length) {
      chain.push(`${segment}/${segments[i + 1]}`);
      i++;
    } else {
      chain.push(segment);
    }
  }
  return chain;
}

/** The version and source of the reference after `name@` in a package tuple. */
function describeRef(
  name: string,
  ref: string,
  context: ExtractContext,
  workspaces: Map<string, Workspace>,
): { version: string; source: Source } {
  if (ref.startsWith('workspace:')) {
    const dir = ref.slice('workspace:'.length);
    return {
      version: workspaces.get(dir)?.version ?? readManifest(context, dir)?.version ?? '',
      source: 'workspace',
    };
  }
  if (ref.startsWith('link:')) {
    return { version: readManifest(context, ref.slice('link:'.length))?.version ?? '', source: 'link' };
  }
  if (ref.startsWith('file:')) {
    const target = ref.slice('file:'.length);
    const isTarball = /\.(?:tgz|tar\.gz|tar)$/.test(target);
    return { version: isTarball ? '' : (readManifest(context, target)?.version ?? ''), source: 'file' };
  }
  if (isGitReference(ref)) return { version: gitCommit(ref) ?? '', source: 'git' };
  if (/^https?:\/\//.test(ref)) {
    const version = registryTarballVersion(ref, name);
    return version !== undefined ? { version, source: 'registry' } : { version: '', source: 'file' };
  }
  return { version: ref, source: 'registry' };
}
