// The App's `strategy` and the Environment's `notifications` as plumbline.yaml and the environment folders
// are read: parsed into their resolved form, refused with file:line:field and a way out.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { configJsonSchema } from './jsonschema.js';
import { parseConfig } from './parse.js';

const HEAD = 'apiVersion: plumbline.dev/v1alpha1\n';

function app(strategy: string): string {
  return `${HEAD}kind: App
metadata: { name: web }
spec:
  process: { command: [node, server.js] }
  port: 8080
${strategy}`;
}

function environment(notifications: string): string {
  return `${HEAD}kind: Environment
metadata: { name: prod }
spec:
  path: deploy/prod
${notifications}`;
}

function fails(text: string): ConfigError {
  try {
    parseConfig(text, 'deploy/prod/web.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('App spec.strategy', () => {
  it('reads a canary and a blue-green, durations in milliseconds', () => {
    const canary = parseConfig(
      app(
        '  strategy:\n    canary:\n      steps: [{ setWeight: 10 }, { pause: { duration: 30s } }, { pause: {} }]\n',
      ),
      'f',
    ).documents[0]?.value as { spec: { strategy: unknown } };
    expect(canary.spec.strategy).toEqual({
      canary: { steps: [{ setWeight: 10 }, { pause: { durationMs: 30_000 } }, { pause: {} }] },
    });
    const blueGreen = parseConfig(
      app('  strategy:\n    blueGreen: { previewPort: 18080, autoPromote: manual, scaleDownDelay: 5m }\n'),
      'f',
    ).documents[0]?.value as { spec: { strategy: unknown } };
    expect(blueGreen.spec.strategy).toEqual({
      blueGreen: { previewPort: 18080, autoPromote: 'manual', scaleDownDelayMs: 300_000 },
    });
  });

  it('refuses a preview port equal to the App port, and a step of two kinds, at their lines', () => {
    expect(fails(app('  strategy:\n    blueGreen:\n      previewPort: 8080\n')).message).toBe(
      "deploy/prod/web.yaml:9: spec.strategy.blueGreen.previewPort: must differ from the App's port 8080",
    );
    expect(
      fails(app('  strategy:\n    canary:\n      steps:\n        - { setWeight: 10, pause: {} }\n')).message,
    ).toMatch(/^deploy\/prod\/web\.yaml:10: spec\.strategy\.canary\.steps\[0\]: a step is exactly one of/);
  });
});

describe('Environment spec.notifications', () => {
  it('reads generic and Slack webhooks, by URL or by the variable holding it', () => {
    const [env] = parseConfig(
      environment(
        '  notifications:\n    - webhook: { url: "https://hooks.example.com/p" }\n    - webhook: { urlEnv: SLACK_URL, format: slack }\n',
      ),
      'plumbline.yaml',
    ).documents;
    expect((env?.value as { spec: { notifications: unknown } } | undefined)?.spec.notifications).toEqual([
      { webhook: { url: 'https://hooks.example.com/p', format: 'generic' } },
      { webhook: { urlEnv: 'SLACK_URL', format: 'slack' } },
    ]);
  });

  it('needs exactly one of url and urlEnv, and an http(s) URL', () => {
    expect(fails(environment('  notifications:\n    - webhook: { format: slack }\n')).message).toMatch(
      /spec\.notifications\[0\]\.webhook: give exactly one of url or urlEnv/,
    );
    expect(fails(environment('  notifications:\n    - webhook: { url: "ftp://x/y" }\n')).message).toMatch(
      /spec\.notifications\[0\]\.webhook\.url: write an http\(s\) URL/,
    );
  });
});

describe('AnalysisTemplate documents', () => {
  it('are a kind of plumbline document, in the JSON Schema too', () => {
    const text = `${HEAD}kind: AnalysisTemplate\nmetadata: { name: smoke }\nspec:\n  metrics:\n    - name: ok\n      successCondition: "result == 1"\n      provider: { web: { url: "http://127.0.0.1/ok", jsonPath: "$.ok" } }\n`;
    expect(parseConfig(text, 'f').documents.map((d) => [d.kind, d.name])).toEqual([
      ['AnalysisTemplate', 'smoke'],
    ]);
    expect(JSON.stringify(configJsonSchema())).toContain('AnalysisTemplate');
  });
});
