import { describe, expect, it } from 'vitest';
import { diffSpecs, formatPlan, planEnvironment, topologicalOrder } from './plan.js';
import type { AppliedApp, AppSpec, DesiredApp } from './types.js';

const R1 = 'a'.repeat(40);
const R2 = 'b'.repeat(40);

function spec(overrides: Partial<AppSpec> = {}, env: Record<string, string> = {}): AppSpec {
  return {
    process: { command: ['node', 'server.js'], cwd: 'apps/web', env },
    port: 8080,
    replicas: 2,
    health: { http: { path: '/healthz' }, intervalMs: 2000, timeoutMs: 1000 },
    dependsOn: [],
    ...overrides,
  };
}

function desired(name: string, hash: string, s: AppSpec = spec()): DesiredApp {
  return {
    environment: 'staging',
    name,
    revision: R2,
    spec: s,
    specHash: hash,
    source: { file: 'x.yaml', line: 1 },
  };
}

function applied(name: string, hash: string, s: AppSpec = spec()): AppliedApp {
  return { environment: 'staging', name, revision: R1, spec: s, specHash: hash };
}

const base = { environment: 'staging', revision: R2, prune: true };

describe('planEnvironment', () => {
  it('creates, updates, deletes and leaves alone by spec hash', () => {
    const plan = planEnvironment({
      ...base,
      desired: [
        desired('new', 'h1'),
        desired('same', 'h2'),
        desired('changed', 'h3-new', spec({ replicas: 3 })),
      ],
      applied: [applied('same', 'h2'), applied('changed', 'h3-old'), applied('old', 'h4')],
    });
    expect(plan.steps.map((s) => [s.action, s.app])).toEqual([
      ['update', 'changed'],
      ['create', 'new'],
      ['unchanged', 'same'],
      ['delete', 'old'],
    ]);
    expect(plan.steps[0]?.changes).toEqual(['~ replicas: 2 → 3']);
    expect(plan.steps[0]?.before?.specHash).toBe('h3-old');
    expect(plan.steps[0]?.after?.specHash).toBe('h3-new');
    expect(plan.steps[1]?.changes).toContain('+ process.command: [node, server.js]');
    expect(plan.withheld).toEqual([]);
  });

  it('says the code changed when the hash differs but the spec does not', () => {
    const plan = planEnvironment({
      ...base,
      desired: [desired('web', 'new')],
      applied: [applied('web', 'old')],
    });
    expect(plan.steps[0]?.changes).toEqual(['~ code in apps/web: changed (aaaaaaa → bbbbbbb)']);
  });

  it('orders a dependency chain, and deletes in reverse dependency order after everything else', () => {
    const plan = planEnvironment({
      ...base,
      desired: [
        desired('web', 'w', spec({ dependsOn: ['api'] })),
        desired('api', 'a', spec({ dependsOn: ['db-migrate', 'cache'] })),
        desired('db-migrate', 'd'),
        desired('cache', 'c'),
      ],
      applied: [
        applied('db-migrate', 'd-old'),
        applied('old-db', 'x'),
        applied('old-api', 'y', spec({ dependsOn: ['old-db'] })),
        applied('old-web', 'z', spec({ dependsOn: ['old-api'] })),
      ],
    });
    expect(plan.steps.map((s) => `${s.action} ${s.app}`)).toEqual([
      'create cache',
      'update db-migrate',
      'create api',
      'create web',
      'delete old-web',
      'delete old-api',
      'delete old-db',
    ]);
  });

  it('withholds deletes when prune is off', () => {
    const plan = planEnvironment({
      ...base,
      prune: false,
      desired: [desired('web', 'w')],
      applied: [applied('web', 'w'), applied('old', 'o')],
    });
    expect(plan.steps.map((s) => s.action)).toEqual(['unchanged']);
    expect(plan.withheld).toEqual([
      { app: 'old', reason: expect.stringMatching(/prune is off for staging/) },
    ]);
  });

  it('never prunes everything because a render came out empty, unless told to', () => {
    const input = { ...base, desired: [], applied: [applied('web', 'w'), applied('api', 'a')] };
    const plan = planEnvironment(input);
    expect(plan.steps).toEqual([]);
    expect(plan.withheld.map((w) => w.app)).toEqual(['web', 'api']);
    expect(plan.withheld[0]?.reason).toMatch(/render produced no apps/);
    expect(formatPlan(plan)).toMatch(/2 withheld/);
    const allowed = planEnvironment({ ...input, allowEmpty: true });
    expect(allowed.steps.map((s) => s.action)).toEqual(['delete', 'delete']);
    expect(planEnvironment({ ...base, desired: [], applied: [] }).steps).toEqual([]);
  });

  it('never shows secret-looking env values', () => {
    const before = spec(
      {},
      { GREETING: 'hello', DB_PASSWORD: 'old-pw', API_KEY: 'k1', OLD: 'x', GH_TOKEN: 't' },
    );
    const after = spec(
      { process: { command: ['node', 'main.js', '--flag=a b'], cwd: 'apps/web', env: {} } },
      {},
    );
    const afterEnv = {
      ...after,
      process: {
        ...after.process,
        env: { GREETING: 'hi there', DB_PASSWORD: 'new-pw', API_KEY: 'k1', NEW: 'x', CLIENT_SECRET: 's3' },
      },
    };
    const lines = diffSpecs(before, afterEnv);
    expect(lines).toEqual([
      '~ process.command: [node, server.js] → [node, main.js, "--flag=a b"]',
      '+ env.CLIENT_SECRET: (hidden)',
      '~ env.DB_PASSWORD: (changed)',
      '- env.GH_TOKEN',
      '~ env.GREETING: hello → "hi there"',
      '+ env.NEW: x',
      '- env.OLD',
    ]);
    const text = lines.join('\n');
    for (const secret of ['old-pw', 'new-pw', 's3', 'k1']) expect(text).not.toContain(secret);
    const plan = planEnvironment({
      ...base,
      desired: [desired('web', 'h2', afterEnv)],
      applied: [],
    });
    expect(formatPlan(plan)).not.toMatch(/new-pw|s3|k1/);
  });

  it('shows a strategy change as its steps', () => {
    const canary = {
      canary: {
        steps: [
          { setWeight: 10 },
          { pause: { durationMs: 30_000 } },
          { analysis: { templates: ['success-rate'] } },
          { pause: {} },
        ],
        stickiness: 'cookie' as const,
      },
    };
    expect(diffSpecs(spec(), { ...spec(), strategy: canary })).toEqual([
      '+ strategy: canary [setWeight 10, pause 30s, analysis success-rate, pause until promoted, stickiness cookie]',
    ]);
    const blueGreen = {
      blueGreen: { previewPort: 18_080, autoPromote: 'manual' as const, scaleDownDelayMs: 300_000 },
    };
    expect(diffSpecs({ ...spec(), strategy: canary }, { ...spec(), strategy: blueGreen })).toEqual([
      '~ strategy: canary [setWeight 10, pause 30s, analysis success-rate, pause until promoted, stickiness cookie] → blueGreen [preview 18080, promote manually, scale down after 5m]',
    ]);
  });

  it('diffs durations, paths and dependsOn readably', () => {
    expect(
      diffSpecs(
        spec(),
        spec({
          health: { http: { path: '/ready' }, intervalMs: 90_000, timeoutMs: 500 },
          dependsOn: ['db'],
          port: 9090,
        }),
      ),
    ).toEqual([
      '~ port: 8080 → 9090',
      '~ health.http.path: /healthz → /ready',
      '~ health.interval: 2s → 1m30s',
      '~ health.timeout: 1s → 500ms',
      '~ dependsOn: [] → [db]',
    ]);
  });
});

describe('topologicalOrder', () => {
  it('puts cycles and ties in a stable order', () => {
    expect(
      topologicalOrder(
        new Map([
          ['b', []],
          ['a', []],
          ['c', ['b', 'missing']],
        ]),
      ),
    ).toEqual(['a', 'b', 'c']);
    expect(
      topologicalOrder(
        new Map([
          ['x', ['y']],
          ['y', ['x']],
          ['z', []],
        ]),
      ),
    ).toEqual(['z', 'x', 'y']);
  });

  it('matches the simple quadratic algorithm on random graphs, and orders 5,000 names', () => {
    // The reference: repeatedly take the smallest name whose dependencies are all placed.
    const reference = (graph: ReadonlyMap<string, readonly string[]>): string[] => {
      const placed: string[] = [];
      const left = new Set(graph.keys());
      for (;;) {
        const next = [...left]
          .filter((name) => (graph.get(name) ?? []).every((d) => !graph.has(d) || d === name || !left.has(d)))
          .sort()[0];
        if (next === undefined) break;
        placed.push(next);
        left.delete(next);
      }
      return [...placed, ...[...left].sort()];
    };
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round++) {
      const size = 1 + random(12);
      const names = Array.from({ length: size }, (_, i) => `app-${String.fromCharCode(97 + random(26))}${i}`);
      const graph = new Map(
        names.map((name) => [name, Array.from({ length: random(3) }, () => names[random(size)] as string)]),
      );
      expect(topologicalOrder(graph)).toEqual(reference(graph));
    }
    const chain = new Map(
      Array.from({ length: 5000 }, (_, i) => [
        `app-${String(i).padStart(4, '0')}`,
        i === 0 ? [] : [`app-${String(i - 1).padStart(4, '0')}`],
      ]),
    );
    expect(topologicalOrder(chain)).toEqual([...chain.keys()]);
  });
});

describe('formatPlan', () => {
  it('renders the plan as plumbline diff prints it', () => {
    const plan = planEnvironment({
      ...base,
      prune: false,
      desired: [desired('web', 'w2', spec({ replicas: 3 })), desired('api', 'a'), desired('db', 'd')],
      applied: [applied('web', 'w1'), applied('db', 'd'), applied('old', 'o')],
    });
    expect(formatPlan(plan)).toBe(
      [
        'Plan for staging at bbbbbbb: 1 to create, 1 to update, 0 to delete, 1 unchanged, 1 withheld',
        '',
        '+ create api',
        '    + process.command: [node, server.js]',
        '    + process.cwd: apps/web',
        '    + port: 8080',
        '    + replicas: 2',
        '    + health.http.path: /healthz',
        '    + health.interval: 2s',
        '    + health.timeout: 1s',
        '    + dependsOn: []',
        '',
        '~ update web',
        '    ~ replicas: 2 → 3',
        '',
        '= unchanged: db',
        '',
        'Withheld deletes:',
        '  ! old: no longer in Git, and prune is off for staging (spec.sync.prune)',
        '',
      ].join('\n'),
    );
    const quiet = planEnvironment({ ...base, desired: [desired('db', 'd')], applied: [applied('db', 'd')] });
    expect(formatPlan(quiet)).toMatch(/No changes: the environment matches Git\.\n$/);
  });
});
