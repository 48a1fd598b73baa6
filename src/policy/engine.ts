// Judging documents against policies: the one engine `plumbline check` (the policy analyzer) and the
// controller (before it plans) both call, so that CI and the cluster-side decision never disagree.
// Semantics follow ValidatingAdmissionPolicy: match → params → matchConditions → validations (with lazily
// evaluated variables) → auditAnnotations, each expression under the cost limit; an evaluation error counts
// per failurePolicy (Fail: an error verdict that the policy's actions apply to; Ignore: skipped).
import { type CelInput, type CelValue, isCelMap } from '@bufbuild/cel';
import { CostLimitError, CostMeter, PER_EVALUATION_BUDGET, PER_EXPRESSION_LIMIT } from './cel/cost.js';
import { CelEvalError } from './cel/env.js';
import type { CompiledCel, ParamDocument, PolicyInstance, PolicyKind, PolicySet } from './load.js';
import { identify, matches, type ResourceIdentity, selectorMatches, stringRecord } from './match.js';
import type { Operation, ValidationAction } from './schema.js';
import { isRecord } from './yaml.js';

export type VerdictResult = 'pass' | 'fail' | 'skip' | 'error';

/** A document to judge. */
export interface PolicyResource {
  /** The document as parsed from YAML (plain data); null for a deletion. */
  readonly doc: unknown;
  /** Repository-relative file and line of the document (for a deletion: where it was). */
  readonly file: string;
  readonly line: number;
  /** The previous version (the controller's stored spec), for UPDATE and DELETE: `oldObject`. */
  readonly oldObject?: unknown;
  /** Its namespace; for an App, its environment's name. Default: metadata.namespace, else "default". */
  readonly namespace?: string;
  /** The namespace's document (for an App: its Environment): `namespaceObject` and namespaceSelector. */
  readonly namespaceObject?: unknown;
  /** The operation for this document; default: the option, else UPDATE with an oldObject, CREATE without. */
  readonly operation?: Operation;
}

export interface ResourceRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
}

export interface Verdict {
  /** The policy's metadata.name. */
  readonly policy: string;
  readonly policyKind: PolicyKind;
  /** The ValidatingAdmissionPolicyBinding that applied it, for that kind. */
  readonly binding: string | undefined;
  /** Index into spec.validations; undefined for a verdict about the whole policy (skipped, no params, …). */
  readonly validation: number | undefined;
  /** The strongest of `actions` (Deny > Warn > Audit): what a failure means. */
  readonly action: ValidationAction;
  readonly actions: readonly ValidationAction[];
  readonly result: VerdictResult;
  /** For a failure, the policy's message (messageExpression, message, or the expression); for an error, why. */
  readonly message: string;
  readonly reason: string | undefined;
  readonly resource: ResourceRef;
  /** The judged document's file and line. */
  readonly file: string;
  readonly line: number;
  /** Where the validation (or the policy) is written. */
  readonly policyFile: string;
  readonly policyLine: number;
  /** Values of the policy's auditAnnotations for this document (only those that are not null). */
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

export interface EvaluateOptions {
  /** The operation when a resource does not say (default: UPDATE with an oldObject, else CREATE). */
  readonly operation?: Operation;
  /** Also return a `skip` verdict for every policy that does not apply to a document (for tests). */
  readonly includeSkips?: boolean;
  /** Cost limit of one expression (default 1,000,000, Kubernetes' PerCallLimit). */
  readonly expressionCostLimit?: number;
  /** Cost budget of one policy on one document (default 10,000,000, Kubernetes' RuntimeCELCostBudget). */
  readonly costBudget?: number;
}

const STRENGTH: Record<ValidationAction, number> = { Deny: 3, Warn: 2, Audit: 1 };

export function strongest(actions: readonly ValidationAction[]): ValidationAction {
  return [...actions].sort((a, b) => STRENGTH[b] - STRENGTH[a])[0] ?? 'Deny';
}

/** Judges every resource against every policy. Verdicts come in resource order, then policy order. */
export function evaluate(
  set: PolicySet,
  resources: readonly PolicyResource[],
  options: EvaluateOptions = {},
): Verdict[] {
  const verdicts: Verdict[] = [];
  const params = new Map<ParamDocument, CelInput>();
  for (const resource of resources) {
    const prepared = prepare(resource, options);
    if (prepared === undefined) continue;
    for (const instance of set.instances) {
      evaluateInstance(instance, prepared, set, params, options, verdicts);
    }
  }
  return verdicts;
}

/** The failures that matter, by what they do: Deny stops a sync, Warn is shown, Audit is recorded. */
export function summarize(verdicts: readonly Verdict[]): {
  readonly denied: readonly Verdict[];
  readonly warned: readonly Verdict[];
  readonly audited: readonly Verdict[];
} {
  const failing = verdicts.filter((v) => v.result === 'fail' || v.result === 'error');
  return {
    denied: failing.filter((v) => v.actions.includes('Deny')),
    warned: failing.filter((v) => v.actions.includes('Warn')),
    audited: failing.filter((v) => v.actions.includes('Audit')),
  };
}

interface Prepared {
  readonly resource: PolicyResource;
  readonly id: ResourceIdentity;
  readonly ref: ResourceRef;
  readonly operation: Operation;
  readonly object: CelInput;
  readonly oldObject: CelInput;
  readonly namespaceObject: CelInput;
  readonly namespaceLabels: Readonly<Record<string, string>> | undefined;
  readonly oldLabels: Readonly<Record<string, string>> | undefined;
  readonly request: CelInput;
}

function prepare(resource: PolicyResource, options: EvaluateOptions): Prepared | undefined {
  const current = resource.doc ?? null;
  const old = resource.oldObject ?? null;
  const id = identify(current ?? old, resource.namespace);
  if (id === undefined) return undefined;
  const operation =
    resource.operation ??
    options.operation ??
    (current === null ? 'DELETE' : old === null ? 'CREATE' : 'UPDATE');
  const apiVersion = id.group === '' ? id.version : `${id.group}/${id.version}`;
  const nsDoc =
    resource.namespaceObject ??
    (id.namespace === undefined
      ? null
      : { apiVersion: 'v1', kind: 'Namespace', metadata: { name: id.namespace } });
  const nsLabels =
    isRecord(nsDoc) && isRecord(nsDoc.metadata) ? stringRecord(nsDoc.metadata.labels) : undefined;
  const oldMeta = isRecord(old) && isRecord(old.metadata) ? old.metadata : undefined;
  const gvk = { group: id.group, version: id.version, kind: id.kind };
  const gvr = { group: id.group, version: id.version, resource: id.resource };
  return {
    resource,
    id,
    ref: { apiVersion, kind: id.kind, name: id.name, namespace: id.namespace },
    operation,
    object: toCel(current),
    oldObject: toCel(old),
    namespaceObject: toCel(nsDoc),
    namespaceLabels: nsLabels,
    oldLabels: oldMeta === undefined ? undefined : stringRecord(oldMeta.labels),
    request: toCel({
      uid: `plumbline-${id.kind}-${id.namespace ?? ''}-${id.name}`,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: id.name,
      namespace: id.namespace ?? '',
      operation,
      userInfo: { username: 'plumbline', groups: ['plumbline'] },
      dryRun: false,
      options: {},
    }),
  };
}

/** Plain YAML data as CEL input: maps as Maps (read in place, not copied per access), whole numbers as ints. */
export function toCel(value: unknown): CelInput {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number')
    return Number.isInteger(value) && Number.isSafeInteger(value) ? BigInt(value) : value;
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'object') {
    const out = new Map<string, CelInput>();
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out.set(k, toCel(v));
    return out;
  }
  return String(value);
}

function evaluateInstance(
  instance: PolicyInstance,
  p: Prepared,
  set: PolicySet,
  paramCache: Map<ParamDocument, CelInput>,
  options: EvaluateOptions,
  out: Verdict[],
): void {
  const { policy } = instance;
  const base = {
    policy: policy.name,
    policyKind: policy.kind,
    binding: instance.binding?.name,
    action: strongest(instance.actions),
    actions: instance.actions,
    reason: undefined,
    resource: p.ref,
    file: p.resource.file,
    line: p.resource.line,
    policyFile: policy.file,
    policyLine: policy.line,
  };
  const skip = (message: string): void => {
    if (options.includeSkips === true) out.push({ ...base, validation: undefined, result: 'skip', message });
  };
  const input = {
    id: p.id,
    operation: p.operation,
    namespaceLabels: p.namespaceLabels,
    oldLabels: p.oldLabels,
  };
  if (policy.matchConstraints === undefined || !matches(policy.matchConstraints, input)) {
    skip('does not match the policy’s matchConstraints');
    return;
  }
  if (instance.bindingMatch !== undefined && !matches(withDefaults(instance.bindingMatch), input)) {
    skip(`does not match the binding’s matchResources`);
    return;
  }

  // Parameters: none, one document, or each document a selector picks (the policy is evaluated per document).
  let paramValues: CelInput[] = [null];
  if (policy.paramKind !== undefined && instance.paramRef !== undefined) {
    const ref = instance.paramRef;
    const kind = policy.paramKind;
    const found = set.params.filter(
      (d) =>
        d.apiVersion === kind.apiVersion &&
        d.kind === kind.kind &&
        (ref.name === undefined || d.name === ref.name) &&
        (ref.namespace === undefined || d.namespace === ref.namespace) &&
        (ref.selector === undefined || selectorMatches(ref.selector, d.labels)),
    );
    if (found.length === 0) {
      const what = `no ${kind.kind} ${ref.name === undefined ? 'matching the paramRef selector' : `named "${ref.name}"`} was found for policy "${policy.name}"`;
      if (ref.parameterNotFoundAction === 'Allow') skip(`${what} (parameterNotFoundAction: Allow)`);
      else
        out.push({
          ...base,
          validation: undefined,
          result: 'fail',
          message: `${what}; add the parameter document to the repository`,
        });
      return;
    }
    paramValues = found.map((d) => {
      let v = paramCache.get(d);
      if (v === undefined) {
        v = toCel(d.value);
        paramCache.set(d, v);
      }
      return v;
    });
  }

  for (const params of paramValues) {
    const meter = new CostMeter(
      options.expressionCostLimit ?? PER_EXPRESSION_LIMIT,
      options.costBudget ?? PER_EVALUATION_BUDGET,
    );
    const bindings: Record<string, CelInput> = {
      object: p.object,
      oldObject: p.oldObject,
      request: p.request,
      params,
      namespaceObject: p.namespaceObject,
    };
    bindings.variables = new LazyVariables(instance, bindings, meter);
    const failed = (c: CompiledCel, error: unknown, validation: number | undefined): 'stop' | 'go on' => {
      if (!(error instanceof CelEvalError) && !(error instanceof CostLimitError)) throw error;
      const where = `${c.field} of policy "${policy.name}" (${c.file}:${c.line})`;
      const message =
        error instanceof CostLimitError
          ? `cost limit exceeded in ${where}: ${error.message}`
          : `${where} failed: ${error.message}`;
      if (policy.failurePolicy === 'Ignore') {
        skip(`${message} (ignored: failurePolicy is Ignore)`);
      } else {
        out.push({ ...base, validation, result: 'error', message, policyFile: c.file, policyLine: c.line });
      }
      return error instanceof CostLimitError && error.scope === 'evaluation' ? 'stop' : 'go on';
    };

    // matchConditions: all must be true for the policy to apply.
    let applies = true;
    for (const condition of policy.matchConditions) {
      let value: CelValue;
      try {
        value = run(condition.expression, bindings, meter);
      } catch (error) {
        failed(condition.expression, error, undefined);
        applies = false;
        break;
      }
      if (value !== true) {
        skip(`matchCondition "${condition.name}" is false`);
        applies = false;
        break;
      }
    }
    if (!applies) continue;

    const annotations = auditAnnotationsOf(instance, bindings, meter);
    const extra = annotations === undefined ? {} : { auditAnnotations: annotations };
    for (const v of policy.validations) {
      let value: CelValue;
      try {
        value = run(v.expression, bindings, meter);
      } catch (error) {
        if (failed(v.expression, error, v.index) === 'stop') break;
        continue;
      }
      const where = {
        validation: v.index,
        policyFile: v.file,
        policyLine: v.line,
        reason: v.reason ?? 'Invalid',
        ...extra,
      };
      if (value === true) {
        out.push({ ...base, ...where, result: 'pass', message: '' });
      } else {
        out.push({ ...base, ...where, result: 'fail', message: messageOf(v, bindings, meter) });
      }
    }
  }
}

/** A binding's matchResources with the defaults the schema would give (it is validated loosely). */
function withDefaults(m: PolicyInstance['bindingMatch'] & object) {
  return {
    ...m,
    resourceRules:
      m.resourceRules === undefined || m.resourceRules.length === 0
        ? [
            {
              apiGroups: ['*'],
              apiVersions: ['*'],
              resources: ['*'],
              operations: ['*' as const],
              resourceNames: [],
              scope: '*' as const,
            },
          ]
        : m.resourceRules,
    excludeResourceRules: m.excludeResourceRules ?? [],
  };
}

function run(c: CompiledCel, bindings: Readonly<Record<string, CelInput>>, meter: CostMeter): CelValue {
  if (c.expression.reads.has('authorizer')) {
    throw new CelEvalError(
      'authorizer checks need a Kubernetes API server; Plumbline evaluates policies without one',
    );
  }
  const value = c.expression.run(bindings, meter);
  if (c.field.endsWith('.expression') && typeof value !== 'boolean') {
    throw new CelEvalError(`must evaluate to a bool (found ${describe(value)})`);
  }
  return value;
}

function describe(value: CelValue): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return 'double';
  if (isCelMap(value)) return 'map';
  return typeof value;
}

function messageOf(
  v: PolicyInstance['policy']['validations'][number],
  bindings: Readonly<Record<string, CelInput>>,
  meter: CostMeter,
): string {
  if (v.messageExpression !== undefined) {
    try {
      const m = v.messageExpression.expression.run(bindings, meter);
      if (typeof m === 'string' && m.trim() !== '') return m.replaceAll('\n', ' ');
    } catch {
      // As Kubernetes: a messageExpression that fails falls back to the message.
    }
  }
  if (v.message !== undefined && v.message !== '') return v.message;
  return `failed expression: ${v.expression.expression.source}`;
}

function auditAnnotationsOf(
  instance: PolicyInstance,
  bindings: Readonly<Record<string, CelInput>>,
  meter: CostMeter,
): Record<string, string> | undefined {
  if (instance.policy.auditAnnotations.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const a of instance.policy.auditAnnotations) {
    try {
      const value = a.expression.expression.run(bindings, meter);
      if (typeof value === 'string') out[`${instance.policy.name}/${a.key}`] = value;
    } catch {
      // An annotation that cannot be computed is left out; it never decides anything.
    }
  }
  return out;
}

/** `variables`: each computed on first use and remembered for the rest of this evaluation. */
class LazyVariables extends Map<string, CelInput> {
  private readonly declared: Map<string, CompiledCel>;
  constructor(
    instance: PolicyInstance,
    private readonly bindings: Readonly<Record<string, CelInput>>,
    private readonly meter: CostMeter,
  ) {
    super();
    this.declared = new Map(instance.policy.variables.map((v) => [v.name, v.expression]));
  }

  override get(key: string): CelInput | undefined {
    if (super.has(key)) return super.get(key);
    const c = this.declared.get(key);
    if (c === undefined) return undefined;
    let value: CelValue;
    try {
      value = c.expression.run(this.bindings, this.meter, { nested: true });
    } catch (error) {
      if (error instanceof CelEvalError) throw new CelEvalError(`variables.${key}: ${error.message}`);
      throw error;
    }
    super.set(key, value);
    return value;
  }

  override has(key: string): boolean {
    return this.declared.has(key);
  }

  override keys(): MapIterator<string> {
    return this.declared.keys();
  }
}

/** The verdict's policy and binding, for messages: `no-latest-tag` or `vap (binding b)`. */
export function policyLabel(v: Pick<Verdict, 'policy' | 'binding'>): string {
  return v.binding === undefined ? v.policy : `${v.policy} (binding ${v.binding})`;
}

/**
 * A failed verdict in words, the same in `plumbline check`'s finding and the controller's status: the
 * resource, the message, the action, policy and validation, and the environments it was judged for.
 */
export function verdictMessage(v: Verdict, environments: readonly string[] = []): string {
  const what = v.result === 'error' ? `policy could not be evaluated: ${v.message}` : v.message;
  const where = v.validation === undefined ? '' : `, validation ${v.validation}`;
  const inEnvs = environments.length === 0 ? '' : `; environment ${[...environments].sort().join(', ')}`;
  return `${describeResource(v.resource)}: ${what} (${v.action}: ${policyLabel(v)}${where}${inEnvs})`;
}

export function describeResource(r: ResourceRef): string {
  return `${r.kind} ${r.namespace === undefined ? '' : `${r.namespace}/`}${r.name}`;
}
