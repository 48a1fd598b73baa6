// Blue-green rollouts end to end on the local target (real supervisor and router services, real app
// processes, real HTTP): the preview port, a pre-promotion analysis, promotion in one table swap, an instant
// switch back within the scale-down delay, automatic promotion, and resuming inside the scale-down window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredApp } from '../gitops/types.js';
import { ConflictError } from '../server/errors.js';
import type { RolloutRecord } from './record.js';
import { Rollout, type RolloutOptions } from './rollout.js';
import {
  eventLog,
  freePort,
  greetingAt,
  type Harness,
  httpProbe,
  revision,
  runningIds,
  startHarness,
  steadyLoad,
  until,
} from './rollout.test-helper.js';
import type { BlueGreenStrategy, Strategy } from './strategy.js';

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

function blueGreen(spec: Partial<BlueGreenStrategy>): Strategy {
  return { blueGreen: { autoPromote: { afterMs: 0 }, scaleDownDelayMs: 0, ...spec } };
}

function options(app: DesiredApp, strategy: Strategy, extra: Partial<RolloutOptions> = {}): RolloutOptions {
  return {
    app,
    strategy,
    releaseDir: h.release,
    target: h.target,
    router: h.router,
    analysis: httpProbe(),
    ...extra,
  };
}

function idsOf(app: DesiredApp): (id: string) => boolean {
  return (id) => id.includes(`/h${app.specHash.slice(0, 12)}/`);
}

describe('a blue-green rollout', () => {
  it('previews, promotes in one swap, and switches back at once within the scale-down delay', async () => {
    const port = await freePort();
    const previewPort = await freePort();
    const blue = revision({ greeting: 'blue', port });
    await deployStable(blue);
    const green = revision({ greeting: 'green', port });
    const log = eventLog();
    const load = steadyLoad(`http://127.0.0.1:${port}/`);
    const rollout = Rollout.start(
      options(
        green,
        blueGreen({
          previewPort,
          autoPromote: 'manual',
          prePromotionAnalysis: { templates: ['smoke'] },
          scaleDownDelayMs: 5 * 60_000,
        }),
        { onEvent: log.onEvent },
      ),
    );
    await until('waiting for promotion', () => rollout.status().pause?.reason === 'promotion');
    const blueLabel = blue.revision.slice(0, 12);
    const greenLabel = green.revision.slice(0, 12);
    expect(rollout.status()).toMatchObject({
      phase: 'Paused',
      step: { index: 3, total: 4, name: 'wait for promote' },
      weights: { [blueLabel]: 100, [greenLabel]: 0 },
      preview: { port: previewPort, revision: greenLabel },
      analysis: [{ step: 2, templates: ['smoke'], port: previewPort, phase: 'Successful' }],
    });
    expect(await greetingAt(`http://127.0.0.1:${previewPort}/`)).toBe('green');
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('blue');

    rollout.promote();
    await until('the scale-down window', () => rollout.status().message.startsWith('keeping'));
    expect(rollout.status()).toMatchObject({ phase: 'Promoting', weights: { [greenLabel]: 100 } });
    expect(rollout.status().preview).toBeUndefined();
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('green');
    expect((await h.router.routes()).routes.some((r) => r.port === previewPort)).toBe(false);
    // The old revision is still up, warm.
    expect((await runningIds(h.supervisor)).filter(idsOf(blue))).toHaveLength(2);

    const result = await rollout.abort('errors after the switch');
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('blue');
    const report = await load.stop();

    expect(result.outcome).toBe('rolledBack');
    if (result.outcome !== 'rolledBack') return;
    expect(result.failure).toMatchObject({ reason: 'aborted', step: 4 });
    expect(result.failure.message).toBe(
      `revision ${greenLabel} was aborted at step 4: errors after the switch`,
    );
    expect(rollout.status()).toMatchObject({ phase: 'Aborted', weights: { [blueLabel]: 100 } });
    expect(report.failed).toEqual([]);
    expect(report.greetings.get('blue')).toBeGreaterThan(0);
    expect(report.greetings.get('green')).toBeGreaterThan(0);
    const running = await runningIds(h.supervisor);
    expect(running.filter(idsOf(green))).toEqual([]);
    expect(running.filter(idsOf(blue))).toHaveLength(2);
    expect(log.types()).toEqual([
      'rollout.started',
      'rollout.step',
      'rollout.preview',
      'rollout.step',
      'rollout.analysis',
      'rollout.step',
      'rollout.paused',
      'rollout.resumed',
      'rollout.step',
      'rollout.promoted',
      'rollout.aborted',
    ]);
  });

  it('rolls back before promotion when the preview fails its analysis', async () => {
    const port = await freePort();
    const previewPort = await freePort();
    const blue = revision({ greeting: 'calm', port });
    await deployStable(blue);
    const broken = revision({ greeting: 'broken', port, flaky: { FAIL: '1' }, replicas: 1 });
    const rollout = Rollout.start(
      options(
        broken,
        blueGreen({
          previewPort,
          prePromotionAnalysis: { templates: ['smoke'] },
          autoPromote: { afterMs: 100 },
        }),
      ),
    );
    const result = await rollout.settled();
    expect(result.outcome).toBe('rolledBack');
    if (result.outcome !== 'rolledBack') return;
    expect(result.failure.message).toBe(
      `revision ${broken.revision.slice(0, 12)} failed analysis smoke at step 2: HTTP 500 from the preview`,
    );
    expect(rollout.status()).toMatchObject({ phase: 'Degraded' });
    expect(rollout.status().preview).toBeUndefined();
    expect((await h.router.routes()).routes.some((r) => r.port === previewPort)).toBe(false);
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('calm');
    expect((await runningIds(h.supervisor)).filter(idsOf(broken))).toEqual([]);
  });

  it('promotes on its own after the delay, and a restart inside the scale-down window carries on', async () => {
    const port = await freePort();
    const blue = revision({ greeting: 'sun', port, replicas: 1 });
    await deployStable(blue);
    const green = revision({ greeting: 'moon', port, replicas: 1 });
    const strategy = blueGreen({ autoPromote: { afterMs: 100 }, scaleDownDelayMs: 60_000 });
    const shutdown = new AbortController();
    let saved: RolloutRecord | undefined;
    const first = Rollout.start(
      options(green, strategy, {
        signal: shutdown.signal,
        persist: (record) => {
          saved = record;
        },
      }),
    );
    await until('the scale-down window', () => first.status().message.startsWith('keeping'));
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('moon');
    shutdown.abort();
    expect(await first.settled()).toMatchObject({ outcome: 'suspended' });
    await expect(first.abort()).rejects.toThrow(ConflictError);
    expect(saved).toMatchObject({ phase: 'Promoting', step: 1 });

    const log = eventLog();
    const record = { ...(saved as RolloutRecord), scaleDownAt: new Date(Date.now() + 200).toISOString() };
    const second = Rollout.resume(options(green, strategy, { onEvent: log.onEvent }), record);
    expect(await second.settled()).toMatchObject({ outcome: 'promoted' });
    expect(second.status().phase).toBe('Healthy');
    expect((await runningIds(h.supervisor)).filter(idsOf(blue))).toEqual([]);
    expect(await greetingAt(`http://127.0.0.1:${port}/`)).toBe('moon');
    expect(log.types()).toEqual(['rollout.adopted', 'rollout.step', 'rollout.completed']);
  });
});
