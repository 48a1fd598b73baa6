// Policies end to end, through the built CLI on real Git repositories: a Deny violation fails `plumbline
// check` in every report format; a hostile policy is stopped by the cost limit with a clear message; a
// malformed policy is exit 2 with file and line and no stack trace; `plumbline policy test` and `eval`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitRepo, plumbline, type TempDir, tempDir } from './helpers/repo.js';

const ENVIRONMENT = `apiVersion: plumbline.dev/v1alpha1
kind: Environment
metadata:
  name: production
  labels: { tier: production }
spec:
  path: deploy/production
`;

const APP = `apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: web }
spec:
  process: { command: [node, server.js], cwd: app }
  port: 8080
  replicas: 1
`;

const REPLICAS_POLICY = `apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: production-replicas }
spec:
  description: Production runs at least two replicas
  matchConstraints:
    resourceRules:
      - { apiGroups: [plumbline.dev], apiVersions: ["*"], resources: [apps], operations: [CREATE, UPDATE] }
    namespaceSelector: { matchLabels: { tier: production } }
  validations:
    - expression: object.spec.?replicas.orValue(1) >= 2
      messageExpression: "'app ' + object.metadata.name + ' needs at least 2 replicas in production'"
`;

let repo: TempDir;
afterEach(() => repo?.remove());

function deployRepo(extra: Record<string, string> = {}): TempDir {
  const dir = gitRepo();
  dir.commit('init', {
    'plumbline.yaml': ENVIRONMENT,
    'deploy/production/web.yaml': APP,
    'app/server.js': '',
    'policies/replicas.yaml': REPLICAS_POLICY,
    ...extra,
  });
  return dir;
}

describe('plumbline check with policies', () => {
  it('fails on a Deny violation and reports it in every format, at the manifest', () => {
    repo = deployRepo();
    const out = (name: string): string => join(repo.path, name);
    const r = plumbline(
      [
        'check',
        '--only',
        'policy',
        '--quiet',
        ...['--format', 'json', '--output', out('r.json')],
        ...['--format', 'sarif', '--output', out('r.sarif')],
        ...['--format', 'junit', '--output', out('r.xml')],
        ...['--format', 'markdown', '--output', out('r.md')],
        ...['--format', 'text', '--output', out('r.txt')],
      ],
      { cwd: repo.path },
    );
    expect(r.status, r.stderr).toBe(1);
    const message = 'app web needs at least 2 replicas in production';
    const json = JSON.parse(readFileSync(out('r.json'), 'utf8')) as {
      findings: {
        ruleId: string;
        severity: string;
        message: string;
        location: { path: string; startLine: number };
      }[];
    };
    expect(json.findings).toHaveLength(1);
    expect(json.findings[0]).toMatchObject({
      ruleId: 'policy/production-replicas',
      severity: 'high',
      location: { path: 'deploy/production/web.yaml', startLine: 1 },
    });
    expect(json.findings[0]?.message).toContain(message);
    const sarif = JSON.parse(readFileSync(out('r.sarif'), 'utf8')) as {
      runs: {
        results: {
          ruleId: string;
          message: { text: string };
          locations: { physicalLocation: { artifactLocation: { uri: string } } }[];
        }[];
      }[];
    };
    const result = sarif.runs[0]?.results[0];
    expect(result?.ruleId).toBe('policy/production-replicas');
    expect(result?.message.text).toContain(message);
    expect(result?.locations[0]?.physicalLocation.artifactLocation.uri).toBe('deploy/production/web.yaml');
    for (const file of ['r.xml', 'r.md', 'r.txt']) {
      const text = readFileSync(out(file), 'utf8');
      expect(text, file).toContain('policy/production-replicas');
      expect(text, file).toContain(message);
    }
  });

  it('passes once the manifest satisfies the policy', () => {
    repo = deployRepo({ 'deploy/production/web.yaml': APP.replace('replicas: 1', 'replicas: 2') });
    const r = plumbline(['check', '--only', 'policy', '--json', '--quiet'], { cwd: repo.path });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).findings).toEqual([]);
  });

  it('stops a hostile policy with the cost limit, naming the policy, validation and file', () => {
    repo = deployRepo({
      'policies/hostile.yaml': `apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: hostile }
spec:
  matchConstraints:
    resourceRules: [{ apiGroups: ["*"], apiVersions: ["*"], resources: ["*"] }]
  variables:
    - name: many
      expression: lists.range(1000)
  validations:
    - expression: "true"
    - expression: >-
        variables.many.all(a, variables.many.all(b, variables.many.all(c,
          variables.many.all(d, a + b + c + d >= 0))))
`,
    });
    const started = Date.now();
    const r = plumbline(['check', '--only', 'policy', '--json', '--quiet'], { cwd: repo.path });
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.status, r.stderr).toBe(1);
    const hostile = (JSON.parse(r.stdout).findings as { ruleId: string; message: string }[]).filter(
      (f) => f.ruleId === 'policy/hostile',
    );
    expect(hostile.length).toBeGreaterThan(0);
    expect(hostile[0]?.message).toContain(
      'cost limit exceeded in spec.validations[1].expression of policy "hostile" (policies/hostile.yaml:12)',
    );
    expect(hostile[0]?.message).toContain('exceeded the cost limit of 1,000,000 units');
  });

  it('rejects a malformed policy with file and line, exit 2 and no stack trace', () => {
    repo = deployRepo({
      'policies/broken.yaml': `apiVersion: plumbline.dev/v1alpha1
kind: Policy
metadata: { name: broken }
spec:
  matchConstraints:
    resourceRules: [{ apiGroups: ["*"], apiVersions: ["*"], resources: ["*"] }]
  validations:
    - expression: object.spec.replicas >=
      message: unfinished
`,
    });
    const r = plumbline(['check', '--only', 'policy', '--json', '--quiet'], { cwd: repo.path });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^plumbline: policies\/broken.yaml:8: spec.validations\[0\].expression: invalid CEL: syntax error: .*\(column \d+ of the expression\)\n/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);

    repo.write({
      'policies/broken.yaml': REPLICAS_POLICY.replace('production-replicas', 'other').replace(
        'resources: [apps]',
        'resources: apps',
      ),
    });
    const schema = plumbline(['check', '--only', 'policy', '--json', '--quiet'], { cwd: repo.path });
    expect(schema.status).toBe(2);
    expect(schema.stderr).toMatch(
      /^plumbline: policies\/broken.yaml:8: spec.matchConstraints.resourceRules\[0\].resources: /,
    );
  });
});

describe('plumbline policy test', () => {
  let dir: TempDir;
  afterEach(() => dir?.remove());

  function suite(expected: string): TempDir {
    const d = tempDir();
    d.write({
      'replicas/policy.yaml': REPLICAS_POLICY,
      'replicas/resources.yaml': `${ENVIRONMENT}---\n${APP}`,
      'replicas/plumbline-test.yaml': `apiVersion: plumbline.dev/v1alpha1
kind: PolicyTest
metadata: { name: replicas }
spec:
  policies: [policy.yaml]
  resources: [resources.yaml]
  results:
    - { policy: production-replicas, resources: [web], result: ${expected} }
`,
    });
    return d;
  }

  it('exits 0 when every case passes, 1 when one fails, with JSON on request', () => {
    dir = suite('fail');
    const ok = plumbline(['policy', 'test', dir.path]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('✓ production-replicas  web → fail');
    expect(ok.stdout).toContain('1 test files, 1 cases: 1 passed, 0 failed');
    dir.remove();
    dir = suite('pass');
    const bad = plumbline(['policy', 'test', dir.path, '--json']);
    expect(bad.status).toBe(1);
    const run = JSON.parse(bad.stdout) as { failed: number; results: { actual: string; detail: string }[] };
    expect(run.failed).toBe(1);
    expect(run.results[0]).toMatchObject({
      actual: 'fail',
      detail: 'app web needs at least 2 replicas in production',
    });
  });

  it('exits 2 on a malformed test file', () => {
    dir = suite('sometimes');
    const r = plumbline(['policy', 'test', dir.path]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^plumbline: replicas\/plumbline-test.yaml:8: spec.results\[0\].result: /);
  });
});

describe('plumbline policy eval', () => {
  let dir: TempDir;
  afterEach(() => dir?.remove());

  it('prints the verdicts and exits 1 on a Deny violation', () => {
    dir = tempDir();
    dir.write({ 'policy.yaml': REPLICAS_POLICY, 'apps.yaml': `${ENVIRONMENT}---\n${APP}` });
    const r = plumbline(['policy', 'eval', '--policy', 'policy.yaml', '--resource', 'apps.yaml'], {
      cwd: dir.path,
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain(
      'fail  apps.yaml:9 App production/web — production-replicas validation 0 [Deny]: app web needs',
    );
    const json = plumbline(['policy', 'eval', '--policy', '.', '--resource', 'apps.yaml', '--json'], {
      cwd: dir.path,
    });
    const verdicts = JSON.parse(json.stdout).verdicts as {
      policy: string;
      result: string;
      resource: { kind: string };
    }[];
    expect(verdicts.map((v) => [v.resource.kind, v.result])).toEqual([
      ['Environment', 'skip'],
      ['App', 'fail'],
    ]);
    const usage = plumbline(
      ['policy', 'eval', '--policy', 'policy.yaml', '--resource', 'apps.yaml', '--operation', 'MAKE'],
      {
        cwd: dir.path,
      },
    );
    expect(usage.status).toBe(2);
  });
});
