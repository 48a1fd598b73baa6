import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_VERSION as CONFIG_API_VERSION, dnsLabel } from '../../config/schema.js';
import { ConfigError } from '../../errors.js';
import { API_VERSION, analysisTemplateDocumentSchema, parseAnalysisTemplates } from './schema.js';

const HEAD = 'apiVersion: plumbline.dev/v1alpha1\nkind: AnalysisTemplate\n';

/** A template with one metric, given as YAML lines under `- name: m`. */
function template(name: string, metricLines: string, extraSpec = ''): string {
  const indented = metricLines
    .trim()
    .split('\n')
    .map((line) => `      ${line}`)
    .join('\n');
  return `${HEAD}metadata: { name: ${name} }\nspec:\n${extraSpec}  metrics:\n    - name: m\n${indented}\n`;
}

function parse(text: string, file = 'deploy/prod/analysis.yaml') {
  return parseAnalysisTemplates([{ file, text }]);
}

function problems(text: string): string[] {
  return parse(text).problems.map((problem) => problem.message);
}

describe('parseAnalysisTemplates', () => {
  it("reads the issue's example with Argo's defaults and an explicit no-data policy", () => {
    const text = `${HEAD}metadata: { name: success-rate }
spec:
  metrics:
    - name: success-rate
      interval: 10s
      count: 6
      failureLimit: 1
      noData: inconclusive             # fail | pass | inconclusive
      successCondition: "result >= 0.99"
      provider:
        router: { query: success-rate }
`;
    const { templates, problems } = parse(text);
    expect(problems).toEqual([]);
    const parsed = templates.get('success-rate');
    expect(parsed?.source).toEqual({ file: 'deploy/prod/analysis.yaml', line: 1 });
    expect(parsed?.spec.metrics[0]).toEqual({
      name: 'success-rate',
      intervalMs: 10_000,
      initialDelayMs: 0,
      count: 6,
      failureLimit: 1,
      consecutiveErrorLimit: 4,
      inconclusiveLimit: 0,
      noData: 'inconclusive',
      successCondition: 'result >= 0.99',
      provider: { kind: 'router', query: 'success-rate' },
    });
  });

  it('reads every provider, and leaves other kinds to their readers', () => {
    const text = `${HEAD}metadata: { name: all }
spec:
  args: [{ name: token }, { name: region, value: eu }]
  metrics:
    - name: prom
      failureCondition: result > 0.05
      provider:
        prometheus:
          address: http://127.0.0.1:9090
          query: sum(rate(x{revision="{{revision}}",region="{{args.region}}"}[1m]))
    - name: web
      initialDelay: 5s
      successCondition: result.ok
      provider:
        web:
          url: https://status.example/{{app}}
          headers: { Authorization: "Bearer {{args.token}}" }
          jsonPath: $.checks[0]
          timeout: 2s
    - name: compare
      interval: 30s
      count: 4
      provider:
        comparison: { metric: latency, confidence: 0.99, minSamples: 200 }
---
apiVersion: plumbline.dev/v1alpha1
kind: App
metadata: { name: web }
spec: { whatever: true }
`;
    const { templates, problems } = parse(text);
    expect(problems).toEqual([]);
    const metrics = templates.get('all')?.spec.metrics ?? [];
    expect(metrics.map((m) => m.provider)).toEqual([
      {
        kind: 'prometheus',
        address: 'http://127.0.0.1:9090',
        query: 'sum(rate(x{revision="{{revision}}",region="{{args.region}}"}[1m]))',
        timeoutMs: 10_000,
      },
      {
        kind: 'web',
        url: 'https://status.example/{{app}}',
        method: 'GET',
        headers: { Authorization: 'Bearer {{args.token}}' },
        jsonPath: '$.checks[0]',
        timeoutMs: 2_000,
      },
      { kind: 'comparison', metric: 'latency', confidence: 0.99, minSamples: 200, margin: 0.1 },
    ]);
    expect(metrics[1]?.initialDelayMs).toBe(5_000);
    expect(templates.get('all')?.spec.args).toEqual([{ name: 'token' }, { name: 'region', value: 'eu' }]);
  });

  it('names file, line and field of each mistake, every one of them', () => {
    const text = template(
      'bad',
      `count: 3
successCondition: "reslt >= 1"
failureCondition: "result >"
provider:
  router: { query: p99 }`,
    );
    const { problems: found, templates } = parse(text);
    expect(templates.size).toBe(0);
    expect(found.every((problem) => problem instanceof ConfigError)).toBe(true);
    expect(found.map((p) => [p.line, p.field])).toEqual([[11, 'spec.metrics[0].provider.router.query']]);
    expect(found[0]?.message).toContain(
      'deploy/prod/analysis.yaml:11: spec.metrics[0].provider.router.query: choose one of',
    );
  });

  it('checks the whole metric once its fields are valid', () => {
    const found = parse(
      template(
        'bad',
        `count: 3
successCondition: "reslt >= 1"
failureCondition: "result >"
provider:
  router: { query: error-rate }`,
      ),
    ).problems;
    expect(found.map((p) => [p.line, p.field])).toEqual([
      [6, 'spec.metrics[0].interval'],
      [8, 'spec.metrics[0].successCondition'],
      [9, 'spec.metrics[0].failureCondition'],
    ]);
    expect(found[1]?.message).toContain('unknown variable "reslt"; a condition can read result');
    expect(found[2]?.message).toContain('not a valid CEL expression');
  });

  it.each([
    [
      'no provider',
      'successCondition: result > 1\nprovider: {}',
      'choose a provider: router, prometheus, web or comparison',
    ],
    [
      'two providers',
      'successCondition: result > 1\nprovider:\n  web: { url: "http://a", jsonPath: $ }\n  prometheus: { address: "http://b", query: up }',
      'choose one provider, not prometheus and web',
    ],
    [
      'no condition',
      'provider:\n  web: { url: "http://a", jsonPath: $.x }',
      'give a successCondition or a failureCondition',
    ],
    [
      'a windowed provider without interval',
      'successCondition: result > 1\nprovider:\n  router: { query: request-count }',
      'a router metric measures the traffic of each interval',
    ],
    [
      'an unknown placeholder',
      'successCondition: result > 1\nprovider:\n  prometheus: { address: "http://p:9090", query: "up{a=\\"{{revison}}\\"}" }',
      'unknown placeholder {{revison}}',
    ],
    [
      'an undeclared argument',
      'successCondition: result > 1\nprovider:\n  web: { url: "http://a/{{args.x}}", jsonPath: $ }',
      '(declare arguments under spec.args)',
    ],
    [
      'credentials in a URL',
      'successCondition: result > 1\nprovider:\n  prometheus: { address: "http://u:p@p:9090", query: up }',
      'take the credentials out of the URL',
    ],
    [
      'not a URL',
      'successCondition: result > 1\nprovider:\n  prometheus: { address: "p:9090", query: up }',
      '"p:" is not http',
    ],
    [
      'a bad JSONPath',
      'successCondition: result > 1\nprovider:\n  web: { url: "http://a", jsonPath: "$..x" }',
      'wildcards, filters and .. are not supported',
    ],
    [
      'a header with a line break',
      'successCondition: result > 1\nprovider:\n  web: { url: "http://a", jsonPath: $, headers: { "X-A": "a\\nb" } }',
      'a header value cannot hold a line break',
    ],
    [
      'a body on a GET',
      'successCondition: result > 1\nprovider:\n  web: { url: "http://a", jsonPath: $, body: "{}" }',
      'a request with a body needs method: POST or PUT',
    ],
    [
      '{{interval}} without an interval',
      'successCondition: result > 1\nprovider:\n  prometheus: { address: "http://p:9090", query: "rate(x[{{interval}}])" }',
      '{{interval}} needs the metric to have an interval',
    ],
    [
      'an unknown field',
      'sucessCondition: result > 1\nprovider:\n  router: { query: error-rate }',
      'unknown field',
    ],
    [
      'a bad no-data policy',
      'noData: ignore\nsuccessCondition: result > 1\ninterval: 1s\nprovider:\n  router: { query: error-rate }',
      'choose fail, pass or inconclusive',
    ],
    [
      'a duration without unit',
      'interval: 10\nsuccessCondition: result > 1\nprovider:\n  router: { query: error-rate }',
      'write a duration',
    ],
    [
      'an unknown comparison',
      'interval: 1s\nprovider:\n  comparison: { metric: throughput }',
      'choose one of: error-rate, latency',
    ],
  ])('refuses %s', (_what, lines, message) => {
    expect(problems(template('t', lines)).join('\n')).toContain(message);
  });

  it('refuses duplicate metric and template names, across files too', () => {
    const metric =
      '    - name: m\n      interval: 1s\n      successCondition: result > 1\n      provider: { router: { query: error-rate } }\n';
    const twice = `${HEAD}metadata: { name: t }\nspec:\n  metrics:\n${metric}${metric}`;
    expect(problems(twice)).toEqual([
      'deploy/prod/analysis.yaml:10: spec.metrics[1].name: "m" is used twice',
    ]);
    const once = `${HEAD}metadata: { name: t }\nspec:\n  metrics:\n${metric}`;
    const result = parseAnalysisTemplates([
      { file: 'a.yaml', text: once },
      { file: 'b.yaml', text: `# comment\n${once}` },
    ]);
    expect(result.templates.size).toBe(1);
    expect(result.problems.map((p) => p.message)).toEqual([
      'b.yaml:4: metadata.name: analysis template "t" is already defined at a.yaml:1',
    ]);
  });

  it('reports YAML syntax errors and a wrong apiVersion', () => {
    expect(problems('kind: AnalysisTemplate\nspec: [unclosed\n')[0]).toMatch(
      /^deploy\/prod\/analysis.yaml:\d+: YAML syntax error/,
    );
    expect(
      problems('apiVersion: v2\nkind: AnalysisTemplate\nmetadata: { name: t }\nspec: { metrics: [] }\n'),
    ).toEqual([
      expect.stringContaining(
        'analysis.yaml:1: apiVersion: Invalid input: expected "plumbline.dev/v1alpha1"',
      ),
      expect.stringContaining('analysis.yaml:4: spec.metrics: give at least one metric'),
    ]);
    expect(parse('').problems).toEqual([]);
    expect(parse('# nothing\n---\n').templates.size).toBe(0);
  });

  it("reads the README's example", () => {
    const readme = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Analysis: judging a rollout'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const { templates, problems } = parse(yaml, 'README.md');
    expect(problems).toEqual([]);
    expect(templates.get('success-rate')?.spec.metrics.map((m) => m.provider.kind)).toEqual([
      'router',
      'prometheus',
      'web',
      'comparison',
    ]);
  });

  it('exports the document schema for the registry of kinds, with a JSON Schema for editors', () => {
    expect(analysisTemplateDocumentSchema.safeParse({ apiVersion: API_VERSION, kind: 'App' }).success).toBe(
      false,
    );
    const schema = z.toJSONSchema(analysisTemplateDocumentSchema, { io: 'input', unrepresentable: 'any' });
    expect(JSON.stringify(schema)).toContain('successCondition');
  });

  it('keeps its copies of the configuration basics equal to config/schema.ts', () => {
    expect(API_VERSION).toBe(CONFIG_API_VERSION);
    for (const name of ['web', 'a', 'web-api-2', 'Web', '-x', 'x-', 'a'.repeat(64), 'a.b']) {
      const ours = parse(
        template(name, 'successCondition: result > 0\nprovider: { web: { url: "http://a", jsonPath: $ } }'),
      );
      expect(ours.templates.has(name), name).toBe(dnsLabel.safeParse(name).success);
    }
  });
});
