// The direct dependencies a pyproject.toml declares (PEP 621, PEP 735, Poetry and PDM tables), by PEP 503 name,
// split into runtime and development ones. Shared by the poetry and pdm extractors.
import { normalizePypiName, requirementName } from '../pip/pep508.js';
import { asArray, asTable, type TomlTable } from './toml.js';

export interface DeclaredDependencies {
  /** Runtime dependencies, optional extras included. */
  readonly main: ReadonlySet<string>;
  /** Development groups: dev-dependencies, dependency groups, non-main Poetry groups. */
  readonly dev: ReadonlySet<string>;
}

function addRequirements(into: Set<string>, list: unknown): void {
  for (const entry of asArray(list)) {
    if (typeof entry !== 'string') continue;
    const name = requirementName(entry);
    if (name !== undefined) into.add(normalizePypiName(name));
  }
}

function addPoetryTable(into: Set<string>, table: unknown): void {
  for (const name of Object.keys(asTable(table) ?? {})) {
    if (name.toLowerCase() !== 'python') into.add(normalizePypiName(name));
  }
}

/** What a parsed pyproject.toml declares. */
export function declaredDependencies(pyproject: TomlTable): DeclaredDependencies {
  const main = new Set<string>();
  const dev = new Set<string>();
  const project = asTable(pyproject.project);
  addRequirements(main, project?.dependencies);
  for (const list of Object.values(asTable(project?.['optional-dependencies']) ?? {}))
    addRequirements(main, list);
  for (const list of Object.values(asTable(pyproject['dependency-groups']) ?? {})) addRequirements(dev, list);
  const tool = asTable(pyproject.tool);
  const poetry = asTable(tool?.poetry);
  addPoetryTable(main, poetry?.dependencies);
  addPoetryTable(dev, poetry?.['dev-dependencies']);
  for (const [group, table] of Object.entries(asTable(poetry?.group) ?? {})) {
    addPoetryTable(group === 'main' ? main : dev, asTable(table)?.dependencies);
  }
  const pdm = asTable(tool?.pdm);
  for (const list of Object.values(asTable(pdm?.['dev-dependencies']) ?? {})) addRequirements(dev, list);
  return { main, dev };
}

/** Every node reachable from `roots` through `graph` (roots included when they are nodes). */
export function reachable(
  graph: ReadonlyMap<string, readonly string[]>,
  roots: Iterable<string>,
): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    if (seen.has(next)) continue;
    seen.add(next);
    for (const child of graph.get(next) ?? []) if (!seen.has(child)) queue.push(child);
  }
  return seen;
}

/**
 * The names only development needs: reachable from the dev declarations but not from the runtime ones. Names
 * and graph are PEP 503 normalised.
 */
export function devOnlyNames(
  graph: ReadonlyMap<string, readonly string[]>,
  declared: DeclaredDependencies,
): Set<string> {
  const runtime = reachable(graph, declared.main);
  return new Set([...reachable(graph, declared.dev)].filter((name) => !runtime.has(name)));
}
