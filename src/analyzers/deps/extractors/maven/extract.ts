// Reads pom.xml: the dependencies it declares under <dependencies> and <dependencyManagement>, with `${…}`
// properties resolved from <properties> and the project's own coordinates (nested ones too). A dependency
// whose version cannot be resolved here (it comes from a parent POM or a profile) is skipped; `test` scope is
// dev; all are direct. Parent POMs are not fetched.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { type ExtractContext, LockfileError, type Package } from '../../types.js';
import { LineIndex } from '../composer/json-lines.js';
import { purl } from '../purl.js';
import { type PomDependency, type PomProject, pomDependencySchema, pomProjectSchema } from './schema.js';

const MAX_PROPERTY_DEPTH = 16;

function buildProperties(project: PomProject): Map<string, string> {
  const properties = new Map<string, string>();
  const declared =
    typeof project.properties === 'object' && project.properties !== null ? project.properties : {};
  for (const [name, value] of Object.entries(declared)) {
    if (typeof value === 'string') properties.set(name, value);
    else if (typeof value === 'number' || typeof value === 'boolean') properties.set(name, String(value));
  }
  const version = project.version ?? project.parent?.version;
  const groupId = project.groupId ?? project.parent?.groupId;
  const builtins: [string, string | undefined][] = [
    ['version', version],
    ['groupId', groupId],
    ['artifactId', project.artifactId],
    ['parent.version', project.parent?.version],
    ['parent.groupId', project.parent?.groupId],
    ['parent.artifactId', project.parent?.artifactId],
  ];
  for (const [name, value] of builtins) {
    if (value === undefined) continue;
    for (const prefix of ['project.', 'pom.']) properties.set(prefix + name, value);
    if (!properties.has(name)) properties.set(name, value);
  }
  return properties;
}

/** Replaces every `${name}`; undefined when one cannot be resolved (or resolves in a cycle). */
export function resolveProperties(
  value: string,
  properties: ReadonlyMap<string, string>,
): string | undefined {
  let current = value;
  for (let depth = 0; depth < MAX_PROPERTY_DEPTH; depth++) {
    if (!current.includes('${')) return current;
    let unresolved = false;
    current = current.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
      const replacement = properties.get(name.trim());
      if (replacement === undefined) unresolved = true;
      return replacement ?? '';
    });
    if (unresolved) return undefined;
  }
  return undefined;
}

interface Declared {
  readonly dependency: PomDependency;
  readonly line: number;
}

function dependenciesOf(
  list: { dependency?: unknown[] } | undefined,
  lines: (node: unknown) => number,
): Declared[] {
  return (list?.dependency ?? []).flatMap((node) => {
    const parsed = pomDependencySchema.safeParse(node);
    return parsed.success ? [{ dependency: parsed.data, line: lines(node) }] : [];
  });
}

function parsePom(content: string): { project: unknown; lineOf: (node: unknown) => number } {
  if (content.trim() === '') throw new LockfileError('pom.xml is empty');
  let valid: ReturnType<typeof XMLValidator.validate>;
  try {
    valid = XMLValidator.validate(content);
  } catch (error) {
    throw new LockfileError(
      `pom.xml is not valid XML: ${error instanceof Error ? error.message.slice(0, 120) : ''}`,
    );
  }
  if (valid !== true) {
    throw new LockfileError(`pom.xml is not valid XML: ${valid.err.msg.slice(0, 120)}`, valid.err.line);
  }
  const parser = new XMLParser({
    ignoreAttributes: true,
    removeNSPrefix: true,
    parseTagValue: false,
    processEntities: false,
    htmlEntities: false,
    trimValues: true,
    captureMetaData: true,
    isArray: (tagName) => tagName === 'dependency',
  });
  let document: unknown;
  try {
    document = parser.parse(content);
  } catch (error) {
    throw new LockfileError(
      `pom.xml is not valid XML: ${error instanceof Error ? error.message.slice(0, 120) : ''}`,
    );
  }
  const project =
    typeof document === 'object' && document !== null
      ? (document as { project?: unknown }).project
      : undefined;
  if (typeof project !== 'object' || project === null)
    throw new LockfileError('not a pom.xml: no <project> element', 1);
  const lines = new LineIndex(content);
  const symbol = XMLParser.getMetaDataSymbol();
  return {
    project,
    lineOf(node) {
      const meta =
        typeof node === 'object' && node !== null
          ? (node as Record<symbol, unknown>)[symbol as symbol]
          : undefined;
      const start = (meta as { startIndex?: unknown } | undefined)?.startIndex;
      return typeof start === 'number' ? lines.lineAt(start) : 1;
    },
  };
}

/** Extracts the declared dependencies of a pom.xml. */
export function extractPom(content: string, context: ExtractContext): Package[] {
  const { project: raw, lineOf } = parsePom(content);
  const parsed = pomProjectSchema.safeParse(raw);
  if (!parsed.success) throw new LockfileError('not a pom.xml: unreadable <project>', 1);
  const project = parsed.data;
  const properties = buildProperties(project);
  const declared = dependenciesOf(project.dependencies, lineOf);
  const managed = dependenciesOf(project.dependencyManagement?.dependencies, lineOf);

  function coordinates(dependency: PomDependency): { group: string; artifact: string } | undefined {
    const group = resolveProperties(dependency.groupId ?? '', properties);
    const artifact = resolveProperties(dependency.artifactId ?? '', properties);
    return group && artifact ? { group, artifact } : undefined;
  }
  const managedBy = new Map<string, PomDependency>();
  for (const { dependency } of managed) {
    const at = coordinates(dependency);
    if (at !== undefined && !managedBy.has(`${at.group}:${at.artifact}`))
      managedBy.set(`${at.group}:${at.artifact}`, dependency);
  }

  const packages: Package[] = [];
  const keys = new Set<string>();
  for (const { dependency, line } of [...declared, ...managed]) {
    const at = coordinates(dependency);
    if (at === undefined) continue;
    const name = `${at.group}:${at.artifact}`;
    const management = managedBy.get(name);
    const written = dependency.version ?? management?.version;
    const version = written === undefined ? undefined : resolveProperties(written, properties)?.trim();
    // Unresolvable, or a range (`[1.0,2.0)`): no single version to report.
    if (!version || /^[[(]/.test(version) || version.includes(',')) continue;
    const key = `${name}@${version}`;
    if (keys.has(key)) continue;
    keys.add(key);
    const scope = dependency.scope ?? management?.scope;
    packages.push({
      ecosystem: 'Maven',
      name,
      version,
      purl: purl('maven', at.group, at.artifact, version),
      direct: true,
      dev: scope === 'test',
      file: context.path,
      line,
      source: 'registry',
      key,
    });
  }
  return packages;
}
