// `plumbline policy test` as a function: both file formats, passing and failing cases, and bad input.
import { afterEach, describe, expect, it } from 'vitest';
import { type TempDir, tempDir } from '../../test/helpers/repo.js';
import { ConfigError, InputError } from '../errors.js';
import { runPolicyTests } from './testing.js';

const POLICY = `apiVersion: policies.kyverno.io/v1alpha1
kind: ValidatingPolicy
metadata: { name: team-label }
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules: [{ apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods] }]
  validations:
    - expression: "object.metadata.?labels.?team.orValue('') != ''"
      message: pods need a team label
`;

const RESOURCES = `apiVersion: v1
kind: Pod
metadata: { name: labelled, namespace: web, labels: { team: web } }
spec: { containers: [{ name: c, image: "nginx:1" }] }
---
apiVersion: v1
kind: Pod
metadata: { name: bare, namespace: web }
spec: { containers: [{ name: c, image: "nginx:1" }] }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: bare, namespace: web }
`;

let dir: TempDir;
afterEach(() => dir?.remove());

describe('runPolicyTests', () => {
  it('runs kyverno-test.yaml files, in the current and the older shape', () => {
    dir = tempDir();
    dir.write({
      'p/policy.yaml': POLICY,
      'p/resources.yaml': RESOURCES,
      'p/kyverno-test.yaml': `apiVersion: cli.kyverno.io/v1alpha1
kind: Test
metadata: { name: team-label }
policies: [policy.yaml]
resources: [resources.yaml]
results:
  - { policy: team-label, resources: [labelled], kind: Pod, result: pass }
  - { policy: team-label, resources: [bare], kind: Pod, result: fail }
  - { policy: team-label, resources: [bare], kind: ConfigMap, result: skip }
`,
      'q/policy.yaml': POLICY,
      'q/resources.yaml': RESOURCES,
      'q/kyverno-test.yaml': `name: old-style
policies: [policy.yaml]
resources: [resources.yaml]
variables: values.yaml
results:
  - { policy: team-label, resource: web/Pod/labelled, result: pass }
  - { policy: team-label, resource: Pod/bare, result: pass }
`,
    });
    const run = runPolicyTests(dir.path);
    expect(run.files).toEqual(['p/kyverno-test.yaml', 'q/kyverno-test.yaml']);
    expect(run.results.map((r) => [r.file, r.resource, r.expected, r.actual, r.status])).toEqual([
      ['p/kyverno-test.yaml', 'labelled', 'pass', 'pass', 'passed'],
      ['p/kyverno-test.yaml', 'bare', 'fail', 'fail', 'passed'],
      ['p/kyverno-test.yaml', 'bare', 'skip', 'skip', 'passed'],
      ['q/kyverno-test.yaml', 'web/Pod/labelled', 'pass', 'pass', 'passed'],
      ['q/kyverno-test.yaml', 'Pod/bare', 'pass', 'fail', 'failed'],
      ['q/kyverno-test.yaml', '', 'pass', undefined, 'unsupported'],
    ]);
    expect(run.results[4]?.detail).toBe('pods need a team label');
    expect([run.passed, run.failed, run.unsupported]).toEqual([4, 1, 1]);
  });

  it('runs PolicyTest documents: messages, environments, old resources, and what cannot be found', () => {
    dir = tempDir();
    dir.write({
      'policy.yaml': `apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: grow-only }
spec:
  validationActions: [Warn]
  matchConstraints:
    resourceRules: [{ apiGroups: [plumbline.dev], apiVersions: ["*"], resources: [apps] }]
  validations:
    - expression: "oldObject == null || object.spec.replicas >= oldObject.spec.replicas"
      messageExpression: "'replicas went down in ' + namespaceObject.metadata.name"
`,
      'apps.yaml': `apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: { name: prod }
spec: { path: deploy/prod }
---
apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: web }
spec: { process: { command: [node] }, port: 8080, replicas: 1 }
`,
      'old.yaml': `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: web }
spec: { process: { command: [node] }, port: 8080, replicas: 3 }
`,
      'plumbline-test.yaml': `apiVersion: plumbline.dev/v1alpha1
kind: PolicyTest
metadata: { name: grow-only }
spec:
  policies: [policy.yaml]
  resources: [apps.yaml]
  oldResources: [old.yaml]
  results:
    - { policy: grow-only, resources: [web], result: warn }
    - { policy: grow-only, resources: [web], result: fail, message: "went down in prod" }
    - { policy: grow-only, resources: [web], result: fail, message: "something else" }
    - { policy: grow-only, resources: [nope], result: pass }
    - { policy: unknown, resources: [web], result: pass }
`,
    });
    const run = runPolicyTests(dir.path);
    expect(run.results.map((r) => r.status)).toEqual(['passed', 'passed', 'failed', 'failed', 'failed']);
    expect(run.results[2]?.detail).toBe(
      'expected a message containing "something else", got: replicas went down in prod',
    );
    expect(run.results[3]?.detail).toBe('no resource "nope" in apps.yaml');
    expect(run.results[4]?.detail).toBe('no policy named "unknown" in policy.yaml');
  });

  it('reports a malformed test file with its line, and a folder without tests', () => {
    dir = tempDir();
    dir.write({
      'plumbline-test.yaml': `apiVersion: plumbline.dev/v1alpha1
kind: PolicyTest
metadata: { name: t }
spec:
  policies: [policy.yaml]
  resources: [r.yaml]
  results:
    - { policy: p, resources: [x], result: maybe }
`,
    });
    expect(() => runPolicyTests(dir.path)).toThrow(ConfigError);
    expect(() => runPolicyTests(dir.path)).toThrow(/^plumbline-test.yaml:8: spec.results\[0\].result: /);
    expect(() => runPolicyTests(`${dir.path}/missing`)).toThrow(InputError);
    dir.write({ 'plumbline-test.yaml': '' });
    expect(() => runPolicyTests(`${dir.path}/nothing-here`)).toThrow(/does not exist/);
  });
});
