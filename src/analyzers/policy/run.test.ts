// The policy analyzer through runCheck, in process: a real Git repository with an environment, policies of
// each action, plain Kubernetes manifests beside the Apps, inline allows, --since, and bad input.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitRepo, type TempDir, tempDir } from '../../../test/helpers/repo.js';
import { runCheck } from '../../check/run.js';
import { readEnvironmentManifests } from '../../policy/manifests.js';

const ENVIRONMENTS = `apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: { name: prod, labels: { tier: production } }
spec: { path: deploy/prod }
---
apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata: { name: dev }
spec: { path: deploy/dev, sync: { prune: true } }
`;

const APPS = `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: web }
spec:
  process: { command: [node, server.js], cwd: app }
  port: 8080
  replicas: 1
---
# plumbline:allow policy/replicas
apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: batch }
spec:
  process: { command: [node, batch.js], cwd: app }
  port: 8081
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: web }
spec:
  template: { spec: { containers: [{ name: api, image: "nginx:latest" }] } }
`;

const POLICIES = `apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: replicas }
spec:
  description: Production runs two replicas
  matchConstraints:
    resourceRules: [{ apiGroups: [plumbline.dev], apiVersions: ["*"], resources: [apps] }]
    namespaceSelector: { matchLabels: { tier: production } }
  validations:
    - expression: object.spec.?replicas.orValue(1) >= 2
      message: production needs two replicas
---
apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: no-latest }
spec:
  validationActions: [Warn]
  matchConstraints:
    resourceRules: [{ apiGroups: [apps], apiVersions: [v1], resources: [deployments] }]
  validations:
    - expression: "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))"
      message: no latest tags
---
apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: no-prune }
spec:
  validationActions: [Audit]
  matchConstraints:
    resourceRules: [{ apiGroups: [plumbline.dev], apiVersions: ["*"], resources: [environments] }]
  validations:
    - expression: "!object.spec.?sync.?prune.orValue(false)"
      message: environments should not prune
`;

let repo: TempDir;
afterEach(() => repo?.remove());

function setUp(): void {
  repo = gitRepo();
  repo.commit('init', {
    'plumbline.yaml': ENVIRONMENTS,
    'deploy/prod/apps.yaml': APPS,
    'deploy/dev/apps.yaml': APPS,
    'policies/policies.yaml': POLICIES,
    'app/server.js': '',
  });
}

describe('the policy analyzer', () => {
  it('reports violations at the manifest, with severity by action', async () => {
    setUp();
    const report = await runCheck({ path: repo.path, source: { kind: 'tree' }, only: ['policy'] });
    const findings = report.findings.map((f) => [
      f.ruleId,
      f.severity,
      `${f.location.path}:${f.location.startLine}`,
      f.suppression?.kind,
    ]);
    expect(findings).toEqual(
      [
        ['policy/no-latest', 'medium', 'deploy/dev/apps.yaml:17', undefined],
        ['policy/no-latest', 'medium', 'deploy/prod/apps.yaml:17', undefined],
        ['policy/replicas', 'high', 'deploy/prod/apps.yaml:1', undefined],
        ['policy/replicas', 'high', 'deploy/prod/apps.yaml:10', 'inSource'],
        ['policy/no-prune', 'info', 'plumbline.yaml:6', undefined],
      ].sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
    );
    const replicas = report.findings.find(
      (f) => f.ruleId === 'policy/replicas' && f.location.startLine === 1,
    );
    expect(replicas?.message).toBe(
      'App prod/web: production needs two replicas (Deny: replicas, validation 0; environment prod)',
    );
    expect(replicas?.title).toBe('Production runs two replicas');
    expect(report.gate).toMatchObject({ passed: false, failing: 1 });
    expect(report.rules.map((r) => r.id).sort()).toEqual([
      'policy/no-latest',
      'policy/no-prune',
      'policy/replicas',
    ]);
  });

  it('keeps only violations in files changed since the merge-base with --since', async () => {
    setUp();
    repo.git('checkout', '-q', '-b', 'feature');
    repo.commit('scale', { 'deploy/dev/apps.yaml': `${APPS}\n` });
    const report = await runCheck({
      path: repo.path,
      source: { kind: 'tree' },
      only: ['policy'],
      since: 'main',
    });
    expect(new Set(report.findings.map((f) => f.location.path))).toEqual(new Set(['deploy/dev/apps.yaml']));
  });

  it('stops the check with file and line when a policy is malformed', async () => {
    setUp();
    repo.write({
      'policies/bad.yaml': POLICIES.replace('message: no latest tags', 'mesage: no latest tags').replaceAll(
        'name: ',
        'name: x',
      ),
    });
    await expect(runCheck({ path: repo.path, source: { kind: 'tree' }, only: ['policy'] })).rejects.toThrow(
      /^policies\/bad.yaml:22: spec.validations\[0\].mesage: unknown field/,
    );
  });

  it('has nothing to say without policies or environments', async () => {
    setUp();
    repo.write({ 'policies/policies.yaml': '# none yet\n' });
    const report = await runCheck({ path: repo.path, source: { kind: 'tree' }, only: ['policy'] });
    expect(report.findings).toEqual([]);
  });
});

describe('readEnvironmentManifests', () => {
  it('reads every document of the folder, reports what it cannot read, and places Apps in the environment', async () => {
    setUp();
    repo.write({ 'deploy/prod/broken.yaml': 'a: [\n', 'deploy/prod/notes.txt': 'not yaml' });
    const m = await readEnvironmentManifests(repo.path, {
      metadata: { name: 'prod' },
      spec: { path: 'deploy/prod' },
    });
    expect(m.resources.map((r) => [r.file, r.line, r.namespace])).toEqual([
      ['deploy/prod/apps.yaml', 1, 'prod'],
      ['deploy/prod/apps.yaml', 10, 'prod'],
      ['deploy/prod/apps.yaml', 17, undefined],
    ]);
    expect(m.problems[0]).toMatchObject({ file: 'deploy/prod/broken.yaml', line: 2 });
    const missing = await readEnvironmentManifests(repo.path, {
      metadata: { name: 'x' },
      spec: { path: 'nowhere' },
    });
    expect(missing.problems[0]?.message).toMatch(/folder is missing or empty/);
  });

  it('needs kubectl for a kustomization, and says so', async () => {
    setUp();
    repo.write({ 'deploy/k/kustomization.yaml': 'resources: []\n' });
    const m = await readEnvironmentManifests(
      repo.path,
      { metadata: { name: 'k' }, spec: { path: 'deploy/k' } },
      { searchPath: '/nonexistent' },
    );
    expect(m.problems[0]?.message).toMatch(/kubectl is not on PATH/);
  });

  it('reads the output of kubectl kustomize for a kustomization (a small stand-in kubectl here)', async () => {
    setUp();
    const bin = tempDir('plumbline-bin-');
    try {
      bin.write({
        kubectl: `#!/bin/sh\nif [ "$1" = kustomize ] && [ -d "$2" ]; then printf 'apiVersion: v1\\nkind: Service\\nmetadata: {name: web}\\n'; else echo "bad call" >&2; exit 3; fi\n`,
      });
      chmodSync(join(bin.path, 'kubectl'), 0o755);
      repo.write({ 'deploy/k/kustomization.yaml': 'resources: []\n' });
      const env = { metadata: { name: 'k' }, spec: { path: 'deploy/k' } };
      const m = await readEnvironmentManifests(repo.path, env, { searchPath: bin.path });
      expect(m.resources.map((r) => [r.file, r.line, (r.doc as { kind: string }).kind])).toEqual([
        ['deploy/k/kustomization.yaml', 1, 'Service'],
      ]);
      const broken = await readEnvironmentManifests(
        repo.path,
        { ...env, spec: { path: 'deploy/k' } },
        {
          searchPath: bin.path,
          environmentDocument: { kind: 'Environment' },
          environmentSource: { file: 'plumbline.yaml', line: 1 },
        },
      );
      expect(broken.resources).toHaveLength(2);
    } finally {
      bin.remove();
    }
  });
});
