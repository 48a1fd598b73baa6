import { afterEach, describe, expect, it } from 'vitest';
import { type JsonServer, startJsonServer, templateFrom } from './analysis.test-helper.js';
import { AnalysisInputError } from './run.js';
import { createAnalysisRunner } from './runner.js';
import type { MeasurementEvent } from './types.js';

let server: JsonServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('createAnalysisRunner', () => {
  it('runs templates by name with bound arguments, and names the ones that do not exist', async () => {
    server = await startJsonServer((_index, request) => ({
      json: { value: request.headers['x-token'] === 't' ? 1 : 0 },
    }));
    const smoke = templateFrom(
      'smoke',
      `  args: [{ name: token }]
  metrics:
    - name: up
      successCondition: result == 1
      provider: { web: { url: "${server.url}/{{revision}}", headers: { X-Token: "{{args.token}}" }, jsonPath: $.value } }
`,
    );
    const events: MeasurementEvent[] = [];
    const run = createAnalysisRunner({
      templates: () => new Map([['smoke', smoke]]),
      args: { token: 't' },
      onMeasurement: (event) => events.push(event),
    });
    const context = { environment: 'prod', app: 'web', port: 8080, revision: 'v2', stableRevision: 'v1' };
    const verdict = await run(['smoke'], context, new AbortController().signal);
    expect(verdict.phase).toBe('Successful');
    expect(server.seen[0]?.url).toBe('/v2');
    expect(events).toHaveLength(1);

    const error = await run(['smoke', 'missing'], context, new AbortController().signal).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AnalysisInputError);
    expect((error as AnalysisInputError).message).toBe('no AnalysisTemplate "missing" in environment prod');
    expect((error as AnalysisInputError).hint).toBe('the environment has: smoke');
    const none = createAnalysisRunner({ templates: new Map() });
    await expect(none(['x'], context, new AbortController().signal)).rejects.toMatchObject({
      hint: 'add an AnalysisTemplate document beside the App documents',
    });
  });
});
