// `plumbline policy test DIR`: test cases as data beside the policies. Two formats:
//   - plumbline-test.yaml: `kind: PolicyTest` (policies, resources, optional params and oldResources, and the
//     expected result per policy and resource: pass, fail, skip, error; optionally a message it must contain);
//   - kyverno-test.yaml: Kyverno CLI's `kind: Test` (policies, resources, results[] with policy, resources and
//     result), for ValidatingPolicy suites teams already have.
// Every case runs through the same engine as `plumbline check` and the controller.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { z } from 'zod';
import { ConfigError, InputError } from '../errors.js';
import { evaluate, type PolicyResource, type Verdict } from './engine.js';
import { type PolicySet, policiesFromSources, type SourceFile } from './load.js';
import { identify } from './match.js';
import { kyvernoTestSchema, type Operation, policyTestSchema } from './schema.js';
import { formatPath, isRecord, readYamlStrict, type YamlDocument } from './yaml.js';

export const TEST_FILES = [
  'plumbline-test.yaml',
  'plumbline-test.yml',
  'kyverno-test.yaml',
  'kyverno-test.yml',
];

export type CaseStatus = 'passed' | 'failed' | 'unsupported';
export type Outcome = 'pass' | 'fail' | 'skip' | 'error' | 'warn';

export interface TestCaseResult {
  /** The test file, relative to the folder given. */
  readonly file: string;
  readonly test: string;
  readonly policy: string;
  /** The resource as the test names it. */
  readonly resource: string;
  readonly expected: Outcome;
  /** What the engine decided; undefined when the resource or policy was not found. */
  readonly actual: Outcome | undefined;
  readonly status: CaseStatus;
  /** Why it failed or is unsupported; for an actual failure, the policy's messages. */
  readonly detail: string;
}

export interface TestRun {
  readonly files: readonly string[];
  readonly results: readonly TestCaseResult[];
  readonly passed: number;
  readonly failed: number;
  readonly unsupported: number;
}

/** Finds every test file under `dir` and runs it. ConfigError for a malformed file (exit 2). */
export function runPolicyTests(dir: string): TestRun {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(dir);
  } catch {
    throw new InputError(`${dir} does not exist`, 'give the folder that holds the policies and their tests');
  }
  const files = stat.isFile() ? [dir] : findTestFiles(dir);
  const base = stat.isFile() ? dirname(dir) : dir;
  if (files.length === 0) {
    throw new InputError(
      `no test files in ${dir}`,
      `add a plumbline-test.yaml (kind: PolicyTest) or kyverno-test.yaml beside the policies`,
    );
  }
  const results: TestCaseResult[] = [];
  for (const file of files) results.push(...runTestFile(file, slash(relative(base, file)) || file));
  return {
    files: files.map((f) => slash(relative(base, f)) || f),
    results,
    passed: results.filter((r) => r.status === 'passed').length,
    failed: results.filter((r) => r.status === 'failed').length,
    unsupported: results.filter((r) => r.status === 'unsupported').length,
  };
}

function findTestFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (entry.name === 'node_modules' || entry.name === '.git') continue;
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (TEST_FILES.includes(entry.name)) out.push(path);
    }
  };
  walk(dir);
  return out;
}

function slash(p: string): string {
  return p.split(sep).join('/');
}

interface Expectation {
  readonly policy: string;
  readonly resources: readonly string[];
  readonly kind: string | undefined;
  readonly result: Outcome;
  readonly message: string | undefined;
}

interface Normalised {
  readonly name: string;
  readonly policies: readonly string[];
  readonly resources: readonly string[];
  readonly params: readonly string[];
  readonly oldResources: readonly string[];
  readonly operation: Operation | undefined;
  readonly environment: string | undefined;
  readonly results: readonly Expectation[];
  readonly notes: readonly string[];
}

function runTestFile(path: string, shown: string): TestCaseResult[] {
  const text = read(path, shown);
  const out: TestCaseResult[] = [];
  for (const doc of readYamlStrict(text, shown)) {
    const test = normalise(doc, shown, path);
    if (test === undefined) continue;
    out.push(...runTest(test, dirname(path), shown));
  }
  return out;
}

function normalise(doc: YamlDocument, shown: string, path: string): Normalised | undefined {
  if (!isRecord(doc.value)) return undefined;
  if (doc.value.kind === 'PolicyTest') {
    const t = validate(policyTestSchema, doc, shown);
    return {
      name: t.metadata.name,
      policies: t.spec.policies,
      resources: t.spec.resources,
      params: t.spec.params,
      oldResources: t.spec.oldResources,
      operation: t.spec.operation,
      environment: t.spec.environment,
      results: t.spec.results.map((r) => ({ ...r, kind: undefined, message: r.message })),
      notes: [],
    };
  }
  if (!/kyverno-test\.ya?ml$/.test(path)) return undefined;
  const t = validate(kyvernoTestSchema, doc, shown);
  return {
    name: t.metadata?.name ?? t.name ?? shown,
    policies: t.policies,
    resources: t.resources,
    params: [],
    oldResources: [],
    operation: undefined,
    environment: undefined,
    results: t.results.map((r) => ({
      policy: r.policy,
      resources: r.resources ?? (r.resource === undefined ? [] : [r.resource]),
      kind: r.kind,
      result: r.result,
      message: undefined,
    })),
    notes:
      t.variables === undefined ? [] : [`the variables file ${t.variables} is not supported and was ignored`],
  };
}

function validate<S extends z.ZodType>(schema: S, doc: YamlDocument, file: string): z.infer<S> {
  const result = schema.safeParse(doc.value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = (issue?.path ?? []).map((p) => (typeof p === 'symbol' ? String(p) : p));
  let message = issue?.message ?? 'invalid';
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
    path.push(issue.keys[0]);
    message = 'unknown field: check its spelling and indentation, or remove it';
  }
  throw new ConfigError(
    file,
    doc.lineOf(path),
    path.length > 0 ? formatPath(path) : undefined,
    message,
    'see "Testing policies" in the README',
  );
}

function read(path: string, shown: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      shown,
      undefined,
      undefined,
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

function runTest(test: Normalised, dir: string, shown: string): TestCaseResult[] {
  const load = (files: readonly string[]): SourceFile[] =>
    files.map((f) => {
      const file = slash(join(dirname(shown), f));
      return { file, text: read(join(dir, f), file) };
    });
  const policySources = load(test.policies);
  const resourceSources = load(test.resources);
  const set: PolicySet = policiesFromSources([...policySources, ...load(test.params), ...resourceSources]);
  const unsupported = new Set(
    set.notes.flatMap((n) => {
      const m = /Kyverno (\w+) \(pattern rules\)/.exec(n);
      return m === null ? [] : [n];
    }),
  );

  const olds = new Map<string, unknown>();
  for (const source of load(test.oldResources)) {
    for (const doc of readYamlStrict(source.text, source.file)) {
      const id = identify(doc.value);
      if (id !== undefined) olds.set(`${id.kind}/${id.namespace ?? ''}/${id.name}`, doc.value);
    }
  }
  const resources: PolicyResource[] = [];
  for (const source of resourceSources) {
    for (const doc of readYamlStrict(source.text, source.file)) {
      const id = identify(doc.value);
      if (id === undefined) continue;
      const oldObject = olds.get(`${id.kind}/${id.namespace ?? ''}/${id.name}`);
      resources.push({
        doc: doc.value,
        file: source.file,
        line: doc.line,
        ...(oldObject === undefined ? {} : { oldObject }),
      });
    }
  }
  withNamespaces(resources, test.environment, shown);
  const verdicts = evaluate(set, resources, {
    includeSkips: true,
    ...(test.operation === undefined ? {} : { operation: test.operation }),
  });
  const loaded = new Set(
    set.instances.flatMap((i) => [i.policy.name, ...(i.binding === undefined ? [] : [i.binding.name])]),
  );

  const out: TestCaseResult[] = [];
  for (const expectation of test.results) {
    for (const name of expectation.resources) {
      const base = {
        file: shown,
        test: test.name,
        policy: expectation.policy,
        resource: name,
        expected: expectation.result,
      };
      if (!loaded.has(expectation.policy)) {
        const isUnsupported = unsupported.size > 0;
        out.push({
          ...base,
          actual: undefined,
          status: isUnsupported ? 'unsupported' : 'failed',
          detail: isUnsupported
            ? `policy "${expectation.policy}" is not a CEL policy Plumbline runs (${[...unsupported][0]})`
            : `no policy named "${expectation.policy}" in ${test.policies.join(', ')}`,
        });
        continue;
      }
      const targets = resources.filter((r) => names(r, name, expectation.kind));
      if (targets.length === 0) {
        out.push({
          ...base,
          actual: undefined,
          status: 'failed',
          detail: `no resource "${name}" in ${test.resources.join(', ')}`,
        });
        continue;
      }
      for (const target of targets) {
        const mine = verdicts.filter(
          (v) =>
            (v.policy === expectation.policy || v.binding === expectation.policy) &&
            v.file === target.file &&
            v.line === target.line,
        );
        const actual = outcomeOf(mine);
        const failures = mine
          .filter((v) => v.result === 'fail' || v.result === 'error')
          .map((v) => v.message);
        let passed =
          actual === expectation.result ||
          (expectation.result === 'warn' &&
            actual === 'fail' &&
            mine.every((v) => !v.actions.includes('Deny')));
        let detail = failures.join('; ');
        if (
          passed &&
          expectation.message !== undefined &&
          !failures.some((m) => m.includes(expectation.message as string))
        ) {
          passed = false;
          detail = `expected a message containing "${expectation.message}", got: ${detail || '(none)'}`;
        }
        out.push({ ...base, actual, status: passed ? 'passed' : 'failed', detail });
      }
    }
  }
  for (const note of test.notes) {
    out.push({
      file: shown,
      test: test.name,
      policy: '',
      resource: '',
      expected: 'pass',
      actual: undefined,
      status: 'unsupported',
      detail: note,
    });
  }
  return out;
}

/**
 * Places documents as a render would: Apps in the test's environment (an Environment document among the
 * resources), Kubernetes objects in the Namespace document of their namespace when there is one.
 */
export function withNamespaces(
  resources: PolicyResource[],
  environment: string | undefined,
  file: string,
): void {
  const environments = new Map<string, unknown>();
  const namespaces = new Map<string, unknown>();
  for (const r of resources) {
    const id = identify(r.doc);
    if (id?.kind === 'Environment' && id.group === 'plumbline.dev') environments.set(id.name, r.doc);
    if (id?.kind === 'Namespace' && id.group === '') namespaces.set(id.name, r.doc);
  }
  const envName = environment ?? (environments.size === 1 ? [...environments.keys()][0] : undefined);
  if (environment !== undefined && !environments.has(environment)) {
    throw new ConfigError(
      file,
      undefined,
      'spec.environment',
      `no Environment document named "${environment}" among the resources`,
      'add the Environment document (with its labels) to a resources file',
    );
  }
  resources.forEach((r, i) => {
    const id = identify(r.doc);
    if (id === undefined) return;
    if (id.kind === 'App' && id.group === 'plumbline.dev' && envName !== undefined) {
      resources[i] = { ...r, namespace: envName, namespaceObject: environments.get(envName) };
    } else if (id.namespace !== undefined && namespaces.has(id.namespace)) {
      resources[i] = { ...r, namespaceObject: namespaces.get(id.namespace) };
    }
  });
}

/** A test names a resource by name, `Kind/name` or `namespace/Kind/name` (Kyverno: name plus `kind`). */
function names(r: PolicyResource, spec: string, kind: string | undefined): boolean {
  const id = identify(r.doc);
  if (id === undefined) return false;
  if (kind !== undefined && id.kind !== kind) return false;
  const parts = spec.split('/');
  if (parts.length === 1) return id.name === spec;
  if (parts.length === 2) return (id.kind === parts[0] || id.namespace === parts[0]) && id.name === parts[1];
  return id.namespace === parts[0] && id.kind === parts[1] && id.name === parts[2];
}

function outcomeOf(verdicts: readonly Verdict[]): Outcome {
  if (verdicts.some((v) => v.result === 'error')) return 'error';
  if (verdicts.some((v) => v.result === 'fail')) return 'fail';
  if (verdicts.some((v) => v.result === 'pass')) return 'pass';
  return 'skip';
}
