// HTTP probes against real servers on 127.0.0.1, polling until healthy, and the pure health-phase rules.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  appHealth,
  compareHealth,
  HEALTH_PHASES,
  instanceHealth,
  isHealthyStatus,
  probeHttp,
  waitHealthy,
  worstHealth,
} from './health.js';
import { freePort } from './supervisor/apps.test-helper.js';

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function serve(handler: Parameters<typeof createServer>[1], port = 0): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('probeHttp', () => {
  it('counts 2xx and 3xx as healthy, without following redirects', async () => {
    const base = await serve((req, res) => {
      if (req.url === '/ok') res.writeHead(204).end();
      else if (req.url === '/moved') res.writeHead(302, { location: '/nowhere' }).end();
      else res.writeHead(503).end('down');
    });
    expect(await probeHttp(`${base}/ok`, { timeoutMs: 1000 })).toMatchObject({ ok: true, status: 204 });
    expect(await probeHttp(`${base}/moved`, { timeoutMs: 1000 })).toMatchObject({ ok: true, status: 302 });
    const down = await probeHttp(`${base}/down`, { timeoutMs: 1000 });
    expect(down).toMatchObject({ ok: false, status: 503, error: 'HTTP 503' });
    expect(down.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('reports a refused connection and a timeout as errors', async () => {
    const refused = await probeHttp(`http://127.0.0.1:${await freePort()}/healthz`, { timeoutMs: 1000 });
    expect(refused).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    expect(refused.status).toBeUndefined();
    const base = await serve(() => {}); // never answers
    const slow = await probeHttp(`${base}/`, { timeoutMs: 100 });
    expect(slow).toMatchObject({ ok: false, error: 'no answer within 100 ms' });
    expect(slow.latencyMs).toBeGreaterThanOrEqual(90);
  });

  it('rejects when its signal aborts', async () => {
    const base = await serve(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    await expect(probeHttp(`${base}/`, { timeoutMs: 5000, signal: controller.signal })).rejects.toThrow(
      'shutting down',
    );
  });
});

describe('waitHealthy', () => {
  it('polls until the server comes up', async () => {
    const port = await freePort();
    setTimeout(() => void serve((_req, res) => res.writeHead(200).end('ok'), port), 300);
    const started = Date.now();
    const result = await waitHealthy(`http://127.0.0.1:${port}/healthz`, {
      intervalMs: 50,
      timeoutMs: 200,
      deadlineMs: 5000,
    });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('returns the last failure at the deadline', async () => {
    let probes = 0;
    const base = await serve((_req, res) => {
      probes++;
      res.writeHead(500).end();
    });
    const started = Date.now();
    const result = await waitHealthy(`${base}/healthz`, { intervalMs: 50, timeoutMs: 200, deadlineMs: 300 });
    expect(result).toMatchObject({ ok: false, status: 500 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(probes).toBeGreaterThanOrEqual(3);
  });

  it('stops waiting when aborted', async () => {
    const port = await freePort();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('bye')), 100);
    await expect(
      waitHealthy(`http://127.0.0.1:${port}/`, {
        intervalMs: 50,
        timeoutMs: 50,
        deadlineMs: 10_000,
        signal: controller.signal,
      }),
    ).rejects.toThrow('bye');
  });
});

describe('health phases', () => {
  it('orders phases best to worst', () => {
    expect(HEALTH_PHASES).toEqual(['Healthy', 'Progressing', 'Degraded', 'Missing']);
    expect([...HEALTH_PHASES].reverse().sort(compareHealth)).toEqual([...HEALTH_PHASES]);
    expect(worstHealth(['Healthy', 'Degraded', 'Progressing'])).toBe('Degraded');
    expect(worstHealth([])).toBe('Missing');
    expect(isHealthyStatus(399)).toBe(true);
    expect(isHealthyStatus(400)).toBe(false);
    expect(isHealthyStatus(199)).toBe(false);
  });

  it("derives an instance's phase from its state and probe", () => {
    expect(instanceHealth({ state: 'running', probe: { ok: true } })).toBe('Healthy');
    expect(instanceHealth({ state: 'running', probe: { ok: false }, uptimeMs: 1000 })).toBe('Progressing');
    expect(instanceHealth({ state: 'running', uptimeMs: 60_000 })).toBe('Degraded');
    expect(
      instanceHealth({ state: 'running', probe: { ok: false }, uptimeMs: 6000, startupGraceMs: 5000 }),
    ).toBe('Degraded');
    expect(instanceHealth({ state: 'starting' })).toBe('Progressing');
    expect(instanceHealth({ state: 'backoff' })).toBe('Degraded');
    expect(instanceHealth({ state: 'failed' })).toBe('Degraded');
    expect(instanceHealth({ state: 'stopped' })).toBe('Missing');
    expect(instanceHealth({ state: undefined })).toBe('Missing');
  });

  it("derives an app's phase from its instances and replicas", () => {
    expect(appHealth(['Healthy', 'Healthy'], 2)).toBe('Healthy');
    expect(appHealth(['Healthy'], 2)).toBe('Progressing');
    expect(appHealth(['Healthy', 'Progressing'], 2)).toBe('Progressing');
    expect(appHealth(['Healthy', 'Degraded'], 2)).toBe('Degraded');
    expect(appHealth(['Missing', 'Progressing'], 2)).toBe('Progressing');
    expect(appHealth([], 1)).toBe('Missing');
    expect(appHealth(['Missing'], 1)).toBe('Missing');
    expect(appHealth([], 0)).toBe('Healthy');
  });
});
