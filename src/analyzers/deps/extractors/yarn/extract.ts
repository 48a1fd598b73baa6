// Reads yarn.lock: classic (v1, its own indentation syntax) and Berry (v2+, YAML with `__metadata`).
import { posix } from 'node:path';
import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import {
  assertText,
  declaredDependencies,
  devOnly,
  type ExtractResult,
  filePath,
  isGitReference,
  npmPackage,
  parseNpmAlias,
  readManifest,
  registryTarballVersion,
  type Source,
  sourceOfResolved,
  splitAt,
  workspacePatterns,
} from '../npm/shared.js';
import { isRecord, parseYaml } from '../npm/yaml.js';
import { parseClassic } from './classic.js';
import { BerryEntrySchema, ClassicEntrySchema } from './schema.js';

/** Parses a yarn lockfile, classic or Berry. Throws LockfileError when the content is neither. */
export function extractYarnLock(content: string, context: ExtractContext): ExtractResult {
  const what = posix.basename(filePath(context)) || 'yarn.lock';
  assertText(content, what);
  return /^__metadata:/m.test(content)
    ? extractBerry(content, context, what)
    : extractClassic(content, context, what);
}

interface Entry {
  readonly key: string;
  readonly name: string;
  readonly version: string;
  readonly source: Source;
  readonly line: number;
  /** Descriptors (`name@range`) of its dependencies. */
  readonly wants: string[];
  deps: string[];
}

function resolveDeps(entries: Iterable<Entry>, byDescriptor: Map<string, Entry>): void {
  for (const entry of entries) {
    entry.deps = entry.wants.flatMap((descriptor) => {
      const target = byDescriptor.get(descriptor);
      return target === undefined ? [] : [target.key];
    });
  }
}

function toPackages(
  entries: Iterable<Entry>,
  context: ExtractContext,
  direct: Set<string>,
  dev: Set<string>,
): Package[] {
  const file = filePath(context);
  const result: Package[] = [];
  for (const entry of entries) {
    result.push(
      npmPackage({
        name: entry.name,
        version: entry.version,
        direct: direct.has(entry.key),
        dev: dev.has(entry.key),
        file,
        line: entry.line,
        source: entry.source,
        key: entry.key,
        dependencies: entry.deps,
      }),
    );
  }
  return result.sort((a, b) => a.line - b.line);
}

// ---------------------------------------------------------------------------------------------- classic

function extractClassic(content: string, context: ExtractContext, what: string): ExtractResult {
  const { blocks, notes } = parseClassic(content, what);
  const entries: Entry[] = [];
  const byDescriptor = new Map<string, Entry>();
  for (const block of blocks) {
    const parsed = ClassicEntrySchema.safeParse(block.fields);
    const first = block.descriptors[0] ?? '';
    const split = splitAt(first);
    if (!parsed.success || split === undefined) {
      notes.push(`skipped "${first}" (line ${block.line}): not a valid entry`);
      continue;
    }
    const fields = parsed.data;
    const range = split.rest;
    const name = parseNpmAlias(range)?.name ?? split.name;
    let source: Source;
    let version = fields.version;
    if (range.startsWith('link:') || range.startsWith('portal:')) {
      source = 'link';
      version = readManifest(context, range.slice(range.indexOf(':') + 1))?.version ?? version;
    } else if (range.startsWith('file:')) {
      source = 'file';
    } else if (fields.resolved === undefined && isGitReference(range)) {
      source = 'git';
    } else {
      source = sourceOfResolved(fields.resolved, name);
    }
    const wants = Object.entries({ ...fields.dependencies, ...fields.optionalDependencies }).map(
      ([dep, depRange]) => `${dep}@${depRange}`,
    );
    const entry: Entry = { key: first, name, version, source, line: block.line, wants, deps: [] };
    entries.push(entry);
    for (const descriptor of block.descriptors) byDescriptor.set(descriptor, entry);
  }
  resolveDeps(entries, byDescriptor);

  const direct = new Set<string>();
  const prodRoots: string[] = [];
  const devRoots: string[] = [];
  const rootManifest = readManifest(context, '.');
  if (rootManifest === undefined) {
    // without package.json: the entries nothing else depends on are the project's own
    const depended = new Set(entries.flatMap((entry) => entry.deps));
    for (const entry of entries) if (!depended.has(entry.key)) direct.add(entry.key);
    if (entries.length > 0)
      notes.push(`${what}: no package.json beside it; direct dependencies guessed, dev unknown`);
    return { packages: toPackages(entries, context, direct, new Set()), notes };
  }

  // the root manifest and the workspaces that can be found from it
  const manifests = [rootManifest];
  const unresolved = new Set<string>();
  function addRoots(manifest: typeof rootManifest): void {
    const { prod, dev } = declaredDependencies(manifest ?? {});
    for (const [set, roots] of [
      [prod, prodRoots],
      [dev, devRoots],
    ] as const) {
      for (const [dep, depRange] of Object.entries(set)) {
        const entry = byDescriptor.get(`${dep}@${depRange}`);
        if (entry === undefined) {
          unresolved.add(dep);
          continue;
        }
        direct.add(entry.key);
        roots.push(entry.key);
      }
    }
  }
  addRoots(rootManifest);
  const patterns = workspacePatterns(rootManifest).map((pattern) => pattern.replace(/\/+$/, ''));
  const seenDirs = new Set<string>();
  const found = new Set<string>();
  function tryWorkspace(dir: string, expected: string | undefined): void {
    if (seenDirs.has(dir)) return;
    seenDirs.add(dir);
    const manifest = readManifest(context, dir);
    if (manifest === undefined || (expected !== undefined && manifest.name !== expected)) return;
    if (manifest.name !== undefined) found.add(manifest.name);
    manifests.push(manifest);
    addRoots(manifest);
  }
  for (const pattern of patterns) if (!/[*?[{]/.test(pattern)) tryWorkspace(pattern, undefined);
  // `packages/*`: try the folders named after the unresolved workspace references
  const prefixes = patterns.flatMap((pattern) => {
    const match = /^([^*?[{]*)\/\*{1,2}$/.exec(pattern);
    return match?.[1] === undefined ? [] : [match[1]];
  });
  for (let size = -1; size !== unresolved.size; ) {
    size = unresolved.size;
    for (const name of [...unresolved]) {
      for (const prefix of prefixes) {
        tryWorkspace(`${prefix}/${name.replace(/^@[^/]+\//, '')}`, name);
        tryWorkspace(`${prefix}/${name}`, name);
      }
    }
  }
  const byKey = new Map(entries.map((entry) => [entry.key, entry]));
  let dev = devOnly(prodRoots, devRoots, (key) => byKey.get(key)?.deps ?? []);
  if (patterns.length > 0) {
    const missing = [...unresolved].filter((name) => !found.has(name));
    const reached = new Set<string>();
    const stack = [...prodRoots, ...devRoots];
    for (let key = stack.pop(); key !== undefined; key = stack.pop()) {
      if (reached.has(key)) continue;
      reached.add(key);
      stack.push(...(byKey.get(key)?.deps ?? []));
    }
    const orphans = entries.filter((entry) => !reached.has(entry.key)).length;
    if (missing.length > 0 || orphans > 0) {
      notes.push(
        `${what}: not every workspace's package.json was found (${orphans} entries unreached); dev flags not set`,
      );
      dev = new Set();
    }
  }
  return { packages: toPackages(entries, context, direct, dev), notes };
}

// ------------------------------------------------------------------------------------------------ Berry

interface BerryInfo {
  readonly source: Source;
  /** `workspace:` path, `link:`/`portal:`/`file:` path, or the patched package's base locator. */
  readonly path?: string;
  readonly patchBase?: string;
}

/** Where a Berry resolution (`name@<ref>`) comes from. */
function describeBerryRef(name: string, ref: string): BerryInfo {
  const params = ref.indexOf('::');
  const bare = params === -1 ? ref : ref.slice(0, params);
  if (bare.startsWith('workspace:')) return { source: 'workspace', path: bare.slice('workspace:'.length) };
  if (bare.startsWith('patch:')) {
    const base = decodeURIComponent(bare.slice('patch:'.length).split('#')[0] ?? '');
    const split = splitAt(base);
    const inner =
      split === undefined ? { source: 'file' as const } : describeBerryRef(split.name, split.rest);
    return { source: inner.source, patchBase: base };
  }
  if (bare.startsWith('npm:')) return { source: 'registry' };
  if (bare.startsWith('link:') || bare.startsWith('portal:')) {
    return { source: 'link', path: bare.slice(bare.indexOf(':') + 1) };
  }
  if (bare.startsWith('file:'))
    return { source: 'file', path: bare.slice('file:'.length).split('#')[0] ?? '' };
  if (isGitReference(bare)) return { source: 'git' };
  if (/^https?:\/\//.test(bare))
    return { source: registryTarballVersion(bare, name) !== undefined ? 'registry' : 'file' };
  return { source: 'file' };
}

/** The workspace a `::locator=` parameter names (`fixture-app%40workspace%3A.` → `.`), for relative paths. */
function locatorDir(ref: string, workspaceDirs: Map<string, string>): string {
  const match = /::(?:.*&)?locator=([^&]+)/.exec(ref);
  if (match?.[1] === undefined) return '.';
  const locator = decodeURIComponent(match[1]);
  return workspaceDirs.get(locator) ?? '.';
}

function extractBerry(content: string, context: ExtractContext, what: string): ExtractResult {
  const yaml = parseYaml(content, what);
  const root = yaml.value;
  if (!isRecord(root) || !isRecord(root.__metadata)) {
    throw new LockfileError(`${what} is not a yarn Berry lockfile: no "__metadata"`, 1);
  }
  const lines = yaml.keyLines([]);
  const notes: string[] = [];
  const parsedEntries: Array<{
    header: string;
    line: number;
    entry: ReturnType<typeof BerryEntrySchema.parse>;
  }> = [];
  for (const [header, raw] of Object.entries(root)) {
    if (header === '__metadata') continue;
    const line = lines.get(header) ?? 1;
    const parsed = BerryEntrySchema.safeParse(raw);
    if (!parsed.success) {
      notes.push(`skipped "${header}" (line ${line}): not a valid entry`);
      continue;
    }
    parsedEntries.push({ header, line, entry: parsed.data });
  }
  const workspaceDirs = new Map<string, string>();
  for (const { entry } of parsedEntries) {
    const split = splitAt(entry.resolution);
    if (split?.rest.startsWith('workspace:'))
      workspaceDirs.set(entry.resolution, split.rest.slice('workspace:'.length));
  }

  const entries = new Map<string, Entry>();
  const byDescriptor = new Map<string, Entry>();
  const byResolution = new Map<string, Entry>();
  const patches: Array<{ descriptors: string[]; base: string; entry: Entry }> = [];
  const workspaces: Array<{ entry: Entry; dir: string; dependencies: Record<string, string> }> = [];
  let rootEntry: Entry | undefined;
  for (const { header, line, entry: raw } of parsedEntries) {
    const split = splitAt(raw.resolution);
    if (split === undefined) {
      notes.push(`skipped "${header}" (line ${line}): resolution "${raw.resolution}" has no name`);
      continue;
    }
    const info = describeBerryRef(split.name, split.rest);
    let version = raw.version;
    if (info.path !== undefined && info.source !== 'file') {
      const dir =
        info.source === 'workspace'
          ? info.path
          : posix.join(locatorDir(split.rest, workspaceDirs), info.path);
      const manifestVersion = readManifest(context, dir)?.version;
      version = manifestVersion ?? (version === '0.0.0-use.local' ? '' : version);
    }
    const wants = Object.entries(raw.dependencies ?? {}).map(([dep, range]) => `${dep}@${range}`);
    const entry: Entry = {
      key: raw.resolution,
      name: split.name,
      version,
      source: info.source,
      line,
      wants,
      deps: [],
    };
    const descriptors = header.split(',').map((descriptor) => descriptor.trim());
    byResolution.set(raw.resolution, entry);
    if (info.patchBase !== undefined) patches.push({ descriptors, base: info.patchBase, entry });
    for (const descriptor of descriptors) {
      byDescriptor.set(descriptor, entry);
      const params = descriptor.indexOf('::');
      if (params !== -1 && !byDescriptor.has(descriptor.slice(0, params))) {
        byDescriptor.set(descriptor.slice(0, params), entry);
      }
    }
    if (info.source === 'workspace') {
      workspaces.push({ entry, dir: info.path ?? '.', dependencies: raw.dependencies ?? {} });
      if (posix.normalize(info.path ?? '.') === '.') {
        rootEntry = entry;
        continue;
      }
    }
    entries.set(entry.key, entry);
  }
  // a patched package is reported once: as the package it patches, when that is in the lockfile
  for (const patch of patches) {
    const base = byResolution.get(patch.base);
    if (base === undefined || base === patch.entry) continue;
    entries.delete(patch.entry.key);
    for (const descriptor of patch.descriptors) byDescriptor.set(descriptor, base);
  }
  resolveDeps([...entries.values(), ...(rootEntry === undefined ? [] : [rootEntry])], byDescriptor);

  const direct = new Set<string>();
  const prodRoots: string[] = [];
  const devRoots: string[] = [];
  for (const workspace of workspaces) {
    const manifest = readManifest(context, workspace.dir);
    const devNames = new Set(Object.keys(manifest === undefined ? {} : declaredDependencies(manifest).dev));
    for (const [dep, range] of Object.entries(workspace.dependencies)) {
      const target = byDescriptor.get(`${dep}@${range}`);
      if (target === undefined) continue;
      direct.add(target.key);
      (devNames.has(dep) ? devRoots : prodRoots).push(target.key);
    }
  }
  // every workspace's own dependencies are roots above; walking through a workspace would mix its
  // devDependencies (Berry lists them together) into whatever depends on it
  const byKey = new Map([...entries.values()].map((entry) => [entry.key, entry]));
  const workspaceKeys = new Set(workspaces.map((workspace) => workspace.entry.key));
  const dev = devOnly(prodRoots, devRoots, (key) =>
    workspaceKeys.has(key) ? [] : (byKey.get(key)?.deps ?? []),
  );
  return { packages: toPackages(entries.values(), context, direct, dev), notes };
}
