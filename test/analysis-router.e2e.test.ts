// Router and comparison metrics with real HTTP traffic through a real router (the router service in-process,
// its admin API on a Unix socket, read with RouterClient.stats()): a bad canary failed by its error rate, by
// comparison with stable as soon as the data allow, a slow one by the rank test, a canary without traffic not
// passing silently, and the admin snapshot held equal to /metrics. Intervals are generous: these tests share
// two cores with others, and a window without a finished request is no data.
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type RouterLab,
  startRouterLab,
  templateFrom,
} from '../src/rollouts/analysis/analysis.test-helper.js';
import { runAnalysis } from '../src/rollouts/analysis/run.js';
import type { MeasurementEvent } from '../src/rollouts/analysis/types.js';
import { LATENCY_BUCKETS, parseRouterMetrics } from '../src/targets/local/router/metrics.js';

const labs: RouterLab[] = [];
afterEach(async () => {
  await Promise.all(labs.splice(0).map((lab) => lab.close()));
});

async function lab(app = 'web'): Promise<RouterLab> {
  const started = await startRouterLab(app);
  labs.push(started);
  return started;
}

function metric(name: string, lines: string): ReturnType<typeof templateFrom> {
  return templateFrom(name, `  metrics:\n    - name: ${name}\n${lines.replace(/^/gm, '      ')}\n`);
}

describe('the router snapshot (GET /v1/stats)', () => {
  it('gives per-revision requests, errors and fine latency buckets, equal to /metrics', async () => {
    const l = await lab('we"b\\shop');
    const good = await l.backend('good');
    const bad = await l.backend('bad', { fail: true });
    const port = await l.route(0, [
      { backend: good, revision: 'v1', weight: 3 },
      { backend: bad, revision: 'v2', weight: 1 },
    ]);
    const driver = l.drive(port, 2);
    await l.served(['v1', 'v2'], 20);
    const sent = await driver.stop();
    const stats = await l.client.stats();
    expect(stats.pid).toBe(process.pid);
    expect(stats.bucketBounds).toEqual([...LATENCY_BUCKETS]);
    expect(stats.bucketBounds.slice(0, 3)).toEqual([0.0005, 0.001, 0.0025]);
    const byRevision = new Map(stats.series.map((s) => [s.revision, s]));
    const v1 = byRevision.get('v1');
    const v2 = byRevision.get('v2');
    expect(v1?.app).toBe('we"b\\shop');
    expect((v1?.requests ?? 0) + (v2?.requests ?? 0)).toBe(sent);
    expect(v1?.errors).toBe(0);
    expect(v2?.errors).toBe(v2?.requests);
    for (const series of stats.series) {
      expect(series.buckets).toHaveLength(LATENCY_BUCKETS.length + 1);
      expect(series.buckets.reduce((a, b) => a + b, 0)).toBe(series.requests);
    }
    expect(Math.abs((v2?.requests ?? 0) * 3 - (v1?.requests ?? 0))).toBeLessThanOrEqual(4);

    const text = await l.client.metrics();
    expect(text).toContain('le="0.0005"');
    expect(parseRouterMetrics(text)).toEqual(stats.series);
    const later = await l.client.stats();
    expect(later.monotonicMs).toBeGreaterThan(stats.monotonicMs);

    const refused = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ socketPath: l.client.socket, method: 'POST', path: '/v1/stats' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      });
      req.on('error', reject);
      req.end();
    });
    expect(refused.status).toBe(405);
    expect(JSON.parse(refused.body)).toEqual({
      error: 'method_not_allowed',
      message: 'POST is not allowed on /v1/stats',
    });
  });
});

describe('router metrics', () => {
  it('fails a canary answering 500s by its error rate, and passes stable', async () => {
    const l = await lab();
    const stable = await l.backend('stable');
    const canary = await l.backend('canary', { fail: true });
    const port = await l.route(0, [
      { backend: stable, revision: 'v1', weight: 1 },
      { backend: canary, revision: 'v2', weight: 1 },
    ]);
    const driver = l.drive(port);
    await l.served(['v1', 'v2'], 10);
    const template = templateFrom(
      'health',
      `  metrics:
    - name: errors
      interval: 500ms
      count: 2
      failureCondition: result > 0.05
      provider: { router: { query: error-rate } }
    - name: p99
      interval: 500ms
      count: 2
      successCondition: result < 2.5
      provider: { router: { query: latency-p99 } }
    - name: volume
      interval: 500ms
      successCondition: result >= 1
      provider: { router: { query: request-count } }
`,
    );
    const context = { environment: 'prod', app: 'web', port, router: l.client };
    const bad = await runAnalysis([template], { ...context, revision: 'v2' });
    expect({ phase: bad.phase, message: bad.message }).toMatchObject({ phase: 'Failed' });
    const errors = bad.metrics.find((m) => m.name === 'errors');
    expect(errors?.phase).toBe('Failed');
    expect(errors?.measurements[0]?.value).toBe(1);

    const good = await runAnalysis([template], { ...context, revision: 'v1' });
    await driver.stop();
    expect({ phase: good.phase, message: good.message }).toMatchObject({ phase: 'Successful' });
    expect(good.metrics.map((m) => [m.name, m.phase, m.count])).toEqual([
      ['errors', 'Successful', 2],
      ['p99', 'Successful', 2],
      ['volume', 'Successful', 1],
    ]);
    const p99 = good.metrics[1]?.measurements[0]?.value;
    expect(typeof p99).toBe('number');
    expect(p99).toBeGreaterThan(0);
  });

  it('does not let a canary without traffic pass silently', async () => {
    const l = await lab();
    const stable = await l.backend('stable');
    const canary = await l.backend('canary');
    const port = await l.route(0, [
      { backend: stable, revision: 'v1', weight: 1 },
      { backend: canary, revision: 'v2', weight: 0 },
    ]);
    const driver = l.drive(port, 2);
    await l.served(['v1'], 10);
    const result = await runAnalysis(
      [
        metric(
          'success',
          'interval: 300ms\ncount: 3\nsuccessCondition: result >= 0.99\nprovider: { router: { query: success-rate } }',
        ),
      ],
      { environment: 'prod', app: 'web', port, revision: 'v2', router: l.client },
    );
    await driver.stop();
    expect(result.phase).toBe('Inconclusive');
    expect(result.metrics[0]?.measurements[0]).toMatchObject({
      phase: 'Inconclusive',
      noData: true,
      message: 'no data (revision v2 had no requests in the window); noData: inconclusive',
    });
  });
});

describe('comparison metrics', () => {
  it('stops a canary failing every request at 10% at the first look with enough data; traffic back on stable in < 1 s', async () => {
    const l = await lab();
    const stable = await l.backend('stable');
    const canary = await l.backend('canary', { fail: true });
    const port = await l.route(0, [
      { backend: stable, revision: 'v1', weight: 9 },
      { backend: canary, revision: 'v2', weight: 1 },
    ]);
    const driver = l.drive(port);
    await l.served(['v1', 'v2'], 1);
    const events: MeasurementEvent[] = [];
    let rollback: Promise<number> | undefined;
    const result = await runAnalysis(
      [
        metric(
          'compare',
          'interval: 300ms\ncount: 20\nprovider: { comparison: { metric: error-rate, minSamples: 10 } }',
        ),
      ],
      { environment: 'prod', app: 'web', port, revision: 'v2', stableRevision: 'v1', router: l.client },
      {
        onMeasurement: (event) => {
          events.push(event);
          if (event.measurement.phase !== 'Failed') return;
          // What the rollout does on a failing measurement: all traffic to stable, confirmed by the router.
          const started = performance.now();
          rollback = l
            .route(port, [{ backend: stable, revision: 'v1', weight: 1 }])
            .then(() => performance.now() - started);
        },
      },
    );
    expect(result.phase).toBe('Failed');
    const failing = events.at(-1)?.measurement;
    expect(failing?.message).toMatch(/^the canary fails more often: error rate 100.00% vs 0.00%/);
    expect(failing?.canary?.requests).toBeGreaterThanOrEqual(10);
    // Every earlier look waited for data; none that had enough let the canary through.
    for (const event of events.slice(0, -1)) {
      expect(event.measurement.phase).toBe('Undecided');
      expect(event.measurement.message).toMatch(/^not enough requests yet/);
    }
    expect(await rollback).toBeLessThan(1_000);
    const before = (await l.client.stats()).series.find((s) => s.revision === 'v2')?.requests;
    await l.served(['v1'], (before ?? 0) + 50);
    const after = (await l.client.stats()).series.find((s) => s.revision === 'v2')?.requests;
    await driver.stop();
    expect(after).toBe(before);
  });

  it('passes a canary as good as stable, and fails a slower one by the rank test', async () => {
    const l = await lab();
    const stable = await l.backend('stable');
    const twin = await l.backend('twin');
    const slow = await l.backend('slow', { delayMs: 25 });
    const port = await l.route(0, [
      { backend: stable, revision: 'v1', weight: 1 },
      { backend: twin, revision: 'v2', weight: 1 },
      { backend: slow, revision: 'v3', weight: 1 },
    ]);
    const driver = l.drive(port, 6);
    await l.served(['v1', 'v2', 'v3'], 5);
    const context = { environment: 'prod', app: 'web', port, stableRevision: 'v1', router: l.client };
    const [same, slower] = await Promise.all([
      runAnalysis(
        [
          metric(
            'errors',
            'interval: 600ms\ncount: 3\nprovider: { comparison: { metric: error-rate, minSamples: 50, margin: 0.1 } }',
          ),
        ],
        { ...context, revision: 'v2' },
      ),
      runAnalysis(
        [
          metric(
            'latency',
            'interval: 600ms\ncount: 3\nprovider: { comparison: { metric: latency, minSamples: 30 } }',
          ),
        ],
        { ...context, revision: 'v3' },
      ),
    ]);
    await driver.stop();
    expect({ phase: same.phase, message: same.message }).toMatchObject({ phase: 'Successful' });
    expect(same.metrics[0]?.measurements.at(-1)?.message).toMatch(
      /^the canary is no worse: error rate 0.00% vs 0.00%/,
    );
    expect({ phase: slower.phase, message: slower.message }).toMatchObject({ phase: 'Failed' });
    const failing = slower.metrics[0]?.measurements.at(-1);
    expect(failing?.message).toMatch(/^the canary is slower: /);
    expect(failing?.canary?.p50).toBeGreaterThan(0.01);
    const value = (failing?.value ?? {}) as { probabilityWorse?: number };
    expect(value.probabilityWorse).toBeGreaterThan(0.75);
  });
});
