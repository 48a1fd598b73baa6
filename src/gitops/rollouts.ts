// Progressive delivery inside the controller: one RolloutManager per controller takes over the Apps whose
// change the reconcile pass hands it (a strategy, a pin, a quarantined revision, a rollout already running),
// runs their rollouts in the background so a pass never waits for a pause, stores each record after every
// change, and settles them — promoted: the inventory moves; rolled back: the revision is quarantined until a
// newer commit or `rollout retry`. Rollbacks pin an App to an earlier revision that auto-sync respects, and
// can push a revert commit so Git is the truth again. Events go to the controller's stream, the metrics and
// the environment's notification webhooks.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { EnvironmentDocument, NotificationSpec } from '../config/schema.js';
import { type AnalysisTemplate, createAnalysisRunner } from '../rollouts/analysis/index.js';
import type { RouterStatsSource } from '../rollouts/analysis/types.js';
import { parseRolloutRecord, type RolloutRecord } from '../rollouts/record.js';
import { Rollout, type RolloutOptions, rolloutPlan, stepName } from '../rollouts/rollout.js';
import { type Strategy, strategyKind } from '../rollouts/strategy.js';
import type {
  AnalysisRunner,
  RolloutEvent,
  RolloutFailure,
  RolloutPhase,
  RolloutResult,
  RolloutRouter,
  RolloutStatus,
} from '../rollouts/types.js';
import type {
  AppRolloutStatus,
  ControllerEvent,
  RollbackRequest,
  RolloutApi,
} from '../server/controller-api.js';
import { ConflictError, NotFoundError } from '../server/errors.js';
import type { Metrics } from '../server/metrics.js';
import type { AppliedRevision, ControllerStore, Pin } from '../store/controller-store.js';
import type { DeployResult, RevisionTarget, Target } from '../targets/types.js';
import { readEnvironments, renderEnvironment } from './render.js';
import { type GitSource, isLocalPath, runGit } from './source.js';
import type { DesiredApp, Phase, PlanStep } from './types.js';

export interface RolloutManagerOptions {
  readonly store: ControllerStore;
  readonly target: Target & RevisionTarget;
  /** The router: routes for the rollouts, per-revision stats for the analysis. */
  readonly router: RolloutRouter & RouterStatsSource;
  /** The controller's mirror: release folders of older commits, and the objects render reads. */
  readonly source: GitSource;
  /** The watched repository and branch, where `rollback --revert` pushes. */
  readonly repo: string;
  readonly branch: string;
  readonly dataDir: string;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** The controller's shutdown: suspends the rollouts (no rollback). */
  readonly signal: AbortSignal;
  /** The Environment documents as last read. */
  readonly environments: () => readonly EnvironmentDocument[];
  /** Emits on the controller's event stream (and, for `rollout.*`, into the audit ledger when there is one). */
  readonly emit: (event: ControllerEvent) => void;
  /** Starts a reconcile pass of the environment soon. */
  readonly wake: (environment: string) => void;
  /** Resolves an App's secret references (the controller's resolver). */
  readonly resolveSecrets: (app: DesiredApp, release: string, signal: AbortSignal) => Promise<DesiredApp>;
  /**
   * The analysis of an environment's rollouts; default: src/rollouts/analysis over the environment's
   * AnalysisTemplates and the router's stats.
   */
  readonly analysis?: (environment: string) => AnalysisRunner;
  /** Timeout of a notification webhook call (default 5 s). */
  readonly notifyTimeoutMs?: number;
}

/** What the reconcile pass does with an App the manager took over: nothing more, and whether dependents may go on. */
export interface Held {
  readonly ready: boolean;
  readonly message: string;
}

interface Entry {
  readonly key: string;
  readonly app: DesiredApp;
  readonly releaseDir: string;
  /** The inventory's revision when the rollout began: the one serving until the promotion. */
  readonly liveRevision: string | null;
  rollout: Rollout | undefined;
  /** Replaced by a newer revision, a rollback or the App's deletion: its outcome is not the App's. */
  superseded: boolean;
  /** The App's status writes, in event order. */
  writes: Promise<void>;
  /** Resolves once the outcome is recorded. */
  handled: Promise<void>;
}

/** The App without its secret values: what is stored to resume from. */
type StoredApp = Omit<DesiredApp, 'secretEnv'>;

/** The ports an App takes on the router: its own and a blue-green preview port. */
export function appPorts(app: { spec: { port: number; strategy?: Strategy } }): number[] {
  const strategy = app.spec.strategy;
  const preview =
    strategy !== undefined && 'blueGreen' in strategy ? strategy.blueGreen.previewPort : undefined;
  return preview === undefined ? [app.spec.port] : [app.spec.port, preview];
}

/** A stored record as `Rollout.status()` shows it (for a rollout that is not running). */
export function statusOf(record: RolloutRecord, strategy: Strategy): RolloutStatus {
  const plan = rolloutPlan(strategy, record.port);
  const previewPort = 'blueGreen' in strategy ? strategy.blueGreen.previewPort : undefined;
  return {
    environment: record.environment,
    app: record.app,
    strategy: record.strategy,
    revision: record.revision,
    label: record.label,
    stableRevision: record.stable?.revision ?? null,
    phase: record.phase,
    message: record.message,
    step: {
      index: Math.min(record.step + 1, plan.length),
      total: plan.length,
      name: stepName(plan[record.step]),
    },
    weights: weightsOf(record),
    ...(previewPort !== undefined && record.previewRouted
      ? { preview: { port: previewPort, revision: record.label } }
      : {}),
    ...(record.pause === undefined || record.phase !== 'Paused' ? {} : { pause: { ...record.pause } }),
    analysis: record.analysis.map((a) => ({ ...a })),
    ...(record.failure === undefined ? {} : { failure: { ...record.failure } }),
    attempt: record.attempt,
    startedAt: record.startedAt,
    updatedAt: record.updatedAt,
  };
}

function weightsOf(r: RolloutRecord): Record<string, number> {
  const stable = r.stable?.revision;
  if (r.failure?.restoredAt !== undefined) return stable === undefined ? {} : { [stable]: 100 };
  if (r.promotedAt !== undefined || stable === undefined)
    return { [r.label]: r.promotedAt === undefined ? 0 : 100 };
  const weight = r.strategy === 'canary' ? r.weight : 0;
  return { [stable]: 100 - weight, [r.label]: weight };
}

/** "revision X failed analysis Y at step Z; waiting for a newer commit": the status of a quarantined App. */
export function quarantineMessage(failure: RolloutFailure, environment: string, app: string): string {
  const revision = short(failure.revision);
  const at = failure.step === undefined ? '' : ` at step ${failure.step}`;
  const what =
    failure.reason === 'analysis'
      ? `failed analysis ${(failure.analysis ?? []).join(', ')}${at}`
      : failure.reason === 'health'
        ? `failed its health check${at}`
        : failure.reason === 'aborted'
          ? `was aborted${at}`
          : `failed${at}`;
  return `revision ${revision} ${what}; waiting for a newer commit (or plumbline rollout retry ${environment} ${app}): ${failure.message}`;
}

/** One line for an App's status while its rollout runs. */
export function progressMessage(status: RolloutStatus): string {
  const kind = status.strategy === 'canary' ? 'canary' : 'blue-green';
  return `${kind} of ${status.label}, step ${status.step.index}/${status.step.total} (${status.step.name}): ${status.message}`;
}

function pinMessage(pin: Pin, gitRevision: string | null, environment: string): string {
  const git = gitRevision === null ? '' : `; Git is at ${short(gitRevision)}`;
  return `pinned to ${short(pin.revision)} by ${pin.pinnedBy} (${pin.reason})${git}; plumbline unpin ${environment} ${pin.app} returns to Git`;
}

const FINAL_EVENTS = new Set([
  'rollout.completed',
  'rollout.rolledBack',
  'rollout.aborted',
  'rollout.suspended',
]);

export class RolloutManager implements RolloutApi {
  readonly #o: RolloutManagerOptions;
  readonly #active = new Map<string, Entry>();
  readonly #templates = new Map<string, ReadonlyMap<string, AnalysisTemplate>>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #deliveries = new Map<string, Promise<void>>();

  constructor(options: RolloutManagerOptions) {
    this.#o = options;
  }

  /** The environment's AnalysisTemplates as the latest pass rendered them. */
  setTemplates(environment: string, templates: ReadonlyMap<string, AnalysisTemplate>): void {
    this.#templates.set(environment, templates);
  }

  /** A rollout runs for the App, or an action on it is under way: drift checks leave it alone. */
  isActive(environment: string, app: string): boolean {
    const key = keyOf(environment, app);
    return this.#active.has(key) || this.#locks.has(key);
  }

  /**
   * Self-heal's deploy, under the App's lock: skipped when, since the drift was seen, a rollout, a rollback
   * or a pin took the App over (healing would undo them).
   */
  async guardedHeal(app: DesiredApp, deploy: () => Promise<DeployResult>): Promise<DeployResult> {
    return await this.#lock(keyOf(app.environment, app.name), async () => {
      const { store } = this.#o;
      const applied = (await store.listApplied(app.environment)).find((a) => a.name === app.name);
      const taken =
        this.#active.has(keyOf(app.environment, app.name)) ||
        applied?.specHash !== app.specHash ||
        (await store.getPin(app.environment, app.name)) !== undefined;
      if (taken) {
        return {
          ok: false,
          reason: 'HealSkipped',
          message: `${app.name} was not healed: a rollout, rollback or pin changed it since the drift was seen`,
        };
      }
      return await deploy();
    });
  }

  /**
   * The reconcile pass's hook, for every step of the plan before it deploys: undefined lets the pass deploy
   * as usual; a `Held` means the manager took the App (a rollout started or runs, a pin, a quarantine).
   */
  async intercept(step: PlanStep, release: string): Promise<Held | undefined> {
    const app = step.after;
    if (app === undefined || step.action === 'delete') return undefined;
    const key = keyOf(app.environment, app.name);
    // Unchanged Apps cost nothing here unless a rollout of another spec runs for them (Git went back).
    if (step.action === 'unchanged' && !this.#active.has(key)) return undefined;
    return await this.#lock(key, () => this.#intercept(step, app, release));
  }

  async #intercept(step: PlanStep, app: DesiredApp, release: string): Promise<Held | undefined> {
    const { store } = this.#o;
    const key = keyOf(app.environment, app.name);
    const active = this.#active.get(key);
    if (active !== undefined && active.app.specHash === app.specHash) {
      const status = active.rollout?.status();
      const message = status === undefined ? `rolling out ${short(app.revision)}` : progressMessage(status);
      await this.#putApp(app, 'Progressing', message, active.liveRevision);
      return { ready: true, message };
    }
    if (active !== undefined) await this.#supersede(active, `superseded by revision ${short(app.revision)}`);
    if (step.action === 'unchanged') {
      // Git went back to the revision that was applied: it serves all traffic again.
      const live = step.before?.revision ?? app.revision;
      const message = `running ${app.spec.replicas} instance(s) of ${short(live)}`;
      await this.#putApp(app, 'Synced', message, live);
      return { ready: true, message };
    }
    const pin = await store.getPin(app.environment, app.name);
    if (pin !== undefined) {
      const message = pinMessage(pin, app.revision, app.environment);
      await this.#putApp(app, 'OutOfSync', message, pin.revision);
      return { ready: true, message };
    }
    const quarantined = (await store.listQuarantine(app.environment, app.name)).find(
      (q) => q.specHash === app.specHash,
    );
    if (quarantined !== undefined) {
      await this.#putApp(app, 'Degraded', quarantined.reason, step.before?.revision ?? null);
      return { ready: false, message: quarantined.reason };
    }
    const strategy = app.spec.strategy;
    if (strategy === undefined || step.action !== 'update') return undefined;
    // A rollout shares one port between two revisions; a change of port is a plain switch.
    if (step.before !== undefined && step.before.spec.port !== app.spec.port) return undefined;
    const entry = this.#start(app, release, step.before?.revision ?? null);
    const message = `starting a ${strategyKind(strategy) === 'canary' ? 'canary' : 'blue-green'} rollout of ${short(app.revision)}`;
    await this.#putApp(app, 'Progressing', message, entry.liveRevision);
    return { ready: true, message };
  }

  /** The App left Git (pruned): its rollout is stopped and its pin, quarantine and record forgotten. */
  async forget(environment: string, app: string): Promise<void> {
    const key = keyOf(environment, app);
    await this.#lock(key, async () => {
      const active = this.#active.get(key);
      if (active !== undefined) await this.#supersede(active, 'the app was removed from Git');
      const { store } = this.#o;
      await store.deleteRollout(environment, app);
      await store.deletePin(environment, app);
      await store.deleteQuarantine(environment, app);
    });
  }

  /** After a restart: carries on every stored rollout that was not over (or whose clean-up was not). */
  async resumeAll(): Promise<void> {
    const { store, logger, source, signal } = this.#o;
    for (const row of await store.listRollouts()) {
      const log = logger.child({ environment: row.environment, app: row.app });
      const parsed = parseRolloutRecord(row.record);
      if (!parsed.ok) {
        log.warn({ problem: parsed.message }, 'stored rollout not resumed');
        continue;
      }
      const record = parsed.record;
      if (isOver(record.phase) && record.finalized) continue;
      const env = this.#o.environments().find((e) => e.metadata.name === record.environment);
      if (env === undefined) {
        log.warn({}, 'stored rollout not resumed: its environment is no longer in plumbline.yaml');
        continue;
      }
      try {
        const desired = row.desired as StoredApp;
        if (!existsSync(record.releaseDir))
          await source.materialise(desired.revision, record.releaseDir, signal);
        if (!this.#templates.has(record.environment)) {
          const rendered = await renderEnvironment(record.releaseDir, env, {
            revision: desired.revision,
            gitDir: source.cacheDir,
            signal,
          });
          this.#templates.set(record.environment, rendered.templates);
        }
        const app = await this.#withSecrets(desired, record.releaseDir);
        this.#start(
          app,
          record.releaseDir,
          await this.#appliedRevision(record.environment, record.app),
          record,
        );
      } catch (error) {
        log.error({ err: error }, 'stored rollout not resumed');
      }
    }
  }

  /** Waits for the rollouts to stop (the controller's signal suspends them) and for notifications in flight. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.#active.values()].map((entry) => entry.handled));
    await Promise.allSettled([...this.#deliveries.values()]);
  }

  // --- the API ---

  async status(environment: string, app: string): Promise<AppRolloutStatus> {
    const { store } = this.#o;
    const state = await store.getApp(environment, app);
    if (state === undefined) {
      throw new NotFoundError(`app "${app}" does not exist in environment "${environment}"`);
    }
    const active = this.#active.get(keyOf(environment, app));
    let rollout = active?.rollout?.status() ?? null;
    if (rollout === null) {
      const row = await store.getRollout(environment, app);
      const parsed = row === undefined ? undefined : parseRolloutRecord(row.record);
      const strategy = (row?.desired as StoredApp | undefined)?.spec?.strategy;
      if (parsed?.ok === true && strategy !== undefined) rollout = statusOf(parsed.record, strategy);
    }
    const pin = await store.getPin(environment, app);
    const quarantine = await store.listQuarantine(environment, app);
    return {
      environment,
      app,
      desiredRevision: state.desiredRevision,
      liveRevision: state.liveRevision,
      phase: state.phase,
      message: state.message,
      active: active !== undefined,
      rollout,
      pin:
        pin === undefined
          ? null
          : { revision: pin.revision, pinnedBy: pin.pinnedBy, reason: pin.reason, createdAt: pin.createdAt },
      quarantine: quarantine.map((q) => ({
        revision: q.revision,
        specHash: q.specHash,
        reason: q.reason,
        createdAt: q.createdAt,
      })),
    };
  }

  async promote(
    environment: string,
    app: string,
    options: { readonly full?: boolean },
    by: string,
  ): Promise<AppRolloutStatus> {
    const entry = this.#requireActive(environment, app, 'promote');
    (entry.rollout as Rollout).promote(options.full === true ? { full: true } : {});
    this.#o.logger.info({ environment, app, by, full: options.full === true }, 'rollout promoted by request');
    return await this.status(environment, app);
  }

  async abort(environment: string, app: string, by: string): Promise<AppRolloutStatus> {
    const entry = this.#requireActive(environment, app, 'abort');
    this.#o.logger.info({ environment, app, by }, 'rollout aborted by request');
    await (entry.rollout as Rollout).abort(`aborted by ${by}`);
    await entry.handled;
    return await this.status(environment, app);
  }

  async retry(environment: string, app: string, by: string): Promise<AppRolloutStatus> {
    const key = keyOf(environment, app);
    await this.#lock(key, async () => {
      const { store } = this.#o;
      if (this.#active.has(key)) {
        throw new ConflictError(
          `the rollout of ${app} in ${environment} is still running`,
          `promote or abort it: plumbline rollout abort ${environment} ${app}`,
        );
      }
      if ((await store.getPin(environment, app)) !== undefined) {
        throw new ConflictError(
          `${app} in ${environment} is pinned by a rollback`,
          `unpin it first: plumbline unpin ${environment} ${app}`,
        );
      }
      const row = await store.getRollout(environment, app);
      const parsed = row === undefined ? undefined : parseRolloutRecord(row.record);
      if (row === undefined || parsed === undefined) {
        throw new ConflictError(`${app} in ${environment} has no rollout to retry`);
      }
      if (!parsed.ok) throw new ConflictError(`the last rollout of ${app} cannot be read: ${parsed.message}`);
      const record = parsed.record;
      if ((record.phase !== 'Degraded' && record.phase !== 'Aborted') || !record.finalized) {
        throw new ConflictError(
          `only a rolled-back rollout can be retried; the last rollout of ${app} is ${record.phase}`,
        );
      }
      const desired = row.desired as StoredApp;
      await store.deleteQuarantine(environment, app, desired.specHash);
      if (!existsSync(record.releaseDir)) {
        await this.#o.source.materialise(desired.revision, record.releaseDir, this.#o.signal);
      }
      const resolved = await this.#withSecrets(desired, record.releaseDir);
      const entry = this.#start(resolved, record.releaseDir, await this.#appliedRevision(environment, app));
      this.#o.logger.info({ environment, app, by, revision: short(desired.revision) }, 'rollout retried');
      await this.#putApp(
        resolved,
        'Progressing',
        `retrying revision ${short(desired.revision)}`,
        entry.liveRevision,
      );
    });
    return await this.status(environment, app);
  }

  async rollback(
    environment: string,
    app: string,
    request: RollbackRequest,
    by: string,
  ): Promise<AppRolloutStatus> {
    const key = keyOf(environment, app);
    const revert = await this.#lock(key, async () => {
      const { store, target, signal } = this.#o;
      const env = this.#requireEnvironment(environment);
      const applied = (await store.listApplied(environment)).find((a) => a.name === app);
      if (applied === undefined) {
        throw new ConflictError(`${app} was never deployed in ${environment}: there is nothing to roll back`);
      }
      const history = await store.listAppliedRevisions(environment, app);
      const active = this.#active.get(key);
      const to = pickRevision(history, applied, request.to, active !== undefined, environment, app);
      if (active !== undefined)
        await this.#supersede(active, `rolled back to ${short(to.revision)} by ${by}`);
      const release = await this.#release(to.revision);
      const rendered = await this.#renderAt(env, to.revision, release).catch(() => undefined);
      const source = rendered?.apps.find((a) => a.name === app)?.source ?? { file: env.spec.path, line: 1 };
      const desired = await this.#withSecrets(
        { environment, name: app, revision: to.revision, spec: to.spec, specHash: to.specHash, source },
        release,
      );
      const result = await target.deploy(desired, release, signal);
      if (!result.ok) {
        throw new ConflictError(
          `rolling ${app} back to ${short(to.revision)} failed: ${result.message}`,
          'the serving revision was kept; see plumbline logs',
        );
      }
      await store.putApplied({
        environment,
        name: app,
        revision: to.revision,
        specHash: to.specHash,
        spec: to.spec,
      });
      const reason = request.reason ?? `rolled back from ${short(applied.revision)}`;
      const pin = await store.putPin({ environment, app, revision: to.revision, pinnedBy: by, reason });
      const state = await store.getApp(environment, app);
      const synced = state?.specHash === to.specHash;
      await this.#setApp(environment, app, {
        phase: synced ? 'Synced' : 'OutOfSync',
        message: pinMessage(pin, state?.desiredRevision ?? null, environment),
        liveRevision: to.revision,
      });
      this.#publish({
        type: 'rollout.pinned',
        environment,
        app,
        revision: to.revision,
        message: `${app} rolled back to ${short(to.revision)} and pinned by ${by}`,
        data: { pinnedBy: by, reason, from: applied.revision },
      });
      if (request.revert !== true) return undefined;
      const pushed = await this.#revert(env, app, to.revision, release, by);
      await store.deletePin(environment, app);
      await this.#setApp(environment, app, {
        phase: 'Synced',
        message: `reverted in Git to ${short(to.revision)} (commit ${short(pushed.commit)}); following Git again`,
        liveRevision: to.revision,
      });
      this.#publish({
        type: 'rollout.reverted',
        environment,
        app,
        revision: pushed.commit,
        message: pushed.pushed
          ? `pushed ${short(pushed.commit)} to ${pushed.branch}: ${app} back to ${short(to.revision)}; unpinned`
          : `${pushed.branch} already has ${app} at ${short(to.revision)}; unpinned`,
        data: { commit: pushed.commit, branch: pushed.branch, to: to.revision },
      });
      this.#o.wake(environment);
      return { commit: pushed.commit, branch: pushed.branch };
    });
    const status = await this.status(environment, app);
    return revert === undefined ? status : { ...status, revert };
  }

  async unpin(environment: string, app: string, by: string): Promise<AppRolloutStatus> {
    await this.#lock(keyOf(environment, app), async () => {
      const removed = await this.#o.store.deletePin(environment, app);
      if (!removed) throw new ConflictError(`${app} in ${environment} is not pinned`);
      const state = await this.#o.store.getApp(environment, app);
      await this.#setApp(environment, app, {
        phase: 'Progressing',
        message: `unpinned by ${by}; the next sync deploys Git's revision${typeof state?.desiredRevision === 'string' ? ` ${short(state.desiredRevision)}` : ''}`,
      });
      this.#publish({ type: 'rollout.unpinned', environment, app, message: `${app} unpinned by ${by}` });
    });
    this.#o.wake(environment);
    return await this.status(environment, app);
  }

  // --- running rollouts ---

  #start(app: DesiredApp, releaseDir: string, liveRevision: string | null, record?: RolloutRecord): Entry {
    const strategy = app.spec.strategy;
    if (strategy === undefined) throw new Error(`app ${app.name} has no strategy`);
    const key = keyOf(app.environment, app.name);
    const log = this.#o.logger.child({
      environment: app.environment,
      app: app.name,
      revision: short(app.revision),
    });
    const entry: Entry = {
      key,
      app,
      releaseDir,
      liveRevision,
      rollout: undefined,
      superseded: false,
      writes: Promise.resolve(),
      handled: Promise.resolve(),
    };
    const stored = storable(app);
    const options: RolloutOptions = {
      app,
      strategy,
      releaseDir,
      target: this.#o.target,
      router: this.#o.router,
      analysis: this.#runner(app.environment, log),
      onEvent: (event) => this.#onEvent(entry, event),
      persist: (saved) =>
        this.#o.store.putRollout({
          environment: app.environment,
          app: app.name,
          record: saved,
          desired: stored,
        }),
      log,
      signal: this.#o.signal,
    };
    const rollout = record === undefined ? Rollout.start(options) : Rollout.resume(options, record);
    entry.rollout = rollout;
    this.#active.set(key, entry);
    entry.handled = rollout
      .settled()
      .then((result) => this.#lock(key, () => this.#settle(entry, result)))
      .catch((error: unknown) => log.error({ err: error }, 'rollout outcome not recorded'));
    return entry;
  }

  #runner(environment: string, log: Logger): AnalysisRunner {
    const custom = this.#o.analysis?.(environment);
    if (custom !== undefined) return custom;
    const run = createAnalysisRunner({
      templates: () => this.#templates.get(environment) ?? new Map(),
      router: this.#o.router,
      logger: log,
    });
    return async function analyse(templates, context, signal) {
      // The router labels an App's series `env/name`: that is the app the analysis filters by (and
      // {{app}} in a PromQL query over the router's metrics).
      const routed = { ...context, app: `${context.environment}/${context.app}` };
      const result = await run(templates, routed, signal);
      return { phase: result.phase, message: result.message, metrics: result.metrics };
    };
  }

  #onEvent(entry: Entry, event: RolloutEvent): void {
    const { status } = event;
    this.#o.metrics?.setRollout(
      status.environment,
      status.app,
      status.phase,
      status.weights[status.label] ?? 0,
    );
    if (event.analysis !== undefined) {
      this.#o.metrics?.recordAnalysis(status.environment, status.app, event.analysis.phase);
    }
    this.#publish({
      type: event.type,
      environment: status.environment,
      app: status.app,
      revision: entry.app.revision,
      message: event.message,
      data: {
        status,
        ...(event.analysis === undefined ? {} : { analysis: event.analysis }),
        ...(event.failure === undefined ? {} : { failure: event.failure }),
      },
    });
    if (entry.superseded || FINAL_EVENTS.has(event.type)) return;
    entry.writes = entry.writes
      .then(() => this.#putApp(entry.app, 'Progressing', progressMessage(status), entry.liveRevision))
      .catch((error: unknown) =>
        this.#o.logger.warn({ app: status.app, err: error }, 'app status not written'),
      );
  }

  /** Records a rollout's outcome (under the App's lock). */
  async #settle(entry: Entry, result: RolloutResult): Promise<void> {
    await entry.writes;
    if (this.#active.get(entry.key) === entry) this.#active.delete(entry.key);
    if (entry.superseded || result.outcome === 'suspended') return;
    const { app } = entry;
    if (result.outcome === 'promoted') {
      await this.#recordPromoted(entry);
    } else {
      const message = quarantineMessage(result.failure, app.environment, app.name);
      await this.#o.store.putQuarantine({
        environment: app.environment,
        app: app.name,
        revision: app.revision,
        specHash: app.specHash,
        reason: message,
      });
      await this.#putApp(app, 'Degraded', message, entry.liveRevision);
      this.#publish({
        type: 'rollout.quarantined',
        environment: app.environment,
        app: app.name,
        revision: app.revision,
        message,
      });
    }
    this.#o.wake(app.environment);
  }

  async #recordPromoted(entry: Entry): Promise<void> {
    const { app } = entry;
    const { store, metrics } = this.#o;
    await store.putApplied({
      environment: app.environment,
      name: app.name,
      revision: app.revision,
      specHash: app.specHash,
      spec: app.spec,
    });
    await store.deleteQuarantine(app.environment, app.name, app.specHash);
    await this.#putApp(
      app,
      'Synced',
      `running ${app.spec.replicas} instance(s) of ${short(app.revision)}`,
      app.revision,
    );
    metrics?.setInstances(app.environment, app.name, app.spec.replicas);
    this.#o.emit({
      type: 'app.synced',
      at: new Date().toISOString(),
      environment: app.environment,
      app: app.name,
      revision: app.revision,
      message: `${app.name} is live at ${short(app.revision)}`,
    });
  }

  /** Stops a rollout another action replaces: rolled back at once (or, past the point of no return, let finish). */
  async #supersede(entry: Entry, reason: string): Promise<void> {
    entry.superseded = true;
    const rollout = entry.rollout as Rollout;
    let result: RolloutResult;
    try {
      result = await rollout.abort(reason);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      result = await rollout.settled();
    }
    await entry.writes;
    if (this.#active.get(entry.key) === entry) this.#active.delete(entry.key);
    if (result.outcome === 'promoted') await this.#recordPromoted(entry);
  }

  #requireActive(environment: string, app: string, what: string): Entry {
    const entry = this.#active.get(keyOf(environment, app));
    if (entry?.rollout === undefined) {
      throw new ConflictError(
        `no rollout of ${app} is running in ${environment}: nothing to ${what}`,
        `see plumbline rollout status ${environment} ${app}`,
      );
    }
    return entry;
  }

  #requireEnvironment(environment: string): EnvironmentDocument {
    const env = this.#o.environments().find((e) => e.metadata.name === environment);
    if (env === undefined) throw new NotFoundError(`environment "${environment}" does not exist`);
    return env;
  }

  async #appliedRevision(environment: string, app: string): Promise<string | null> {
    return (await this.#o.store.listApplied(environment)).find((a) => a.name === app)?.revision ?? null;
  }

  async #withSecrets(desired: StoredApp, release: string): Promise<DesiredApp> {
    if (desired.spec.process.secretRefs === undefined) return desired;
    const resolved = await this.#o.resolveSecrets(desired, release, this.#o.signal);
    // The stored spec hash names the instances; a rotated secret shows at the next commit's render.
    return resolved.secretEnv === undefined ? desired : { ...desired, secretEnv: resolved.secretEnv };
  }

  /** A commit's release folder, written from the mirror when it is not there. */
  async #release(revision: string): Promise<string> {
    const dir = join(this.#o.dataDir, 'releases', revision);
    if (!existsSync(dir)) await this.#o.source.materialise(revision, dir, this.#o.signal);
    return dir;
  }

  #renderAt(env: EnvironmentDocument, revision: string, dir: string, gitDir = this.#o.source.cacheDir) {
    return renderEnvironment(dir, env, { revision, gitDir, signal: this.#o.signal });
  }

  /**
   * Writes the pinned revision's App back to Git: in a fresh clone, the App's document (and its code folder,
   * unless that is the whole repository) as they were at `revision`, one commit, checked to render to the
   * pinned spec, pushed to the watched branch.
   */
  async #revert(
    env: EnvironmentDocument,
    app: string,
    revision: string,
    release: string,
    by: string,
  ): Promise<{ commit: string; branch: string; pushed: boolean }> {
    const { branch, signal } = this.#o;
    const remote = isLocalPath(this.#o.repo) ? resolve(this.#o.repo) : this.#o.repo;
    const dir = join(
      this.#o.dataDir,
      'revert',
      `${env.metadata.name}-${app}-${randomBytes(4).toString('hex')}`,
    );
    mkdirSync(join(this.#o.dataDir, 'revert'), { recursive: true });
    const git = (args: readonly string[]) => runGit(args, { cwd: dir, signal });
    try {
      await runGit(['clone', '--quiet', '--single-branch', '--branch', branch, '--', remote, dir], {
        signal,
      });
      const pinned = (await this.#renderAt(env, revision, release, dir)).apps.find((a) => a.name === app);
      if (pinned === undefined) {
        throw new ConflictError(
          `${app} does not render at ${short(revision)}; nothing was pushed`,
          'keep the pin',
        );
      }
      const head = (await git(['rev-parse', 'HEAD'])).trim();
      const headEnv = readEnvironments(dir).find((e) => e.metadata.name === env.metadata.name) ?? env;
      const others = (await this.#renderAt(headEnv, head, dir, dir)).apps.filter((a) => a.name !== app);
      const kustomized = pinned.source.file.endsWith('(kustomize output)');
      const paths = [kustomized ? env.spec.path : pinned.source.file];
      // The code folder too, unless it is the whole repository or another App runs code from it.
      const cwd = pinned.spec.process.cwd;
      if (cwd !== '.' && !others.some((a) => overlaps(a.spec.process.cwd, cwd)) && !paths.includes(cwd)) {
        paths.push(cwd);
      }
      await git(['rm', '-r', '-q', '--ignore-unmatch', '--', ...paths]);
      await git(['checkout', revision, '--', ...paths]);
      if ((await git(['status', '--porcelain'])).trim() === '') {
        // Git already says what the pin says.
        return { commit: head, branch, pushed: false };
      }
      await git([
        '-c',
        'user.name=Plumbline',
        '-c',
        'user.email=plumbline@localhost',
        'commit',
        '-q',
        '-m',
        `revert ${app} to ${short(revision)}\n\n${env.metadata.name}/${app} back to ${revision}\n(plumbline rollback --revert, by ${by})`,
      ]);
      const commit = (await git(['rev-parse', 'HEAD'])).trim();
      const rendered = (await this.#renderAt(headEnv, commit, dir, dir)).apps;
      const after = rendered.find((a) => a.name === app);
      // The commit must move this App alone: another App sharing the document would move with it.
      const fingerprint = (apps: readonly DesiredApp[]): string =>
        apps
          .filter((a) => a.name !== app)
          .map((a) => `${a.name}:${a.specHash}`)
          .sort()
          .join(' ');
      if (after?.specHash !== pinned.specHash || fingerprint(rendered) !== fingerprint(others)) {
        throw new ConflictError(
          `a revert commit would not bring ${app} back to ${short(revision)} (other changes share its files); nothing was pushed`,
          `the app stays pinned; revert by hand, then plumbline unpin ${env.metadata.name} ${app}`,
        );
      }
      try {
        await git(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`]);
      } catch (error) {
        throw new ConflictError(
          `pushing the revert of ${app} to ${branch} failed: ${(error as Error).message}`,
          'the app stays pinned; check the controller may push (a local repository with its branch checked out needs git config receive.denyCurrentBranch updateInstead), then try again',
        );
      }
      return { commit, branch, pushed: true };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async #putApp(app: DesiredApp, phase: Phase, message: string, liveRevision: string | null): Promise<void> {
    await this.#o.store.putApp({
      environment: app.environment,
      name: app.name,
      desiredRevision: app.revision,
      liveRevision,
      phase,
      message,
      spec: app.spec,
      specHash: app.specHash,
    });
    this.#o.metrics?.setAppPhase(app.environment, app.name, phase);
  }

  /** Changes an App's status row, keeping its desired revision and spec (Git's). */
  async #setApp(
    environment: string,
    app: string,
    change: { phase: Phase; message: string; liveRevision?: string },
  ): Promise<void> {
    const state = await this.#o.store.getApp(environment, app);
    if (state === undefined) return;
    const { updatedAt: _updatedAt, ...rest } = state;
    await this.#o.store.putApp({ ...rest, ...change });
    this.#o.metrics?.setAppPhase(environment, app, change.phase);
  }

  /** On the event stream and to the environment's notification webhooks. */
  #publish(event: Omit<ControllerEvent, 'at'>): void {
    const full: ControllerEvent = { ...event, at: new Date().toISOString() };
    this.#o.emit(full);
    const env = this.#o.environments().find((e) => e.metadata.name === event.environment);
    (env?.spec.notifications ?? []).forEach((notification, index) => {
      this.#deliver(`${event.environment}#${index}`, notification, full);
    });
  }

  /** Posts one event to one webhook, after the ones before it (in order); a failure is logged, never thrown. */
  #deliver(key: string, notification: NotificationSpec, event: ControllerEvent): void {
    const { webhook } = notification;
    const url = webhook.url ?? (webhook.urlEnv === undefined ? undefined : process.env[webhook.urlEnv]);
    const log = this.#o.logger;
    if (url === undefined || url === '') {
      log.warn(
        { webhook: key, urlEnv: webhook.urlEnv },
        'notification not sent: the webhook URL variable is empty',
      );
      return;
    }
    const body = webhook.format === 'slack' ? { text: slackText(event) } : event;
    const timeoutMs = this.#o.notifyTimeoutMs ?? 5_000;
    const previous = this.#deliveries.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.body?.cancel();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
      } catch (error) {
        // The URL is not logged: an incoming-webhook URL is a credential.
        log.warn(
          { webhook: key, event: event.type, error: (error as Error).message },
          'notification not delivered',
        );
      }
    });
    this.#deliveries.set(key, next);
    void next.then(() => {
      if (this.#deliveries.get(key) === next) this.#deliveries.delete(key);
    });
  }

  /** Runs `fn` after every earlier call for the same App (rollouts, passes and API actions never interleave). */
  #lock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#locks.set(key, tail);
    void tail.then(() => {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    });
    return run;
  }
}

/**
 * The revision a rollback goes to: the one asked for (by commit prefix), else during a rollout the one
 * serving, else the one applied before the current one.
 */
export function pickRevision(
  history: readonly AppliedRevision[],
  applied: { revision: string; specHash: string; spec: AppliedRevision['spec'] },
  to: string | undefined,
  rolling: boolean,
  environment: string,
  app: string,
): AppliedRevision {
  const current: AppliedRevision = history.find(
    (h) => h.revision === applied.revision && h.specHash === applied.specHash,
  ) ?? {
    environment,
    app,
    revision: applied.revision,
    specHash: applied.specHash,
    spec: applied.spec,
    appliedAt: '',
  };
  if (to !== undefined) {
    const wanted = to.toLowerCase();
    const found = history.find((h) => h.revision.startsWith(wanted));
    if (found === undefined) {
      throw new NotFoundError(
        `revision ${to} was not deployed to ${app} in ${environment} (or is older than the revisions kept)`,
        `the revisions kept: ${history.map((h) => short(h.revision)).join(', ')}`,
      );
    }
    if (found.specHash === applied.specHash && !rolling) {
      throw new ConflictError(`${app} in ${environment} already runs ${short(found.revision)}`);
    }
    return found;
  }
  if (rolling) return current;
  const previous = history.find((h) => h.specHash !== applied.specHash);
  if (previous === undefined) {
    throw new ConflictError(
      `${app} in ${environment} has no earlier revision to go back to`,
      'a rollback needs a revision deployed before the current one',
    );
  }
  return previous;
}

/** Whether two repository folders are the same or one holds the other. */
function overlaps(a: string, b: string): boolean {
  if (a === '.' || b === '.' || a === b) return true;
  return a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

function storable(app: DesiredApp): StoredApp {
  const { secretEnv: _secretEnv, ...rest } = app;
  return rest;
}

function slackText(event: ControllerEvent): string {
  const where = event.app === undefined ? (event.environment ?? '') : `${event.environment}/${event.app}`;
  return `*${where}* ${event.type}: ${event.message}`;
}

function isOver(phase: RolloutPhase): boolean {
  return phase === 'Healthy' || phase === 'Degraded' || phase === 'Aborted';
}

function keyOf(environment: string, app: string): string {
  return `${environment}/${app}`;
}

function short(revision: string): string {
  return revision.slice(0, 12);
}

/** Whether a target can run rollouts (start a revision beside the serving one, stop instances). */
export function isRevisionTarget(target: Target): target is Target & RevisionTarget {
  const candidate = target as Partial<RevisionTarget>;
  return (
    typeof candidate.startRevision === 'function' &&
    typeof candidate.instanceIds === 'function' &&
    typeof candidate.stopInstances === 'function'
  );
}
