import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitRepo, type TempDir } from '../../test/helpers/repo.js';
import { ConfigError } from '../errors.js';
import { canonicalJson, findExecutable, readEnvironments, renderEnvironment } from './render.js';

const HEAD = 'apiVersion: plumbline.dev/v1alpha1\n';
const ENV = { metadata: { name: 'staging' }, spec: { path: 'deploy/staging' } };

function app(name: string, extra = '', cwd = `apps/${name}`): string {
  return `${HEAD}kind: App\nmetadata: { name: ${name} }\nspec:\n  process: { command: [node, main.js], cwd: ${cwd} }\n  port: 8080\n${extra}`;
}

const cleanup: TempDir[] = [];
afterEach(() => {
  for (const dir of cleanup.splice(0)) dir.remove();
});

function repo(files: Record<string, string>): { repo: TempDir; commit: string } {
  const r = gitRepo();
  cleanup.push(r);
  const commit = r.commit('init', {
    'apps/web/main.js': 'web\n',
    'apps/api/main.js': 'api\n',
    'apps/db/main.js': 'db\n',
    ...files,
  });
  return { repo: r, commit };
}

async function render(r: TempDir, commit: string, searchPath?: string) {
  return renderEnvironment(r.path, ENV, {
    revision: commit,
    gitDir: r.path,
    ...(searchPath === undefined ? {} : { searchPath }),
  });
}

describe('renderEnvironment', () => {
  it('reads several App documents across files, and skips other files', async () => {
    const { repo: r, commit } = repo({
      'deploy/staging/web.yaml': `${app('web', '  dependsOn: [api]\n')}---\n${app('api', '  dependsOn: [db]\n')}`,
      'deploy/staging/db.yml': app('db', '  replicas: 1\n'),
      'deploy/staging/README.md': '# not YAML\n',
      'deploy/staging/nested/other.yaml': app('ignored'),
    });
    const { apps, problems } = await render(r, commit);
    expect(problems).toEqual([]);
    expect(apps.map((a) => [a.name, a.source.file, a.source.line])).toEqual([
      ['api', 'deploy/staging/web.yaml', 9],
      ['db', 'deploy/staging/db.yml', 1],
      ['web', 'deploy/staging/web.yaml', 1],
    ]);
    const web = apps.find((a) => a.name === 'web');
    expect(web).toMatchObject({
      environment: 'staging',
      revision: commit,
      spec: { port: 8080, replicas: 1, dependsOn: ['api'], process: { cwd: 'apps/web' } },
    });
    expect(web?.specHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reports bad YAML and bad fields with file and line, and still reads the other files', async () => {
    const { repo: r, commit } = repo({
      'deploy/staging/a.yaml': `${app('web')}  replicas: [\n`,
      'deploy/staging/b.yaml': app('api', '  port: 99999\n'),
      'deploy/staging/c.yaml': app('db'),
    });
    const { apps, problems } = await render(r, commit);
    expect(apps.map((a) => a.name)).toEqual(['db']);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toBeInstanceOf(ConfigError);
    expect(problems[0]?.file).toBe('deploy/staging/a.yaml');
    expect(problems[0]?.message).toMatch(/YAML syntax error/);
    expect(problems[0]?.line).toBeGreaterThanOrEqual(6);
    // Duplicate keys are caught by the YAML parser: the second `port` of b.yaml.
    expect(problems[1]?.message).toMatch(/^deploy\/staging\/b\.yaml:\d+: /);
  });

  it('names the file, line and field of an unknown dependsOn', async () => {
    const { repo: r, commit } = repo({
      'deploy/staging/web.yaml': app('web', '  dependsOn:\n    - api\n    - cache\n'),
      'deploy/staging/api.yaml': app('api'),
    });
    const { problems } = await render(r, commit);
    expect(problems.map((p) => p.message)).toEqual([
      'deploy/staging/web.yaml:9: spec.dependsOn[1]: unknown app "cache"; environment "staging" has: api, web',
    ]);
  });

  it('names a dependency cycle, including an app that depends on itself', async () => {
    const { repo: r, commit } = repo({
      'deploy/staging/apps.yaml': [
        app('web', '  dependsOn: [api]\n'),
        app('api', '  dependsOn: [db]\n'),
        app('db', '  dependsOn: [web]\n'),
        app('solo', '  dependsOn: [solo]\n', 'apps/web'),
      ].join('---\n'),
    });
    const { apps, problems } = await render(r, commit);
    expect(apps).toEqual([]);
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringMatching(
        /^deploy\/staging\/apps\.yaml:\d+: spec\.dependsOn: a dependency cycle: api → db → web → api$/,
      ),
      expect.stringMatching(/a dependency cycle: solo → solo$/),
    ]);
  });

  it('refuses duplicate app names, naming both places', async () => {
    const { repo: r, commit } = repo({
      'deploy/staging/a.yaml': app('web'),
      'deploy/staging/b.yaml': `${app('api')}---\n${app('web')}`,
    });
    const { problems } = await render(r, commit);
    expect(problems.map((p) => p.message)).toEqual([
      'deploy/staging/b.yaml:10: metadata.name: app "web" is already defined at deploy/staging/a.yaml:1',
    ]);
  });

  it('refuses other kinds in the folder, a missing cwd, and a missing folder', async () => {
    const { repo: r, commit } = repo({
      'deploy/staging/a.yaml': `${HEAD}kind: Environment\nmetadata: { name: x }\nspec: { path: y }\n---\n${app('gone', '', 'apps/gone')}`,
    });
    const { problems } = await render(r, commit);
    expect(problems.map((p) => p.message)).toEqual([
      "deploy/staging/a.yaml:1: kind: only App and AnalysisTemplate documents belong in an environment's folder (found Environment)",
      `deploy/staging/a.yaml:10: spec.process.cwd: the folder apps/gone does not exist at ${commit.slice(0, 12)}`,
    ]);
    const missing = await renderEnvironment(
      r.path,
      { metadata: { name: 'prod' }, spec: { path: 'deploy/prod' } },
      {
        revision: commit,
        gitDir: r.path,
      },
    );
    expect(missing.problems[0]?.message).toMatch(
      /plumbline\.yaml: spec\.path: .*deploy\/prod does not exist/,
    );
  });

  it('says kustomize needs kubectl when kubectl is not installed', async () => {
    const { repo: r, commit } = repo({
      'deploy/staging/kustomization.yaml': 'resources: [web.yaml]\n',
      'deploy/staging/web.yaml': app('web'),
    });
    const { apps, problems } = await render(r, commit, join(r.path, 'no-bin'));
    expect(apps).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.file).toBe('deploy/staging/kustomization.yaml');
    expect(problems[0]?.message).toMatch(/needs kubectl, which is not installed/);
    expect(problems[0]?.hint).toMatch(/install kubectl/);
  });

  it('renders a kustomization with kubectl when it is on PATH', async () => {
    const { repo: r, commit } = repo({
      'deploy/staging/kustomization.yaml': 'resources: [web.yaml]\n',
      'deploy/staging/web.yaml': `${app('web')}---\n${app('api')}`,
    });
    // A stand-in kubectl that prints the resources, so the test does not depend on a real one.
    r.write({ 'bin/kubectl': `#!/bin/sh\ncat "$2/web.yaml"\n` });
    chmodSync(join(r.path, 'bin/kubectl'), 0o755);
    const { apps, problems } = await render(r, commit, join(r.path, 'bin'));
    expect(problems).toEqual([]);
    expect(apps.map((a) => [a.name, a.source.file])).toEqual([
      ['api', 'deploy/staging/kustomization.yaml (kustomize output)'],
      ['web', 'deploy/staging/kustomization.yaml (kustomize output)'],
    ]);
    r.write({ 'bin/kubectl': '#!/bin/sh\necho "error: no such file" >&2\nexit 1\n' });
    const failed = await render(r, commit, join(r.path, 'bin'));
    expect(failed.problems[0]?.message).toMatch(/kubectl kustomize failed: error: no such file/);
  });

  it.skipIf(findExecutable('kubectl') === undefined)(
    'renders a kustomization with the real kubectl',
    async () => {
      const { repo: r, commit } = repo({
        'deploy/staging/kustomization.yaml': 'resources: [apps.yaml]\n',
        'deploy/staging/apps.yaml': `${app('web', '  dependsOn: [api]\n')}---\n${app('api')}`,
      });
      const { apps, problems } = await render(r, commit);
      expect(problems).toEqual([]);
      expect(apps.map((a) => [a.name, a.spec.dependsOn])).toEqual([
        ['api', []],
        ['web', ['api']],
      ]);
    },
  );

  it("changes the spec hash when the app's folder changes, not when another folder does", async () => {
    const { repo: r, commit: c1 } = repo({
      'deploy/staging/apps.yaml': `${app('web')}---\n${app('api')}`,
    });
    const c2 = r.commit('api code', { 'apps/api/main.js': 'api v2\n' });
    const c3 = r.commit('docs', { 'README.md': 'docs\n' });
    const c4 = r.commit('web replicas', {
      'deploy/staging/apps.yaml': `${app('web', '  replicas: 3\n')}---\n${app('api')}`,
    });
    const hashes = async (commit: string): Promise<Record<string, string>> => {
      r.git('checkout', '-q', commit);
      const { apps, problems } = await render(r, commit);
      expect(problems).toEqual([]);
      return Object.fromEntries(apps.map((a) => [a.name, a.specHash]));
    };
    const h1 = await hashes(c1);
    const h2 = await hashes(c2);
    const h3 = await hashes(c3);
    const h4 = await hashes(c4);
    expect(h2.web).toBe(h1.web);
    expect(h2.api).not.toBe(h1.api);
    expect(h3).toEqual(h2);
    expect(h4.web).not.toBe(h3.web);
    expect(h4.api).toBe(h3.api);
  });
});

describe('helpers', () => {
  it('reads the environments of plumbline.yaml', () => {
    const { repo: r } = repo({
      'plumbline.yaml': `${HEAD}kind: Check\n---\n${HEAD}kind: Environment\nmetadata: { name: staging }\nspec: { path: deploy/staging }\n`,
    });
    expect(readEnvironments(r.path).map((e) => [e.metadata.name, e.spec.path, e.spec.sync.prune])).toEqual([
      ['staging', 'deploy/staging', false],
    ]);
    r.write({
      'plumbline.yaml': `${HEAD}kind: Environment\nmetadata: { name: a }\nspec: { path: x }\n---\n${HEAD}kind: Environment\nmetadata: { name: a }\nspec: { path: y }\n`,
    });
    expect(() => readEnvironments(r.path)).toThrow(
      /plumbline\.yaml:6: metadata\.name: environment "a" is defined twice/,
    );
    r.write({ 'plumbline.yaml': app('web') });
    expect(() => readEnvironments(r.path)).toThrow(/belong in an environment's folder/);
  });

  it('writes canonical JSON and finds executables', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
    expect(findExecutable('git')).toMatch(/git$/);
    expect(findExecutable('git', '')).toBeUndefined();
  });
});
