// The reconcile loop of `plumbline up`: for each environment, named phases — source, render, validate, plan,
// apply, health, record — each failure terminal (bad input: wait for the next commit) or transient (retried
// with backoff). One environment's failure never stops another's; status is written whatever happens.
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter, setMaxListeners } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AuditEntryInput } from '../audit/entry.js';
import type { AuditLedger } from '../audit/store.js';
import type { EnvironmentDocument } from '../config/schema.js';
import type { PlumblineError } from '../errors.js';
import {
  evaluate,
  loadPolicies,
  type PolicyResource,
  readEnvironmentDocuments,
  readEnvironmentManifests,
  type Verdict,
  verdictMessage,
} from '../policy/index.js';
import type { RouterStatsSource } from '../rollouts/analysis/types.js';
import type { AnalysisRunner, RolloutRouter } from '../rollouts/types.js';
import {
  CONTROLLER_EVENT,
  type ControllerApi,
  type ControllerEvent,
  type LogLine,
  type SyncAccepted,
} from '../server/controller-api.js';
import { NotFoundError } from '../server/errors.js';
import type { Metrics } from '../server/metrics.js';
import { envValuesOf, type SecretResolver, SecretsError } from '../sops/index.js';
import type { ControllerStore, SyncRecord } from '../store/controller-store.js';
import { summarisePlan } from '../store/controller-store.js';
import type { SupervisorClient } from '../targets/local/supervisor/client.js';
import type { Target } from '../targets/types.js';
import { planEnvironment } from './plan.js';
import { readEnvironments, renderEnvironment } from './render.js';
import { appPorts, isRevisionTarget, RolloutManager } from './rollouts.js';
import { GitSource, nextPollDelay } from './source.js';
import type { DesiredApp, PhaseFailure, Plan } from './types.js';

export interface ControllerOptions {
  readonly repo: string;
  readonly branch: string;
  readonly dataDir: string;
  readonly store: ControllerStore;
  readonly target: Target;
  readonly logger: Logger;
  readonly metrics?: Metrics;
  /** For `logs`: the local target's supervisor. */
  readonly supervisor?: SupervisorClient;
  /** Overrides every environment's poll interval (tests). */
  readonly intervalMs?: number;
  /** How often a release folder is compared with Git, per app (default 60 s). */
  readonly releaseCheckMs?: number;
  /** Resolves Apps' secret references (SOPS files with the controller's age identity, Vault). */
  readonly secrets?: SecretResolver;
  /** The audit ledger: every decision is appended, in the transaction of the state change it describes. */
  readonly ledger?: AuditLedger;
  /** The router: with a target that can start revisions, Apps with a strategy roll out (src/gitops/rollouts.ts). */
  readonly router?: RolloutRouter & RouterStatsSource;
  /** The rollouts' analysis (default: the environment's AnalysisTemplates over the router's stats). */
  readonly analysis?: (environment: string) => AnalysisRunner;
}

interface Loop {
  wake(): void;
  done: Promise<void>;
}

/** What one reconcile pass produced. */
type Outcome =
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly failure: PhaseFailure };

export class Controller implements ControllerApi {
  readonly events = new EventEmitter();
  readonly #options: ControllerOptions;
  readonly #source: GitSource;
  readonly #loops = new Map<string, Loop>();
  readonly #reconciled = new Set<string>();
  readonly #releaseChecked = new Map<string, number>();
  #environments: EnvironmentDocument[] = [];
  #abort = new AbortController();
  readonly #rollouts: RolloutManager | undefined;
  #fetching: Promise<void> = Promise.resolve();
  /** Per environment, the decisions of the pass under way, appended with its sync record. */
  readonly #decisions = new Map<string, AuditEntryInput[]>();
  /** Per environment, the policy verdicts of the last pass and the releases they judged. */
  readonly #verdicts = new Map<string, { key: string; verdicts: Verdict[] }>();
  /** Per environment, the last failure recorded in the ledger (so a repeated one is recorded once). */
  readonly #lastFailure = new Map<string, string>();

  constructor(options: ControllerOptions) {
    this.#options = options;
    this.#source = new GitSource({ url: options.repo, cacheDir: join(options.dataDir, 'source') });
    this.events.setMaxListeners(100);
    // Every rollout and health wait listens to the controller's stop signal.
    setMaxListeners(0, this.#abort.signal);
    this.#rollouts =
      options.router !== undefined && isRevisionTarget(options.target)
        ? new RolloutManager({
            store: options.store,
            target: options.target,
            router: options.router,
            source: this.#source,
            repo: options.repo,
            branch: options.branch,
            dataDir: options.dataDir,
            logger: options.logger,
            ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
            ...(options.analysis === undefined ? {} : { analysis: options.analysis }),
            signal: this.#abort.signal,
            environments: () => this.#environments,
            // Through #emit: rollout.* events are audit ledger entries too.
            emit: (event) => this.#emit(event),
            wake: (environment) => this.#loops.get(environment)?.wake(),
            resolveSecrets: async (app, release, signal) =>
              (await this.#resolveSecrets([app], release, signal))[0] ?? app,
          })
        : undefined;
  }

  /** Canary and blue-green rollouts, pins and rollbacks (absent without a router and a revision target). */
  get rollouts(): RolloutManager | undefined {
    return this.#rollouts;
  }

  /** Reads the environments at the branch head and starts one loop per environment. */
  async start(): Promise<void> {
    const signal = this.#abort.signal;
    const { release } = await this.#fetch(signal);
    this.#environments = readEnvironments(release);
    await this.#rollouts?.resumeAll();
    for (const env of this.#environments) this.#startLoop(env.metadata.name);
    this.#emit({
      type: 'controller.started',
      message: `watching ${this.#source.displayUrl} (${this.#options.branch}): ${this.#environments.map((e) => e.metadata.name).join(', ')}`,
    });
  }

  /** Stops the loops; the supervisor and router keep the apps running. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error('controller stopping'));
    await Promise.allSettled([...this.#loops.values()].map((l) => l.done));
    await this.#rollouts?.stop();
  }

  ready(): boolean {
    return (
      this.#environments.length > 0 && this.#environments.every((e) => this.#reconciled.has(e.metadata.name))
    );
  }

  async listEnvironments() {
    return this.#options.store.listEnvironments();
  }

  async getEnvironment(name: string) {
    return this.#options.store.getEnvironment(name);
  }

  async listApps(environment: string) {
    const apps = await this.#options.store.listApps(environment);
    return apps.map(({ spec: _spec, ...rest }) => rest);
  }

  async history(environment: string, limit: number): Promise<readonly SyncRecord[]> {
    return this.#options.store.listHistory(environment, limit);
  }

  async requestSync(environment: string): Promise<SyncAccepted> {
    const loop = this.#loops.get(environment);
    if (loop === undefined) throw new NotFoundError(`no environment "${environment}"`);
    loop.wake();
    return { accepted: true, syncId: randomUUID() };
  }

  /** Wakes every environment (a verified webhook for the watched branch). */
  syncAll(): void {
    for (const loop of this.#loops.values()) loop.wake();
  }

  async diff(environment: string): Promise<Plan> {
    const env = this.#environments.find((e) => e.metadata.name === environment);
    if (env === undefined) throw new NotFoundError(`no environment "${environment}"`);
    const { commit, release } = await this.#fetch(this.#abort.signal);
    const rendered = await renderEnvironment(release, env, {
      revision: commit,
      gitDir: this.#source.cacheDir,
    });
    if (rendered.problems.length > 0) throw rendered.problems[0] as PlumblineError;
    return planEnvironment({
      environment,
      revision: commit,
      desired: rendered.apps,
      applied: await this.#options.store.listApplied(environment),
      prune: env.spec.sync.prune,
    });
  }

  async logs(environment: string, app: string, tail: number): Promise<readonly LogLine[]> {
    const supervisor = this.#options.supervisor;
    if (supervisor === undefined) return [];
    const prefix = `${environment}/${app}/`;
    const lines: LogLine[] = [];
    for (const instance of await supervisor.list()) {
      if (!instance.id.startsWith(prefix)) continue;
      for (const line of await supervisor.logs(instance.id, tail)) {
        lines.push({ at: new Date().toISOString(), stream: 'stdout', instance: instance.id, line });
      }
    }
    return lines.slice(-tail);
  }

  #startLoop(environment: string): void {
    let wake: () => void = () => {};
    // A wake-up that arrives while a pass runs is kept, so the next pass starts at once instead of after a poll.
    let pending = false;
    const signal = this.#abort.signal;
    const done = (async () => {
      let failures = 0;
      while (!signal.aborted) {
        wake = () => {
          pending = true;
        };
        const outcome = await this.reconcile(environment).catch((error: unknown) => ({
          ok: false as const,
          failure: {
            phase: 'record' as const,
            reason: 'InternalError',
            message: (error as Error).message,
            terminal: false,
          },
        }));
        this.#reconciled.add(environment);
        failures = outcome.ok || outcome.failure.terminal ? 0 : failures + 1;
        const env = this.#environments.find((e) => e.metadata.name === environment);
        const interval = this.#options.intervalMs ?? env?.spec.sync.intervalMs ?? 60_000;
        // Transient failures retry sooner, backing off exponentially up to the poll interval.
        const delay = failures > 0 ? Math.min(interval, 500 * 2 ** Math.min(failures, 10)) : interval;
        if (pending) {
          pending = false;
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, nextPollDelay(delay));
          const stop = (): void => {
            clearTimeout(timer);
            resolve();
          };
          wake = () => {
            pending = false;
            stop();
          };
          signal.addEventListener('abort', stop, { once: true });
        });
      }
    })();
    this.#loops.set(environment, { wake: () => wake(), done });
  }

  /** One reconcile pass of one environment. */
  async reconcile(environment: string): Promise<Outcome> {
    const { store, logger, metrics } = this.#options;
    const signal = this.#abort.signal;
    const log = logger.child({ environment });
    const started = new Date();
    let revision = '';
    let outcome: Outcome | undefined;
    this.#decisions.set(environment, []);
    try {
      outcome = await this.#reconcile(environment, signal, (r) => {
        revision = r;
      });
      return outcome;
    } finally {
      // Record, whatever happened.
      const finished = new Date();
      const result =
        outcome === undefined || !outcome.ok
          ? 'failed'
          : outcome.plan.steps.every((s) => s.action === 'unchanged')
            ? 'skipped'
            : 'succeeded';
      const failure = outcome !== undefined && !outcome.ok ? outcome.failure : undefined;
      const plan = outcome?.ok === true ? outcome.plan : undefined;
      const decisions = this.#decisions.get(environment) ?? [];
      this.#decisions.delete(environment);
      // A failure that repeats the last one (same revision, reason and words: a terminal failure waiting for
      // a commit, polled again) is the same decision, not a new one: the ledger records it once.
      const failureKey =
        failure === undefined ? undefined : `${revision}\n${failure.reason}\n${failure.message}`;
      const repeated = failureKey !== undefined && this.#lastFailure.get(environment) === failureKey;
      if (failureKey === undefined) this.#lastFailure.delete(environment);
      else this.#lastFailure.set(environment, failureKey);
      await store
        .transaction(async (tx) => {
          await tx.recordSync({
            environment,
            revision,
            startedAt: started.toISOString(),
            finishedAt: finished.toISOString(),
            result,
            reason: failure?.reason ?? (result === 'skipped' ? 'UpToDate' : 'Synced'),
            message: failure?.message ?? (plan === undefined ? '' : planMessage(plan)),
            planSummary:
              plan === undefined
                ? { create: 0, update: 0, delete: 0, unchanged: 0, withheld: 0 }
                : summarisePlan(plan),
          });
          // A pass that changed nothing is not a decision; drift it found (and healed) still is.
          const recorded =
            result === 'skipped' || repeated
              ? decisions.filter((d) => d.action.startsWith('drift.'))
              : decisions;
          await this.#options.ledger?.appendMany(
            [
              ...recorded,
              ...(result === 'skipped' || repeated
                ? []
                : [
                    {
                      at: finished,
                      actor: CONTROLLER_ACTOR,
                      action: `sync.${result}`,
                      subject: { environment, ...(revision === '' ? {} : { revision, commit: revision }) },
                      after: {
                        reason: failure?.reason ?? 'Synced',
                        ...(failure === undefined
                          ? {}
                          : { phase: failure.phase, terminal: failure.terminal }),
                        ...(plan === undefined ? {} : { plan: { ...summarisePlan(plan) } }),
                      },
                      reason: failure?.message ?? (plan === undefined ? '' : planMessage(plan)),
                    },
                  ]),
            ],
            tx.db,
          );
        })
        .catch((error: unknown) => log.error({ err: error }, 'could not record the sync'));
      metrics?.observeSync(environment, result, (finished.getTime() - started.getTime()) / 1000);
      if (failure !== undefined) {
        log.warn(
          { phase: failure.phase, reason: failure.reason, terminal: failure.terminal },
          failure.message,
        );
        this.#emit({
          type: 'sync.failed',
          environment,
          revision,
          message: failure.message,
          data: { phase: failure.phase, reason: failure.reason },
        });
      }
    }
  }

  /** The policy verdicts on an environment's documents at a revision (nothing when it has no policies). */
  async #judge(env: EnvironmentDocument, release: string, signal: AbortSignal): Promise<Verdict[]> {
    // Verdicts depend only on the two releases (folders written once per commit): a poll of an unchanged
    // commit reuses them instead of reading and judging every document again.
    const live = (await this.#options.store.getEnvironment(env.metadata.name))?.liveRevision;
    const key = `${release}\n${live ?? ''}`;
    const cached = this.#verdicts.get(env.metadata.name);
    if (cached?.key === key) return cached.verdicts;
    const verdicts = await this.#judgeNow(env, release, live, signal);
    this.#verdicts.set(env.metadata.name, { key, verdicts });
    return verdicts;
  }

  async #judgeNow(
    env: EnvironmentDocument,
    release: string,
    live: string | null | undefined,
    signal: AbortSignal,
  ): Promise<Verdict[]> {
    const policies = loadPolicies(release);
    if (policies.instances.length === 0) return [];
    const resources = await environmentResources(release, env, signal);
    const previous =
      live === null || live === undefined ? undefined : join(this.#options.dataDir, 'releases', live);
    if (previous !== undefined && existsSync(previous)) {
      const before = new Map(
        (await environmentResources(previous, env, signal).catch(() => [])).map((r) => [
          resourceKey(r),
          r.doc,
        ]),
      );
      for (const [index, resource] of resources.entries()) {
        const old = before.get(resourceKey(resource));
        if (old !== undefined && old !== null) resources[index] = { ...resource, oldObject: old };
      }
    }
    return evaluate(policies, resources);
  }

  /** Each app with secret references, with its secrets resolved (`secretEnv`) and folded into its hash. */
  async #resolveSecrets(
    apps: readonly DesiredApp[],
    release: string,
    signal: AbortSignal,
  ): Promise<readonly DesiredApp[]> {
    if (!apps.some((app) => app.spec.process.secretRefs !== undefined)) return apps;
    const resolver = this.#options.secrets;
    return await Promise.all(
      apps.map(async (app) => {
        if (app.spec.process.secretRefs === undefined) return app;
        if (resolver === undefined) {
          throw new SecretsError(
            'no-identity',
            `${app.source.file}:${app.source.line}: app ${app.name} references secrets, and this controller has no age identity or Vault`,
            {
              hint: 'start plumbline up with --age-identity-file FILE or --age-identity-env NAME (and VAULT_ADDR for Vault)',
            },
          );
        }
        const resolved = await resolver.resolveEnv(envValuesOf(app.spec.process), {
          repoDir: release,
          app: app.name,
          source: app.source,
          signal,
        });
        const secretEnv: Record<string, string> = {};
        for (const name of resolved.secretNames) secretEnv[name] = resolved.env[name] as string;
        // Which keys were decrypted, from where: never a value.
        this.#decide({
          actor: CONTROLLER_ACTOR,
          action: 'secret.decrypted',
          subject: {
            environment: app.environment,
            app: app.name,
            revision: app.revision,
            commit: app.revision,
          },
          after: {
            variables: [...resolved.secretNames].sort(),
            from: Object.entries(app.spec.process.secretRefs)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([name, ref]) =>
                'vault' in ref
                  ? `${name} ← vault ${ref.vault.path}#${ref.vault.key}`
                  : `${name} ← ${ref.file}#${ref.key}`,
              ),
          },
        });
        const specHash =
          resolved.digest === ''
            ? app.specHash
            : createHash('sha256').update(`${app.specHash}\n${resolved.digest}`).digest('hex');
        return { ...app, specHash, secretEnv };
      }),
    );
  }

  async #reconcile(
    environment: string,
    signal: AbortSignal,
    setRevision: (r: string) => void,
  ): Promise<Outcome> {
    const { store, target, logger, metrics } = this.#options;
    const log = logger.child({ environment });
    const fail = async (failure: PhaseFailure, desiredRevision: string | null): Promise<Outcome> => {
      const previous = await store.getEnvironment(environment);
      await store.putEnvironment({
        name: environment,
        desiredRevision,
        liveRevision: previous?.liveRevision ?? null,
        phase: failure.phase === 'apply' || failure.phase === 'health' ? 'Degraded' : 'Failed',
        conditions: [condition('Ready', 'False', failure.reason, failure.message)],
      });
      return { ok: false, failure };
    };

    // The environment's row first: apps, inventory and history hang off it.
    if ((await store.getEnvironment(environment)) === undefined) {
      await store.putEnvironment({
        name: environment,
        desiredRevision: null,
        liveRevision: null,
        phase: 'Progressing',
        conditions: [condition('Ready', 'False', 'FirstSync', 'the first sync is running')],
      });
    }

    // source
    let commit: string;
    let release: string;
    try {
      ({ commit, release } = await this.#fetch(signal));
    } catch (error) {
      return fail(
        { phase: 'source', reason: 'FetchFailed', message: messageOf(error), terminal: false },
        null,
      );
    }
    setRevision(commit);
    const log2 = log.child({ revision: commit.slice(0, 12) });

    // render + validate
    let env: EnvironmentDocument | undefined;
    try {
      this.#environments = readEnvironments(release);
      env = this.#environments.find((e) => e.metadata.name === environment);
    } catch (error) {
      return fail(
        {
          phase: 'validate',
          reason: 'InvalidConfiguration',
          message: `${messageOf(error)}; the previous revision keeps running`,
          terminal: true,
        },
        commit,
      );
    }
    if (env === undefined) {
      return fail(
        {
          phase: 'render',
          reason: 'EnvironmentRemoved',
          message: `plumbline.yaml at ${commit.slice(0, 12)} no longer defines "${environment}"; its apps keep running`,
          terminal: true,
        },
        commit,
      );
    }
    const rendered = await renderEnvironment(release, env, {
      revision: commit,
      gitDir: this.#source.cacheDir,
      signal,
    });
    if (rendered.problems.length > 0) {
      const first = rendered.problems
        .slice(0, 3)
        .map((p) => p.message)
        .join('; ');
      return fail(
        {
          phase: 'validate',
          reason: 'InvalidManifests',
          message: `${first}; the previous revision keeps running until a commit fixes it`,
          terminal: true,
        },
        commit,
      );
    }

    // policy: the repository's policies judge the environment's documents as written in Git, with the
    // live revision's as oldObject — the same engine and inputs as `plumbline check`'s policy analyzer
    let verdicts: Verdict[];
    try {
      verdicts = await this.#judge(env, release, signal);
    } catch (error) {
      return fail(
        {
          phase: 'validate',
          reason: 'InvalidPolicy',
          message: `${messageOf(error)}; the previous revision keeps running until a commit fixes it`,
          terminal: true,
        },
        commit,
      );
    }
    const denied = verdicts.filter(
      (v) => v.action === 'Deny' && (v.result === 'fail' || v.result === 'error'),
    );
    for (const v of verdicts) {
      if (v.result !== 'fail' && v.result !== 'error') continue;
      const text = verdictText(v, environment);
      if (v.action === 'Warn') log2.warn({ policy: v.policy, file: v.file, line: v.line }, text);
      else if (v.action === 'Audit')
        log2.info({ policy: v.policy, file: v.file, line: v.line, audit: true }, text);
      if (v.action !== 'Deny') {
        this.#emit({
          type: `policy.${v.action.toLowerCase()}`,
          environment,
          revision: commit,
          message: text,
        });
      }
    }
    if (denied.length > 0) {
      const shown = denied
        .slice(0, 3)
        .map((v) => verdictText(v, environment))
        .join('; ');
      const more = denied.length > 3 ? ` (and ${denied.length - 3} more)` : '';
      this.#emit({ type: 'policy.denied', environment, revision: commit, message: `${shown}${more}` });
      return fail(
        {
          phase: 'validate',
          reason: 'PolicyDenied',
          message: `${shown}${more}; the previous revision keeps running until a commit fixes it`,
          terminal: true,
        },
        commit,
      );
    }
    const warned = verdicts.filter(
      (v) => v.action === 'Warn' && (v.result === 'fail' || v.result === 'error'),
    );

    // secrets: decrypted into memory for the instances; only a keyed digest of them reaches the spec hash,
    // so a changed secret redeploys the apps that use it
    let desiredApps: readonly DesiredApp[];
    try {
      desiredApps = await this.#resolveSecrets(rendered.apps, release, signal);
    } catch (error) {
      const transient = error instanceof SecretsError && error.transient;
      return fail(
        {
          phase: 'render',
          reason: 'SecretUnavailable',
          message: `${messageOf(error)}; the previous revision keeps running${transient ? '' : ' until a commit fixes it'}`,
          terminal: !transient,
        },
        commit,
      );
    }

    // plan
    const applied = await store.listApplied(environment);
    const plan = planEnvironment({
      environment,
      revision: commit,
      desired: desiredApps,
      applied,
      prune: env.spec.sync.prune,
    });
    const desiredByName = new Map(desiredApps.map((a) => [a.name, a]));
    target.reservePorts?.(environment, rendered.apps.flatMap(appPorts));
    this.#rollouts?.setTemplates(environment, rendered.templates);

    // apply (in dependsOn order); an app whose dependency did not become healthy waits
    const notReady = new Map<string, string>();
    let degraded: PhaseFailure | undefined;
    if (!env.spec.sync.auto && plan.steps.some((s) => s.action !== 'unchanged')) {
      await store.putEnvironment({
        name: environment,
        desiredRevision: commit,
        liveRevision: (await store.getEnvironment(environment))?.liveRevision ?? null,
        phase: 'OutOfSync',
        conditions: [
          condition('Ready', 'False', 'AutoSyncDisabled', 'changes are waiting for `plumbline sync`'),
        ],
      });
      return { ok: true, plan };
    }
    for (const step of plan.steps) {
      const app = step.after;
      if (step.action === 'delete' && step.before !== undefined) {
        // A rollout of it stops first (its rollback would route the port again), its pin and quarantine go.
        await this.#rollouts?.forget(environment, step.app);
        await target.remove(environment, step.app, step.before.spec.port, signal);
        await store.transaction(async (tx) => {
          await tx.removeApplied(environment, step.app);
          await this.#options.ledger?.append(
            {
              actor: CONTROLLER_ACTOR,
              action: 'app.pruned',
              subject: { environment, app: step.app, revision: commit, commit },
              before: { revision: step.before?.revision ?? '', specHash: step.before?.specHash ?? '' },
              reason: `${step.app} is no longer in Git and prune is on`,
            },
            tx.db,
          );
        });
        await store.deleteApp(environment, step.app);
        metrics?.forgetApp(environment, step.app);
        this.#emit({
          type: 'app.deleted',
          environment,
          app: step.app,
          revision: commit,
          message: `${step.app} pruned`,
        });
        continue;
      }
      if (app === undefined) continue;
      // Pinned, quarantined, or rolled out in the background: the rollouts take it from here.
      const held = await this.#rollouts?.intercept(step, release);
      if (held !== undefined) {
        if (!held.ready) notReady.set(app.name, held.message);
        continue;
      }
      if (step.action === 'unchanged') continue;
      const blocker = app.spec.dependsOn.find((d) => notReady.has(d));
      if (blocker !== undefined) {
        const message = `waiting for ${blocker} to become healthy; the previous revision keeps running`;
        notReady.set(app.name, message);
        await this.#putApp(app, 'Progressing', message, step.before?.revision ?? null);
        continue;
      }
      await this.#putApp(
        app,
        'Progressing',
        `deploying ${commit.slice(0, 12)}`,
        step.before?.revision ?? null,
      );
      this.#emit({
        type: 'app.deploying',
        environment,
        app: app.name,
        revision: commit,
        message: `${step.action} ${app.name}`,
      });
      const result = await target.deploy(app, release, signal);
      if (!result.ok) {
        notReady.set(app.name, result.message);
        degraded = {
          phase: 'health',
          reason: result.reason,
          message: `${app.name}: ${result.message}`,
          terminal: true,
        };
        await this.#putApp(app, 'Degraded', result.message, step.before?.revision ?? null);
        metrics?.setAppPhase(environment, app.name, 'Degraded');
        log2.warn({ app: app.name, reason: result.reason }, result.message);
        continue;
      }
      await store.transaction(async (tx) => {
        await tx.putApplied({
          environment,
          name: app.name,
          revision: commit,
          specHash: app.specHash,
          spec: app.spec,
        });
        await this.#options.ledger?.append(
          {
            actor: CONTROLLER_ACTOR,
            action: 'app.deployed',
            subject: { environment, app: app.name, revision: commit, commit },
            before:
              step.before === undefined
                ? null
                : { revision: step.before.revision, specHash: step.before.specHash },
            after: { revision: commit, specHash: app.specHash, replicas: app.spec.replicas },
            reason: step.changes.join('; ').slice(0, 5000),
          },
          tx.db,
        );
      });
      await this.#putApp(
        app,
        'Synced',
        `running ${app.spec.replicas} instance(s) of ${commit.slice(0, 12)}`,
        commit,
      );
      metrics?.setAppPhase(environment, app.name, 'Synced');
      metrics?.setInstances(environment, app.name, app.spec.replicas);
      this.#emit({
        type: 'app.synced',
        environment,
        app: app.name,
        revision: commit,
        message: `${app.name} is live at ${commit.slice(0, 12)}`,
      });
    }

    // health: drift between what was applied and what runs
    const drifted = await this.#checkDrift(environment, env, desiredByName, release, signal);
    if (degraded !== undefined) return fail(degraded, commit);
    // An App mid-rollout: the environment is not at this commit yet, whatever the rest did.
    const rolling = desiredApps
      .filter((a) => this.#rollouts?.isActive(environment, a.name) === true)
      .map((a) => a.name);
    const outOfSync = drifted.length > 0 && !env.spec.sync.selfHeal;
    await store.putEnvironment({
      name: environment,
      desiredRevision: commit,
      liveRevision:
        rolling.length > 0 && !outOfSync
          ? ((await store.getEnvironment(environment))?.liveRevision ?? null)
          : commit,
      phase: outOfSync ? 'OutOfSync' : rolling.length > 0 ? 'Progressing' : 'Synced',
      conditions: outOfSync
        ? [condition('Ready', 'False', 'Drift', `live state differs from Git: ${drifted.join('; ')}`)]
        : rolling.length > 0
          ? [
              condition(
                'Ready',
                'False',
                'RolloutInProgress',
                `rolling out ${rolling.join(', ')} at ${commit.slice(0, 12)}; see plumbline rollout status`,
              ),
            ]
          : [
              condition(
                'Ready',
                'True',
                'Synced',
                `${rendered.apps.length} app(s) at ${commit.slice(0, 12)}`,
              ),
              ...(warned.length === 0
                ? []
                : [
                    condition(
                      'PolicyWarnings',
                      'True',
                      'PolicyWarn',
                      warned.map((v) => verdictText(v, environment)).join('; '),
                    ),
                  ]),
            ],
    });
    return { ok: true, plan };
  }

  /** Finds apps whose instances or routes are missing; heals them with selfHeal, else reports them. */
  async #checkDrift(
    environment: string,
    env: EnvironmentDocument,
    desired: ReadonlyMap<string, DesiredApp>,
    release: string,
    signal: AbortSignal,
  ): Promise<string[]> {
    const { store, target, metrics } = this.#options;
    const live = new Map((await target.observe(environment, signal)).map((a) => [a.name, a]));
    const drifted: string[] = [];
    for (const applied of await store.listApplied(environment)) {
      if (this.#rollouts?.isActive(environment, applied.name) === true) continue; // both revisions run
      const now = live.get(applied.name);
      const running =
        now?.instances.filter((i) => i.state === 'running' || i.state === 'starting').length ?? 0;
      // Hashing a release folder costs a git run per app: at most once per releaseCheckMs each.
      const key = `${environment}/${applied.name}/${applied.revision}`;
      const due =
        (this.#releaseChecked.get(key) ?? 0) + (this.#options.releaseCheckMs ?? 60_000) <= Date.now();
      const changed = due
        ? await this.#source
            .releaseChanges(
              applied.revision,
              join(this.#options.dataDir, 'releases', applied.revision),
              applied.spec.process.cwd,
              signal,
            )
            .catch(() => [])
        : [];
      if (due) this.#releaseChecked.set(key, Date.now());
      if (changed.length > 0) {
        const what = `${applied.name}: release folder changed (${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ', …' : ''})`;
        drifted.push(what);
        metrics?.recordDrift(environment);
        if (env.spec.sync.selfHeal) {
          await this.#source.restoreRelease(
            applied.revision,
            join(this.#options.dataDir, 'releases', applied.revision),
            applied.spec.process.cwd,
            signal,
          );
          this.#emit({
            type: 'drift.healed',
            environment,
            app: applied.name,
            message: `${what}; restored from Git`,
          });
        } else {
          this.#emit({ type: 'drift.detected', environment, app: applied.name, message: what });
        }
      }
      const problem =
        now === undefined
          ? 'no instances'
          : running < applied.spec.replicas
            ? `${running} of ${applied.spec.replicas} instances running`
            : !now.routed
              ? `port ${applied.spec.port} is not routed`
              : undefined;
      if (problem === undefined) continue;
      drifted.push(`${applied.name}: ${problem}`);
      metrics?.recordDrift(environment);
      const app = desired.get(applied.name);
      if (env.spec.sync.selfHeal && app !== undefined && app.specHash === applied.specHash) {
        this.#emit({
          type: 'drift.healing',
          environment,
          app: applied.name,
          message: `${applied.name}: ${problem}; self-healing`,
        });
        const result = await (this.#rollouts?.guardedHeal(app, () => target.deploy(app, release, signal)) ??
          target.deploy(app, release, signal));
        this.#emit({
          type: result.ok ? 'drift.healed' : 'drift.failed',
          environment,
          app: applied.name,
          message: result.ok ? `${applied.name} healed` : result.message,
        });
      } else {
        this.#emit({
          type: 'drift.detected',
          environment,
          app: applied.name,
          message: `${applied.name}: ${problem}`,
        });
      }
    }
    return drifted;
  }

  async #putApp(
    app: DesiredApp,
    phase: 'Synced' | 'Progressing' | 'Degraded',
    message: string,
    liveRevision: string | null,
  ): Promise<void> {
    await this.#options.store.putApp({
      environment: app.environment,
      name: app.name,
      desiredRevision: app.revision,
      liveRevision,
      phase,
      message,
      spec: app.spec,
      specHash: app.specHash,
    });
  }

  /** Fetches the branch and materialises its head into a release folder (once per commit). */
  /**
   * Fetches and materialises the branch head, one caller at a time: every environment's loop shares the one
   * mirror and release folders, and two git fetches at once fight over the mirror's ref locks.
   */
  #fetch(signal: AbortSignal): Promise<{ commit: string; release: string }> {
    const run = this.#fetching.then(() => this.#fetchNow(signal));
    this.#fetching = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #fetchNow(signal: AbortSignal): Promise<{ commit: string; release: string }> {
    await this.#source.sync(signal);
    const commit = await this.#source.resolve(this.#options.branch, signal);
    const releases = join(this.#options.dataDir, 'releases');
    mkdirSync(releases, { recursive: true });
    const release = join(releases, commit);
    if (!existsSync(release)) await this.#source.materialise(commit, release, signal);
    return { commit, release };
  }

  /**
   * A decision for the ledger: during an environment's pass it waits for the pass's sync record (one
   * transaction); outside a pass (a rollout's step) it is appended at once.
   */
  #decide(entry: AuditEntryInput): void {
    const ledger = this.#options.ledger;
    if (ledger === undefined) return;
    const environment = entry.subject?.environment;
    const buffer = environment === undefined ? undefined : this.#decisions.get(environment);
    if (buffer !== undefined) buffer.push(entry);
    else
      void ledger
        .append(entry)
        .catch((error: unknown) =>
          this.#options.logger.error({ err: error }, 'could not append to the audit ledger'),
        );
  }

  #emit(event: Omit<ControllerEvent, 'at'>): void {
    if (AUDITED_EVENT.test(event.type)) {
      this.#decide({
        actor: CONTROLLER_ACTOR,
        // The ledger's actions are dotted lower case: rollout.rolledBack → rollout.rolled_back.
        action: event.type.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase(),
        subject: {
          ...(event.environment === undefined ? {} : { environment: event.environment }),
          ...(event.app === undefined ? {} : { app: event.app }),
          ...(event.revision === undefined ? {} : { revision: event.revision, commit: event.revision }),
        },
        reason: event.message,
      });
    }
    this.events.emit(CONTROLLER_EVENT, { ...event, at: new Date().toISOString() } satisfies ControllerEvent);
  }
}

/** The documents of one environment as the policy analyzer reads them: its Environment, then its folder's. */
async function environmentResources(
  repoDir: string,
  env: EnvironmentDocument,
  signal: AbortSignal,
): Promise<PolicyResource[]> {
  const written = readEnvironmentDocuments(repoDir).find((e) => e.name === env.metadata.name);
  const manifests = await readEnvironmentManifests(repoDir, env, {
    ...(written === undefined
      ? {}
      : {
          environmentDocument: written.doc,
          environmentSource: { file: 'plumbline.yaml', line: written.line },
        }),
    signal,
  });
  return [...manifests.resources];
}

function resourceKey(resource: PolicyResource): string {
  const doc = resource.doc as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
  return `${String(doc?.kind)}/${String(doc?.metadata?.namespace ?? '')}/${String(doc?.metadata?.name)}`;
}

/** A verdict in the words of `plumbline check`'s finding for it, then where the document is. */
function verdictText(v: Verdict, environment: string): string {
  return `${verdictMessage(v, [environment])} at ${v.file}:${v.line}`;
}

/** Who the controller's own decisions are by. */
const CONTROLLER_ACTOR = { kind: 'controller', id: 'plumbline-controller' } as const;

/** Events that are decisions (the ledger's), beyond the syncs and deploys recorded with their state. */
const AUDITED_EVENT = /^(drift\.(healed|detected|failed)|policy\.|secret\.|rollout\.|app\.deploy_failed)/;

function condition(type: string, status: 'True' | 'False', reason: string, message: string) {
  return { type, status, reason, message, at: new Date().toISOString() } as const;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function planMessage(plan: Plan): string {
  const s = summarisePlan(plan);
  return `${s.create} created, ${s.update} updated, ${s.delete} deleted, ${s.unchanged} unchanged${s.withheld > 0 ? `, ${s.withheld} deletes withheld` : ''}`;
}
