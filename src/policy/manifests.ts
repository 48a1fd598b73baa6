// The documents an environment deploys, as written in Git, for policies to judge: every document of the
// environment's folder (`*.yaml`/`*.yml` directly in it, as gitops/render.ts reads them; or the output of
// `kubectl kustomize` when the folder is a kustomization), Apps and plain Kubernetes manifests alike, plus
// the Environment document itself. Policies judge the documents as written, not the normalised App spec, so
// that a policy reads the same fields in CI, in the controller and in the author's editor.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { CONFIG_FILE } from '../config/load.js';
import { findExecutable } from '../gitops/render.js';
import type { PolicyResource } from './engine.js';
import { isRecord, readYamlStream } from './yaml.js';

const MAX_FILE_BYTES = 4 * 1024 * 1024;
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** What manifest reading needs of an Environment document. */
export interface ManifestEnvironment {
  readonly metadata: { readonly name: string };
  readonly spec: { readonly path: string };
}

export interface EnvironmentManifests {
  readonly environment: string;
  /** The documents to judge, each with file and line; Apps carry their environment as namespace. */
  readonly resources: readonly PolicyResource[];
  /** Files or documents that could not be read, with the reason (reported, never fatal). */
  readonly problems: readonly {
    readonly file: string;
    readonly line: number | undefined;
    readonly message: string;
  }[];
}

export interface ManifestOptions {
  /** The Environment document as written in plumbline.yaml (its labels feed namespaceSelector). */
  readonly environmentDocument?: unknown;
  /** Where plumbline.yaml declares it (to judge the Environment document itself). */
  readonly environmentSource?: { readonly file: string; readonly line: number };
  readonly signal?: AbortSignal;
  /** The PATH kubectl is looked up in (default: the process's PATH). */
  readonly searchPath?: string;
}

/** Reads the documents of one environment's folder in `repoDir` (a work tree or a release folder). */
export async function readEnvironmentManifests(
  repoDir: string,
  env: ManifestEnvironment,
  options: ManifestOptions = {},
): Promise<EnvironmentManifests> {
  const folder = env.spec.path;
  const problems: { file: string; line: number | undefined; message: string }[] = [];
  const resources: PolicyResource[] = [];
  const namespaceObject = options.environmentDocument ?? {
    apiVersion: 'plumbline.dev/v1alpha1',
    kind: 'Environment',
    metadata: { name: env.metadata.name },
    spec: { path: folder },
  };
  if (options.environmentSource !== undefined && options.environmentDocument !== undefined) {
    resources.push({ doc: options.environmentDocument, ...options.environmentSource });
  }
  const abs = join(repoDir, folder);
  let names: string[];
  try {
    names = statSync(abs).isDirectory() ? readdirSync(abs).sort() : [];
  } catch {
    names = [];
  }
  if (names.length === 0) {
    problems.push({
      file: folder,
      line: undefined,
      message: `environment "${env.metadata.name}": the folder is missing or empty`,
    });
    return { environment: env.metadata.name, resources, problems };
  }
  for (const source of await sources(repoDir, folder, names, options, problems)) {
    const { documents, problems: yamlProblems } = readYamlStream(source.text);
    for (const p of yamlProblems) problems.push({ file: source.file, line: p.line, message: p.message });
    for (const doc of documents) {
      const v = doc.value;
      if (!isRecord(v) || typeof v.kind !== 'string' || typeof v.apiVersion !== 'string') continue;
      const isApp = v.kind === 'App' && v.apiVersion.startsWith('plumbline.dev/');
      resources.push({
        doc: v,
        file: source.file,
        line: source.kustomized ? 1 : doc.line,
        ...(isApp ? { namespace: env.metadata.name, namespaceObject } : {}),
      });
    }
  }
  return { environment: env.metadata.name, resources, problems };
}

interface Source {
  readonly file: string;
  readonly text: string;
  readonly kustomized: boolean;
}

async function sources(
  repoDir: string,
  folder: string,
  names: readonly string[],
  options: ManifestOptions,
  problems: { file: string; line: number | undefined; message: string }[],
): Promise<Source[]> {
  const kustomization = names.find((n) => KUSTOMIZATION_FILES.includes(n));
  if (kustomization !== undefined) {
    const file = posix.join(folder, kustomization);
    const kubectl = findExecutable('kubectl', options.searchPath);
    if (kubectl === undefined) {
      problems.push({
        file,
        line: undefined,
        message: 'a kustomization needs kubectl to render it; kubectl is not on PATH',
      });
      return [];
    }
    const result = await run(kubectl, ['kustomize', join(repoDir, folder)], options.signal);
    if (result.code !== 0) {
      problems.push({
        file,
        line: undefined,
        message: `kubectl kustomize failed: ${result.stderr.trim().split('\n')[0] ?? ''}`,
      });
      return [];
    }
    return [{ file, text: result.stdout, kustomized: true }];
  }
  const out: Source[] = [];
  for (const name of names) {
    if (!/\.ya?ml$/i.test(name)) continue;
    const file = posix.join(folder, name);
    if (file === CONFIG_FILE) continue;
    const path = join(repoDir, folder, name);
    try {
      const stat = statSync(path);
      if (!stat.isFile()) continue;
      if (stat.size > MAX_FILE_BYTES) {
        problems.push({ file, line: undefined, message: `is ${stat.size} bytes; the limit is 4 MiB` });
        continue;
      }
      out.push({ file, text: readFileSync(path, 'utf8'), kustomized: false });
    } catch (error) {
      problems.push({
        file,
        line: undefined,
        message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      });
    }
  }
  return out;
}

/** The Environment documents of plumbline.yaml as written, with their lines (for namespaceObject). */
export function readEnvironmentDocuments(
  repoDir: string,
): { doc: Record<string, unknown>; name: string; line: number }[] {
  let text: string;
  try {
    text = readFileSync(join(repoDir, CONFIG_FILE), 'utf8');
  } catch {
    return [];
  }
  const out: { doc: Record<string, unknown>; name: string; line: number }[] = [];
  for (const d of readYamlStream(text).documents) {
    const v = d.value;
    if (
      !isRecord(v) ||
      v.kind !== 'Environment' ||
      !isRecord(v.metadata) ||
      typeof v.metadata.name !== 'string'
    )
      continue;
    out.push({ doc: v, name: v.metadata.name, line: d.line });
  }
  return out;
}

function run(
  command: string,
  args: readonly string[],
  signal?: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(signal === undefined ? {} : { signal }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}
