// Canary rollouts end to end on the local target: the supervisor and router as real services on their
// sockets, App revisions as real processes, traffic as real HTTP through the router. A good canary walks
// every step under steady load without a failed request; a bad one is rolled back by an analysis that reads
// the router's real metrics; stickiness, header routing, abort, retry, health failures and resuming after a
// controller restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredApp } from '../gitops/types.js';
import { ConflictError } from '../server/errors.js';
import { stickyCookieName } from '../targets/local/router/routing.js';
import { parseRolloutRecord, type RolloutRecord } from './record.js';
import { Rollout, type RolloutOptions } from './rollout.js';
import {
  eventLog,
  freePort,
  greetingAt,
  type Harness,
  httpProbe,
  revision,
  routerErrorRate,
  runningIds,
  startHarness,
  steadyLoad,
  until,
} from './rollout.test-helper.js';
import type { CanaryStrategy, Strategy } from './strategy.js';
import type { AnalysisRunner } from './types.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ healthDeadlineMs: 3_000 });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

/** Deploys `app` the plain way (the stable revision a rollout starts from). */
async function deployStable(app: DesiredApp): Promise<void> {
  const result = await h.target.deploy(app, h.release, AbortSignal.timeout(30_000));
  expect(result.ok).toBe(true);
}

function options(
  app: DesiredApp,
  strategy: Strategy,
  analysis: AnalysisRunner,
  extra: Partial<RolloutOptions> = {},
): RolloutOptions {
  return { app, strategy, releaseDir: h.release, target: h.target, router: h.router, analysis, ...extra };
}

function canary(spec: CanaryStrategy): Strategy {
  return { canary: spec };
}

describe('a canary rollout', () => {
  it('walks every step of a good revision under load with no failed request, pausing until promoted', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'hello', port });
    await deployStable(stable);
    const stableIds = await runningIds(h.supervisor);
    const next = revision({ greeting: 'bonjour', port });
    const log = eventLog();
    const records: RolloutRecord[] = [];
    const load = steadyLoad(`http://127.0.0.1:${port}/`);

    const rollout = Rollout.start(
      options(
        next,
        canary({
          steps: [
            { setWeight: 20 },
            { pause: { durationMs: 300 } },
            { analysis: { templates: ['success-rate'] } },
            { setWeight: 50 },
            { pause: {} },
          ],
        }),
        routerErrorRate(h.router, { minRequests: 10, maxErrorRate: 0.01 }),
        { onEvent: log.onEvent, persist: (record) => void records.push(record) },
      ),
    );
    await until(
      'the indefinite pause',
      () => rollout.status().phase === 'Paused' && rollout.status().step.index === 5,
    );
    const paused = rollout.status();
    expect(paused.weights).toEqual({ [stable.revision.slice(0, 12)]: 50, [next.revision.slice(0, 12)]: 50 });
    expect(paused.step).toEqual({ index: 5, total: 6, name: 'pause until promoted' });
    expect(paused.analysis).toHaveLength(1);
    expect(paused.analysis[0]).toMatchObject({ step: 3, templates: ['success-rate'], phase: 'Successful' });
    expect(paused.pause).toEqual({ reason: 'step' });
    // Both revisions serve while paused.
    await until('both greetings', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 10; i++) seen.add(await greetingAt(`http://127.0.0.1:${port}/`));
      return seen.has('hello') && seen.has('bonjour');
    });

    rollout.promote();
    const result = await rollout.settled();
    const report = await load.stop();

    expect(result).toMatchObject({ outcome: 'promoted', revision: next.revision });
    expect(report.failed).toEqual([]);
    expect(report.greetings.get('hello')).toBeGreaterThan(0);
    expect(report.greetings.get('bonjour')).toBeGreaterThan(0);
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('bonjour');
    expect(rollout.status()).toMatchObject({
      phase: 'Healthy',
      weights: { [next.revision.slice(0, 12)]: 100 },
      step: { index: 6, total: 6, name: 'done' },
    });
    const running = await runningIds(h.supervisor);
    expect(running.some((id) => stableIds.includes(id))).toBe(false);
    expect(running).toHaveLength(2);
    const table = (await h.router.routes()).routes.find((r) => r.port === port);
    expect(table?.backends.map((b) => b.revision)).toEqual([
      next.revision.slice(0, 12),
      next.revision.slice(0, 12),
    ]);
    expect(table?.options).toBeUndefined();

    expect(log.types()).toEqual([
      'rollout.started',
      'rollout.step',
      'rollout.weight',
      'rollout.step',
      'rollout.paused',
      'rollout.resumed',
      'rollout.step',
      'rollout.analysis',
      'rollout.step',
      'rollout.weight',
      'rollout.step',
      'rollout.paused',
      'rollout.resumed',
      'rollout.step',
      'rollout.promoted',
      'rollout.completed',
    ]);
    // Every saved record is valid plain JSON, the last one finished.
    const last = records.at(-1);
    expect(parseRolloutRecord(JSON.stringify(last))).toMatchObject({ ok: true });
    expect(last).toMatchObject({ phase: 'Healthy', finalized: true, weight: 100 });
    expect(() => rollout.promote()).toThrow(ConflictError);
    await expect(rollout.abort()).rejects.toThrow(ConflictError);
    expect(() => rollout.retry()).toThrow(ConflictError);
  });

  it('rolls a bad revision back on a failed analysis of the real router metrics; stable serves throughout', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'good', port });
    await deployStable(stable);
    const bad = revision({ greeting: 'bad', port, flaky: { FAIL: '1' } });
    const log = eventLog();
    const load = steadyLoad(`http://127.0.0.1:${port}/`);
    const rollout = Rollout.start(
      options(
        bad,
        canary({
          steps: [{ setWeight: 20 }, { analysis: { templates: ['error-rate'] } }, { setWeight: 100 }],
        }),
        routerErrorRate(h.router, { minRequests: 10, maxErrorRate: 0.05 }),
        { onEvent: log.onEvent },
      ),
    );
    const result = await rollout.settled();
    // The stable revision answers alone from now on.
    const after = new Set<string>();
    for (let i = 0; i < 20; i++) after.add(await greetingAt(`http://127.0.0.1:${port}/`));
    const report = await load.stop();

    expect(result.outcome).toBe('rolledBack');
    if (result.outcome !== 'rolledBack') return;
    const label = bad.revision.slice(0, 12);
    expect(result.failure).toMatchObject({
      reason: 'analysis',
      revision: bad.revision,
      analysis: ['error-rate'],
      step: 2,
    });
    expect(result.failure.message).toMatch(
      new RegExp(`^revision ${label} failed analysis error-rate at step 2: error rate 1\\.000 > 0\\.05`),
    );
    expect(result.failure.restoredAt).toBeDefined();
    expect(after).toEqual(new Set(['good']));
    // The only failures are the bad revision's own answers while it held its share.
    expect(report.failed.length).toBeGreaterThan(0);
    expect(report.failed.every((f) => f === 'HTTP 500: bad failed')).toBe(true);
    expect(report.greetings.get('good')).toBeGreaterThan(0);

    const status = rollout.status();
    expect(status).toMatchObject({ phase: 'Degraded', weights: { [stable.revision.slice(0, 12)]: 100 } });
    expect(status.analysis[0]).toMatchObject({ phase: 'Failed', metrics: { rate: 1 } });
    expect(status.message).toBe(result.failure.message);
    expect(
      (await runningIds(h.supervisor)).every((id) => !id.includes(`/h${bad.specHash.slice(0, 12)}/`)),
    ).toBe(true);
    expect(log.types().slice(-2)).toEqual(['rollout.analysis', 'rollout.rolledBack']);
    expect(log.events.at(-1)?.failure?.reason).toBe('analysis');
  });

  it('keeps a client on its revision, routes the canary header, aborts at once, and retries from the start', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'one', port });
    await deployStable(stable);
    const next = revision({ greeting: 'two', port, replicas: 1 });
    const log = eventLog();
    const rollout = Rollout.start(
      options(
        next,
        canary({
          steps: [{ setWeight: 50 }, { pause: {} }],
          stickiness: 'cookie',
          headerRoute: { name: 'X-Canary', value: 'always' },
        }),
        httpProbe(),
        { onEvent: log.onEvent },
      ),
    );
    expect(() => rollout.promote()).toThrow(ConflictError);
    await until('the pause', () => rollout.status().phase === 'Paused');
    const url = `http://127.0.0.1:${port}/`;
    const cookie = stickyCookieName(port);
    const nextLabel = next.revision.slice(0, 12);
    for (let i = 0; i < 6; i++) expect(await greetingAt(url, { 'x-canary': 'always' })).toBe('two');
    for (let i = 0; i < 6; i++)
      expect(await greetingAt(url, { cookie: `${cookie}=${nextLabel}` })).toBe('two');
    const stableLabel = stable.revision.slice(0, 12);
    for (let i = 0; i < 6; i++)
      expect(await greetingAt(url, { cookie: `${cookie}=${stableLabel}` })).toBe('one');

    const aborted = await rollout.abort('the canary looks wrong');
    expect(aborted.outcome).toBe('rolledBack');
    if (aborted.outcome !== 'rolledBack') return;
    expect(aborted.failure.message).toBe(
      `revision ${nextLabel} was aborted at step 2: the canary looks wrong`,
    );
    expect(rollout.status()).toMatchObject({ phase: 'Aborted', weights: { [stableLabel]: 100 } });
    // A pinned canary client and the canary header now reach the stable revision.
    expect(await greetingAt(url, { cookie: `${cookie}=${nextLabel}` })).toBe('one');
    expect(await greetingAt(url, { 'x-canary': 'always' })).toBe('one');
    expect((await h.router.routes()).routes.find((r) => r.port === port)?.options).toBeUndefined();
    expect(log.types().at(-1)).toBe('rollout.aborted');
    // Aborting again answers the same result.
    expect(await rollout.abort()).toEqual(aborted);

    rollout.retry();
    await until('the pause again', () => rollout.status().phase === 'Paused');
    expect(rollout.status()).toMatchObject({ attempt: 2, analysis: [], weights: { [nextLabel]: 50 } });
    expect(rollout.status().failure).toBeUndefined();
    rollout.promote({ full: true });
    expect(await rollout.settled()).toMatchObject({ outcome: 'promoted' });
    expect(await greetingAt(url)).toBe('two');
    expect(log.types().filter((t) => t === 'rollout.started')).toHaveLength(2);
  });

  it('rolls back a revision that fails its health check before it takes any traffic', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'steady', port });
    await deployStable(stable);
    const sick = revision({ greeting: 'sick', port, flaky: { SICK: '1' }, replicas: 1 });
    const rollout = Rollout.start(options(sick, canary({ steps: [{ setWeight: 50 }] }), httpProbe()));
    const result = await rollout.settled();
    expect(result.outcome).toBe('rolledBack');
    if (result.outcome !== 'rolledBack') return;
    expect(result.failure.reason).toBe('health');
    expect(result.failure.message).toMatch(
      new RegExp(`^revision ${sick.revision.slice(0, 12)} failed its health check: instance .* HTTP 500`),
    );
    expect(rollout.status().phase).toBe('Degraded');
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('steady');
    expect(
      (await runningIds(h.supervisor)).some((id) => id.includes(`/h${sick.specHash.slice(0, 12)}/`)),
    ).toBe(false);
  });

  it('treats an analysis that throws as an Error verdict, and an Inconclusive one as a pause for a person', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'alpha', port });
    await deployStable(stable);
    const next = revision({ greeting: 'beta', port, replicas: 1 });
    let calls = 0;
    const analysis: AnalysisRunner = async () => {
      calls += 1;
      if (calls === 1) return { phase: 'Inconclusive', message: 'no data' };
      throw new Error('prometheus is down');
    };
    const rollout = Rollout.start(
      options(
        next,
        canary({ steps: [{ analysis: { templates: ['a'] } }, { analysis: { templates: ['b'] } }] }),
        analysis,
      ),
    );
    await until('the inconclusive pause', () => rollout.status().pause?.reason === 'inconclusive');
    expect(rollout.status()).toMatchObject({ phase: 'Paused', step: { index: 1 } });
    rollout.promote();
    const result = await rollout.settled();
    expect(result.outcome).toBe('rolledBack');
    if (result.outcome !== 'rolledBack') return;
    expect(result.failure.message).toBe(
      `revision ${next.revision.slice(0, 12)} failed analysis b at step 2: the analysis could not run: prometheus is down`,
    );
    expect(rollout.status().analysis.map((a) => a.phase)).toEqual(['Inconclusive', 'Error']);
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('alpha');
  });

  it('resumes after a controller restart from the saved record without restarting running instances', async () => {
    const port = await freePort();
    const stable = revision({ greeting: 'old', port });
    await deployStable(stable);
    const next = revision({ greeting: 'new', port });
    let saved: RolloutRecord | undefined;
    const shutdown = new AbortController();
    const strategy = canary({
      steps: [{ setWeight: 30 }, { pause: {} }, { setWeight: 60 }, { pause: { durationMs: 50 } }],
    });
    const first = Rollout.start(
      options(next, strategy, httpProbe(), {
        signal: shutdown.signal,
        persist: (record) => {
          saved = record;
        },
      }),
    );
    await until('the pause', () => first.status().phase === 'Paused');
    const pids = (await h.supervisor.list()).filter((i) => i.id.includes(`/h${next.specHash.slice(0, 12)}/`));
    expect(pids).toHaveLength(2);
    const generation = (await h.router.routes()).generation;

    shutdown.abort();
    const suspended = await first.settled();
    expect(suspended.outcome).toBe('suspended');
    expect(() => first.promote()).toThrow(ConflictError);
    // The data plane is left as it was: both revisions serve.
    expect((await h.router.routes()).generation).toBe(generation);

    const record = parseRolloutRecord(JSON.parse(JSON.stringify(saved)));
    expect(record.ok).toBe(true);
    if (!record.ok) return;
    expect(record.record).toMatchObject({ phase: 'Paused', step: 1, weight: 30 });
    const log = eventLog();
    const second = Rollout.resume(
      options(next, strategy, httpProbe(), { onEvent: log.onEvent }),
      record.record,
    );
    await until('the pause after resuming', () => second.status().phase === 'Paused');
    // Same processes, same table (nothing set again).
    const after = (await h.supervisor.list()).filter((i) =>
      i.id.includes(`/h${next.specHash.slice(0, 12)}/`),
    );
    expect(after.map((i) => i.pid)).toEqual(pids.map((i) => i.pid));
    expect((await h.router.routes()).generation).toBe(generation);
    expect(log.types()[0]).toBe('rollout.adopted');

    second.promote();
    expect(await second.settled()).toMatchObject({ outcome: 'promoted' });
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('new');

    // A finished record resumes to its result, doing nothing.
    const done = Rollout.resume(options(next, strategy, httpProbe()), second.record());
    expect(await done.settled()).toMatchObject({ outcome: 'promoted' });
    expect(() => Rollout.resume(options(stable, strategy, httpProbe()), second.record())).toThrow(
      ConflictError,
    );
  });

  it('deploys straight to the new revision when none serves yet, and does nothing when the spec is unchanged', async () => {
    const port = await freePort();
    const first = revision({ greeting: 'first', port, replicas: 1 });
    const log = eventLog();
    const rollout = Rollout.start(
      options(first, canary({ steps: [{ setWeight: 10 }, { pause: {} }] }), httpProbe(), {
        onEvent: log.onEvent,
      }),
    );
    expect(await rollout.settled()).toMatchObject({ outcome: 'promoted' });
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('first');
    expect(rollout.status().stableRevision).toBeNull();
    expect(log.types()).toEqual(['rollout.started', 'rollout.step', 'rollout.promoted', 'rollout.completed']);

    const again = Rollout.start(options(first, canary({ steps: [{ setWeight: 10 }] }), httpProbe()));
    expect(await again.settled()).toMatchObject({ outcome: 'promoted' });
    expect(again.status().phase).toBe('Healthy');
  });
});
