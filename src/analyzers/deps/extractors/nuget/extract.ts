// Reads NuGet's packages.lock.json: the packages of every target framework, one package per name and version
// (direct when any framework declares it `Direct`). `Project` entries are the solution's own projects, not
// packages; `CentralTransitive` ones are transitive packages pinned by central package management.

import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { parseJsonWithLines } from '../composer/json-lines.js';
import { purl } from '../purl.js';
import { nugetEntrySchema, nugetLockSchema } from './schema.js';

interface Found {
  readonly name: string;
  readonly version: string;
  readonly line: number;
  readonly key: string;
  direct: boolean;
  readonly dependencies: Set<string>;
}

/** Extracts the packages of a packages.lock.json. */
export function extractNugetLock(content: string, context: ExtractContext): Package[] {
  const document = parseJsonWithLines(content, 'packages.lock.json', 3);
  const lock = nugetLockSchema.safeParse(document.value);
  if (!lock.success)
    throw new LockfileError('not a packages.lock.json: no dependencies by target framework', 1);
  const found = new Map<string, Found>();
  for (const [framework, packages] of Object.entries(lock.data.dependencies)) {
    const resolved = new Map<string, string>();
    const entries = Object.entries(packages).flatMap(([name, raw]) => {
      const entry = nugetEntrySchema.safeParse(raw);
      if (!entry.success || entry.data.resolved === undefined || entry.data.type === 'Project') return [];
      resolved.set(name.toLowerCase(), `${name.toLowerCase()}@${entry.data.resolved}`);
      return [{ name, version: entry.data.resolved, data: entry.data }];
    });
    for (const { name, version, data } of entries) {
      const key = `${name.toLowerCase()}@${version}`;
      let package_ = found.get(key);
      if (package_ === undefined) {
        const line = document.lineOf(['dependencies', framework, name]) ?? 1;
        package_ = { name, version, line, key, direct: false, dependencies: new Set() };
        found.set(key, package_);
      }
      if (data.type === 'Direct') package_.direct = true;
      for (const dependency of Object.keys(data.dependencies ?? {})) {
        const target = resolved.get(dependency.toLowerCase());
        if (target !== undefined) package_.dependencies.add(target);
      }
    }
  }
  return [...found.values()].map((p) => ({
    ecosystem: 'NuGet',
    name: p.name,
    version: p.version,
    purl: purl('nuget', undefined, p.name, p.version),
    direct: p.direct,
    dev: false,
    file: context.path,
    line: p.line,
    source: 'registry',
    key: p.key,
    dependencies: [...p.dependencies],
  }));
}
