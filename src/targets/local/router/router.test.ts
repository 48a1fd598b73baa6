// The in-process router against real HTTP backends on 127.0.0.1: weights, switches without failures,
// draining, retries, 502/503, headers, streamed bodies, metrics, and the pure routing functions.
import { randomBytes } from 'node:crypto';
import { createServer, get as httpGet, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bucketIndex, escapeLabelValue } from './metrics.js';
import { RouterError } from './protocol.js';
import { Router } from './router.js';
import {
  type Answer,
  clientAgent,
  freePort,
  runPool,
  send,
  sha256,
  startBackend,
  type TestBackend,
} from './router.test-helper.js';
import { endToEndHeaderRecord, forwardedRequest, shouldRetry, smoothWeightedPick } from './routing.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backend(name: string, handler?: Parameters<typeof startBackend>[1]): Promise<TestBackend> {
  const started = await startBackend(name, handler);
  cleanups.push(() => started.close());
  return started;
}

function router(options: ConstructorParameters<typeof Router>[0] = {}): Router {
  const created = new Router(options);
  cleanups.push(() => created.close());
  return created;
}

function agent(): ReturnType<typeof clientAgent> {
  const created = clientAgent();
  cleanups.push(() => created.destroy());
  return created;
}

function b(id: string, target: TestBackend | string, revision: string, weight = 1) {
  return { id, url: typeof target === 'string' ? target : target.url, revision, weight };
}

describe('smoothWeightedPick', () => {
  it('picks each backend exactly weight times per round, interleaved', () => {
    const weights = [5, 1, 1];
    let current: readonly number[] = [0, 0, 0];
    const picks: number[] = [];
    for (let i = 0; i < 14; i++) {
      const result = smoothWeightedPick(current, weights);
      current = result.current;
      picks.push(result.index ?? -1);
    }
    expect(picks.slice(0, 7)).toEqual([0, 0, 1, 0, 2, 0, 0]);
    expect(picks.slice(7)).toEqual(picks.slice(0, 7));
  });

  it('skips zero weights and excluded indexes, and gives up when none is left', () => {
    expect(smoothWeightedPick([0, 0], [0, 3]).index).toBe(1);
    expect(smoothWeightedPick([0, 0], [1, 1], new Set([0])).index).toBe(1);
    expect(smoothWeightedPick([0, 0], [0, 0]).index).toBeUndefined();
    expect(smoothWeightedPick([], []).index).toBeUndefined();
  });
});

describe('routing decisions', () => {
  it('retries a failed connection only when replaying is safe', () => {
    const base = { method: 'GET', hasBody: false, bodySent: false, responded: false, attempt: 1 };
    expect(shouldRetry({ ...base, code: 'ECONNREFUSED' })).toBe(true);
    expect(shouldRetry({ ...base, code: 'ECONNRESET' })).toBe(true);
    expect(shouldRetry({ ...base, code: 'ECONNRESET', attempt: 2 })).toBe(false);
    expect(shouldRetry({ ...base, code: 'ECONNRESET', responded: true })).toBe(false);
    expect(shouldRetry({ ...base, code: 'ETIMEDOUT' })).toBe(false);
    const post = { ...base, method: 'POST', hasBody: true };
    expect(shouldRetry({ ...post, code: 'ECONNRESET' })).toBe(false);
    expect(shouldRetry({ ...post, code: 'ECONNREFUSED' })).toBe(true);
    expect(shouldRetry({ ...post, code: 'ECONNREFUSED', bodySent: true })).toBe(false);
    expect(shouldRetry({ ...post, method: 'PUT', code: 'ECONNRESET' })).toBe(true);
    expect(shouldRetry({ ...base, method: 'POST', code: 'ECONNRESET' })).toBe(true);
  });

  it('drops hop-by-hop headers and adds X-Forwarded-*', () => {
    const client = { remoteAddress: '::ffff:127.0.0.1', proto: 'http', defaultHost: '127.0.0.1:9000' };
    const out = forwardedRequest(
      [
        'Host',
        'app.local:8080',
        'Connection',
        'keep-alive, X-Secret, Host, Content-Length',
        'Keep-Alive',
        'timeout=5',
        'X-Secret',
        '1',
        'TE',
        'trailers',
        'Transfer-Encoding',
        'chunked',
        'Upgrade',
        'websocket',
        'Expect',
        '100-continue',
        'X-Forwarded-For',
        '10.0.0.1',
        'X-Forwarded-For',
        '10.0.0.2',
        'X-Forwarded-Proto',
        'https',
        'X-Forwarded-Host',
        'evil.example',
        'Accept',
        'text/plain',
        'Set-Thing',
        'a',
        'Set-Thing',
        'b',
      ],
      client,
    );
    expect(out.hasBody).toBe(true);
    expect(out.headers).toEqual([
      'Host',
      'app.local:8080',
      'Accept',
      'text/plain',
      'Set-Thing',
      'a',
      'Set-Thing',
      'b',
      'X-Forwarded-For',
      '10.0.0.1, 10.0.0.2, 127.0.0.1',
      'X-Forwarded-Proto',
      'http',
      'X-Forwarded-Host',
      'app.local:8080',
    ]);
    // An HTTP/1.0 client without Host: the backend's own address; no address, no X-Forwarded-For.
    expect(forwardedRequest(['Content-Length', '0'], { ...client, remoteAddress: undefined })).toEqual({
      hasBody: false,
      headers: ['Content-Length', '0', 'Host', '127.0.0.1:9000', 'X-Forwarded-Proto', 'http'],
    });
    expect(forwardedRequest(['content-length', '12'], client).hasBody).toBe(true);
    expect(forwardedRequest([], client).hasBody).toBe(false);
    expect(
      endToEndHeaderRecord({
        'content-type': 'text/plain',
        connection: 'close, X-Hop',
        'x-hop': '1',
        'transfer-encoding': 'chunked',
        'set-cookie': ['a=1', 'b=2'],
      }),
    ).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  });

  it('buckets latencies and escapes label values', () => {
    expect(bucketIndex(0.001)).toBe(0);
    expect(bucketIndex(0.005)).toBe(0);
    expect(bucketIndex(0.3)).toBe(6);
    expect(bucketIndex(60)).toBe(11);
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });
});

describe('Router', () => {
  it('splits traffic by weight (90/10 over 1,000 requests)', async () => {
    const a = await backend('A');
    const c = await backend('B');
    const r = router();
    const { port } = await r.setRoutes(0, 'web', [b('a', a, 'rev-a', 9), b('b', c, 'rev-b', 1)]);
    const client = agent();
    const counts = new Map<string, number>();
    await runPool(1000, 16, async () => {
      const answer = await send(`http://127.0.0.1:${port}/`, { agent: client });
      expect(answer.status).toBe(200);
      counts.set(answer.body, (counts.get(answer.body) ?? 0) + 1);
    });
    expect((counts.get('A') ?? 0) + (counts.get('B') ?? 0)).toBe(1000);
    expect(counts.get('A')).toBeGreaterThanOrEqual(870);
    expect(counts.get('A')).toBeLessThanOrEqual(930);
  });

  it('switches from revision A to B under load with no failed request, then only B answers', async () => {
    const a = await backend('A');
    const c = await backend('B');
    const r = router();
    const { port, generation: first } = await r.setRoutes(0, 'web', [b('a1', a, 'rev-a')]);
    const client = agent();
    const failures: string[] = [];
    const answeredBy = { beforeSwitch: new Map<string, number>(), afterSwitch: new Map<string, number>() };
    let switched = false;
    let completed = 0;
    let switching: Promise<unknown> | undefined;
    await runPool(2000, 16, async () => {
      const startedAfterSwitch = switched;
      let answer: Answer;
      try {
        answer = await send(`http://127.0.0.1:${port}/`, { agent: client });
      } catch (error) {
        failures.push(String(error));
        return;
      }
      if (answer.status !== 200) failures.push(`HTTP ${answer.status}: ${answer.body}`);
      const bucket = startedAfterSwitch ? answeredBy.afterSwitch : answeredBy.beforeSwitch;
      bucket.set(answer.body, (bucket.get(answer.body) ?? 0) + 1);
      completed += 1;
      if (completed === 500) {
        switching = r.setRoutes(port, 'web', [b('b1', c, 'rev-b')]).then((result) => {
          expect(result.generation).toBe(first + 1);
          switched = true;
        });
      }
    });
    await switching;
    expect(failures).toEqual([]);
    expect(answeredBy.beforeSwitch.get('A')).toBeGreaterThanOrEqual(500);
    expect([...answeredBy.afterSwitch.keys()]).toEqual(['B']);
    expect(answeredBy.afterSwitch.get('B')).toBeGreaterThan(1000);
  });

  it('lets a slow in-flight request to A finish after the switch to B', async () => {
    const a = await backend('A');
    const c = await backend('B');
    const r = router();
    const { port } = await r.setRoutes(0, 'web', [b('a1', a, 'rev-a')]);
    const slow = send(`http://127.0.0.1:${port}/slow?ms=600`);
    await waitFor(() => a.seen.length === 1);
    await r.setRoutes(port, 'web', [b('b1', c, 'rev-b')]);
    expect(r.routes().draining).toEqual([{ url: a.url, inflight: 1 }]);
    expect((await send(`http://127.0.0.1:${port}/`)).body).toBe('B');
    const answer = await slow;
    expect(answer).toMatchObject({ status: 200, body: 'A' });
    expect(r.routes().draining).toEqual([]);
  });

  it('retries a GET on another backend when one is dead', async () => {
    const alive = await backend('B');
    const dead = `http://127.0.0.1:${await freePort()}`;
    const r = router();
    const { port } = await r.setRoutes(0, 'web', [b('dead', dead, 'rev-a'), b('alive', alive, 'rev-b')]);
    for (let i = 0; i < 10; i++) {
      expect(await send(`http://127.0.0.1:${port}/`)).toMatchObject({ status: 200, body: 'B' });
    }
    const metrics = r.metricsText();
    expect(metrics).toContain('plumbline_router_retries_total 5');
    expect(metrics).toContain(`plumbline_router_errors_total{app="web",port="${port}",revision="rev-a"} 5`);
    expect(metrics).toContain(
      `plumbline_router_requests_total{app="web",port="${port}",revision="rev-b"} 10`,
    );
  });

  it('answers 503 when the app has no backend, and 502 when every backend fails', async () => {
    const r = router();
    const { port } = await r.setRoutes(0, 'web', []);
    const none = await send(`http://127.0.0.1:${port}/`);
    expect(none.status).toBe(503);
    expect(none.body).toContain('no backend for web');

    const standby = await backend('S');
    await r.setRoutes(port, 'web', [b('s', standby, 'rev-s', 0)]);
    expect((await send(`http://127.0.0.1:${port}/`)).status).toBe(503);

    const dead1 = `http://127.0.0.1:${await freePort()}`;
    const dead2 = `http://127.0.0.1:${await freePort()}`;
    await r.setRoutes(port, 'web', [b('d1', dead1, 'rev-a'), b('d2', dead2, 'rev-a')]);
    const failed = await send(`http://127.0.0.1:${port}/`);
    expect(failed.status).toBe(502);
    const post = await send(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: 'x'.repeat(1000) });
    expect(post.status).toBe(502);
  });

  it('does not replay a POST whose body was sent when the connection resets; a GET goes elsewhere', async () => {
    const resetting = await backend('R', (req) => {
      req.once('data', () => req.socket.destroy());
      req.once('end', () => req.socket.destroy());
    });
    const healthy = await backend('H');
    const r = router();
    const { port } = await r.setRoutes(0, 'web', [
      b('r', resetting, 'rev-r', 1000),
      b('h', healthy, 'rev-h', 1),
    ]);
    const post = await send(`http://127.0.0.1:${port}/echo`, { method: 'POST', body: randomBytes(100_000) });
    expect(post.status).toBe(502);
    expect(healthy.seen).toHaveLength(0);
    const get = await send(`http://127.0.0.1:${port}/`);
    expect(get).toMatchObject({ status: 200, body: 'H' });
  });

  it('forwards headers, strips hop-by-hop ones both ways, and adds X-Forwarded-*', async () => {
    const a = await backend('A');
    const r = router();
    const { port } = await r.setRoutes(0, 'web', [b('a', a, 'rev-a')]);
    const answer = await send(`http://127.0.0.1:${port}/headers?x=1`, {
      headers: {
        host: 'shop.example:8080',
        'x-custom': 'kept',
        connection: 'x-hop',
        'x-hop': 'dropped',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        'x-forwarded-for': '203.0.113.7',
      },
    });
    expect(answer.status).toBe(200);
    const seen = JSON.parse(answer.body) as Record<string, string>;
    expect(seen['x-custom']).toBe('kept');
    expect(seen.host).toBe('shop.example:8080');
    expect(seen['x-hop']).toBeUndefined();
    expect(seen['proxy-authorization']).toBeUndefined();
    expect(seen['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe('shop.example:8080');
    expect(a.seen[0]?.path).toBe('/headers?x=1');
    expect(answer.headers['x-visible']).toBe('yes');
    expect(answer.headers['x-internal']).toBeUndefined();
  });

  it("cuts the client off when the backend dies mid-answer, and counts it as the revision's error", async () => {
    const dying = await backend('D', (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(100));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const r = router();
    const { port } = await r.setRoutes(0, 'web', [b('d', dying, 'rev-d')]);
    await expect(send(`http://127.0.0.1:${port}/`)).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
    await waitFor(() =>
      r.metricsText().includes(`plumbline_router_errors_total{app="web",port="${port}",revision="rev-d"} 1`),
    );
  });

  it('streams a large answer to a slow reader (back-pressure), and refuses an absolute-form target', async () => {
    const big = randomBytes(8 * 1024 * 1024);
    const a = await backend('A', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(big);
    });
    const r = router();
    const { port } = await r.setRoutes(0, 'web', [b('a', a, 'rev-a')]);
    const received = await new Promise<Buffer>((resolve, reject) => {
      httpGet(`http://127.0.0.1:${port}/big`, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          res.pause();
          setTimeout(() => res.resume(), 1);
        });
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.on('error', reject);
      }).on('error', reject);
    });
    expect(sha256(received)).toBe(sha256(big));

    const absolute = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          'GET http://elsewhere.example/ HTTP/1.1\r\nHost: elsewhere.example\r\nConnection: close\r\n\r\n',
        );
      });
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString('latin1');
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(absolute).toMatch(/^HTTP\/1\.1 400 /);
    expect(a.seen.map((seen) => seen.path)).toEqual(['/big']);
  });

  it('streams request bodies (1 MB, with a length and chunked)', async () => {
    const a = await backend('A');
    const r = router();
    const { port } = await r.setRoutes(0, 'web', [b('a', a, 'rev-a')]);
    const body = randomBytes(1024 * 1024);
    for (const chunked of [false, true]) {
      const answer = await send(`http://127.0.0.1:${port}/echo`, { method: 'POST', body, chunked });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ name: 'A', length: body.length, sha256: sha256(body) });
    }
  });

  it('counts requests, errors and latencies per revision', async () => {
    const a = await backend('A');
    const c = await backend('B');
    const r = router();
    const { port } = await r.setRoutes(0, 'shop', [b('a', a, 'v1', 2), b('b', c, 'v2', 1)]);
    const client = agent();
    await runPool(30, 4, async (i) => {
      await send(`http://127.0.0.1:${port}/${i % 3 === 0 ? 'fail' : ''}`, { agent: client });
    });
    const text = r.metricsText();
    const labels = (revision: string) => `{app="shop",port="${port}",revision="${revision}"}`;
    expect(text).toContain(`plumbline_router_requests_total${labels('v1')} 20`);
    expect(text).toContain(`plumbline_router_requests_total${labels('v2')} 10`);
    const errors = (revision: string) =>
      Number(
        new RegExp(`plumbline_router_errors_total${escapeRegex(labels(revision))} (\\d+)`).exec(text)?.[1],
      );
    expect(errors('v1') + errors('v2')).toBe(10);
    expect(text).toContain(
      `plumbline_router_request_duration_seconds_bucket{app="shop",port="${port}",revision="v1",le="+Inf"} 20`,
    );
    expect(text).toContain(`plumbline_router_request_duration_seconds_count${labels('v2')} 10`);
    expect(text).toContain('# TYPE plumbline_router_request_duration_seconds histogram');
  });

  it('refuses a port in use with a clear error, and bad backends', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const port = (squatter.address() as AddressInfo).port;
    const r = router();
    const error = await r.setRoutes(port, 'web', []).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RouterError);
    expect((error as RouterError).message).toBe(
      `cannot listen on 127.0.0.1:${port}: the port is already in use`,
    );
    expect((error as RouterError).status).toBe(409);
    expect(r.routes().routes).toEqual([]);
    expect(r.generation).toBe(0);
    await expect(r.setRoutes(0, 'web', [b('x', 'http://127.0.0.1:1/path', 'v')])).rejects.toThrow(
      /backends\[0\]/,
    );
    await expect(
      r.setRoutes(0, 'web', [b('x', 'http://127.0.0.1:1', 'v'), b('x', 'http://127.0.0.1:2', 'v')]),
    ).rejects.toThrow(/duplicate/);
  });

  it('removeRoute stops accepting at once and resolves after in-flight requests finish', async () => {
    const a = await backend('A');
    const r = router();
    const { port } = await r.setRoutes(0, 'web', [b('a', a, 'rev-a')]);
    const slow = send(`http://127.0.0.1:${port}/slow?ms=400`);
    await waitFor(() => a.seen.length === 1);
    const started = Date.now();
    const removing = r.removeRoute(port);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(send(`http://127.0.0.1:${port}/`)).rejects.toThrow(/ECONNREFUSED/);
    const result = await removing;
    expect(result.removed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(await slow).toMatchObject({ status: 200, body: 'A' });
    expect(r.routes().routes).toEqual([]);
    expect((await r.removeRoute(port)).removed).toBe(false);
    // The port is free again and can be routed anew.
    const again = await r.setRoutes(port, 'web', [b('a', a, 'rev-a')]);
    expect(again.port).toBe(port);
    expect((await send(`http://127.0.0.1:${port}/`)).body).toBe('A');
  });

  it('reports every change to onChange with the table and its generation', async () => {
    const states: unknown[] = [];
    const r = router({ initialGeneration: 41, onChange: (state) => void states.push(state) });
    const { port, generation } = await r.setRoutes(0, 'web', [b('a', 'http://127.0.0.1:9', 'v1')]);
    expect(generation).toBe(42);
    await r.removeRoute(port);
    expect(states).toEqual([
      {
        version: 1,
        generation: 42,
        routes: [
          { port, app: 'web', backends: [{ id: 'a', url: 'http://127.0.0.1:9', revision: 'v1', weight: 1 }] },
        ],
      },
      { version: 1, generation: 43, routes: [] },
    ]);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
