// Reads composer.lock: `packages` and `packages-dev` (dev). Direct packages are those the composer.json beside
// it requires. Versions stay as written (`v5.4.0`), in the purl too: `pkg:composer/symfony/console@v5.4.0`.
import { posix } from 'node:path';
import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { purl } from '../purl.js';
import { parseJsonWithLines } from './json-lines.js';
import {
  type ComposerPackage,
  composerLockSchema,
  composerManifestSchema,
  composerPackageSchema,
} from './schema.js';

/** `pkg:composer/vendor/name@version`. */
export function composerPurl(name: string, version: string): string {
  const slash = name.indexOf('/');
  return slash === -1
    ? purl('composer', undefined, name, version)
    : purl('composer', name.slice(0, slash), name.slice(slash + 1), version);
}

function sourceOf(entry: ComposerPackage): Package['source'] {
  if (entry.dist?.type === 'path') return 'file';
  const branch = entry.version.startsWith('dev-') || entry.version.endsWith('-dev');
  return branch && entry.source?.type === 'git' ? 'git' : 'registry';
}

/** Lower-cased names composer.json requires, or undefined without one. */
function declared(context: ExtractContext): Set<string> | undefined {
  const text = context.readFile(posix.join(posix.dirname(context.path), 'composer.json'));
  if (text === undefined) return undefined;
  try {
    const manifest = composerManifestSchema.safeParse(JSON.parse(text));
    if (!manifest.success) return undefined;
    const names = [
      ...Object.keys(manifest.data.require ?? {}),
      ...Object.keys(manifest.data['require-dev'] ?? {}),
    ];
    return new Set(names.map((name) => name.toLowerCase()));
  } catch {
    return undefined;
  }
}

/** Extracts the packages of a composer.lock. */
export function extractComposerLock(content: string, context: ExtractContext): Package[] {
  const document = parseJsonWithLines(content, 'composer.lock', 2);
  const lock = composerLockSchema.safeParse(document.value);
  if (!lock.success) throw new LockfileError('not a composer.lock: no packages', 1);
  const direct = declared(context);
  const entries: { data: ComposerPackage; line: number; dev: boolean }[] = [];
  for (const section of ['packages', 'packages-dev'] as const) {
    (lock.data[section] ?? []).forEach((raw, index) => {
      const parsed = composerPackageSchema.safeParse(raw);
      if (!parsed.success) return;
      entries.push({
        data: parsed.data,
        line: document.lineOf([section, index]) ?? 1,
        dev: section === 'packages-dev',
      });
    });
  }
  const keyByName = new Map<string, string>();
  for (const { data } of entries) {
    const name = data.name.toLowerCase();
    if (!keyByName.has(name)) keyByName.set(name, `${name}@${data.version}`);
  }
  const packages: Package[] = [];
  const keys = new Set<string>();
  for (const { data, line, dev } of entries) {
    const key = `${data.name.toLowerCase()}@${data.version}`;
    if (keys.has(key)) continue;
    keys.add(key);
    packages.push({
      ecosystem: 'Packagist',
      name: data.name,
      version: data.version,
      purl: composerPurl(data.name, data.version),
      direct: direct?.has(data.name.toLowerCase()) ?? false,
      dev,
      file: context.path,
      line,
      source: sourceOf(data),
      key,
      // Platform requirements (php, ext-*, lib-*) are not packages.
      dependencies: Object.keys(data.require ?? {}).flatMap(
        (name) => keyByName.get(name.toLowerCase()) ?? [],
      ),
    });
  }
  return packages;
}
