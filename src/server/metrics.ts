// The controller's Prometheus metrics on a registry of their own; the controller updates them through
// `Metrics`, the server exposes the registry at /metrics.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { PHASES, type Phase } from '../gitops/types.js';
import { ROLLOUT_PHASES, type RolloutPhase } from '../rollouts/types.js';
import type { SyncResult } from '../store/controller-store.js';

export interface Metrics {
  readonly registry: Registry;
  readonly syncDuration: Histogram<'environment'>;
  readonly syncsTotal: Counter<'result'>;
  readonly driftTotal: Counter<'environment'>;
  readonly appHealth: Gauge<'environment' | 'app' | 'phase'>;
  readonly instances: Gauge<'environment' | 'app'>;
  /** A finished sync: its duration and result. */
  observeSync(environment: string, result: SyncResult, seconds: number): void;
  /** Live state found to differ from what was applied. */
  recordDrift(environment: string): void;
  /** 1 for the app's current phase, 0 for every other (one series per phase, so alerts can select one). */
  setAppPhase(environment: string, app: string, phase: Phase): void;
  setInstances(environment: string, app: string, count: number): void;
  /** Drops an app's series once it is deleted. */
  forgetApp(environment: string, app: string): void;
  readonly rolloutPhase: Gauge<'environment' | 'app' | 'phase'>;
  readonly canaryWeight: Gauge<'environment' | 'app'>;
  readonly analysisTotal: Counter<'environment' | 'app' | 'phase'>;
  /** 1 for the rollout's current phase, 0 for the others; and the new revision's percent of new requests. */
  setRollout(environment: string, app: string, phase: RolloutPhase, weight: number): void;
  /** An analysis verdict (Successful, Inconclusive, Error, Failed). */
  recordAnalysis(environment: string, app: string, phase: string): void;
}

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event loop) as well; off in tests. */
  readonly processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'plumbline_' });
  const syncDuration = new Histogram({
    name: 'plumbline_sync_duration_seconds',
    help: 'How long a sync took, from plan to recorded result.',
    labelNames: ['environment'] as const,
    buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const syncsTotal = new Counter({
    name: 'plumbline_syncs_total',
    help: 'Syncs by result (succeeded, failed, skipped).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const driftTotal = new Counter({
    name: 'plumbline_drift_total',
    help: 'Times the live state was found to differ from what was applied.',
    labelNames: ['environment'] as const,
    registers: [registry],
  });
  const appHealth = new Gauge({
    name: 'plumbline_app_health',
    help: "1 for an app's current phase, 0 for the others.",
    labelNames: ['environment', 'app', 'phase'] as const,
    registers: [registry],
  });
  const instances = new Gauge({
    name: 'plumbline_instances',
    help: 'Running instances of an app.',
    labelNames: ['environment', 'app'] as const,
    registers: [registry],
  });
  const rolloutPhase = new Gauge({
    name: 'plumbline_rollout_phase',
    help: "1 for an app's current (or last) rollout phase, 0 for the others.",
    labelNames: ['environment', 'app', 'phase'] as const,
    registers: [registry],
  });
  const canaryWeight = new Gauge({
    name: 'plumbline_rollout_canary_weight',
    help: "The new revision's percent of an app's new requests during its rollout (100 once promoted).",
    labelNames: ['environment', 'app'] as const,
    registers: [registry],
  });
  const analysisTotal = new Counter({
    name: 'plumbline_rollout_analysis_total',
    help: 'Rollout analysis verdicts by phase (Successful, Inconclusive, Error, Failed).',
    labelNames: ['environment', 'app', 'phase'] as const,
    registers: [registry],
  });
  // Every result starts at 0, so `rate()` and absent-series alerts work before the first failure.
  for (const result of ['succeeded', 'failed', 'skipped'] as const) syncsTotal.inc({ result }, 0);

  return {
    registry,
    syncDuration,
    syncsTotal,
    driftTotal,
    appHealth,
    instances,
    observeSync(environment, result, seconds) {
      syncDuration.observe({ environment }, seconds);
      syncsTotal.inc({ result });
    },
    recordDrift(environment) {
      driftTotal.inc({ environment });
    },
    setAppPhase(environment, app, phase) {
      for (const candidate of PHASES)
        appHealth.set({ environment, app, phase: candidate }, candidate === phase ? 1 : 0);
    },
    setInstances(environment, app, count) {
      instances.set({ environment, app }, count);
    },
    forgetApp(environment, app) {
      for (const phase of PHASES) appHealth.remove({ environment, app, phase });
      instances.remove({ environment, app });
      for (const phase of ROLLOUT_PHASES) rolloutPhase.remove({ environment, app, phase });
      canaryWeight.remove({ environment, app });
    },
    rolloutPhase,
    canaryWeight,
    analysisTotal,
    setRollout(environment, app, phase, weight) {
      for (const candidate of ROLLOUT_PHASES)
        rolloutPhase.set({ environment, app, phase: candidate }, candidate === phase ? 1 : 0);
      canaryWeight.set({ environment, app }, weight);
    },
    recordAnalysis(environment, app, phase) {
      analysisTotal.inc({ environment, app, phase });
    },
  };
}
