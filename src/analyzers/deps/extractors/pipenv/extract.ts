// Reads Pipfile.lock: the `default` and `develop` sections. A package only under `develop` is dev; direct ones
// are those the Pipfile beside it names under [packages] or [dev-packages].

import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { parseJsonWithLines } from '../composer/json-lines.js';
import { normalizePypiName, pypiPurl } from '../pip/pep508.js';
import { asTable, readSiblingToml } from '../poetry/toml.js';
import { type PipfileLockEntry, pipfileLockEntrySchema, pipfileLockSchema } from './schema.js';

function lockedVersion(entry: PipfileLockEntry): { version: string; source: Package['source'] } | undefined {
  const pinned = /^\s*===?\s*(\S+)\s*$/.exec(entry.version ?? '')?.[1];
  if (entry.git !== undefined) {
    const version = pinned ?? entry.ref;
    return version === undefined ? undefined : { version, source: 'git' };
  }
  if (pinned === undefined) return undefined;
  return {
    version: pinned,
    source: entry.path !== undefined || entry.file !== undefined ? 'file' : 'registry',
  };
}

/** Normalised names the Pipfile declares, or undefined without a Pipfile. */
function declared(context: ExtractContext): Set<string> | undefined {
  const pipfile = readSiblingToml(context, 'Pipfile');
  if (pipfile === undefined) return undefined;
  const names = new Set<string>();
  for (const section of ['packages', 'dev-packages']) {
    for (const name of Object.keys(asTable(pipfile[section]) ?? {})) names.add(normalizePypiName(name));
  }
  return names;
}

/** Extracts the packages of a Pipfile.lock. */
export function extractPipfileLock(content: string, context: ExtractContext): Package[] {
  const document = parseJsonWithLines(content, 'Pipfile.lock', 2);
  const lock = pipfileLockSchema.safeParse(document.value);
  if (!lock.success)
    throw new LockfileError('not a Pipfile.lock: expected an object with default and develop', 1);
  const direct = declared(context);
  // `default` first: a package in both sections is needed at runtime, so not dev.
  const found = new Map<string, Package>();
  for (const section of ['default', 'develop'] as const) {
    for (const [name, raw] of Object.entries(lock.data[section] ?? {})) {
      const entry = pipfileLockEntrySchema.safeParse(raw);
      if (!entry.success) continue;
      const locked = lockedVersion(entry.data);
      if (locked === undefined) continue;
      const key = `${normalizePypiName(name)}@${locked.version}`;
      if (found.has(key)) continue;
      found.set(key, {
        ecosystem: 'PyPI',
        name,
        version: locked.version,
        purl: pypiPurl(name, locked.version),
        direct: direct?.has(normalizePypiName(name)) ?? false,
        dev: section === 'develop',
        file: context.path,
        line: document.lineOf([section, name]) ?? 1,
        source: locked.source,
        key,
      });
    }
  }
  return [...found.values()];
}
