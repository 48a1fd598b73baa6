// Helpers the JavaScript lockfile extractors (npm, yarn, pnpm, bun) share: names, sources, manifests, dev walks.
import { posix } from 'node:path';
import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { npmPurl } from '../purl.js';
import { isJsonObject, parseJson } from './json.js';
import { type Manifest, ManifestSchema } from './schema.js';

/** What an extractor found: the packages, and notes about entries it skipped or could not interpret. */
export interface ExtractResult {
  readonly packages: Package[];
  readonly notes: string[];
}

export type Source = Package['source'];

/** Rejects content that cannot be a text lockfile at all: empty, or binary. */
export function assertText(content: string, what: string): void {
  if (content.trim() === '') throw new LockfileError(`${what} is empty`);
  const nul = content.indexOf('\u0000');
  const head = content.slice(0, 8192);
  if (nul !== -1 || head.includes('\ufffd')) {
    throw new LockfileError(`${what} is binary, not a text lockfile`);
  }
}

/** `@scope/name@1.0.0` → { name: '@scope/name', rest: '1.0.0' }; undefined when there is no `@` after the name. */
export function splitAt(spec: string): { name: string; rest: string } | undefined {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  if (at <= 0) return undefined;
  return { name: spec.slice(0, at), rest: spec.slice(at + 1) };
}

const PACKAGE_NAME = /^(?:@[^/@\s]+\/)?[^/@\s:][^/@\s:]*$/;

/** A plausible npm package name (`a`, `@scope/a`). */
export function isPackageName(name: string): boolean {
  return PACKAGE_NAME.test(name);
}

/** `npm:real@1.0.0` alias spec → { name: 'real', range: '1.0.0' }. */
export function parseNpmAlias(spec: string): { name: string; range: string } | undefined {
  if (!spec.startsWith('npm:')) return undefined;
  const target = spec.slice(4);
  const split = splitAt(target);
  if (split === undefined) return isPackageName(target) ? { name: target, range: '' } : undefined;
  return isPackageName(split.name) ? { name: split.name, range: split.rest } : undefined;
}

const GIT_HOSTS = /^https?:\/\/(?:codeload\.github\.com|github\.com|gitlab\.com|bitbucket\.org)\//;

/** True for git references: `git+https://…`, `git://…`, `github:u/r`, `https://codeload.github.com/…`. */
export function isGitReference(ref: string): boolean {
  return (
    /^(?:git\+[a-z]+:|git:|git@|github:|gitlab:|bitbucket:|gist:)/.test(ref) ||
    GIT_HOSTS.test(ref) ||
    /^(?:https?|ssh):\/\/[^#]+\.git(?:#|$)/.test(ref) ||
    /#commit=/.test(ref)
  );
}

/** The commit of a git reference (`…#sha`, `…#commit=sha`, `…/tar.gz/sha`), when it names one. */
export function gitCommit(ref: string): string | undefined {
  const match = /(?:#commit=|#|\/tar\.gz\/)([0-9a-f]{7,40})(?:$|[&#?])/.exec(ref);
  return match?.[1];
}

/**
 * The version in a registry tarball URL (`…/name/-/name-1.2.3.tgz`), when `url` is one. A URL of that shape
 * is a registry package (the public registry or a mirror); any other URL is a plain remote tarball.
 */
export function registryTarballVersion(url: string, name: string | undefined): string | undefined {
  const match = /^https?:\/\/[^#?]+\/-\/([^/#?]+)\.tgz(?:[#?].*)?$/.exec(url);
  const base = match?.[1];
  if (base === undefined) return undefined;
  const unscoped = name?.replace(/^@[^/]+\//, '');
  if (unscoped !== undefined && base.startsWith(`${unscoped}-`)) return base.slice(unscoped.length + 1);
  const version = /-(\d+\.\d+\.\d+.*)$/.exec(base);
  return version?.[1];
}

/** Where a resolved reference (npm `resolved`, yarn `resolved`) comes from. */
export function sourceOfResolved(resolved: string | undefined, name: string | undefined): Source {
  if (resolved === undefined || resolved === '') return 'registry';
  if (isGitReference(resolved)) return 'git';
  if (resolved.startsWith('file:')) return 'file';
  if (resolved.startsWith('link:') || resolved.startsWith('portal:')) return 'link';
  if (resolved.startsWith('workspace:')) return 'workspace';
  if (/^https?:\/\//.test(resolved)) {
    return registryTarballVersion(resolved, name) !== undefined ? 'registry' : 'file';
  }
  return 'registry';
}

/** Joins a lockfile-relative path onto the lockfile's directory (repository-relative, forward slashes). */
export function besideLockfile(context: ExtractContext, relative: string): string {
  const dir = posix.dirname(context.path.replaceAll('\\', '/'));
  return posix.normalize(posix.join(dir, relative.replaceAll('\\', '/'))).replace(/^\.\//, '');
}

/** Reads and parses a package.json relative to the lockfile's directory; undefined when missing or unreadable. */
export function readManifest(context: ExtractContext, dir: string): Manifest | undefined {
  const path = besideLockfile(context, posix.join(dir, 'package.json'));
  let text: string | undefined;
  try {
    text = context.readFile(path);
  } catch {
    return undefined;
  }
  if (text === undefined) return undefined;
  try {
    const parsed = parseJson(text, { what: path });
    if (!isJsonObject(parsed.value)) return undefined;
    const result = ManifestSchema.safeParse(parsed.value);
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

/** The workspace globs of a manifest (`workspaces: [...]` or `workspaces: { packages: [...] }`). */
export function workspacePatterns(manifest: Manifest | undefined): string[] {
  const workspaces = manifest?.workspaces;
  if (workspaces === undefined) return [];
  return Array.isArray(workspaces) ? workspaces : (workspaces.packages ?? []);
}

export interface DependencySets {
  /** dependencies, optionalDependencies, peerDependencies: needed at run time. */
  readonly prod: Record<string, string>;
  /** devDependencies not also declared as a production dependency. */
  readonly dev: Record<string, string>;
}

/** A manifest's declared dependencies, split into production and development. */
export function declaredDependencies(manifest: {
  readonly dependencies?: Record<string, string> | undefined;
  readonly devDependencies?: Record<string, string> | undefined;
  readonly optionalDependencies?: Record<string, string> | undefined;
  readonly peerDependencies?: Record<string, string> | undefined;
}): DependencySets {
  const prod: Record<string, string> = {
    ...manifest.peerDependencies,
    ...manifest.optionalDependencies,
    ...manifest.dependencies,
  };
  const dev: Record<string, string> = {};
  for (const [name, range] of Object.entries(manifest.devDependencies ?? {})) {
    if (!Object.hasOwn(prod, name)) dev[name] = range;
  }
  return { prod, dev };
}

/**
 * Which keys are reachable only from development roots. Keys reachable from no root at all are not dev:
 * when the walk cannot place a package it is treated as production, the safe side for a security gate.
 */
export function devOnly(
  prodRoots: Iterable<string>,
  devRoots: Iterable<string>,
  edges: (key: string) => Iterable<string>,
): Set<string> {
  function reach(roots: Iterable<string>): Set<string> {
    const seen = new Set<string>();
    const stack = [...roots];
    for (let key = stack.pop(); key !== undefined; key = stack.pop()) {
      if (seen.has(key)) continue;
      seen.add(key);
      for (const next of edges(key)) if (!seen.has(next)) stack.push(next);
    }
    return seen;
  }
  const prod = reach(prodRoots);
  const dev = reach(devRoots);
  const result = new Set<string>();
  for (const key of dev) if (!prod.has(key)) result.add(key);
  return result;
}

export interface PackageFields {
  readonly name: string;
  readonly version: string;
  readonly direct: boolean;
  readonly dev: boolean;
  readonly file: string;
  readonly line: number;
  readonly source: Source;
  readonly key: string;
  readonly dependencies?: readonly string[];
}

/** A `Package` of the npm ecosystem, with its purl. */
export function npmPackage(fields: PackageFields): Package {
  const pkg: Package = {
    ecosystem: 'npm',
    name: fields.name,
    version: fields.version,
    purl: npmPurl(fields.name, fields.version === '' ? undefined : fields.version),
    direct: fields.direct,
    dev: fields.dev,
    file: fields.file,
    line: fields.line,
    source: fields.source,
    key: fields.key,
  };
  return fields.dependencies === undefined
    ? pkg
    : { ...pkg, dependencies: [...new Set(fields.dependencies)] };
}

/** Repository-relative path with forward slashes. */
export function filePath(context: ExtractContext): string {
  return context.path.replaceAll('\\', '/');
}

/** The names of several dependency maps, first map first, each once. */
export function dependencyNames(...maps: ReadonlyArray<Record<string, string> | undefined>): string[] {
  const names = new Set<string>();
  for (const map of maps) for (const name of Object.keys(map ?? {})) names.add(name);
  return [...names];
}
