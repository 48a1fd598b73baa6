// A real Prometheus (the Debian package, started here on loopback) scrapes a real router's /metrics while
// traffic goes to two revisions, one answering 500s; a `prometheus` analysis fails that one by PromQL and
// passes the other. Skipped only when the prometheus binary is not installed (make test installs it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RouterLab,
  startRouterLab,
  templateFrom,
} from '../src/rollouts/analysis/analysis.test-helper.js';
import { runAnalysis } from '../src/rollouts/analysis/run.js';
import {
  findPrometheus,
  type MetricsEndpoint,
  type RunningPrometheus,
  serveMetrics,
  startPrometheus,
} from './helpers/prometheus.js';

const binary = findPrometheus();
if (binary === undefined) {
  console.warn(
    'test/analysis-prometheus.e2e.test.ts SKIPPED: the prometheus binary is not installed (apt-get install -y prometheus; `make test` does it)',
  );
}

const ERROR_RATIO =
  'sum(rate(plumbline_router_errors_total{app="{{app}}",port="{{port}}",revision="{{revision}}"}[10s]))' +
  ' / sum(rate(plumbline_router_requests_total{app="{{app}}",port="{{port}}",revision="{{revision}}"}[10s]))';

describe.skipIf(binary === undefined)('a prometheus analysis against a real Prometheus', () => {
  let lab: RouterLab;
  let endpoint: MetricsEndpoint;
  let prometheus: RunningPrometheus;
  let port: number;
  let stopTraffic: () => Promise<number>;

  beforeAll(async () => {
    lab = await startRouterLab('shop');
    const stable = await lab.backend('stable');
    const canary = await lab.backend('canary', { fail: true });
    port = await lab.route(0, [
      { backend: stable, revision: 'v1', weight: 1 },
      { backend: canary, revision: 'v2', weight: 1 },
    ]);
    stopTraffic = lab.drive(port, 2).stop;
    // Prometheus cannot scrape a Unix socket: a loopback listener hands it the admin API's /metrics.
    endpoint = await serveMetrics(() => lab.client.metrics());
    prometheus = await startPrometheus(binary ?? 'prometheus', [endpoint.target]);
    // rate() needs two scrapes of each revision's series.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const answer = (await prometheus.query(
        `min(count_over_time(plumbline_router_requests_total{app="shop",port="${port}"}[10s]))`,
      )) as { data?: { result?: { value: [number, string] }[] } };
      if (Number(answer.data?.result?.[0]?.value[1] ?? 0) >= 3) break;
      if (Date.now() > deadline) throw new Error(`Prometheus scraped nothing: ${prometheus.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 60_000);

  afterAll(async () => {
    await stopTraffic?.();
    await prometheus?.close();
    await endpoint?.close();
    await lab?.close();
  });

  function template() {
    return templateFrom(
      'error-ratio',
      `  metrics:
    - name: error-ratio
      interval: 500ms
      count: 3
      failureCondition: result > 0.05
      noData: fail
      provider:
        prometheus:
          address: ${prometheus.url}
          query: '${ERROR_RATIO}'
          timeout: 5s
`,
    );
  }

  it('fails the revision answering 500s by PromQL, at the first measurement', async () => {
    const result = await runAnalysis([template()], {
      environment: 'prod',
      app: 'shop',
      port,
      revision: 'v2',
      stableRevision: 'v1',
    });
    expect(result.phase).toBe('Failed');
    expect(result.metrics[0]?.count).toBe(1);
    expect(result.metrics[0]?.measurements[0]?.value).toBe(1);
  });

  it('passes the revision that answers well', async () => {
    const result = await runAnalysis([template()], {
      environment: 'prod',
      app: 'shop',
      port,
      revision: 'v1',
    });
    expect(result.phase).toBe('Successful');
    expect(result.metrics[0]?.measurements.map((m) => m.value)).toEqual([0, 0, 0]);
  });

  it('has no data for a revision Prometheus never saw, and an Error for a query it refuses', async () => {
    const result = await runAnalysis([template()], {
      environment: 'prod',
      app: 'shop',
      port,
      revision: 'v"9',
    });
    expect(result.phase).toBe('Failed');
    expect(result.metrics[0]?.measurements[0]).toMatchObject({
      noData: true,
      message: expect.stringContaining('noData: fail'),
    });

    const broken = templateFrom(
      'broken',
      `  metrics:
    - name: broken
      consecutiveErrorLimit: 0
      successCondition: result > 0
      provider: { prometheus: { address: "${prometheus.url}", query: "sum(rate(x[5s]" } }
`,
    );
    const refused = await runAnalysis([broken], { environment: 'prod', app: 'shop', revision: 'v1' });
    expect(refused.phase).toBe('Error');
    expect(refused.metrics[0]?.measurements[0]?.message).toMatch(
      /^Prometheus refused the query \(bad_data\): /,
    );
  });
});
