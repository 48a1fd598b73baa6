// Loading policies of the three kinds and judging documents with them: matching, params, matchConditions,
// variables, messages, actions, failurePolicy and the cost limit. Policies and documents are written inline.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { evaluate, type PolicyResource, summarize, toCel } from './engine.js';
import { type PolicySet, policiesFromSources } from './load.js';

function load(text: string, file = 'policies/p.yaml'): PolicySet {
  return policiesFromSources([{ file, text }]);
}

function loadError(text: string): ConfigError {
  try {
    load(text);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const APP_POLICY = `apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: replicas }
spec:
  matchConstraints:
    resourceRules:
      - { apiGroups: [plumbline.dev], apiVersions: ["*"], resources: [apps], operations: [CREATE, UPDATE] }
  variables:
    - name: replicas
      expression: object.spec.?replicas.orValue(1)
  validations:
    - expression: variables.replicas >= 2
      messageExpression: "'needs 2 replicas, has ' + string(variables.replicas)"
    - expression: object.metadata.name.size() < 10
`;

function app(name: string, replicas?: number): PolicyResource {
  return {
    doc: {
      apiVersion: 'plumbline.dev/v1alpha1',
      kind: 'App',
      metadata: { name },
      spec: { process: { command: ['node'] }, port: 8080, ...(replicas === undefined ? {} : { replicas }) },
    },
    file: `deploy/prod/${name}.yaml`,
    line: 3,
    namespace: 'prod',
  };
}

function pod(name: string, extra: Record<string, unknown> = {}, namespace = 'web'): PolicyResource {
  return {
    doc: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, ...extra },
      spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
    },
    file: 'deploy/prod/pods.yaml',
    line: 1,
  };
}

describe('a Plumbline Policy', () => {
  const set = load(APP_POLICY);

  it('judges Apps, with variables, messageExpression and the default message', () => {
    const verdicts = evaluate(set, [app('web', 3), app('single'), app('a-very-long-name', 2)]);
    expect(verdicts.map((v) => [v.resource.name, v.validation, v.result])).toEqual([
      ['web', 0, 'pass'],
      ['web', 1, 'pass'],
      ['single', 0, 'fail'],
      ['single', 1, 'pass'],
      ['a-very-long-name', 0, 'pass'],
      ['a-very-long-name', 1, 'fail'],
    ]);
    expect(verdicts[2]).toMatchObject({
      policy: 'replicas',
      action: 'Deny',
      message: 'needs 2 replicas, has 1',
      file: 'deploy/prod/single.yaml',
      line: 3,
      policyFile: 'policies/p.yaml',
      reason: 'Invalid',
    });
    expect(verdicts[5]?.message).toBe('failed expression: object.metadata.name.size() < 10');
    expect(summarize(verdicts).denied).toHaveLength(2);
  });

  it('skips what it does not match, and says so when asked', () => {
    expect(evaluate(set, [pod('p')])).toEqual([]);
    const [skip] = evaluate(set, [pod('p')], { includeSkips: true });
    expect(skip).toMatchObject({ result: 'skip', validation: undefined });
  });

  it('matches operations: a DELETE is not judged by a CREATE/UPDATE policy', () => {
    const old = app('web', 1);
    expect(evaluate(set, [{ ...old, doc: null, oldObject: old.doc }])).toEqual([]);
  });

  it('gives oldObject and the operation on update', () => {
    const s = load(`apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: no-scale-down }
spec:
  validationActions: [Warn, Audit]
  matchConstraints:
    resourceRules: [{ apiGroups: [plumbline.dev], apiVersions: ["*"], resources: [apps], operations: [UPDATE] }]
  validations:
    - expression: request.operation == 'UPDATE' && object.spec.replicas >= oldObject.spec.replicas
      message: do not scale down
`);
    const before = app('web', 3).doc;
    expect(evaluate(s, [app('web', 2)])).toEqual([]); // CREATE: not matched
    const [v] = evaluate(s, [{ ...app('web', 2), oldObject: before }]);
    expect(v).toMatchObject({
      result: 'fail',
      action: 'Warn',
      actions: ['Warn', 'Audit'],
      message: 'do not scale down',
    });
    const { denied, warned, audited } = summarize([v as NonNullable<typeof v>]);
    expect([denied.length, warned.length, audited.length]).toEqual([0, 1, 1]);
  });

  it('selects by the namespace (an App’s environment) and the object labels', () => {
    const s = load(`apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: labelled }
spec:
  matchConstraints:
    resourceRules: [{ apiGroups: ["*"], apiVersions: ["*"], resources: ["*"] }]
    namespaceSelector: { matchLabels: { tier: production } }
    objectSelector: { matchExpressions: [{ key: skip, operator: DoesNotExist }] }
  validations:
    - expression: "false"
`);
    const prodEnv = {
      apiVersion: 'plumbline.dev/v1alpha1',
      kind: 'Environment',
      metadata: { name: 'prod', labels: { tier: 'production' } },
    };
    const inProd = { ...app('web'), namespaceObject: prodEnv };
    const skipped = {
      ...inProd,
      doc: { ...(inProd.doc as object), metadata: { name: 'web', labels: { skip: 'yes' } } },
    };
    expect(evaluate(s, [app('web')])).toEqual([]);
    expect(evaluate(s, [inProd]).map((v) => v.result)).toEqual(['fail']);
    expect(evaluate(s, [skipped])).toEqual([]);
  });
});

describe('a ValidatingAdmissionPolicy and its binding', () => {
  const text = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: { name: max-replicas }
spec:
  paramKind: { apiVersion: v1, kind: ConfigMap }
  matchConstraints:
    resourceRules: [{ apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE, UPDATE] }]
  matchConditions:
    - name: not-system
      expression: "!object.metadata.name.startsWith('system-')"
  validations:
    - expression: object.spec.replicas <= int(params.data.max)
      messageExpression: "'at most ' + params.data.max + ' replicas'"
  auditAnnotations:
    - key: replicas
      valueExpression: string(object.spec.replicas)
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: { name: max-replicas-web }
spec:
  policyName: max-replicas
  validationActions: [Deny]
  paramRef: { name: limits, parameterNotFoundAction: Deny }
  matchResources:
    namespaceSelector: { matchLabels: { team: web } }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: limits }
data: { max: "5" }
`;
  const deployment = (name: string, replicas: number, namespace = 'web'): PolicyResource => ({
    doc: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace }, spec: { replicas } },
    file: 'k8s/d.yaml',
    line: 7,
    namespaceObject: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: { team: namespace } },
    },
  });

  it('applies the binding’s actions, params, match and the policy’s matchConditions', () => {
    const set = load(text);
    expect(set.instances).toHaveLength(1);
    const verdicts = evaluate(set, [
      deployment('ok', 3),
      deployment('big', 9),
      deployment('system-x', 9),
      deployment('other', 9, 'ops'),
    ]);
    expect(verdicts.map((v) => [v.resource.name, v.result])).toEqual([
      ['ok', 'pass'],
      ['big', 'fail'],
    ]);
    expect(verdicts[1]).toMatchObject({
      binding: 'max-replicas-web',
      message: 'at most 5 replicas',
      auditAnnotations: { 'max-replicas/replicas': '9' },
    });
  });

  it('denies when the parameters are missing, unless the binding allows it', () => {
    const without = text.slice(0, text.lastIndexOf('---'));
    const [v] = evaluate(load(without), [deployment('big', 9)]);
    expect(v).toMatchObject({
      result: 'fail',
      message: expect.stringContaining('no ConfigMap named "limits"'),
    });
    const allow = without.replace('parameterNotFoundAction: Deny', 'parameterNotFoundAction: Allow');
    expect(evaluate(load(allow), [deployment('big', 9)])).toEqual([]);
  });

  it('leaves a policy without a binding unenforced, with a note', () => {
    const set = load(text.slice(0, text.indexOf('---')));
    expect(set.instances).toHaveLength(0);
    expect(set.notes[0]).toMatch(/has no ValidatingAdmissionPolicyBinding, so it is not enforced/);
  });

  it('requires a paramRef when the policy has a paramKind', () => {
    const error = loadError(
      text.replace('  paramRef: { name: limits, parameterNotFoundAction: Deny }\n', ''),
    );
    expect(error.message).toMatch(
      /policies\/p.yaml:\d+: spec.paramRef: policy "max-replicas" reads parameters/,
    );
  });

  it('names the file and line of a binding to an unknown policy', () => {
    const error = loadError(text.replace('policyName: max-replicas', 'policyName: nope'));
    expect(error.message).toBe(
      'policies/p.yaml:22: spec.policyName: no ValidatingAdmissionPolicy named "nope"; the repository has: max-replicas',
    );
  });
});

describe('a Kyverno ValidatingPolicy', () => {
  it('is read in its CEL form, including fields Plumbline does not use', () => {
    const set = load(`apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: { name: team-label }
spec:
  validationActions: [Audit]
  evaluation: { background: { enabled: true } }
  webhookConfiguration: { timeoutSeconds: 15 }
  matchConstraints:
    resourceRules: [{ apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods] }]
  validations:
    - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
      message: pods need a team label
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: { name: classic }
spec: { rules: [] }
`);
    expect(set.notes[0]).toMatch(/Kyverno ClusterPolicy \(pattern rules\) is not supported/);
    const verdicts = evaluate(set, [pod('a', { labels: { team: 'x' } }), pod('b')]);
    expect(verdicts.map((v) => [v.result, v.action])).toEqual([
      ['pass', 'Audit'],
      ['fail', 'Audit'],
    ]);
  });
});

describe('evaluation errors', () => {
  const policy = (expr: string, failurePolicy = 'Fail'): PolicySet =>
    load(`apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: broken }
spec:
  failurePolicy: ${failurePolicy}
  matchConstraints:
    resourceRules: [{ apiGroups: [""], apiVersions: [v1], resources: [pods] }]
  validations:
    - expression: ${JSON.stringify(expr)}
`);

  it('are error verdicts under failurePolicy Fail, naming the policy, field, file and line', () => {
    const [v] = evaluate(policy('object.spec.missing.x == 1'), [pod('a')]);
    expect(v).toMatchObject({ result: 'error', validation: 0, action: 'Deny' });
    expect(v?.message).toMatch(
      /^spec\.validations\[0\]\.expression of policy "broken" \(policies\/p.yaml:9\) failed: /,
    );
    expect(summarize(v === undefined ? [] : [v]).denied).toHaveLength(1);
  });

  it('are skipped under failurePolicy Ignore', () => {
    expect(evaluate(policy('object.spec.missing.x == 1', 'Ignore'), [pod('a')])).toEqual([]);
  });

  it('include a validation that is not a bool', () => {
    const [v] = evaluate(policy('object.metadata.name'), [pod('a')]);
    expect(v?.message).toMatch(/must evaluate to a bool \(found string\)/);
  });

  it('include the cost limit, which stops a hostile expression quickly', () => {
    const started = Date.now();
    const [v] = evaluate(
      policy('lists.range(300).all(a, lists.range(300).all(b, lists.range(300).all(c, a + b + c >= 0)))'),
      [pod('a')],
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(v?.result).toBe('error');
    expect(v?.message).toMatch(
      /^cost limit exceeded in spec\.validations\[0\]\.expression of policy "broken" \(policies\/p.yaml:9\)/,
    );
  });

  it('include authorizer checks, which need an API server', () => {
    const [v] = evaluate(policy("authorizer.group('').resource('pods').check('get').allowed()"), [pod('a')]);
    expect(v?.message).toMatch(/authorizer checks need a Kubernetes API server/);
  });
});

describe('malformed policies', () => {
  it('name the file, line and field of a schema error', () => {
    expect(loadError(APP_POLICY.replace('validations:', 'validation:')).message).toBe(
      'policies/p.yaml:11: spec.validation: unknown field: check its spelling and indentation, or remove it',
    );
    expect(
      loadError(APP_POLICY.replace('operations: [CREATE, UPDATE]', 'operations: [MAKE]')).message,
    ).toMatch(/^policies\/p.yaml:7: spec.matchConstraints.resourceRules\[0\].operations\[0\]: /);
    expect(
      loadError(
        APP_POLICY.replace('validationActions', 'x').replace(
          'spec:\n',
          'spec:\n  validationActions: [Deny, Warn]\n',
        ),
      ).message,
    ).toMatch(/Deny and Warn cannot be used together/);
  });

  it('name the line of an invalid CEL expression', () => {
    const error = loadError(APP_POLICY.replace('variables.replicas >= 2', 'variables.replicas >= >= 2'));
    expect(error.file).toBe('policies/p.yaml');
    expect(error.line).toBe(12);
    expect(error.field).toBe('spec.validations[0].expression');
    expect(error.message).toMatch(/invalid CEL: syntax error: .*\(column \d+ of the expression\)/);
  });

  it('reject undeclared variables and unknown functions', () => {
    expect(
      loadError(APP_POLICY.replace('variables.replicas >= 2', 'variables.replica >= 2')).message,
    ).toMatch(/variables.replica is not declared \(declared so far: replicas\)/);
    expect(
      loadError(APP_POLICY.replace('object.metadata.name.size() < 10', 'object.metadata.name.frob()'))
        .message,
    ).toMatch(/unknown function frob/);
  });

  it('name the line of a YAML syntax error, and of a duplicate name', () => {
    expect(
      loadError('apiVersion: plumbline.dev/v1alpha1\nkind: Policy\nmetadata: { name: x\n').message,
    ).toMatch(/^policies\/p.yaml:\d+: YAML syntax error/);
    expect(() =>
      policiesFromSources([
        { file: 'a.yaml', text: APP_POLICY },
        { file: 'b.yaml', text: APP_POLICY },
      ]),
    ).toThrow('b.yaml:1: metadata.name: a policy named "replicas" is already defined at a.yaml:1');
  });

  it('reject a wrong Plumbline apiVersion', () => {
    expect(loadError(APP_POLICY.replace('plumbline.dev/v1alpha1', 'plumbline.dev/v1')).message).toBe(
      'policies/p.yaml:1: apiVersion: must be "plumbline.dev/v1alpha1" (found "plumbline.dev/v1")',
    );
  });
});

describe('toCel', () => {
  it('turns whole numbers into ints and objects into maps', () => {
    const v = toCel({ a: 1, b: 1.5, c: [true, null], d: undefined });
    expect(v).toEqual(
      new Map<string, unknown>([
        ['a', 1n],
        ['b', 1.5],
        ['c', [true, null]],
      ]),
    );
  });
});
