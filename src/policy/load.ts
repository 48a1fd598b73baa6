// Finding and compiling the repository's policies. Policies are found by kind in any YAML file (a `policies/`
// folder by convention): Plumbline `Policy`, Kubernetes `ValidatingAdmissionPolicy` with its bindings, Kyverno
// `ValidatingPolicy`. Each document is validated and every CEL expression compiled when it is loaded, so a
// mistake is a ConfigError naming file, line and field before anything is judged.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { listFiles } from '../files/walk.js';
import { CelCompileError, type CompiledExpression, compileExpression } from './cel/env.js';
import {
  KYVERNO_API_VERSIONS,
  kyvernoPolicySchema,
  type MatchResources,
  type ParamRef,
  POLICY_API_VERSION,
  plumblinePolicySchema,
  VAP_API_VERSIONS,
  type ValidationAction,
  vapBindingSchema,
  vapSchema,
} from './schema.js';
import { formatPath, isRecord, readYamlStream, readYamlStrict, type YamlDocument } from './yaml.js';

/** The variables every policy expression may read, as in a ValidatingAdmissionPolicy. */
export const POLICY_VARIABLES = [
  'object',
  'oldObject',
  'request',
  'params',
  'namespaceObject',
  'variables',
  'authorizer',
] as const;

export type PolicyKind = 'Policy' | 'ValidatingAdmissionPolicy' | 'ValidatingPolicy';

/** Where something was written: the file (repository-relative) and line. */
export interface SourceRef {
  readonly file: string;
  readonly line: number;
}

export interface CompiledCel extends SourceRef {
  readonly expression: CompiledExpression;
  /** `spec.validations[0].expression` */
  readonly field: string;
}

export interface CompiledValidation extends SourceRef {
  readonly index: number;
  readonly expression: CompiledCel;
  readonly message: string | undefined;
  readonly messageExpression: CompiledCel | undefined;
  readonly reason: string | undefined;
}

export interface CompiledPolicy extends SourceRef {
  readonly name: string;
  readonly kind: PolicyKind;
  readonly apiVersion: string;
  /** One line about the policy, for reports: its description or title annotation, else its name. */
  readonly title: string;
  readonly failurePolicy: 'Fail' | 'Ignore';
  readonly matchConstraints: MatchResources | undefined;
  readonly matchConditions: readonly { readonly name: string; readonly expression: CompiledCel }[];
  readonly variables: readonly { readonly name: string; readonly expression: CompiledCel }[];
  readonly validations: readonly CompiledValidation[];
  readonly auditAnnotations: readonly { readonly key: string; readonly expression: CompiledCel }[];
  readonly paramKind: { readonly apiVersion: string; readonly kind: string } | undefined;
}

/** A policy as enforced: with its actions, parameters and (for a ValidatingAdmissionPolicy) its binding. */
export interface PolicyInstance {
  readonly policy: CompiledPolicy;
  readonly binding: (SourceRef & { readonly name: string }) | undefined;
  readonly actions: readonly ValidationAction[];
  readonly paramRef: ParamRef | undefined;
  /** A binding's own matchResources, which narrow the policy's. */
  readonly bindingMatch: MatchResources | undefined;
}

/** A document a policy reads as `params`. */
export interface ParamDocument extends SourceRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: unknown;
}

export interface PolicySet {
  readonly instances: readonly PolicyInstance[];
  readonly params: readonly ParamDocument[];
  /** Things worth telling the user that are not errors (a policy without a binding, an unsupported kind). */
  readonly notes: readonly string[];
}

export interface SourceFile {
  /** Repository-relative path with forward slashes. */
  readonly file: string;
  readonly text: string;
}

const MAX_FILE_BYTES = 1024 * 1024;
const POLICY_KINDS =
  /^\s*kind:\s*["']?(Policy|ValidatingAdmissionPolicy|ValidatingAdmissionPolicyBinding|ValidatingPolicy|ClusterPolicy)["']?\s*(#.*)?$/m;

/**
 * The policies of a repository (or of the given repository-relative files). Reads every YAML file that
 * declares one of the policy kinds; parameter documents are then looked up across all YAML files.
 */
export function loadPolicies(repoDir: string, files?: readonly string[]): PolicySet {
  const yamlFiles = (files ?? listFiles(repoDir, { include: [], exclude: [] })).filter((f) =>
    /\.ya?ml$/i.test(f),
  );
  const sources: SourceFile[] = [];
  for (const file of yamlFiles) {
    const text = readSmall(join(repoDir, file));
    if (text !== undefined) sources.push({ file, text });
  }
  return policiesFromSources(sources);
}

function readSmall(path: string): string | undefined {
  try {
    if (statSync(path).size > MAX_FILE_BYTES) return undefined;
    const bytes = readFileSync(path);
    return bytes.includes(0) ? undefined : bytes.toString('utf8');
  } catch {
    return undefined;
  }
}

interface RawBinding extends SourceRef {
  readonly name: string;
  readonly policyName: string;
  readonly policyNameLine: number;
  readonly paramRef: ParamRef | undefined;
  readonly matchResources: MatchResources | undefined;
  readonly actions: readonly ValidationAction[] | undefined;
}

/** Policies from already-read files: the engine of loadPolicies, and of `plumbline policy test`. */
export function policiesFromSources(sources: readonly SourceFile[]): PolicySet {
  const policies: {
    policy: CompiledPolicy;
    actions: readonly ValidationAction[];
    paramRef: ParamRef | undefined;
  }[] = [];
  const bindings: RawBinding[] = [];
  const notes: string[] = [];
  for (const source of sources) {
    if (!POLICY_KINDS.test(source.text)) continue;
    for (const doc of readYamlStrict(source.text, source.file)) {
      if (!isRecord(doc.value)) continue;
      const { apiVersion, kind } = doc.value;
      if (typeof apiVersion !== 'string' || typeof kind !== 'string') continue;
      if (kind === 'Policy' && apiVersion.startsWith('plumbline.dev/')) {
        if (apiVersion !== POLICY_API_VERSION) {
          throw new ConfigError(
            source.file,
            doc.lineOf(['apiVersion']),
            'apiVersion',
            `must be "${POLICY_API_VERSION}" (found "${apiVersion}")`,
            `set apiVersion: ${POLICY_API_VERSION}`,
          );
        }
        const parsed = validate(plumblinePolicySchema, doc, source.file, 'Policy');
        policies.push({
          policy: compilePolicy(parsed, 'Policy', doc, source.file),
          actions: parsed.spec.validationActions,
          paramRef: parsed.spec.paramRef,
        });
      } else if (
        kind === 'ValidatingAdmissionPolicy' &&
        (VAP_API_VERSIONS as readonly string[]).includes(apiVersion)
      ) {
        const parsed = validate(vapSchema, doc, source.file, kind);
        policies.push({
          policy: compilePolicy(parsed, kind, doc, source.file),
          actions: [],
          paramRef: undefined,
        });
      } else if (
        kind === 'ValidatingAdmissionPolicyBinding' &&
        (VAP_API_VERSIONS as readonly string[]).includes(apiVersion)
      ) {
        const parsed = validate(vapBindingSchema, doc, source.file, kind);
        bindings.push({
          name: parsed.metadata.name,
          file: source.file,
          line: doc.line,
          policyName: parsed.spec.policyName,
          policyNameLine: doc.lineOf(['spec', 'policyName']),
          paramRef: parsed.spec.paramRef,
          matchResources: parsed.spec.matchResources as MatchResources | undefined,
          actions: parsed.spec.validationActions,
        });
      } else if (
        kind === 'ValidatingPolicy' &&
        (KYVERNO_API_VERSIONS as readonly string[]).includes(apiVersion)
      ) {
        const parsed = validate(kyvernoPolicySchema, doc, source.file, kind);
        policies.push({
          policy: compilePolicy(parsed, kind, doc, source.file),
          actions: parsed.spec.validationActions,
          paramRef: parsed.spec.paramRef,
        });
      } else if (apiVersion.startsWith('kyverno.io/')) {
        notes.push(
          `${source.file}:${doc.line}: Kyverno ${kind} (pattern rules) is not supported; write it as a policies.kyverno.io ValidatingPolicy (CEL)`,
        );
      }
    }
  }

  // Names are unique: findings and tests refer to policies by name.
  const byName = new Map<string, CompiledPolicy>();
  for (const { policy } of policies) {
    const first = byName.get(policy.name);
    if (first !== undefined) {
      throw new ConfigError(
        policy.file,
        policy.line,
        'metadata.name',
        `a policy named "${policy.name}" is already defined at ${first.file}:${first.line}`,
        'give each policy its own name',
      );
    }
    byName.set(policy.name, policy);
  }

  const instances: PolicyInstance[] = [];
  for (const { policy, actions, paramRef } of policies) {
    if (policy.kind === 'ValidatingAdmissionPolicy') continue;
    requireParamRef(policy, paramRef, policy);
    instances.push({ policy, binding: undefined, actions, paramRef, bindingMatch: undefined });
  }
  const bound = new Set<string>();
  const bindingNames = new Map<string, RawBinding>();
  for (const binding of bindings) {
    const other = bindingNames.get(binding.name);
    if (other !== undefined) {
      throw new ConfigError(
        binding.file,
        binding.line,
        'metadata.name',
        `a ValidatingAdmissionPolicyBinding named "${binding.name}" is already defined at ${other.file}:${other.line}`,
      );
    }
    bindingNames.set(binding.name, binding);
    const policy = byName.get(binding.policyName);
    if (policy === undefined || policy.kind !== 'ValidatingAdmissionPolicy') {
      const known = policies
        .filter((p) => p.policy.kind === 'ValidatingAdmissionPolicy')
        .map((p) => p.policy.name);
      throw new ConfigError(
        binding.file,
        binding.policyNameLine,
        'spec.policyName',
        `no ValidatingAdmissionPolicy named "${binding.policyName}"${known.length > 0 ? `; the repository has: ${known.sort().join(', ')}` : ' in the repository'}`,
        'name a ValidatingAdmissionPolicy defined in the repository',
      );
    }
    requireParamRef(policy, binding.paramRef, binding);
    bound.add(policy.name);
    instances.push({
      policy,
      binding: { name: binding.name, file: binding.file, line: binding.line },
      actions: binding.actions ?? ['Deny'],
      paramRef: binding.paramRef,
      bindingMatch: binding.matchResources,
    });
  }
  for (const { policy } of policies) {
    if (policy.kind === 'ValidatingAdmissionPolicy' && !bound.has(policy.name)) {
      notes.push(
        `${policy.file}:${policy.line}: ValidatingAdmissionPolicy "${policy.name}" has no ValidatingAdmissionPolicyBinding, so it is not enforced (as in a cluster)`,
      );
    }
  }

  const paramKinds = new Set(
    instances
      .map((i) => i.policy.paramKind)
      .flatMap((k) => (k === undefined ? [] : [`${k.apiVersion}\0${k.kind}`])),
  );
  return { instances, params: paramKinds.size === 0 ? [] : findParams(sources, paramKinds), notes };
}

function requireParamRef(policy: CompiledPolicy, paramRef: ParamRef | undefined, where: SourceRef): void {
  if (policy.paramKind !== undefined && paramRef === undefined) {
    throw new ConfigError(
      where.file,
      where.line,
      'spec.paramRef',
      `policy "${policy.name}" reads parameters (paramKind ${policy.paramKind.kind}) but no paramRef says which document`,
      'add paramRef: {name: <the parameter document>} (to the binding, for a ValidatingAdmissionPolicy)',
    );
  }
}

/** Parameter documents: any YAML document of a kind some policy names as its paramKind. */
function findParams(sources: readonly SourceFile[], kinds: ReadonlySet<string>): ParamDocument[] {
  const wantedKinds = [...kinds].map((k) => k.split('\0')[1] as string);
  const out: ParamDocument[] = [];
  for (const source of sources) {
    if (!wantedKinds.some((k) => source.text.includes(k))) continue;
    // Lenient: a file that does not parse cannot hold the parameters; its own reader reports it.
    for (const doc of readYamlStream(source.text).documents) {
      const v = doc.value;
      if (!isRecord(v) || typeof v.apiVersion !== 'string' || typeof v.kind !== 'string') continue;
      if (!kinds.has(`${v.apiVersion}\0${v.kind}`)) continue;
      const metadata = isRecord(v.metadata) ? v.metadata : {};
      const labels: Record<string, string> = {};
      if (isRecord(metadata.labels))
        for (const [k, l] of Object.entries(metadata.labels)) labels[k] = String(l);
      out.push({
        apiVersion: v.apiVersion,
        kind: v.kind,
        name: typeof metadata.name === 'string' ? metadata.name : '',
        namespace: typeof metadata.namespace === 'string' ? metadata.namespace : undefined,
        labels,
        value: v,
        file: source.file,
        line: doc.line,
      });
    }
  }
  return out;
}

function validate<S extends z.ZodType>(schema: S, doc: YamlDocument, file: string, kind: string): z.infer<S> {
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
    `see the ${kind} reference in the README ("Policy as code")`,
  );
}

interface ParsedPolicy {
  readonly apiVersion: string;
  readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> | undefined };
  readonly spec: {
    readonly failurePolicy: 'Fail' | 'Ignore';
    readonly paramKind?: { apiVersion: string; kind: string } | undefined;
    readonly matchConstraints?: unknown;
    readonly matchConditions: readonly { name: string; expression: string }[];
    readonly variables: readonly { name: string; expression: string }[];
    readonly validations: readonly {
      expression: string;
      message?: string | undefined;
      messageExpression?: string | undefined;
      reason?: string | undefined;
    }[];
    readonly auditAnnotations: readonly { key: string; valueExpression: string }[];
    readonly description?: string | undefined;
  };
}

function compilePolicy(
  parsed: ParsedPolicy,
  kind: PolicyKind,
  doc: YamlDocument,
  file: string,
): CompiledPolicy {
  const { spec } = parsed;
  const cel = (path: (string | number)[], source: string): CompiledCel => {
    const line = doc.lineOf(path);
    try {
      return { expression: compileExpression(source, POLICY_VARIABLES), file, line, field: formatPath(path) };
    } catch (error) {
      if (!(error instanceof CelCompileError)) throw error;
      const at = error.column === undefined ? '' : ` (column ${error.column} of the expression)`;
      throw new ConfigError(
        file,
        line,
        formatPath(path),
        `invalid CEL: ${error.message}${at}`,
        'check the expression; see the CEL libraries in the README ("Policy as code")',
      );
    }
  };
  const variables = spec.variables.map((v, i) => ({
    name: v.name,
    expression: cel(['spec', 'variables', i, 'expression'], v.expression),
  }));
  // A variable may read only variables declared before it; other expressions may read any.
  const declared = new Set<string>();
  variables.forEach((v, i) => {
    checkVariableRefs(v.expression, declared, file, doc.lineOf(['spec', 'variables', i, 'expression']));
    if (declared.has(v.name)) {
      throw new ConfigError(
        file,
        doc.lineOf(['spec', 'variables', i, 'name']),
        `spec.variables[${i}].name`,
        `variable "${v.name}" is declared twice`,
      );
    }
    declared.add(v.name);
  });
  const check = (c: CompiledCel): CompiledCel => {
    checkVariableRefs(c, declared, file, c.line);
    return c;
  };
  const matchConditions = spec.matchConditions.map((m, i) => ({
    name: m.name,
    expression: check(cel(['spec', 'matchConditions', i, 'expression'], m.expression)),
  }));
  const validations = spec.validations.map((v, index) => ({
    index,
    file,
    line: doc.lineOf(['spec', 'validations', index]),
    expression: check(cel(['spec', 'validations', index, 'expression'], v.expression)),
    message: v.message,
    messageExpression:
      v.messageExpression === undefined
        ? undefined
        : check(cel(['spec', 'validations', index, 'messageExpression'], v.messageExpression)),
    reason: v.reason,
  }));
  const auditAnnotations = spec.auditAnnotations.map((a, i) => ({
    key: a.key,
    expression: check(cel(['spec', 'auditAnnotations', i, 'valueExpression'], a.valueExpression)),
  }));
  const annotations = parsed.metadata.annotations ?? {};
  const title =
    spec.description ??
    annotations['plumbline.dev/title'] ??
    annotations['policies.kyverno.io/title'] ??
    annotations['policies.kyverno.io/description'] ??
    parsed.metadata.name;
  return {
    name: parsed.metadata.name,
    kind,
    apiVersion: parsed.apiVersion,
    title: title.trim().split('\n')[0] as string,
    file,
    line: doc.line,
    failurePolicy: spec.failurePolicy,
    matchConstraints: normaliseMatch(spec.matchConstraints),
    matchConditions,
    variables,
    validations,
    auditAnnotations,
    paramKind: spec.paramKind,
  };
}

/** The loose (VAP, Kyverno) schemas keep unknown fields; the engine reads only the known ones. */
function normaliseMatch(value: unknown): MatchResources | undefined {
  if (!isRecord(value)) return undefined;
  return value as MatchResources;
}

function checkVariableRefs(c: CompiledCel, declared: ReadonlySet<string>, file: string, line: number): void {
  for (const field of c.expression.variableFields) {
    if (!declared.has(field)) {
      throw new ConfigError(
        file,
        line,
        c.field,
        `variables.${field} is not declared${declared.size > 0 ? ` (declared so far: ${[...declared].join(', ')})` : ''}`,
        'declare it under spec.variables, before any variable that reads it',
      );
    }
  }
}
