// A progressive rollout of one App on the local target: the new revision's instances start beside the
// serving (stable) ones, then a plan of steps runs — canary weights, pauses and analyses, or a blue-green
// preview, analysis and promotion — each router change confirmed before the next step. A failed health check
// or analysis, an error, or `abort()` puts all traffic back on the stable revision with one router call, then
// stops the new instances. The state is a plain record, saved after every change, from which `resume`
// carries on after a controller restart without restarting instances that run.
import type { DesiredApp } from '../gitops/types.js';
import { ConflictError } from '../server/errors.js';
import type { BackendInput, RouteOptions, RouteTable } from '../targets/local/router/protocol.js';
import { spreadWeights } from '../targets/local/router/routing.js';
import type { RevisionInstance, RevisionTarget } from '../targets/types.js';
import { RECORD_VERSION, type RolloutRecord } from './record.js';
import { type Strategy, strategyKind } from './strategy.js';
import type {
  AnalysisRecord,
  AnalysisRunner,
  AnalysisVerdict,
  PauseReason,
  RolloutEvent,
  RolloutEventType,
  RolloutFailure,
  RolloutLogger,
  RolloutPhase,
  RolloutResult,
  RolloutRouter,
  RolloutStatus,
} from './types.js';

export interface RolloutOptions {
  /** The App at the new revision (its spec has the strategy the controller parsed into `strategy`). */
  readonly app: DesiredApp;
  readonly strategy: Strategy;
  /** The new revision's release folder (the App's cwd is relative to it). */
  readonly releaseDir: string;
  readonly target: RevisionTarget;
  readonly router: RolloutRouter;
  readonly analysis: AnalysisRunner;
  /** Every step, verdict, pause, promotion, rollback: for the event stream, metrics and the audit ledger. */
  readonly onEvent?: (event: RolloutEvent) => void;
  /** Stores the record; awaited after each change (a failure is logged, the rollout goes on). */
  readonly persist?: (record: RolloutRecord) => Promise<void> | void;
  readonly log?: RolloutLogger;
  /**
   * The controller's shutdown: stops the rollout where it is, without a rollback, so that `Rollout.resume`
   * carries on from the saved record after the restart. (`abort()` is the rollback.)
   */
  readonly signal?: AbortSignal;
}

/** One step of a rollout's plan: the canary's steps, or blue-green's stages, then the promotion. */
export type PlanStep =
  | { readonly kind: 'setWeight'; readonly weight: number }
  | { readonly kind: 'pause'; readonly reason: 'step' | 'promotion'; readonly durationMs?: number }
  | { readonly kind: 'analysis'; readonly templates: readonly string[]; readonly port: number }
  | { readonly kind: 'preview'; readonly port: number }
  | { readonly kind: 'promote'; readonly scaleDownDelayMs: number };

/** The steps a strategy runs for an App served on `port`, the promotion last. */
export function rolloutPlan(strategy: Strategy, port: number): PlanStep[] {
  if ('canary' in strategy) {
    const steps: PlanStep[] = strategy.canary.steps.map((step): PlanStep => {
      if ('setWeight' in step) return { kind: 'setWeight', weight: step.setWeight };
      if ('analysis' in step) return { kind: 'analysis', templates: step.analysis.templates, port };
      return step.pause.durationMs === undefined
        ? { kind: 'pause', reason: 'step' }
        : { kind: 'pause', reason: 'step', durationMs: step.pause.durationMs };
    });
    return [...steps, { kind: 'promote', scaleDownDelayMs: 0 }];
  }
  const spec = strategy.blueGreen;
  const steps: PlanStep[] = [];
  if (spec.previewPort !== undefined) steps.push({ kind: 'preview', port: spec.previewPort });
  if (spec.prePromotionAnalysis !== undefined) {
    steps.push({
      kind: 'analysis',
      templates: spec.prePromotionAnalysis.templates,
      port: spec.previewPort ?? port,
    });
  }
  if (spec.autoPromote === 'manual') steps.push({ kind: 'pause', reason: 'promotion' });
  else if (spec.autoPromote.afterMs > 0)
    steps.push({ kind: 'pause', reason: 'promotion', durationMs: spec.autoPromote.afterMs });
  steps.push({ kind: 'promote', scaleDownDelayMs: spec.scaleDownDelayMs });
  return steps;
}

/** A step as people read it in a status. */
export function stepName(step: PlanStep | undefined): string {
  if (step === undefined) return 'done';
  switch (step.kind) {
    case 'setWeight':
      return `setWeight ${step.weight}`;
    case 'pause':
      if (step.durationMs !== undefined) return `pause ${formatMs(step.durationMs)}`;
      return step.reason === 'promotion' ? 'wait for promote' : 'pause until promoted';
    case 'analysis':
      return `analysis ${step.templates.join(', ')}`;
    case 'preview':
      return `preview on port ${step.port}`;
    case 'promote':
      return step.scaleDownDelayMs > 0
        ? `promote (old revision kept ${formatMs(step.scaleDownDelayMs)})`
        : 'promote';
  }
}

/** Thrown inside a run to end it with a rollback. */
class RolloutFailed extends Error {
  readonly failure: RolloutFailure;
  constructor(failure: RolloutFailure) {
    super(failure.message);
    this.failure = failure;
  }
}

type MutableRecord = { -readonly [K in keyof RolloutRecord]: RolloutRecord[K] };

/** The longest single timer (setTimeout's limit); longer waits run in pieces. */
const MAX_TIMER_MS = 2_147_483_647;

export class Rollout {
  readonly #o: RolloutOptions;
  readonly #plan: readonly PlanStep[];
  /** The router's app label: `env/name`. */
  readonly #routeApp: string;
  readonly #previewPort: number | undefined;
  #r: MutableRecord;
  /** Aborted by abort() or a failure: ends the run. */
  #attempt = new AbortController();
  /** The running step's: `promote({ full: true })` cancels it. */
  #step: AbortController | undefined;
  /** Set while a pause or the scale-down delay waits: promote() ends the wait. */
  #gate: (() => void) | undefined;
  #skipToPromote = false;
  /** The old revision is being stopped: no way back any more. */
  #noReturn = false;
  #suspended = false;
  #settled = false;
  #restoring: Promise<void> | undefined;
  #routerQueue: Promise<unknown> = Promise.resolve();
  #persistQueue: Promise<void> = Promise.resolve();
  #result: Promise<RolloutResult>;

  private constructor(options: RolloutOptions, record: RolloutRecord, resumed: boolean) {
    this.#o = options;
    this.#plan = rolloutPlan(options.strategy, options.app.spec.port);
    this.#routeApp = `${options.app.environment}/${options.app.name}`;
    this.#previewPort = 'blueGreen' in options.strategy ? options.strategy.blueGreen.previewPort : undefined;
    this.#r = structuredClone(record);
    this.#result = this.#start(resumed);
  }

  /** Starts rolling `options.app` out beside the revision the router serves on its port. */
  static start(options: RolloutOptions): Rollout {
    const now = new Date().toISOString();
    const { app } = options;
    const record: RolloutRecord = {
      version: RECORD_VERSION,
      environment: app.environment,
      app: app.name,
      port: app.spec.port,
      strategy: strategyKind(options.strategy),
      revision: app.revision,
      specHash: app.specHash,
      releaseDir: options.releaseDir,
      label: app.revision.slice(0, 12),
      stable: null,
      leftovers: [],
      instanceIds: options.target.instanceIds(app),
      instances: [],
      phase: 'Progressing',
      message: `starting revision ${app.revision.slice(0, 12)}`,
      step: 0,
      weight: 0,
      previewRouted: false,
      analysis: [],
      finalized: false,
      attempt: 1,
      startedAt: now,
      updatedAt: now,
    };
    return new Rollout(options, record, false);
  }

  /**
   * Carries on a rollout from its saved record after a controller restart: instances that run are kept,
   * the router's table is compared with the record's and set only where they differ, then the step the
   * record names runs again (a pause keeps its deadline). A finished record only completes its clean-up.
   */
  static resume(options: RolloutOptions, record: RolloutRecord): Rollout {
    if (
      record.environment !== options.app.environment ||
      record.app !== options.app.name ||
      record.specHash !== options.app.specHash
    ) {
      throw new ConflictError(
        `the rollout record is for ${record.environment}/${record.app} at spec ${record.specHash.slice(0, 12)}, not ${options.app.environment}/${options.app.name} at ${options.app.specHash.slice(0, 12)}`,
        'resume with the App rendered at the record’s revision',
      );
    }
    return new Rollout(options, record, true);
  }

  /** The result of the current attempt: promoted, rolled back, or suspended by the controller's shutdown. */
  settled(): Promise<RolloutResult> {
    return this.#result;
  }

  /** The record to store (plain JSON). */
  record(): RolloutRecord {
    return JSON.parse(JSON.stringify(this.#r)) as RolloutRecord;
  }

  status(): RolloutStatus {
    const r = this.#r;
    const step = this.#plan[r.step];
    return {
      environment: r.environment,
      app: r.app,
      strategy: r.strategy,
      revision: r.revision,
      label: r.label,
      stableRevision: r.stable?.revision ?? null,
      phase: r.phase,
      message: r.message,
      step: {
        index: Math.min(r.step + 1, this.#plan.length),
        total: this.#plan.length,
        name: stepName(step),
      },
      weights: this.#weights(),
      ...(this.#previewPort !== undefined && r.previewRouted
        ? { preview: { port: this.#previewPort, revision: r.label } }
        : {}),
      // A resumed record keeps its pause (a deadline, an inconclusive verdict) until the step runs again.
      ...(r.pause === undefined || r.phase !== 'Paused' ? {} : { pause: { ...r.pause } }),
      analysis: r.analysis.map((a) => ({ ...a })),
      ...(r.failure === undefined ? {} : { failure: { ...r.failure } }),
      attempt: r.attempt,
      startedAt: r.startedAt,
      updatedAt: r.updatedAt,
    };
  }

  /**
   * Ends the pause (or the inconclusive analysis' wait, or blue-green's wait for promotion, or the
   * scale-down delay) and goes on; `full` skips every step left and promotes now.
   */
  promote(options: { readonly full?: boolean } = {}): void {
    this.#assertActive('promote');
    if (options.full === true) {
      this.#skipToPromote = true;
      this.#step?.abort(new Error('promoted'));
      this.#gate?.();
      return;
    }
    if (this.#gate === undefined) {
      throw new ConflictError(
        `nothing to promote: the rollout of ${this.#r.app} is not paused (${this.#r.message})`,
        'wait for a pause, or promote with full to skip the remaining steps',
      );
    }
    this.#gate();
  }

  /**
   * Rolls back now: all traffic on the stable revision (one router call, confirmed), then the new
   * instances stopped. Resolves with the result once done; a rollout already rolled back answers its result.
   */
  async abort(reason = 'aborted by request'): Promise<RolloutResult> {
    if (this.#r.phase === 'Degraded' || this.#r.phase === 'Aborted' || this.#r.failure !== undefined) {
      return await this.#result;
    }
    this.#assertActive('abort');
    if (this.#noReturn) {
      throw new ConflictError(
        `the rollout of ${this.#r.app} is stopping the old revision; it cannot switch back any more`,
        'roll back to the earlier revision with plumbline rollback',
      );
    }
    const failure = this.#failure('aborted', reason, {});
    this.#r.failure = failure;
    // Traffic first, at once; the run notices the abort and stops the new instances after.
    void this.#restoreTraffic().catch(() => undefined);
    this.#attempt.abort(new RolloutFailed(failure));
    return await this.#result;
  }

  /** Starts a rolled-back rollout over: the new instances again, from the first step. */
  retry(): void {
    if (!this.#settled || (this.#r.phase !== 'Degraded' && this.#r.phase !== 'Aborted')) {
      throw new ConflictError(
        `only a rolled-back rollout can be retried; the rollout of ${this.#r.app} is ${this.#r.phase}`,
      );
    }
    if (!this.#r.finalized) {
      throw new ConflictError(
        `the rollback of ${this.#r.app} did not finish (${this.#r.message})`,
        'resume the rollout to finish it, then retry',
      );
    }
    const now = new Date().toISOString();
    Object.assign(this.#r, {
      phase: 'Progressing',
      message: `retrying revision ${this.#r.label}`,
      step: 0,
      weight: 0,
      previewRouted: false,
      analysis: [],
      instances: [],
      leftovers: [],
      finalized: false,
      attempt: this.#r.attempt + 1,
      startedAt: now,
      updatedAt: now,
    } satisfies Partial<MutableRecord>);
    delete this.#r.failure;
    delete this.#r.pause;
    delete this.#r.promotedAt;
    delete this.#r.scaleDownAt;
    this.#attempt = new AbortController();
    this.#skipToPromote = false;
    this.#noReturn = false;
    this.#restoring = undefined;
    this.#settled = false;
    this.#result = this.#start(false);
  }

  #assertActive(what: string): void {
    if (this.#suspended) {
      throw new ConflictError(`the rollout of ${this.#r.app} was suspended; resume it to ${what}`);
    }
    if (this.#r.failure !== undefined && !this.#settled) {
      throw new ConflictError(`the rollout of ${this.#r.app} is rolling back (${this.#r.failure.message})`);
    }
    if (this.#settled || this.#r.phase === 'Healthy') {
      throw new ConflictError(
        `the rollout of ${this.#r.app} is over (${this.#r.phase}): nothing to ${what}`,
        this.#r.phase === 'Healthy' ? 'roll back to an earlier revision with plumbline rollback' : undefined,
      );
    }
  }

  async #start(resumed: boolean): Promise<RolloutResult> {
    const result = await this.#run(resumed);
    this.#settled = true;
    await this.#persistQueue;
    return result;
  }

  async #run(resumed: boolean): Promise<RolloutResult> {
    const external = this.#o.signal;
    const signal =
      external === undefined ? this.#attempt.signal : AbortSignal.any([this.#attempt.signal, external]);
    try {
      if (resumed && isOver(this.#r.phase)) return await this.#finishRecorded();
      await this.#prepare(resumed, signal);
      while (this.#r.step < this.#plan.length) {
        const index = this.#r.step;
        const step = this.#plan[index] as PlanStep;
        if (!this.#skipToPromote || step.kind === 'promote') await this.#runStep(step, index, signal);
        this.#r.step = index + 1;
        delete this.#r.pause;
        await this.#save();
      }
      return await this.#complete();
    } catch (error) {
      if (this.#r.failure === undefined && external?.aborted === true) return await this.#suspend();
      if (this.#r.failure === undefined) {
        this.#r.failure =
          error instanceof RolloutFailed
            ? error.failure
            : this.#failure('error', messageOf(error), { step: this.#r.step + 1 });
      }
      return await this.#rollback();
    }
  }

  /** Finds the stable revision (fresh), starts the new instances, and puts the router's table in order. */
  async #prepare(resumed: boolean, signal: AbortSignal): Promise<void> {
    const { app, target } = this.#o;
    if (!resumed) {
      const adopted = await this.#discoverStable(signal);
      if (adopted === 'serving') return;
      this.#setPhase('Progressing', `starting ${app.spec.replicas} instance(s) of revision ${this.#r.label}`);
      await this.#save();
      this.#emit('rollout.started', this.#startMessage());
    } else {
      // Paused or not before, nothing waits until the step runs again.
      this.#setPhase(
        this.#r.promotedAt === undefined ? 'Progressing' : 'Promoting',
        `resuming the rollout of ${this.#r.label} at step ${this.#r.step + 1}`,
      );
      this.#emit('rollout.adopted', this.#r.message);
    }
    const started = await target.startRevision(app, this.#o.releaseDir, {
      revision: this.#r.label,
      avoidPorts: this.#previewPort === undefined ? [] : [this.#previewPort],
      signal,
    });
    if (!started.ok) {
      throw new RolloutFailed(
        this.#failure('health', `revision ${this.#r.label} failed its health check: ${started.message}`, {}),
      );
    }
    this.#r.instances = started.instances.map(copyInstance);
    if (this.#r.stable === null) {
      // A first deploy: nothing to compare with, nothing to protect; straight to the promotion.
      this.#r.step = Math.max(this.#r.step, this.#plan.length - 1);
    }
    await this.#save();
    if (resumed) {
      await this.#ensureTables(signal);
    } else if (this.#r.stable !== null && (this.#r.strategy === 'canary' || this.#r.leftovers.length > 0)) {
      // The canary joins the table at 0% (reachable by its header route); leftovers leave it.
      await this.#route(() => this.#setAppRoute(this.#appTable()));
    }
    if (this.#r.leftovers.length > 0 && this.#r.stable !== null) {
      await target.stopInstances(
        this.#r.leftovers.map((i) => i.id),
        this.#cleanupSignal(),
      );
      this.#r.leftovers = [];
      await this.#save();
    }
  }

  /**
   * The stable revision is the one with the most weight on the App's route; others found there are
   * leftovers of an interrupted rollout. 'serving': the new revision's instances already are the stable ones.
   */
  async #discoverStable(signal: AbortSignal): Promise<'serving' | 'ready'> {
    const table = await this.#o.router.routes({ signal });
    const route = table.routes.find((r) => r.port === this.#r.port && r.app === this.#routeApp);
    const mine = new Set(this.#r.instanceIds);
    this.#r.stable = null;
    this.#r.leftovers = [];
    if (route === undefined || route.backends.length === 0) return 'ready';
    // The new revision's own instances (an earlier attempt's) are not candidates: it starts over from 0%.
    const others = route.backends.filter((b) => !mine.has(b.id));
    if (others.length === 0) {
      // Nothing to roll out: the spec did not change.
      this.#r.instances = route.backends.map(copyInstance);
      this.#r.step = this.#plan.length;
      this.#r.weight = 100;
      this.#r.promotedAt = new Date().toISOString();
      this.#setPhase('Healthy', `revision ${route.backends[0]?.revision} already serves ${this.#r.app}`);
      this.#r.finalized = true;
      await this.#save();
      return 'serving';
    }
    const totals = new Map<string, number>();
    for (const b of others) totals.set(b.revision, (totals.get(b.revision) ?? 0) + b.weight);
    const [stableRevision] = [...totals.entries()].sort((a, b) => b[1] - a[1])[0] as [string, number];
    const stable = others.filter((b) => b.revision === stableRevision).map(copyInstance);
    this.#r.stable = { revision: stableRevision, instances: stable };
    this.#r.leftovers = others.filter((b) => b.revision !== stableRevision).map(copyInstance);
    if (stableRevision === this.#r.label) {
      // The same commit with another spec (a setting the controller adds): the labels must differ.
      this.#r.label = `${this.#r.label}-${this.#o.app.specHash.slice(0, 6)}`;
    }
    return 'ready';
  }

  async #runStep(step: PlanStep, index: number, signal: AbortSignal): Promise<void> {
    const controller = new AbortController();
    this.#step = controller;
    const stepSignal = AbortSignal.any([signal, controller.signal]);
    this.#emit('rollout.step', `step ${index + 1}/${this.#plan.length}: ${stepName(step)}`);
    try {
      switch (step.kind) {
        case 'setWeight':
          return await this.#setWeight(step.weight);
        case 'pause':
          return await this.#pause(step, stepSignal);
        case 'analysis':
          return await this.#analyse(step, index, stepSignal);
        case 'preview':
          return await this.#preview(step.port);
        case 'promote':
          return await this.#promote(step, signal);
      }
    } catch (error) {
      // promote({ full: true }) cancels the step: the run goes on to the promotion.
      if (this.#skipToPromote && controller.signal.aborted && !signal.aborted) return;
      throw error;
    } finally {
      this.#step = undefined;
    }
  }

  async #setWeight(weight: number): Promise<void> {
    this.#r.weight = weight;
    this.#setPhase('Progressing', `setting ${this.#r.label} to ${weight}%`);
    await this.#route(() => this.#setAppRoute(this.#appTable()));
    this.#setPhase('Progressing', `${this.#r.label} takes ${weight}% of new requests`);
    await this.#save();
    this.#emit('rollout.weight', this.#r.message);
  }

  async #pause(step: Extract<PlanStep, { kind: 'pause' }>, signal: AbortSignal): Promise<void> {
    const until =
      this.#r.pause?.until ??
      (step.durationMs === undefined ? undefined : new Date(Date.now() + step.durationMs).toISOString());
    await this.#waitForPromote(step.reason, until, signal);
  }

  /** Paused until `until` (when given) or promote(); the record keeps the deadline for a resume. */
  async #waitForPromote(reason: PauseReason, until: string | undefined, signal: AbortSignal): Promise<void> {
    this.#r.pause = until === undefined ? { reason } : { reason, until };
    const what =
      reason === 'inconclusive'
        ? 'the analysis was inconclusive: promote to go on, or abort'
        : reason === 'promotion'
          ? `${this.#r.label} is ready: ${until === undefined ? 'waiting for promote' : `promoting at ${until}`}`
          : until === undefined
            ? 'paused until promoted'
            : `paused until ${until}`;
    this.#setPhase('Paused', what);
    await this.#save();
    this.#emit('rollout.paused', what);
    const how = await this.#wait(until === undefined ? undefined : Date.parse(until), signal);
    delete this.#r.pause;
    this.#setPhase('Progressing', how === 'promoted' ? 'promoted by request' : 'the pause is over');
    await this.#save();
    this.#emit('rollout.resumed', this.#r.message);
  }

  async #analyse(
    step: Extract<PlanStep, { kind: 'analysis' }>,
    index: number,
    signal: AbortSignal,
  ): Promise<void> {
    if (this.#r.pause?.reason === 'inconclusive') {
      // Resumed while waiting for a person after an inconclusive verdict: keep waiting.
      await this.#waitForPromote('inconclusive', undefined, signal);
      return;
    }
    const templates = [...step.templates];
    this.#setPhase('Progressing', `running analysis ${templates.join(', ')}`);
    await this.#save();
    const context = {
      environment: this.#r.environment,
      app: this.#r.app,
      port: step.port,
      revision: this.#r.label,
      stableRevision: this.#r.stable?.revision ?? this.#r.label,
    };
    let verdict: AnalysisVerdict;
    try {
      verdict = await raceSignal(this.#o.analysis(templates, context, signal), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      verdict = { phase: 'Error', message: `the analysis could not run: ${messageOf(error)}` };
    }
    const record: AnalysisRecord = {
      step: index + 1,
      templates,
      port: step.port,
      phase: verdict.phase,
      message: verdict.message,
      ...(verdict.metrics === undefined ? {} : { metrics: verdict.metrics }),
      at: new Date().toISOString(),
    };
    if (verdict.phase === 'Failed' || verdict.phase === 'Error') {
      const failure = this.#failure(
        'analysis',
        `revision ${this.#r.label} failed analysis ${templates.join(', ')} at step ${index + 1}: ${verdict.message}`,
        { analysis: templates, step: index + 1 },
      );
      // Traffic first: the verdict is recorded and told once the stable revision has it all again.
      this.#r.failure = failure;
      await this.#restoreTraffic();
      this.#r.analysis.push(record);
      this.#emit('rollout.analysis', `analysis ${templates.join(', ')}: ${verdict.phase}`, {
        analysis: record,
      });
      throw new RolloutFailed(failure);
    }
    this.#r.analysis.push(record);
    await this.#save();
    this.#emit('rollout.analysis', `analysis ${templates.join(', ')}: ${verdict.phase}`, {
      analysis: record,
    });
    if (verdict.phase === 'Inconclusive') await this.#waitForPromote('inconclusive', undefined, signal);
  }

  async #preview(port: number): Promise<void> {
    this.#setPhase('Progressing', `serving ${this.#r.label} on the preview port ${port}`);
    await this.#route(() =>
      this.#o.router.setRoutes(port, this.#routeApp, this.#r.instances.map(weighted(1)), {
        signal: this.#cleanupSignal(),
      }),
    );
    this.#r.previewRouted = true;
    await this.#save();
    this.#emit('rollout.preview', this.#r.message);
  }

  async #promote(step: Extract<PlanStep, { kind: 'promote' }>, signal: AbortSignal): Promise<void> {
    if (this.#r.promotedAt === undefined) {
      this.#setPhase('Promoting', `switching all traffic to ${this.#r.label}`);
      await this.#save();
      await this.#route(() =>
        this.#setAppRoute({ backends: this.#r.instances.map(weighted(1)), options: undefined }),
      );
      const now = Date.now();
      this.#r.weight = 100;
      this.#r.promotedAt = new Date(now).toISOString();
      this.#r.scaleDownAt = new Date(now + step.scaleDownDelayMs).toISOString();
      this.#setPhase('Promoting', `${this.#r.label} takes all traffic`);
      await this.#save();
      this.#emit('rollout.promoted', this.#r.message);
    }
    if (this.#r.previewRouted && this.#previewPort !== undefined) {
      await this.#o.router.removeRoute(this.#previewPort, { signal: this.#cleanupSignal() });
      this.#r.previewRouted = false;
      await this.#save();
    }
    const stable = this.#r.stable;
    if (stable === null) return;
    const scaleDownAt = Date.parse(this.#r.scaleDownAt ?? this.#r.promotedAt);
    if (scaleDownAt > Date.now()) {
      this.#setPhase('Promoting', `keeping ${stable.revision} warm until ${this.#r.scaleDownAt}`);
      await this.#save();
      await this.#wait(scaleDownAt, signal);
    }
    signal.throwIfAborted();
    this.#noReturn = true;
    this.#setPhase('Promoting', `stopping ${stable.revision}`);
    await this.#save();
    await this.#o.target.stopInstances(
      [...stable.instances, ...this.#r.leftovers].map((i) => i.id),
      this.#cleanupSignal(),
    );
  }

  async #complete(): Promise<RolloutResult> {
    if (this.#r.phase !== 'Healthy') {
      this.#setPhase('Healthy', `revision ${this.#r.label} serves all traffic`);
      this.#r.finalized = true;
      this.#r.step = this.#plan.length;
      await this.#save();
      this.#emit('rollout.completed', this.#r.message);
    }
    return { outcome: 'promoted', revision: this.#r.revision, message: this.#r.message };
  }

  /** All traffic back on the stable revision (at once), then the preview removed and the new instances stopped. */
  async #rollback(): Promise<RolloutResult> {
    const failure = this.#r.failure as RolloutFailure;
    const phase: RolloutPhase = failure.reason === 'aborted' ? 'Aborted' : 'Degraded';
    try {
      await this.#restoreTraffic();
      this.#setPhase(phase, `${failure.message}; stopping it`);
      await this.#save();
      if (this.#r.previewRouted && this.#previewPort !== undefined) {
        await this.#o.router.removeRoute(this.#previewPort, { signal: this.#cleanupSignal() });
        this.#r.previewRouted = false;
      }
      await this.#o.target.stopInstances(this.#r.instanceIds, this.#cleanupSignal());
      this.#r.finalized = true;
      this.#setPhase(phase, (this.#r.failure as RolloutFailure).message);
    } catch (error) {
      this.#o.log?.error(
        {
          environment: this.#r.environment,
          app: this.#r.app,
          revision: this.#r.label,
          error: messageOf(error),
        },
        'rollout rollback failed',
      );
      this.#setPhase('Degraded', `${failure.message}; the rollback did not finish: ${messageOf(error)}`);
    }
    await this.#save();
    const done = this.#r.failure as RolloutFailure;
    this.#emit(failure.reason === 'aborted' ? 'rollout.aborted' : 'rollout.rolledBack', this.#r.message, {
      failure: done,
    });
    return { outcome: 'rolledBack', revision: this.#r.revision, failure: done, message: this.#r.message };
  }

  /** The App's port back on the stable revision alone: one router call, once per attempt. */
  #restoreTraffic(): Promise<void> {
    this.#restoring ??= this.#route(async () => {
      const stable = this.#r.stable;
      if (stable !== null) {
        await this.#setAppRoute({ backends: stable.instances.map(weighted(1)), options: undefined });
      }
      this.#r.weight = 0;
      const failure = this.#r.failure;
      if (failure !== undefined) this.#r.failure = { ...failure, restoredAt: new Date().toISOString() };
    }, true);
    return this.#restoring;
  }

  /** A finished record after a restart: completes its clean-up if the controller stopped before it did. */
  async #finishRecorded(): Promise<RolloutResult> {
    if (this.#r.phase === 'Healthy') {
      if (!this.#r.finalized && this.#r.stable !== null) {
        this.#noReturn = true;
        await this.#o.target.stopInstances(
          [...this.#r.stable.instances, ...this.#r.leftovers].map((i) => i.id),
          this.#cleanupSignal(),
        );
        this.#r.finalized = true;
        await this.#save();
      }
      return { outcome: 'promoted', revision: this.#r.revision, message: this.#r.message };
    }
    const failure = this.#r.failure ?? this.#failure('error', this.#r.message, {});
    this.#r.failure = failure;
    if (this.#r.finalized) {
      return { outcome: 'rolledBack', revision: this.#r.revision, failure, message: this.#r.message };
    }
    return await this.#rollback();
  }

  async #suspend(): Promise<RolloutResult> {
    this.#suspended = true;
    const message = `suspended at step ${this.#r.step + 1} (${stepName(this.#plan[this.#r.step])})`;
    await this.#save();
    this.#emit('rollout.suspended', message);
    return { outcome: 'suspended', revision: this.#r.revision, message };
  }

  /** After a restart: sets the App's (and the preview's) route only where the router's differs from the record. */
  async #ensureTables(signal: AbortSignal): Promise<void> {
    const table = await this.#o.router.routes({ signal });
    const want = this.#r.promotedAt === undefined ? this.#appTable() : this.#newOnly();
    if (!sameRoute(table, this.#r.port, this.#routeApp, want)) {
      await this.#route(() => this.#setAppRoute(want));
    }
    const port = this.#previewPort;
    if (port !== undefined && this.#r.previewRouted && this.#r.promotedAt === undefined) {
      const preview = this.#newOnly();
      if (!sameRoute(table, port, this.#routeApp, preview)) {
        await this.#route(() =>
          this.#o.router.setRoutes(port, this.#routeApp, preview.backends, { signal: this.#cleanupSignal() }),
        );
      }
    }
  }

  /** The App's route before the promotion: the canary's split (with its options), or the stable revision. */
  #appTable(): { backends: BackendInput[]; options: RouteOptions | undefined } {
    const stable = this.#r.stable;
    if (stable === null) return this.#newOnly();
    if (this.#r.strategy !== 'canary' || !('canary' in this.#o.strategy)) {
      return { backends: stable.instances.map(weighted(1)), options: undefined };
    }
    const spec = this.#o.strategy.canary;
    const backends = spreadWeights([...stable.instances, ...this.#r.instances], {
      [stable.revision]: 100 - this.#r.weight,
      [this.#r.label]: this.#r.weight,
    });
    const options: RouteOptions = {
      ...(spec.stickiness === undefined ? {} : { stickiness: spec.stickiness }),
      ...(spec.headerRoute === undefined
        ? {}
        : {
            headerRoute: {
              name: spec.headerRoute.name,
              value: spec.headerRoute.value,
              revision: this.#r.label,
            },
          }),
    };
    return { backends, options: Object.keys(options).length === 0 ? undefined : options };
  }

  #newOnly(): { backends: BackendInput[]; options: RouteOptions | undefined } {
    return { backends: this.#r.instances.map(weighted(1)), options: undefined };
  }

  async #setAppRoute(table: { backends: BackendInput[]; options: RouteOptions | undefined }): Promise<void> {
    await this.#o.router.setRoutes(this.#r.port, this.#routeApp, table.backends, {
      signal: this.#cleanupSignal(),
      ...(table.options === undefined ? {} : { route: table.options }),
    });
  }

  /**
   * Router calls one at a time. Once the rollout failed or was aborted, only the rollback's own calls
   * (`force`) go through: a step cannot move traffic after the stable revision took it back.
   */
  #route<T>(fn: () => Promise<T>, force = false): Promise<T> {
    const run = this.#routerQueue.then(() => {
      if (!force && this.#r.failure !== undefined) throw new RolloutFailed(this.#r.failure);
      return fn();
    });
    this.#routerQueue = run.catch(() => undefined);
    return run;
  }

  /** Resolves 'elapsed' at `untilMs` (never, when undefined) or 'promoted' on promote(); rejects on abort. */
  #wait(untilMs: number | undefined, signal: AbortSignal): Promise<'elapsed' | 'promoted'> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#gate = undefined;
      };
      const onAbort = (): void => {
        finish();
        reject(signal.reason);
      };
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.#gate = () => {
        finish();
        resolve('promoted');
      };
      const arm = (): void => {
        if (untilMs === undefined) return;
        const left = untilMs - Date.now();
        if (left <= 0) {
          finish();
          resolve('elapsed');
          return;
        }
        timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      };
      arm();
    });
  }

  /** For clean-up and router calls: not the attempt's signal (an abort must not cut its own rollback short). */
  #cleanupSignal(): AbortSignal {
    return this.#o.signal ?? new AbortController().signal;
  }

  #failure(
    reason: RolloutFailure['reason'],
    detail: string,
    extra: { analysis?: readonly string[]; step?: number },
  ): RolloutFailure {
    const step = extra.step ?? this.#r.step + 1;
    const message =
      reason === 'aborted'
        ? `revision ${this.#r.label} was aborted at step ${step}: ${detail}`
        : reason === 'error'
          ? `revision ${this.#r.label} failed at step ${step}: ${detail}`
          : detail;
    return {
      reason,
      revision: this.#r.revision,
      ...(extra.analysis === undefined ? {} : { analysis: [...extra.analysis] }),
      step,
      message,
      at: new Date().toISOString(),
    };
  }

  #weights(): Record<string, number> {
    const r = this.#r;
    const stable = r.stable?.revision;
    if (r.failure?.restoredAt !== undefined) return stable === undefined ? {} : { [stable]: 100 };
    if (r.promotedAt !== undefined || stable === undefined)
      return { [r.label]: r.promotedAt === undefined ? 0 : 100 };
    const weight = r.strategy === 'canary' ? r.weight : 0;
    return { [stable]: 100 - weight, [r.label]: weight };
  }

  #startMessage(): string {
    const stable = this.#r.stable;
    const how = `${this.#r.strategy === 'canary' ? 'canary' : 'blue-green'}, ${this.#plan.length} step(s)`;
    return stable === null
      ? `deploying revision ${this.#r.label} (no revision serves ${this.#r.app} yet)`
      : `rolling out revision ${this.#r.label} beside ${stable.revision} (${how})`;
  }

  #setPhase(phase: RolloutPhase, message: string): void {
    this.#r.phase = phase;
    this.#r.message = message;
  }

  async #save(): Promise<void> {
    this.#r.updatedAt = new Date().toISOString();
    const persist = this.#o.persist;
    if (persist === undefined) return;
    const snapshot = this.record();
    this.#persistQueue = this.#persistQueue.then(async () => {
      try {
        await persist(snapshot);
      } catch (error) {
        this.#o.log?.warn(
          { environment: snapshot.environment, app: snapshot.app, error: messageOf(error) },
          'rollout record not saved',
        );
      }
    });
    await this.#persistQueue;
  }

  #emit(
    type: RolloutEventType,
    message: string,
    extra: { analysis?: AnalysisRecord; failure?: RolloutFailure } = {},
  ): void {
    const event: RolloutEvent = {
      type,
      at: new Date().toISOString(),
      message,
      status: this.status(),
      ...extra,
    };
    this.#o.log?.info(
      { environment: this.#r.environment, app: this.#r.app, revision: this.#r.label, event: type },
      message,
    );
    try {
      this.#o.onEvent?.(event);
    } catch (error) {
      this.#o.log?.warn(
        { app: this.#r.app, event: type, error: messageOf(error) },
        'rollout event handler failed',
      );
    }
  }
}

function isOver(phase: RolloutPhase): boolean {
  return phase === 'Healthy' || phase === 'Degraded' || phase === 'Aborted';
}

function copyInstance(instance: RevisionInstance): RevisionInstance {
  return { id: instance.id, url: instance.url, revision: instance.revision };
}

function weighted(weight: number): (instance: RevisionInstance) => BackendInput {
  return (instance) => ({ id: instance.id, url: instance.url, revision: instance.revision, weight });
}

/** Whether the router's route on `port` is `app` with exactly these backends (ids, addresses, weights) and options. */
function sameRoute(
  table: RouteTable,
  port: number,
  app: string,
  want: { backends: readonly BackendInput[]; options: RouteOptions | undefined },
): boolean {
  const route = table.routes.find((r) => r.port === port);
  if (route === undefined || route.app !== app || route.backends.length !== want.backends.length)
    return false;
  const key = (b: { id: string; url: string; revision: string; weight?: number }): string =>
    `${b.id} ${b.url} ${b.revision} ${b.weight ?? 1}`;
  const have = new Set(route.backends.map(key));
  if (!want.backends.every((b) => have.has(key(b)))) return false;
  return JSON.stringify(route.options ?? {}) === JSON.stringify(want.options ?? {});
}

/** `promise`, or a rejection as soon as `signal` aborts (an analysis slow to notice must not hold a rollback). */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
