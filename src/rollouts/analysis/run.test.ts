// The run loop against real HTTP servers on loopback, with short real intervals: Argo's limits, the no-data
// policy, an early stop when a metric fails, aborting, and credentials kept out of logs and messages.
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Answer,
  type JsonServer,
  memoryLogger,
  startJsonServer,
  templateFrom,
} from './analysis.test-helper.js';
import { PlaceholderError } from './placeholders.js';
import { AnalysisInputError, runAnalysis } from './run.js';
import type { AnalysisContext, MeasurementEvent } from './types.js';

const servers: JsonServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function server(answer: (index: number) => Answer): Promise<JsonServer> {
  const started = await startJsonServer(answer);
  servers.push(started);
  return started;
}

const CONTEXT: AnalysisContext = {
  environment: 'prod',
  app: 'web',
  revision: 'c0ffee',
  stableRevision: 'b0b',
};

/** A template with one web metric reading `$.value` from `url`. */
function webTemplate(url: string, fields: string, name = 'web-check'): ReturnType<typeof templateFrom> {
  return templateFrom(
    name,
    `  metrics:
    - name: value
${fields
  .trim()
  .split('\n')
  .map((line) => `      ${line}`)
  .join('\n')}
      provider:
        web: { url: "${url}", jsonPath: $.value, timeout: 5s }
`,
  );
}

function values(...sequence: (number | null | 'error')[]): (index: number) => Answer {
  return (index) => {
    const value = sequence[Math.min(index, sequence.length - 1)];
    if (value === 'error') return { status: 500, json: { error: 'boom' } };
    return { json: value === null ? {} : { value } };
  };
}

describe('runAnalysis', () => {
  it('measures count times at the interval and succeeds', async () => {
    const s = await server(values(0.995));
    const events: MeasurementEvent[] = [];
    const started = performance.now();
    const result = await runAnalysis(
      [webTemplate(s.url, 'interval: 100ms\ncount: 3\nsuccessCondition: result >= 0.99')],
      CONTEXT,
      { onMeasurement: (event) => events.push(event) },
    );
    const elapsed = performance.now() - started;
    expect(result.phase).toBe('Successful');
    expect(result.message).toBe(
      'Successful: web-check/value: 3 measurement(s): 3 successful; last: result 0.995',
    );
    expect(result.metrics[0]).toMatchObject({ phase: 'Successful', count: 3, successful: 3, failed: 0 });
    expect(result.metrics[0]?.measurements.map((m) => m.value)).toEqual([0.995, 0.995, 0.995]);
    expect(events.map((e) => [e.metric, e.measurement.phase, e.result.phase])).toEqual([
      ['value', 'Successful', 'Running'],
      ['value', 'Successful', 'Running'],
      ['value', 'Successful', 'Successful'],
    ]);
    // Point-in-time providers measure at once, then every interval: 0, 100, 200 ms.
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('tolerates failureLimit failures and fails on the next, before count', async () => {
    const s = await server(values(0.5, 0.999, 0.5, 0.999));
    const result = await runAnalysis(
      [webTemplate(s.url, 'interval: 100ms\ncount: 6\nfailureLimit: 1\nsuccessCondition: result >= 0.99')],
      CONTEXT,
    );
    expect(result.phase).toBe('Failed');
    expect(result.metrics[0]).toMatchObject({ phase: 'Failed', count: 3, failed: 2, successful: 1 });
    expect(result.message).toContain('2 failed measurement(s), more than failureLimit 1');
    expect(s.seen).toHaveLength(3);
  });

  it('stops every metric at once when one fails, well within a second', async () => {
    const slow = await server(values(1));
    const bad = await server(values(1, 0));
    let failedAt = 0;
    const template = templateFrom(
      'two',
      `  metrics:
    - name: slow
      interval: 30s
      count: 5
      successCondition: result == 1
      provider: { web: { url: "${slow.url}", jsonPath: $.value } }
    - name: bad
      interval: 100ms
      count: 5
      successCondition: result == 1
      provider: { web: { url: "${bad.url}", jsonPath: $.value } }
`,
    );
    const result = await runAnalysis([template], CONTEXT, {
      onMeasurement: (event) => {
        if (event.measurement.phase === 'Failed') failedAt = performance.now();
      },
    });
    const stopped = performance.now() - failedAt;
    expect(result.phase).toBe('Failed');
    expect(result.metrics.map((m) => [m.name, m.phase])).toEqual([
      ['slow', 'Stopped'],
      ['bad', 'Failed'],
    ]);
    expect(result.metrics[0]?.message).toBe('stopped: another metric decided the analysis');
    expect(stopped).toBeLessThan(1_000);
  });

  it('makes a metric Error after more errors in a row than consecutiveErrorLimit', async () => {
    const s = await server(values('error'));
    const result = await runAnalysis(
      [
        webTemplate(
          s.url,
          'interval: 100ms\ncount: 3\nconsecutiveErrorLimit: 1\nsuccessCondition: result > 0',
        ),
      ],
      CONTEXT,
    );
    expect(result.phase).toBe('Error');
    expect(result.metrics[0]).toMatchObject({ phase: 'Error', errors: 2, consecutiveErrors: 2, count: 0 });
    expect(result.metrics[0]?.measurements[0]?.message).toBe(`${s.url}/ answered HTTP 500`);
  });

  it('retries errors without counting them, as Argo does', async () => {
    const s = await server(values('error', 1, 'error', 1));
    const result = await runAnalysis(
      [webTemplate(s.url, 'interval: 100ms\ncount: 2\nsuccessCondition: result > 0')],
      CONTEXT,
    );
    expect(result.phase).toBe('Successful');
    expect(result.metrics[0]).toMatchObject({ count: 2, errors: 2, consecutiveErrors: 0 });
    expect(result.metrics[0]?.measurements.map((m) => m.phase)).toEqual([
      'Error',
      'Successful',
      'Error',
      'Successful',
    ]);
  });

  it('ends Inconclusive past inconclusiveLimit (neither condition true)', async () => {
    const s = await server(values(0.5));
    const result = await runAnalysis(
      [
        webTemplate(
          s.url,
          'interval: 100ms\ncount: 5\ninconclusiveLimit: 1\nsuccessCondition: result > 0.9\nfailureCondition: result < 0.1',
        ),
      ],
      CONTEXT,
    );
    expect(result.phase).toBe('Inconclusive');
    expect(result.metrics[0]).toMatchObject({ phase: 'Inconclusive', inconclusive: 2, count: 2 });
  });

  it.each([
    ['fail', 'Failed'],
    ['pass', 'Successful'],
    ['inconclusive', 'Inconclusive'],
  ] as const)('applies noData: %s to a result that is not there', async (policy, phase) => {
    const s = await server(values(null));
    const result = await runAnalysis(
      [webTemplate(s.url, `noData: ${policy}\nsuccessCondition: result > 0`)],
      CONTEXT,
    );
    expect(result.phase).toBe(phase);
    expect(result.metrics[0]?.measurements[0]).toMatchObject({
      noData: true,
      message: `no data ($.value is missing in the answer); noData: ${policy}`,
    });
  });

  it('makes an Error of a condition that cannot judge the result, and of a timeout', async () => {
    const text = await server(() => ({ json: { value: 'fast' } }));
    const hang = await server(() => 'hang');
    const template = templateFrom(
      'errors',
      `  metrics:
    - name: typed
      consecutiveErrorLimit: 0
      successCondition: result > 1
      provider: { web: { url: "${text.url}", jsonPath: $.value } }
    - name: slow
      consecutiveErrorLimit: 0
      successCondition: result > 1
      provider: { web: { url: "${hang.url}/x?token=secret", jsonPath: $.value, timeout: 200ms } }
`,
    );
    const [typed, slow] = template.spec.metrics.map((metric) => ({
      ...template,
      spec: { ...template.spec, metrics: [metric] },
    }));
    const typedResult = await runAnalysis(typed === undefined ? [] : [typed], CONTEXT);
    expect(typedResult.phase).toBe('Error');
    expect(typedResult.metrics[0]?.measurements[0]?.message).toMatch(
      /^the condition "result > 1" failed: .*no matching overload/,
    );
    const started = performance.now();
    const slowResult = await runAnalysis(slow === undefined ? [] : [slow], CONTEXT);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(slowResult.phase).toBe('Error');
    expect(slowResult.metrics[0]?.measurements[0]?.message).toBe(`${hang.url}/x did not answer within 200ms`);
  });

  it('rejects with the reason when aborted, promptly', async () => {
    const s = await server(values(1));
    const controller = new AbortController();
    const run = runAnalysis(
      [webTemplate(s.url, 'interval: 10s\ncount: 5\nsuccessCondition: result > 0')],
      CONTEXT,
      {
        signal: controller.signal,
      },
    );
    setTimeout(() => controller.abort(new Error('rollout aborted')), 100);
    const started = performance.now();
    await expect(run).rejects.toThrow('rollout aborted');
    expect(performance.now() - started).toBeLessThan(500);
    const aborted = new AbortController();
    aborted.abort(new Error('already'));
    await expect(runAnalysis([], CONTEXT, { signal: aborted.signal })).rejects.toThrow('already');
  });

  it('sends headers, body and placeholders, and keeps credentials out of logs and messages', async () => {
    const s = await startJsonServer((_index, request) =>
      request.method === 'POST' ? { json: { value: 2 } } : { status: 503, json: {} },
    );
    servers.push(s);
    const { logger, lines } = memoryLogger();
    const template = templateFrom(
      'auth',
      `  args: [{ name: token }, { name: team, value: core }]
  metrics:
    - name: post
      successCondition: result > 1
      provider:
        web:
          url: "${s.url}/check/{{app}}?rev={{revision}}&team={{args.team}}&key={{args.token}}"
          method: POST
          headers: { Authorization: "Bearer {{args.token}}" }
          body: '{"revision":"{{revision}}","stable":"{{stableRevision}}","env":"{{environment}}"}'
          jsonPath: $.value
    - name: failing
      initialDelay: 300ms
      consecutiveErrorLimit: 0
      successCondition: result > 1
      provider:
        web:
          url: "${s.url}/other?key={{args.token}}"
          headers: { X-Api-Key: "{{args.token}}" }
          jsonPath: $.value
`,
    );
    const result = await runAnalysis([template], { ...CONTEXT, args: { token: 's3cr3t-t0ken' } }, { logger });
    const post = s.seen.find((r) => r.method === 'POST');
    expect(post?.url).toBe('/check/web?rev=c0ffee&team=core&key=s3cr3t-t0ken');
    expect(post?.headers.authorization).toBe('Bearer s3cr3t-t0ken');
    expect(post?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(post?.body ?? '')).toEqual({ revision: 'c0ffee', stable: 'b0b', env: 'prod' });
    expect(result.phase).toBe('Error');
    expect(lines.length).toBeGreaterThan(2);
    const everything = `${lines.join('')}${JSON.stringify(result)}`;
    expect(everything).not.toContain('s3cr3t');
    expect(everything).toContain(`${s.url}/other answered HTTP 503`);
  });

  it('survives an onMeasurement that throws', async () => {
    const s = await server(values(1));
    const { logger, lines } = memoryLogger();
    const result = await runAnalysis([webTemplate(s.url, 'successCondition: result > 0')], CONTEXT, {
      logger,
      onMeasurement: () => {
        throw new Error('listener bug');
      },
    });
    expect(result.phase).toBe('Successful');
    expect(lines.join('')).toContain('onMeasurement failed');
  });

  it('refuses a context that lacks what a metric needs, before measuring', async () => {
    const router = templateFrom(
      'router',
      '  metrics:\n    - name: m\n      interval: 1s\n      successCondition: result > 0\n      provider: { router: { query: error-rate } }\n',
    );
    await expect(runAnalysis([router], CONTEXT)).rejects.toThrow(AnalysisInputError);
    await expect(runAnalysis([router], CONTEXT)).rejects.toThrow(
      'analysis template "router", metric "m": router and comparison metrics need the router (context.router)',
    );
    const stats = { stats: () => Promise.reject(new Error('unused')) };
    const comparison = templateFrom(
      'cmp',
      '  metrics:\n    - name: m\n      interval: 1s\n      provider: { comparison: { metric: error-rate } }\n',
    );
    const noStable = { environment: 'prod', app: 'web', revision: 'c0ffee', router: stats };
    await expect(runAnalysis([comparison], noStable)).rejects.toThrow('needs the stable revision');
    await expect(runAnalysis([comparison], { ...noStable, stableRevision: 'c0ffee' })).rejects.toThrow(
      'needs two different revisions',
    );
    const needsArg = templateFrom(
      'args',
      '  args: [{ name: token }]\n  metrics:\n    - name: m\n      successCondition: result > 0\n      provider: { web: { url: "http://127.0.0.1:1/{{args.token}}", jsonPath: $ } }\n',
    );
    await expect(runAnalysis([needsArg], CONTEXT)).rejects.toThrow('needs a value for its argument "token"');
    const needsStable = templateFrom(
      'stable',
      '  metrics:\n    - name: m\n      successCondition: result > 0\n      provider: { web: { url: "http://127.0.0.1:1/{{stableRevision}}/{{port}}", jsonPath: $ } }\n',
    );
    await expect(runAnalysis([needsStable], { ...CONTEXT, stableRevision: undefined })).rejects.toThrow(
      PlaceholderError,
    );
    await expect(runAnalysis([needsStable], { ...CONTEXT })).rejects.toThrow(
      'uses {{port}}, which has no value here',
    );
    await expect(runAnalysis([], CONTEXT)).rejects.toThrow('no analysis template to run');
  });

  it('queries Prometheus with the revision escaped into the PromQL string', async () => {
    const s = await server(() => ({
      json: { status: 'success', data: { resultType: 'vector', result: [] } },
    }));
    const template = templateFrom(
      'prom',
      `  metrics:
    - name: errors
      interval: 2m
      failureCondition: result > 0.01
      noData: pass
      provider:
        prometheus:
          address: "${s.url}/prom/"
          query: 'sum(rate(errors{revision="{{revision}}",port="{{port}}"}[{{interval}}]))'
`,
    );
    const result = await runAnalysis([template], { ...CONTEXT, revision: 'a"b', port: 8080 });
    expect(result.phase).toBe('Successful');
    const url = new URL(s.seen[0]?.url ?? '', s.url);
    expect(url.pathname).toBe('/prom/api/v1/query');
    expect(url.searchParams.get('query')).toBe('sum(rate(errors{revision="a\\"b",port="8080"}[2m]))');
  });
});
