// Rollouts meeting the leftovers of a crash, on the local target with real processes and HTTP: a rollback
// the controller did not finish, a router that lost the canary's table, another rollout's canary still in
// the route, an inconclusive pause across a restart, and a new spec at the serving commit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredApp } from '../gitops/types.js';
import type { RolloutRecord } from './record.js';
import { Rollout, type RolloutOptions } from './rollout.js';
import {
  freePort,
  greetingAt,
  type Harness,
  httpProbe,
  revision,
  runningIds,
  startHarness,
  until,
} from './rollout.test-helper.js';
import type { CanaryStrategy, Strategy } from './strategy.js';
import type { AnalysisRunner } from './types.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

async function deployStable(app: DesiredApp): Promise<void> {
  const result = await h.target.deploy(app, h.release, AbortSignal.timeout(30_000));
  expect(result.ok).toBe(true);
}

function canary(spec: CanaryStrategy): Strategy {
  return { canary: spec };
}

function options(
  app: DesiredApp,
  strategy: Strategy,
  extra: Partial<RolloutOptions> = {},
  analysis: AnalysisRunner = httpProbe(),
): RolloutOptions {
  return { app, strategy, releaseDir: h.release, target: h.target, router: h.router, analysis, ...extra };
}

function idsOf(app: DesiredApp): (id: string) => boolean {
  return (id) => id.includes(`/h${app.specHash.slice(0, 12)}/`);
}

/** Starts a rollout, waits for its first pause, then stops it as a controller shutdown would. */
async function suspendedAtPause(
  app: DesiredApp,
  strategy: Strategy,
  analysis?: AnalysisRunner,
): Promise<RolloutRecord> {
  const shutdown = new AbortController();
  let saved: RolloutRecord | undefined;
  const rollout = Rollout.start(
    options(
      app,
      strategy,
      {
        signal: shutdown.signal,
        persist: (record) => {
          saved = record;
        },
      },
      analysis,
    ),
  );
  await until('a pause', () => rollout.status().phase === 'Paused');
  shutdown.abort();
  expect(await rollout.settled()).toMatchObject({ outcome: 'suspended' });
  return saved as RolloutRecord;
}

describe('a rollout after a crash', () => {
  it('finishes a rollback the controller did not finish', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'keep', port, replicas: 1 });
    await deployStable(stable);
    const next = revision({ greeting: 'drop', port, replicas: 1 });
    const strategy = canary({ steps: [{ setWeight: 40 }, { pause: {} }] });
    const record = await suspendedAtPause(next, strategy);
    const failure = {
      reason: 'analysis' as const,
      revision: next.revision,
      analysis: ['success-rate'],
      step: 2,
      message: `revision ${next.revision.slice(0, 12)} failed analysis success-rate at step 2: too many errors`,
      at: new Date().toISOString(),
    };
    const crashed: RolloutRecord = { ...record, phase: 'Degraded', failure, message: failure.message };
    const resumed = Rollout.resume(options(next, strategy), crashed);
    const result = await resumed.settled();
    expect(result).toMatchObject({ outcome: 'rolledBack', failure: { reason: 'analysis' } });
    expect(resumed.record()).toMatchObject({ phase: 'Degraded', finalized: true });
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('keep');
    expect((await runningIds(h.supervisor)).filter(idsOf(next))).toEqual([]);
    // Finished now: resuming again only answers the result.
    const again = Rollout.resume(options(next, strategy), resumed.record());
    expect(await again.settled()).toMatchObject({ outcome: 'rolledBack' });
  });

  it('sets the canary table again when the router lost it, then carries on', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'left', port, replicas: 1 });
    await deployStable(stable);
    const next = revision({ greeting: 'right', port, replicas: 1 });
    const strategy = canary({ steps: [{ setWeight: 100 }, { pause: {} }] });
    const record = await suspendedAtPause(next, strategy);
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('right');
    // The router's table goes back to the stable revision alone (a router restored from an old state file).
    const stableInstances = record.stable?.instances ?? [];
    await h.router.setRoutes(
      port,
      'test/web',
      stableInstances.map((i) => ({ ...i, weight: 1 })),
    );
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('left');

    const resumed = Rollout.resume(options(next, strategy), record);
    await until('the pause after resuming', () => resumed.status().phase === 'Paused');
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('right');
    resumed.promote();
    expect(await resumed.settled()).toMatchObject({ outcome: 'promoted' });
    expect((await runningIds(h.supervisor)).filter(idsOf(stable))).toEqual([]);
  });

  it('takes another rollout’s canary out of the route and stops it', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'base', port, replicas: 1 });
    await deployStable(stable);
    const abandoned = revision({ greeting: 'abandoned', port, replicas: 1 });
    await suspendedAtPause(abandoned, canary({ steps: [{ setWeight: 30 }, { pause: {} }] }));
    expect((await runningIds(h.supervisor)).filter(idsOf(abandoned))).toHaveLength(1);

    const next = revision({ greeting: 'latest', port, replicas: 1 });
    const rollout = Rollout.start(options(next, canary({ steps: [{ setWeight: 50 }, { pause: {} }] })));
    await until('the pause', () => rollout.status().phase === 'Paused');
    expect(rollout.status().stableRevision).toBe(stable.revision.slice(0, 12));
    const route = (await h.router.routes()).routes.find((r) => r.port === port);
    expect(route?.backends.map((b) => b.revision).sort()).toEqual(
      [stable.revision.slice(0, 12), next.revision.slice(0, 12)].sort(),
    );
    expect((await runningIds(h.supervisor)).filter(idsOf(abandoned))).toEqual([]);
    rollout.promote({ full: true });
    expect(await rollout.settled()).toMatchObject({ outcome: 'promoted' });
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('latest');
  });

  it('starts a revision over from 0% when a fresh rollout finds it already in the route', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'stay', port, replicas: 1 });
    await deployStable(stable);
    const next = revision({ greeting: 'again', port, replicas: 1 });
    const strategy = canary({ steps: [{ setWeight: 100 }, { pause: {} }] });
    await suspendedAtPause(next, strategy);
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('again');
    const pids = (await h.supervisor.list()).filter((i) => idsOf(next)(i.id)).map((i) => i.pid);

    const fresh = Rollout.start(options(next, canary({ steps: [{ pause: {} }] })));
    await until('the pause', () => fresh.status().phase === 'Paused');
    expect(fresh.status()).toMatchObject({
      stableRevision: stable.revision.slice(0, 12),
      weights: { [stable.revision.slice(0, 12)]: 100, [next.revision.slice(0, 12)]: 0 },
    });
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('stay');
    // Its instances were kept, not restarted.
    expect((await h.supervisor.list()).filter((i) => idsOf(next)(i.id)).map((i) => i.pid)).toEqual(pids);
    fresh.promote();
    expect(await fresh.settled()).toMatchObject({ outcome: 'promoted' });
  });

  it('keeps waiting for a person after an inconclusive analysis across a restart', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'before', port, replicas: 1 });
    await deployStable(stable);
    const next = revision({ greeting: 'after', port, replicas: 1 });
    const strategy = canary({ steps: [{ analysis: { templates: ['quiet'] } }] });
    let runs = 0;
    const analysis: AnalysisRunner = async () => {
      runs += 1;
      return { phase: 'Inconclusive', message: 'no traffic' };
    };
    const record = await suspendedAtPause(next, strategy, analysis);
    expect(record.pause).toEqual({ reason: 'inconclusive' });
    const resumed = Rollout.resume(options(next, strategy, {}, analysis), record);
    await until('the inconclusive pause', () => resumed.status().pause?.reason === 'inconclusive');
    expect(runs).toBe(1);
    resumed.promote();
    expect(await resumed.settled()).toMatchObject({ outcome: 'promoted' });
  });

  it('labels a new spec at the serving commit apart from the serving revision', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'same', port, replicas: 2 });
    await deployStable(stable);
    const spec = { ...stable.spec, replicas: 1 };
    const next: DesiredApp = {
      ...stable,
      spec,
      // Another spec hash (instances of their own) at the same commit.
      specHash: `0123456789ab${stable.specHash.slice(12)}`,
    };
    const rollout = Rollout.start(options(next, canary({ steps: [{ setWeight: 50 }, { pause: {} }] })));
    await until('the pause', () => rollout.status().phase === 'Paused');
    const label = rollout.status().label;
    expect(label).toBe(`${stable.revision.slice(0, 12)}-${next.specHash.slice(0, 6)}`);
    expect(rollout.status().weights).toEqual({ [stable.revision.slice(0, 12)]: 50, [label]: 50 });
    await rollout.abort();
    expect(rollout.status().phase).toBe('Aborted');
    expect((await runningIds(h.supervisor)).filter(idsOf(stable))).toHaveLength(2);
  });
});
