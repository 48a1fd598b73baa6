// What a rollout asks of the router, against real HTTP backends on 127.0.0.1: revision shares spread as
// backend weights (exact over a round), sticky sessions by cookie, header routing, and the route options
// through the admin API, the state file and a restart.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RouterClient } from './client.js';
import { RouterError, stateSchema } from './protocol.js';
import { Router } from './router.js';
import { clientAgent, runPool, send, startBackend, type TestBackend } from './router.test-helper.js';
import { cookieValue, spreadWeights, stickyCookie, stickyCookieName, WEIGHT_SCALE } from './routing.js';
import { startRouterService } from './service.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function backend(name: string, handler?: Parameters<typeof startBackend>[1]): Promise<TestBackend> {
  const started = await startBackend(name, handler);
  cleanups.push(() => started.close());
  return started;
}

function router(): Router {
  const created = new Router();
  cleanups.push(() => created.close());
  return created;
}

function agent(): ReturnType<typeof clientAgent> {
  const created = clientAgent();
  cleanups.push(() => created.destroy());
  return created;
}

function b(id: string, target: TestBackend, revision: string) {
  return { id, url: target.url, revision };
}

function setCookies(headers: { 'set-cookie'?: string[] | undefined }): string[] {
  return headers['set-cookie'] ?? [];
}

describe('spreadWeights', () => {
  it('gives each revision exactly its share of a round, spread over its backends', () => {
    const backends = [
      { id: 's0', revision: 'stable' },
      { id: 's1', revision: 'stable' },
      { id: 's2', revision: 'stable' },
      { id: 'c0', revision: 'canary' },
      { id: 'c1', revision: 'canary' },
    ];
    const weights = spreadWeights(backends, { stable: 90, canary: 10 });
    expect(weights.map((w) => [w.id, w.weight])).toEqual([
      ['s0', 300],
      ['s1', 300],
      ['s2', 300],
      ['c0', 50],
      ['c1', 50],
    ]);
    // Odd units go to the first backends; the revision totals stay exact.
    const odd = spreadWeights(backends, { stable: 2, canary: 1 });
    expect(odd.map((w) => w.weight)).toEqual([223, 222, 222, 167, 166]);
    expect(odd.reduce((sum, w) => sum + w.weight, 0)).toBe(WEIGHT_SCALE);
  });

  it('gives 0 to revisions without a share and to an all-zero split, and keeps other fields', () => {
    const backends = [
      { id: 'a', revision: 'r1', url: 'x' },
      { id: 'b', revision: 'r2', url: 'y' },
    ];
    expect(spreadWeights(backends, { r1: 100 })).toEqual([
      { id: 'a', revision: 'r1', url: 'x', weight: 1000 },
      { id: 'b', revision: 'r2', url: 'y', weight: 0 },
    ]);
    expect(spreadWeights(backends, { r1: 0, r2: 0 }).map((w) => w.weight)).toEqual([0, 0]);
    expect(spreadWeights(backends, { r1: 1, r2: 1, r3: 5 }, 3).map((w) => w.weight)).toEqual([2, 1]);
    expect(spreadWeights([], { r1: 1 })).toEqual([]);
  });
});

describe('sticky cookies', () => {
  it('names the port, encodes the revision, and is found among other cookies', () => {
    expect(stickyCookieName(8080)).toBe('plumbline-rev-8080');
    expect(stickyCookie(8080, 'abc 1')).toBe('plumbline-rev-8080=abc%201; Path=/; HttpOnly; SameSite=Lax');
    expect(cookieValue('a=1; plumbline-rev-8080=abc; b=2', 'plumbline-rev-8080')).toBe('abc');
    expect(cookieValue('plumbline-rev-8080=abc', 'plumbline-rev-8080')).toBe('abc');
    expect(cookieValue('xplumbline-rev-8080=abc; c', 'plumbline-rev-8080')).toBeUndefined();
    expect(cookieValue(undefined, 'a')).toBeUndefined();
    expect(cookieValue('', 'a')).toBeUndefined();
  });
});

describe('Router traffic for rollouts', () => {
  it('sends a 10% canary within a point of 10% of 10,000 requests', async () => {
    const stable = await Promise.all(['S0', 'S1', 'S2'].map((name) => backend(name)));
    const canary = await Promise.all(['C0', 'C1'].map((name) => backend(name)));
    const r = router();
    const backends = [
      ...stable.map((s, i) => b(`s${i}`, s, 'stable')),
      ...canary.map((c, i) => b(`c${i}`, c, 'canary')),
    ];
    const { port } = await r.setRoutes(0, 'web', spreadWeights(backends, { stable: 90, canary: 10 }));
    const client = agent();
    const counts = new Map<string, number>();
    await runPool(10_000, 32, async () => {
      const answer = await send(`http://127.0.0.1:${port}/`, { agent: client });
      expect(answer.status).toBe(200);
      counts.set(answer.body, (counts.get(answer.body) ?? 0) + 1);
    });
    const canaryShare = ((counts.get('C0') ?? 0) + (counts.get('C1') ?? 0)) / 10_000;
    expect(Math.abs(canaryShare - 0.1)).toBeLessThanOrEqual(0.01);
    // Both canary instances take part.
    expect(counts.get('C0')).toBeGreaterThan(0);
    expect(counts.get('C1')).toBeGreaterThan(0);
  });

  it('keeps a client on the revision that answered it while that revision has weight', async () => {
    const stable = await backend('S', (req, res) => {
      req.resume();
      // The backend's own cookie travels beside the router's.
      res.writeHead(200, { 'set-cookie': 'session=1; Path=/' });
      res.end('S');
    });
    const canary = await backend('C');
    const r = router();
    const backends = [b('s', stable, 'stable'), b('c', canary, 'canary')];
    const { port } = await r.setRoutes(0, 'web', spreadWeights(backends, { stable: 50, canary: 50 }), {
      stickiness: 'cookie',
    });
    const url = `http://127.0.0.1:${port}/`;
    const first = await send(url);
    const revision = first.body === 'S' ? 'stable' : 'canary';
    const cookie = `${stickyCookieName(port)}=${revision}`;
    expect(setCookies(first.headers)).toContain(stickyCookie(port, revision));
    if (revision === 'stable') expect(setCookies(first.headers)).toContain('session=1; Path=/');

    for (let i = 0; i < 20; i++) {
      const again = await send(url, { headers: { cookie: `other=x; ${cookie}` } });
      expect(again.body).toBe(first.body);
      // Already pinned there: no new cookie from the router.
      expect(setCookies(again.headers).filter((c) => c.startsWith('plumbline-rev'))).toEqual([]);
    }
    // Unpinned clients still split 50/50.
    const unpinned = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const answer = await send(url);
      unpinned.set(answer.body, (unpinned.get(answer.body) ?? 0) + 1);
    }
    expect(unpinned.get('S')).toBe(10);
    expect(unpinned.get('C')).toBe(10);

    // The canary leaves (weight 0): its pinned clients go to the stable revision and are pinned there.
    await r.setRoutes(port, 'web', spreadWeights(backends, { stable: 100 }), {
      stickiness: 'cookie',
    });
    const moved = await send(url, { headers: { cookie: `${stickyCookieName(port)}=canary` } });
    expect(moved.body).toBe('S');
    expect(setCookies(moved.headers)).toContain(stickyCookie(port, 'stable'));
    // A cookie naming a revision the route does not have is a normal pick.
    expect((await send(url, { headers: { cookie: `${stickyCookieName(port)}=gone` } })).body).toBe('S');
  });

  it('falls back to the whole route when every backend of the pinned revision fails', async () => {
    const stable = await backend('S');
    const dead = await backend('C');
    const deadUrl = dead.url;
    await dead.close();
    const r = router();
    const { port } = await r.setRoutes(
      0,
      'web',
      spreadWeights(
        [
          { id: 's', url: stable.url, revision: 'stable' },
          { id: 'c', url: deadUrl, revision: 'canary' },
        ],
        { stable: 50, canary: 50 },
      ),
      { stickiness: 'cookie' },
    );
    const answer = await send(`http://127.0.0.1:${port}/`, {
      headers: { cookie: `${stickyCookieName(port)}=canary` },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('S');
    expect(setCookies(answer.headers)).toContain(stickyCookie(port, 'stable'));
  });

  it('sends requests with the header value only to the header route revision, even at weight 0', async () => {
    const stable = await Promise.all(['S0', 'S1'].map((name) => backend(name)));
    const canary = await Promise.all(['C0', 'C1'].map((name) => backend(name)));
    const r = router();
    const backends = [
      ...stable.map((s, i) => b(`s${i}`, s, 'stable')),
      ...canary.map((c, i) => b(`c${i}`, c, 'canary')),
    ];
    const { port } = await r.setRoutes(0, 'web', spreadWeights(backends, { stable: 100, canary: 0 }), {
      headerRoute: { name: 'X-Canary', value: 'always', revision: 'canary' },
      stickiness: 'cookie',
    });
    const url = `http://127.0.0.1:${port}/`;
    const routed = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      const answer = await send(url, { headers: { 'x-canary': 'always' } });
      routed.set(answer.body, (routed.get(answer.body) ?? 0) + 1);
      // A header-routed answer does not pin the client.
      expect(setCookies(answer.headers)).toEqual([]);
    }
    expect(routed).toEqual(
      new Map([
        ['C0', 5],
        ['C1', 5],
      ]),
    );
    for (let i = 0; i < 10; i++) {
      expect((await send(url, { headers: { 'x-canary': 'never' } })).body).toMatch(/^S/);
      expect((await send(url)).body).toMatch(/^S/);
    }

    // A header route naming a revision the table does not have routes normally.
    await r.setRoutes(port, 'web', spreadWeights(backends.slice(0, 2), { stable: 100 }), {
      headerRoute: { name: 'X-Canary', value: 'always', revision: 'canary' },
    });
    expect((await send(url, { headers: { 'x-canary': 'always' } })).body).toMatch(/^S/);
  });

  it('refuses bad route options, and a route set without options has none', async () => {
    const stable = await backend('S');
    const r = router();
    await expect(
      r.setRoutes(0, 'web', [b('s', stable, 'stable')], {
        headerRoute: { name: 'bad name', value: 'x', revision: 'r' },
      }),
    ).rejects.toThrow(RouterError);
    const { port } = await r.setRoutes(0, 'web', [b('s', stable, 'stable')], { stickiness: 'cookie' });
    expect(r.routes().routes[0]?.options).toEqual({ stickiness: 'cookie' });
    await r.setRoutes(port, 'web', [b('s', stable, 'stable')], {});
    expect(r.routes().routes[0]?.options).toBeUndefined();
    expect(setCookies((await send(`http://127.0.0.1:${port}/`)).headers)).toEqual([]);
  });

  it('carries route options through the admin API, the state file and a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plumbline-router-traffic-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const stable = await backend('S');
    const canary = await backend('C');
    const socket = join(dir, 'router.sock');
    const state = join(dir, 'routes.json');
    const options = {
      stickiness: 'cookie' as const,
      headerRoute: { name: 'X-Canary', value: 'always', revision: 'canary' },
    };
    let service = await startRouterService({ socket, state });
    const client = new RouterClient({ socket });
    const backends = spreadWeights([b('s', stable, 'stable'), b('c', canary, 'canary')], { stable: 100 });
    const { port } = await client.setRoutes(0, 'web', backends, { route: options });
    expect((await client.routes()).routes[0]?.options).toEqual(options);
    expect(stateSchema.parse(JSON.parse(await readFile(state, 'utf8'))).routes[0]?.options).toEqual(options);
    await service.close();

    service = await startRouterService({ socket, state });
    cleanups.push(() => service.close());
    expect((await client.routes()).routes[0]?.options).toEqual(options);
    const url = `http://127.0.0.1:${port}/`;
    expect((await send(url, { headers: { 'x-canary': 'always' } })).body).toBe('C');
    expect(setCookies((await send(url)).headers)).toContain(stickyCookie(port, 'stable'));
    // Set again without options: the route has none.
    await client.setRoutes(port, 'web', backends);
    expect((await client.routes()).routes[0]?.options).toBeUndefined();
    expect((await send(url, { headers: { 'x-canary': 'always' } })).body).toBe('S');
  });
});
