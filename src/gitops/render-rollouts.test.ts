// Render with progressive delivery: AnalysisTemplates beside the Apps are collected (not taken for Apps), their
// problems reported once each with file:line:field, and a strategy checked against the environment (the
// templates it names exist; a preview port is no other App's).
import { afterEach, describe, expect, it } from 'vitest';
import { gitRepo, type TempDir } from '../../test/helpers/repo.js';
import { renderEnvironment } from './render.js';

const HEAD = 'apiVersion: plumbline.dev/v1alpha1\n';
const ENV = { metadata: { name: 'staging' }, spec: { path: 'deploy/staging' } };

function app(name: string, port: number, strategy = ''): string {
  return `${HEAD}kind: App\nmetadata: { name: ${name} }\nspec:\n  process: { command: [node, main.js], cwd: app }\n  port: ${port}\n${strategy}`;
}

const TEMPLATE = `${HEAD}kind: AnalysisTemplate
metadata: { name: success-rate }
spec:
  metrics:
    - name: success-rate
      interval: 10s
      count: 3
      successCondition: "result >= 0.99"
      provider: { router: { query: success-rate } }
`;

const CANARY = `  strategy:
    canary:
      steps:
        - setWeight: 10
        - analysis: { templates: [success-rate, latency] }
`;

const cleanup: TempDir[] = [];
afterEach(() => {
  for (const dir of cleanup.splice(0)) dir.remove();
});

async function render(files: Record<string, string>) {
  const r = gitRepo();
  cleanup.push(r);
  const commit = r.commit('init', { 'app/main.js': 'x\n', ...files });
  return renderEnvironment(r.path, ENV, { revision: commit, gitDir: r.path });
}

describe('renderEnvironment with AnalysisTemplates and strategies', () => {
  it('collects the templates beside the Apps, in the same files or their own', async () => {
    const { apps, templates, problems } = await render({
      'deploy/staging/web.yaml': `${app('web', 8080, '  strategy: { canary: { steps: [{ analysis: { templates: [success-rate] } }] } }\n')}---\n${TEMPLATE}`,
      'deploy/staging/latency.yaml': TEMPLATE.replace('name: success-rate }', 'name: latency }'),
    });
    expect(problems.map((p) => p.message)).toEqual([]);
    expect(apps.map((a) => a.name)).toEqual(['web']);
    expect([...templates.keys()].sort()).toEqual(['latency', 'success-rate']);
    expect(templates.get('success-rate')?.source).toEqual({ file: 'deploy/staging/web.yaml', line: 9 });
    expect(apps[0]?.spec.strategy).toEqual({
      canary: { steps: [{ analysis: { templates: ['success-rate'] } }] },
    });
  });

  it('names a template the strategy needs and the environment lacks, at its line', async () => {
    const { problems } = await render({
      'deploy/staging/web.yaml': app('web', 8080, CANARY),
      'deploy/staging/templates.yaml': TEMPLATE,
    });
    expect(problems.map((p) => p.message)).toEqual([
      'deploy/staging/web.yaml:11: spec.strategy.canary.steps[1].analysis.templates[1]: unknown AnalysisTemplate "latency"; the environment has: success-rate',
    ]);
  });

  it('refuses a preview port another App serves on', async () => {
    const { problems } = await render({
      'deploy/staging/web.yaml': app('web', 8080, '  strategy:\n    blueGreen: { previewPort: 9090 }\n'),
      'deploy/staging/api.yaml': app('api', 9090),
    });
    expect(problems.map((p) => p.message)).toEqual([
      'deploy/staging/web.yaml:8: spec.strategy.blueGreen.previewPort: 9090 is already the port of app "api"',
    ]);
  });

  it('reports a bad template once, with its file, line and field', async () => {
    const { problems } = await render({
      'deploy/staging/web.yaml': app('web', 8080),
      'deploy/staging/templates.yaml': TEMPLATE.replace('count: 3', 'count: 0'),
    });
    expect(problems.map((p) => p.message)).toEqual([
      'deploy/staging/templates.yaml:8: spec.metrics[0].count: Too small: expected number to be >=1',
    ]);
  });
});
