// The rollout manager's pure parts: the ports an App takes, a stored record's status, the quarantine
// message, the revision a rollback goes to, and which targets can run rollouts.
import { describe, expect, it } from 'vitest';
import { RECORD_VERSION, type RolloutRecord } from '../rollouts/record.js';
import { strategySchema } from '../rollouts/strategy.js';
import { ConflictError, NotFoundError } from '../server/errors.js';
import type { AppliedRevision } from '../store/controller-store.js';
import type { RevisionTarget, Target } from '../targets/types.js';
import {
  appPorts,
  isRevisionTarget,
  pickRevision,
  progressMessage,
  quarantineMessage,
  statusOf,
} from './rollouts.js';
import type { AppSpec } from './types.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);

const spec: AppSpec = {
  process: { command: ['node', 'server.js'], cwd: 'app', env: {} },
  port: 8080,
  replicas: 1,
  health: { http: { path: '/healthz' }, intervalMs: 1000, timeoutMs: 500 },
  dependsOn: [],
};

const canary = strategySchema.parse({
  canary: { steps: [{ setWeight: 20 }, { pause: {} }, { analysis: { templates: ['success-rate'] } }] },
});

function record(changes: Partial<RolloutRecord> = {}): RolloutRecord {
  return {
    version: RECORD_VERSION,
    environment: 'prod',
    app: 'web',
    port: 8080,
    strategy: 'canary',
    revision: B,
    specHash: 'h'.repeat(64),
    releaseDir: '/data/releases/b',
    label: B.slice(0, 12),
    stable: { revision: A.slice(0, 12), instances: [] },
    leftovers: [],
    instanceIds: [],
    instances: [],
    phase: 'Paused',
    message: 'paused until promoted',
    step: 1,
    weight: 20,
    previewRouted: false,
    pause: { reason: 'step' },
    analysis: [],
    finalized: false,
    attempt: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:01.000Z',
    ...changes,
  };
}

function revision(rev: string, hash: string): AppliedRevision {
  return { environment: 'prod', app: 'web', revision: rev, specHash: hash, spec, appliedAt: '' };
}

describe('appPorts', () => {
  it('is the App port, and a blue-green preview port beside it', () => {
    expect(appPorts({ spec })).toEqual([8080]);
    expect(appPorts({ spec: { ...spec, strategy: canary } })).toEqual([8080]);
    const blueGreen = strategySchema.parse({ blueGreen: { previewPort: 18080 } });
    expect(appPorts({ spec: { ...spec, strategy: blueGreen } })).toEqual([8080, 18080]);
  });
});

describe('statusOf a stored record', () => {
  it('shows a paused canary: its step, the weights and the pause', () => {
    const status = statusOf(record(), canary);
    expect(status.step).toEqual({ index: 2, total: 4, name: 'pause until promoted' });
    expect(status.weights).toEqual({ [A.slice(0, 12)]: 80, [B.slice(0, 12)]: 20 });
    expect(status.pause).toEqual({ reason: 'step' });
    expect(progressMessage(status)).toBe(
      `canary of ${B.slice(0, 12)}, step 2/4 (pause until promoted): paused until promoted`,
    );
  });

  it('puts all weight on stable once rolled back, and on the new revision once promoted', () => {
    const failure = {
      reason: 'analysis' as const,
      revision: B,
      analysis: ['success-rate'],
      step: 3,
      message: 'x',
      at: 't',
      restoredAt: 't',
    };
    expect(statusOf(record({ phase: 'Degraded', failure, pause: undefined }), canary).weights).toEqual({
      [A.slice(0, 12)]: 100,
    });
    const done = statusOf(record({ phase: 'Healthy', step: 4, promotedAt: 't', weight: 100 }), canary);
    expect(done.weights).toEqual({ [B.slice(0, 12)]: 100 });
    expect(done.step).toEqual({ index: 4, total: 4, name: 'done' });
    expect(done.pause).toBeUndefined();
  });
});

describe('quarantineMessage', () => {
  it('says which revision failed which analysis at which step, and what releases it', () => {
    const message = quarantineMessage(
      {
        reason: 'analysis',
        revision: B,
        analysis: ['success-rate', 'latency'],
        step: 3,
        message: 'revision bbbbbbbbbbbb failed analysis success-rate, latency at step 3: Failed: 0.5 < 0.99',
        at: 't',
      },
      'prod',
      'web',
    );
    expect(message).toMatch(
      /^revision bbbbbbbbbbbb failed analysis success-rate, latency at step 3; waiting for a newer commit \(or plumbline rollout retry prod web\): /,
    );
    expect(
      quarantineMessage({ reason: 'health', revision: B, step: 1, message: 'm', at: 't' }, 'p', 'w'),
    ).toMatch(/^revision bbbbbbbbbbbb failed its health check at step 1; waiting for a newer commit/);
    expect(
      quarantineMessage({ reason: 'aborted', revision: B, step: 2, message: 'm', at: 't' }, 'p', 'w'),
    ).toMatch(/^revision bbbbbbbbbbbb was aborted at step 2;/);
  });
});

describe('pickRevision', () => {
  const history = [revision(C, 'hc'), revision(B, 'hb'), revision(A, 'ha')];
  const applied = { revision: C, specHash: 'hc', spec };

  it('goes back to the revision applied before the current one by default', () => {
    expect(pickRevision(history, applied, undefined, false, 'prod', 'web').revision).toBe(B);
    // The same commit applied twice with the same spec is not "earlier".
    expect(
      pickRevision(
        [revision(C, 'hc'), revision(B, 'hc'), revision(A, 'ha')],
        applied,
        undefined,
        false,
        'prod',
        'web',
      ).revision,
    ).toBe(A);
  });

  it('keeps the serving revision during a rollout, and finds one by prefix', () => {
    expect(pickRevision(history, applied, undefined, true, 'prod', 'web').revision).toBe(C);
    expect(pickRevision(history, applied, 'AAAA', false, 'prod', 'web').revision).toBe(A);
  });

  it('refuses an unknown revision, the one running, and a first revision', () => {
    expect(() => pickRevision(history, applied, 'dddd', false, 'prod', 'web')).toThrow(NotFoundError);
    expect(() => pickRevision(history, applied, 'cccc', false, 'prod', 'web')).toThrow(ConflictError);
    expect(() => pickRevision([revision(C, 'hc')], applied, undefined, false, 'prod', 'web')).toThrow(
      /no earlier revision/,
    );
  });
});

describe('isRevisionTarget', () => {
  it('needs startRevision, instanceIds and stopInstances', () => {
    const base = {
      deploy: async () => ({ ok: true as const, instances: [] }),
      remove: async () => undefined,
      observe: async () => [],
    };
    expect(isRevisionTarget(base)).toBe(false);
    const revisions: Target & RevisionTarget = {
      ...base,
      startRevision: async () => ({ ok: true as const, instances: [] }),
      instanceIds: () => [],
      stopInstances: async () => undefined,
    };
    expect(isRevisionTarget(revisions)).toBe(true);
  });
});
