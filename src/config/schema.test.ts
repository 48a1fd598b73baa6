import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError } from '../errors.js';
import type { AppSpec } from '../gitops/types.js';
import { configJsonSchema } from './jsonschema.js';
import { parseConfig } from './parse.js';
import type { AppSpecDocument, EnvironmentDocument } from './schema.js';

const HEAD = 'apiVersion: plumbline.dev/v1alpha1\n';

function fails(text: string): ConfigError {
  try {
    parseConfig(text, 'deploy/apps.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function values(text: string): unknown[] {
  return parseConfig(text, 'plumbline.yaml').documents.map((d) => d.value);
}

const APP = `${HEAD}kind: App
metadata: { name: web }
spec:
  process:
    command: [node, server.js]
    cwd: apps/web
    env: { GREETING: hello }
  port: 8080
  replicas: 2
  health: { http: { path: /healthz }, interval: 2s, timeout: 1s }
  dependsOn: [db-migrate]
`;

describe('the Environment kind', () => {
  it('reads the full form, durations in milliseconds', () => {
    const [env] = values(`${HEAD}kind: Environment
metadata: { name: staging }
spec:
  path: deploy/staging
  target: { local: {} }
  sync: { auto: true, prune: true, selfHeal: true, interval: 30s }
`);
    expect(env).toEqual({
      apiVersion: 'plumbline.dev/v1alpha1',
      kind: 'Environment',
      metadata: { name: 'staging' },
      spec: {
        path: 'deploy/staging',
        target: { local: {} },
        sync: { auto: true, prune: true, selfHeal: true, intervalMs: 30_000 },
      },
    });
  });

  it('fills in defaults (prune and self-heal off) and normalises the path', () => {
    const [env] = values(
      `${HEAD}kind: Environment\nmetadata: { name: prod }\nspec: { path: ./deploy//prod/ }\n`,
    );
    expect((env as EnvironmentDocument).spec).toEqual({
      path: 'deploy/prod',
      target: { local: {} },
      sync: { auto: true, prune: false, selfHeal: false, intervalMs: 60_000 },
    });
  });

  it.each([
    ['spec:\n  path: ../elsewhere\n', 5, 'spec.path', /leaves the repository/],
    ['spec:\n  path: /etc\n', 5, 'spec.path', /relative to the repository root/],
    ['spec:\n  path: a\n  sync:\n    interval: 30\n', 7, 'spec.sync.interval', /string with a unit/],
    ['spec:\n  path: a\n  sync:\n    interval: 100ms\n', 7, 'spec.sync.interval', /between/],
    ['spec:\n  path: a\n  sync:\n    prune: yes please\n', 7, 'spec.sync.prune', /boolean/],
    ['spec:\n  path: a\n  target:\n    k8s: {}\n', 7, 'spec.target.k8s', /unknown field/],
    ['spec: {}\n', 4, 'spec.path', /expected string/],
  ])('names file, line and field: %j', (spec, line, field, message) => {
    const e = fails(`${HEAD}kind: Environment\nmetadata: { name: prod }\n${spec}`);
    expect(e.file).toBe('deploy/apps.yaml');
    expect(e.line).toBe(line);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
    expect(e.message.startsWith(`deploy/apps.yaml:${line}: ${field}: `)).toBe(true);
  });

  it('needs a DNS-style name', () => {
    const e = fails(`${HEAD}kind: Environment\nmetadata: { name: Prod_1 }\nspec: { path: a }\n`);
    expect(e.field).toBe('metadata.name');
    expect(e.message).toMatch(/DNS-style/);
    expect(fails(`${HEAD}kind: Environment\nspec: { path: a }\n`).field).toBe('metadata');
  });
});

describe('the App kind', () => {
  it('reads the full form into the AppSpec shape', () => {
    const [app] = values(APP);
    expect(app).toMatchObject({
      kind: 'App',
      metadata: { name: 'web' },
      spec: {
        process: { command: ['node', 'server.js'], cwd: 'apps/web', env: { GREETING: 'hello' } },
        port: 8080,
        replicas: 2,
        health: { http: { path: '/healthz' }, intervalMs: 2000, timeoutMs: 1000 },
        dependsOn: ['db-migrate'],
      },
    });
    expectTypeOf<AppSpecDocument>().toExtend<AppSpec>();
  });

  it('fills in defaults', () => {
    const [app] = values(
      `${HEAD}kind: App\nmetadata: { name: api }\nspec:\n  process: { command: [./api] }\n  port: 9000\n`,
    );
    expect(app).toMatchObject({
      spec: {
        process: { command: ['./api'], cwd: '.', env: {} },
        port: 9000,
        replicas: 1,
        health: { http: { path: '/' }, intervalMs: 5000, timeoutMs: 2000 },
        dependsOn: [],
      },
    });
  });

  it('reads several documents of different kinds in one file, and keeps Check working', () => {
    const c = parseConfig(
      `${HEAD}kind: Check\nspec: { failOn: medium }\n---\n${APP}---\n${HEAD}kind: Environment\nmetadata: { name: dev }\nspec: { path: deploy/dev }\n`,
      'plumbline.yaml',
    );
    expect(c.check.failOn).toBe('medium');
    expect(c.documents.map((d) => [d.kind, d.name, d.line])).toEqual([
      ['Check', 'default', 1],
      ['App', 'web', 5],
      ['Environment', 'dev', 18],
    ]);
  });

  const base = (spec: string): string => `${HEAD}kind: App\nmetadata: { name: web }\nspec:\n${spec}`;
  const proc = '  process: { command: [node] }\n';
  it.each([
    [`${proc}  port: 0\n`, 6, 'spec.port', />=1/],
    [`${proc}  port: 70000\n`, 6, 'spec.port', /<=65535/],
    [`${proc}  port: 80.5\n`, 6, 'spec.port', /expected int/],
    [`${proc}  port: 80\n  replicas: 101\n`, 7, 'spec.replicas', /<=100/],
    [`${proc}  port: 80\n  replicas: -1\n`, 7, 'spec.replicas', />=0/],
    [`${proc}\n`, 5, 'spec.port', /expected number/],
    ['  process:\n    command: []\n  port: 80\n', 6, 'spec.process.command', /program and its arguments/],
    ['  process:\n    command: node server.js\n  port: 80\n', 6, 'spec.process.command', /expected array/],
    ['  process:\n    command: [node]\n    cwd: apps/../../x\n  port: 80\n', 7, 'spec.process.cwd', /leaves/],
    ['  process:\n    command: [node]\n    cwd: /srv/app\n  port: 80\n', 7, 'spec.process.cwd', /relative/],
    [
      '  process:\n    command: [node]\n    env:\n      PORT: 8080\n  port: 80\n',
      8,
      'spec.process.env.PORT',
      /quote numbers/,
    ],
    [
      '  process:\n    command: [node]\n    env:\n      bad-name: x\n  port: 80\n',
      8,
      'spec.process.env.bad-name',
      /variable name/,
    ],
    [`${proc}  port: 80\n  health:\n    interval: soon\n`, 8, 'spec.health.interval', /not a duration/],
    [
      `${proc}  port: 80\n  health:\n    interval: 1s\n    timeout: 2s\n`,
      9,
      'spec.health.timeout',
      /longer than/,
    ],
    [
      `${proc}  port: 80\n  health:\n    http: { path: healthz }\n`,
      8,
      'spec.health.http.path',
      /starts with \//,
    ],
    [`${proc}  port: 80\n  dependsOn: [DB]\n`, 7, 'spec.dependsOn[0]', /DNS-style/],
    [`${proc}  port: 80\n  health:\n    interval: 1h30s\n`, 8, 'spec.health.interval', /between/],
    ['  process:\n    command: [node]\n    cwd: 3\n  port: 80\n', 7, 'spec.process.cwd', /expected string/],
    [`${proc}  port: 80\n  dependsOn: [db, db]\n`, 7, 'spec.dependsOn[1]', /twice/],
    [`${proc}  port: 80\n  replica: 2\n`, 7, 'spec.replica', /unknown field/],
  ])('names file, line and field: %j', (spec, line, field, message) => {
    const e = fails(base(spec));
    expect(e.line).toBe(line);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
  });
});

describe('the JSON Schema', () => {
  it('describes all three kinds', () => {
    const text = JSON.stringify(configJsonSchema());
    for (const word of ['"Check"', '"Environment"', '"App"', 'dependsOn', 'selfHeal'])
      expect(text).toContain(word);
  });
});
