// Render: the App documents of one environment at one revision, validated as a whole (names unique,
// dependsOn known and acyclic, the AnalysisTemplates a strategy names defined beside them), each with a spec
// hash that also covers the code in its cwd at that commit. The folder's AnalysisTemplate documents are
// collected for the rollouts. Problems are ConfigErrors with file, line and field, all of them collected
// rather than the first thrown.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, join, posix } from 'node:path';
import { type Document, isNode, LineCounter, parseAllDocuments } from 'yaml';
import { CONFIG_FILE } from '../config/load.js';
import { parseConfig } from '../config/parse.js';
import type { AppDocument, EnvironmentDocument } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { type AnalysisTemplate, parseAnalysisTemplates } from '../rollouts/analysis/schema.js';
import { treeIdsAt } from './source.js';
import type { AppSpec, DesiredApp } from './types.js';

const MAX_FILE_BYTES = 4 * 1024 * 1024;
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** What render needs of an Environment document. */
export interface RenderEnvironment {
  readonly metadata: { readonly name: string };
  readonly spec: { readonly path: string };
}

export interface RenderOptions {
  /** The commit `repoDir` holds the tree of; the apps' code digests are read at it. */
  readonly revision: string;
  /** Where git finds that commit: the source's cache (GitSource.cacheDir) or a work tree. */
  readonly gitDir: string;
  readonly signal?: AbortSignal;
  /** The PATH kubectl is looked up in (default: the process's PATH). */
  readonly searchPath?: string;
}

export interface RenderResult {
  /** Apps that rendered; do not apply them when there are problems (a missing app would look like a delete). */
  readonly apps: readonly DesiredApp[];
  /** The folder's `kind: AnalysisTemplate` documents by name (the ones without problems). */
  readonly templates: ReadonlyMap<string, AnalysisTemplate>;
  readonly problems: readonly ConfigError[];
}

/** A document's source and a way to find the line of a field in it. */
interface Located {
  readonly doc: AppDocument;
  readonly file: string;
  readonly line: number;
  readonly lineOf: (path: readonly (string | number)[]) => number;
}

/**
 * Reads every App document of an environment's folder in `repoDir` (the tree of `options.revision`): each
 * `*.yaml`/`*.yml` directly in the folder, several documents per file, or the output of `kubectl kustomize`
 * when the folder holds a kustomization.
 */
export async function renderEnvironment(
  repoDir: string,
  env: RenderEnvironment,
  options: RenderOptions,
): Promise<RenderResult> {
  const problems: ConfigError[] = [];
  const folder = env.spec.path;
  const abs = join(repoDir, folder);
  if (!isDirectory(abs)) {
    problems.push(
      new ConfigError(
        CONFIG_FILE,
        undefined,
        'spec.path',
        `environment "${env.metadata.name}": the folder ${folder} does not exist at ${short(options.revision)}`,
        'create the folder with the App documents, or fix the path',
      ),
    );
    return { apps: [], templates: new Map(), problems };
  }

  const sources = await readSources(repoDir, folder, options, problems);
  const located: Located[] = [];
  for (const source of sources) located.push(...parseApps(source.file, source.text, problems));
  const templates = collectTemplates(sources, problems);

  // Names are unique across the environment.
  const byName = new Map<string, Located>();
  for (const app of located) {
    const first = byName.get(app.doc.metadata.name);
    if (first !== undefined) {
      problems.push(
        new ConfigError(
          app.file,
          app.lineOf(['metadata', 'name']),
          'metadata.name',
          `app "${app.doc.metadata.name}" is already defined at ${first.file}:${first.line}`,
          'give each app of an environment its own name',
        ),
      );
      continue;
    }
    byName.set(app.doc.metadata.name, app);
  }

  // dependsOn names apps of this environment, without cycles.
  const broken = new Set<string>();
  for (const app of byName.values()) {
    app.doc.spec.dependsOn.forEach((dep, index) => {
      if (byName.has(dep)) return;
      broken.add(app.doc.metadata.name);
      problems.push(
        new ConfigError(
          app.file,
          app.lineOf(['spec', 'dependsOn', index]),
          `spec.dependsOn[${index}]`,
          `unknown app "${dep}"; environment "${env.metadata.name}" has: ${[...byName.keys()].sort().join(', ')}`,
          "name an app defined in this environment's folder",
        ),
      );
    });
  }
  for (const cycle of findCycles(byName)) {
    const start = byName.get(cycle[0] ?? '');
    if (start === undefined) continue;
    const index = start.doc.spec.dependsOn.indexOf(cycle[1] ?? '');
    for (const name of cycle) broken.add(name);
    problems.push(
      new ConfigError(
        start.file,
        start.lineOf(['spec', 'dependsOn', Math.max(index, 0)]),
        'spec.dependsOn',
        `a dependency cycle: ${cycle.join(' → ')}`,
        'remove one of the dependsOn entries so the apps can start in order',
      ),
    );
  }

  problems.push(...strategyProblems(byName, templates));

  // The spec hash covers the spec and the code the app runs: the tree of its cwd at this commit.
  const apps: DesiredApp[] = [];
  const trees = await treeIdsAt(
    options.gitDir,
    options.revision,
    [...byName.values()].map((app) => app.doc.spec.process.cwd),
    options.signal,
  );
  for (const app of byName.values()) {
    const spec: AppSpec = app.doc.spec;
    const tree = trees.get(spec.process.cwd);
    if (tree === undefined) {
      problems.push(
        new ConfigError(
          app.file,
          app.lineOf(['spec', 'process', 'cwd']),
          'spec.process.cwd',
          `the folder ${spec.process.cwd} does not exist at ${short(options.revision)}`,
          "commit the app's code, or fix the path (relative to the repository root)",
        ),
      );
      continue;
    }
    if (broken.has(app.doc.metadata.name)) continue;
    apps.push({
      environment: env.metadata.name,
      name: app.doc.metadata.name,
      revision: options.revision,
      spec,
      specHash: specHashOf(spec, tree),
      source: { file: app.file, line: app.line },
    });
  }
  apps.sort((a, b) => a.name.localeCompare(b.name));
  return { apps, templates, problems };
}

/**
 * The AnalysisTemplates of the folder's files, with their problems (all of them, file:line:field). A file
 * whose first problem parseApps already reported (parseConfig stops at a file's first) is not reported twice.
 */
export function collectTemplates(
  sources: readonly { file: string; text: string }[],
  problems: ConfigError[],
): ReadonlyMap<string, AnalysisTemplate> {
  const parsed = parseAnalysisTemplates(sources);
  const seen = new Set(problems.map((p) => p.message));
  for (const problem of parsed.problems) {
    if (!seen.has(problem.message)) problems.push(problem);
    seen.add(problem.message);
  }
  return parsed.templates;
}

/**
 * What a strategy asks of its environment: the AnalysisTemplates it names exist beside it, and a blue-green
 * preview port is no other App's port or preview port.
 */
function strategyProblems(
  apps: ReadonlyMap<string, Located>,
  templates: ReadonlyMap<string, AnalysisTemplate>,
): ConfigError[] {
  const problems: ConfigError[] = [];
  const known = [...templates.keys()].sort();
  const ports = new Map<number, string>();
  for (const app of apps.values()) ports.set(app.doc.spec.port, `the port of app "${app.doc.metadata.name}"`);
  for (const app of apps.values()) {
    const strategy = app.doc.spec.strategy;
    if (strategy === undefined) continue;
    const refs: { names: readonly string[]; path: (string | number)[] }[] = [];
    if ('canary' in strategy) {
      strategy.canary.steps.forEach((step, index) => {
        if ('analysis' in step) {
          refs.push({
            names: step.analysis.templates,
            path: ['spec', 'strategy', 'canary', 'steps', index, 'analysis', 'templates'],
          });
        }
      });
    } else {
      const { prePromotionAnalysis, previewPort } = strategy.blueGreen;
      if (prePromotionAnalysis !== undefined) {
        refs.push({
          names: prePromotionAnalysis.templates,
          path: ['spec', 'strategy', 'blueGreen', 'prePromotionAnalysis', 'templates'],
        });
      }
      if (previewPort !== undefined) {
        const taken = ports.get(previewPort);
        if (taken !== undefined) {
          problems.push(
            new ConfigError(
              app.file,
              app.lineOf(['spec', 'strategy', 'blueGreen', 'previewPort']),
              'spec.strategy.blueGreen.previewPort',
              `${previewPort} is already ${taken}`,
              'give the preview a port no other App of the environment uses',
            ),
          );
        } else {
          ports.set(previewPort, `the preview port of app "${app.doc.metadata.name}"`);
        }
      }
    }
    for (const ref of refs) {
      ref.names.forEach((name, index) => {
        if (templates.has(name)) return;
        const path = [...ref.path, index];
        problems.push(
          new ConfigError(
            app.file,
            app.lineOf(path),
            path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join(''),
            `unknown AnalysisTemplate "${name}"; ${known.length === 0 ? 'the environment has none' : `the environment has: ${known.join(', ')}`}`,
            'add a kind: AnalysisTemplate document with that metadata.name to the environment folder',
          ),
        );
      });
    }
  }
  return problems;
}

/** The Environment documents of a repository's root plumbline.yaml (in `repoDir`), names unique. */
export function readEnvironments(repoDir: string): EnvironmentDocument[] {
  const file = join(repoDir, CONFIG_FILE);
  if (!existsSync(file)) {
    throw new ConfigError(
      CONFIG_FILE,
      undefined,
      undefined,
      'does not exist',
      'add Environment documents to it',
    );
  }
  const config = parseConfig(readFileSync(file, 'utf8'), CONFIG_FILE);
  const seen = new Set<string>();
  const environments: EnvironmentDocument[] = [];
  for (const doc of config.documents) {
    if (doc.kind === 'App') {
      throw new ConfigError(
        CONFIG_FILE,
        doc.line,
        'kind',
        "App documents belong in an environment's folder, not in plumbline.yaml",
        "move it into the folder an Environment's spec.path names",
      );
    }
    if (doc.kind !== 'Environment') continue;
    if (seen.has(doc.name)) {
      throw new ConfigError(
        CONFIG_FILE,
        doc.line,
        'metadata.name',
        `environment "${doc.name}" is defined twice`,
      );
    }
    seen.add(doc.name);
    environments.push(doc.value as EnvironmentDocument);
  }
  return environments;
}

/** JSON with object keys sorted at every depth: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** sha256 over the canonical JSON of the spec and the Git tree id of the app's cwd. */
export function specHashOf(spec: AppSpec, cwdTreeId: string): string {
  return createHash('sha256').update(canonicalJson(spec)).update('\n').update(cwdTreeId).digest('hex');
}

/** Each cycle once, as names from a start back to it: `a → b → a`. */
export function findCycles(
  apps: ReadonlyMap<string, { doc: { spec: { dependsOn: readonly string[] } } }>,
): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of apps.get(name)?.doc.spec.dependsOn ?? []) {
      if (!apps.has(dep)) continue;
      const seen = state.get(dep);
      if (seen === 'visiting') cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
      else if (seen === undefined) visit(dep);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of [...apps.keys()].sort()) if (!state.has(name)) visit(name);
  return cycles;
}

/** The first executable called `name` on `searchPath`, or undefined. */
export function findExecutable(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function readSources(
  repoDir: string,
  folder: string,
  options: RenderOptions,
  problems: ConfigError[],
): Promise<{ file: string; text: string }[]> {
  const abs = join(repoDir, folder);
  const names = readdirSync(abs).sort();
  const kustomization = names.find((name) => KUSTOMIZATION_FILES.includes(name));
  if (kustomization !== undefined) {
    const file = posix.join(folder, kustomization);
    const kubectl = findExecutable('kubectl', options.searchPath);
    if (kubectl === undefined) {
      problems.push(
        new ConfigError(
          file,
          undefined,
          undefined,
          'this folder is a kustomization, and rendering it needs kubectl, which is not installed (not on PATH)',
          'install kubectl (it includes kustomize), or replace the kustomization with plain App documents',
        ),
      );
      return [];
    }
    const result = await run(kubectl, ['kustomize', abs], options.signal);
    if (result.code !== 0) {
      problems.push(
        new ConfigError(
          file,
          undefined,
          undefined,
          `kubectl kustomize failed: ${result.stderr.trim().split('\n')[0] ?? `exit ${result.code}`}`,
          'run kubectl kustomize on the folder to see the whole error',
        ),
      );
      return [];
    }
    return [{ file: `${file} (kustomize output)`, text: result.stdout }];
  }
  const sources: { file: string; text: string }[] = [];
  for (const name of names) {
    if (!/\.ya?ml$/i.test(name)) continue;
    const file = posix.join(folder, name);
    if (file === CONFIG_FILE) continue; // the environment folder is the repository root
    const path = join(abs, name);
    if (!statSync(path).isFile()) continue;
    const bytes = readFileSync(path);
    if (bytes.length > MAX_FILE_BYTES) {
      problems.push(
        new ConfigError(file, undefined, undefined, `is ${bytes.length} bytes; the limit is 4 MiB`),
      );
      continue;
    }
    sources.push({ file, text: bytes.toString('utf8') });
  }
  return sources;
}

function parseApps(file: string, text: string, problems: ConfigError[]): Located[] {
  let documents: ReturnType<typeof parseConfig>['documents'];
  try {
    documents = parseConfig(text, file).documents;
  } catch (error) {
    if (error instanceof ConfigError) {
      problems.push(error);
      return [];
    }
    throw error;
  }
  const locate = lineLocator(text);
  const apps: Located[] = [];
  for (const doc of documents) {
    if (doc.kind === 'AnalysisTemplate') continue; // collectTemplates reads them, with all their problems
    if (doc.kind !== 'App') {
      problems.push(
        new ConfigError(
          file,
          doc.line,
          'kind',
          `only App and AnalysisTemplate documents belong in an environment's folder (found ${doc.kind})`,
          doc.kind === 'Environment'
            ? 'move Environment documents to plumbline.yaml at the repository root'
            : undefined,
        ),
      );
      continue;
    }
    apps.push({
      doc: doc.value as AppDocument,
      file,
      line: doc.line,
      lineOf: (path) => locate(doc.line, path) ?? doc.line,
    });
  }
  return apps;
}

/** For a YAML stream: the line of the deepest existing node along a path, in the document starting at a line. */
function lineLocator(
  text: string,
): (docLine: number, path: readonly (string | number)[]) => number | undefined {
  const lineCounter = new LineCounter();
  const byLine = new Map<number, Document>();
  for (const doc of parseAllDocuments(text, { lineCounter })) {
    if (doc.contents !== null) byLine.set(lineCounter.linePos(doc.contents.range[0]).line, doc);
  }
  return (docLine, path) => {
    const doc = byLine.get(docLine);
    if (doc === undefined) return undefined;
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
}

function run(
  command: string,
  args: readonly string[],
  signal?: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(signal === undefined ? {} : { signal }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => reject(signal?.aborted ? signal.reason : error));
    child.on('close', (code) => {
      if (signal?.aborted) return;
      resolvePromise({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function short(revision: string): string {
  return revision.slice(0, 12);
}
