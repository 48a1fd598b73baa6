// What the HTTP API needs from the controller. The controller (`plumbline up`) implements it; the server
// only talks to this interface, so it can be built and tested without Git, targets or processes.
import type { EventEmitter } from 'node:events';
import type { Phase, Plan } from '../gitops/types.js';
import type { RolloutStatus } from '../rollouts/types.js';
import type { AppState, EnvironmentState, SyncRecord } from '../store/controller-store.js';

export type EnvironmentStatus = EnvironmentState;
/** An app's status as the API shows it: no spec (its env values stay on the server), the spec's hash. */
export type AppStatus = Omit<AppState, 'spec'>;
export type { SyncRecord };

export interface LogLine {
  /** ISO 8601. */
  readonly at: string;
  readonly stream: 'stdout' | 'stderr';
  /** Which instance (replica) wrote it. */
  readonly instance: string;
  readonly line: string;
}

/** One thing that happened, as `events` emits it under `CONTROLLER_EVENT` and `/api/v1/events` streams it. */
export interface ControllerEvent {
  /** Dotted and stable: `sync.started`, `sync.succeeded`, `sync.failed`, `app.phase`, `drift.detected`… */
  readonly type: string;
  /** ISO 8601. */
  readonly at: string;
  readonly environment?: string;
  readonly app?: string;
  readonly revision?: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** The EventEmitter event name every `ControllerEvent` is emitted under. */
export const CONTROLLER_EVENT = 'event';

export interface SyncAccepted {
  readonly accepted: true;
  /** The id the sync will be recorded under in history. */
  readonly syncId: string;
}

/** An app's progressive delivery: its rollout (the current one, or the last), pin and quarantined revisions. */
export interface AppRolloutStatus {
  readonly environment: string;
  readonly app: string;
  /** Git's revision of the app, and the revision serving it (the stable one during a rollout, or the pin). */
  readonly desiredRevision: string | null;
  readonly liveRevision: string | null;
  readonly phase: Phase;
  readonly message: string;
  /** A rollout is running (or paused) now. */
  readonly active: boolean;
  readonly rollout: RolloutStatus | null;
  readonly pin: {
    readonly revision: string;
    readonly pinnedBy: string;
    readonly reason: string;
    readonly createdAt: string;
  } | null;
  readonly quarantine: readonly {
    readonly revision: string;
    readonly specHash: string;
    readonly reason: string;
    readonly createdAt: string;
  }[];
  /** After `rollback --revert`: the commit pushed to the watched branch. */
  readonly revert?: { readonly commit: string; readonly branch: string };
}

export interface RollbackRequest {
  /** A revision applied before (a commit id or a prefix of at least 4 hex digits); default: the previous one. */
  readonly to?: string;
  /** Also push a commit that brings Git back to that revision, then unpin. */
  readonly revert?: boolean;
  readonly reason?: string;
}

/** Progressive delivery's actions; `by` names who asked (for the pin, the log and the audit). */
export interface RolloutApi {
  status(environment: string, app: string): Promise<AppRolloutStatus>;
  /** Ends the pause; `full` promotes now, skipping every step left. */
  promote(
    environment: string,
    app: string,
    options: { readonly full?: boolean },
    by: string,
  ): Promise<AppRolloutStatus>;
  /** Rolls back now: all traffic to the stable revision; the revision is quarantined. */
  abort(environment: string, app: string, by: string): Promise<AppRolloutStatus>;
  /** Lifts the quarantine and starts the rolled-back rollout again. */
  retry(environment: string, app: string, by: string): Promise<AppRolloutStatus>;
  /** Pins the app to an earlier revision and deploys it; auto-sync leaves it there until `unpin`. */
  rollback(environment: string, app: string, request: RollbackRequest, by: string): Promise<AppRolloutStatus>;
  /** Returns the app to Git's revision (the next sync deploys it). */
  unpin(environment: string, app: string, by: string): Promise<AppRolloutStatus>;
}

/**
 * The controller as the API sees it. The server checks that an environment (and, for logs, an app) exists
 * before it calls the other methods; a method may still throw `NotFoundError` (src/server/errors.ts) when
 * the environment disappears in between, or `ConflictError` when a request cannot be honoured now.
 */
export interface ControllerApi {
  listEnvironments(): Promise<readonly EnvironmentStatus[]>;
  getEnvironment(name: string): Promise<EnvironmentStatus | undefined>;
  listApps(environment: string): Promise<readonly AppStatus[]>;
  /** The newest `limit` syncs, newest first. */
  history(environment: string, limit: number): Promise<readonly SyncRecord[]>;
  /** Queues a sync of the environment (or of one app in it) and returns at once. */
  requestSync(environment: string, app?: string): Promise<SyncAccepted>;
  /** What a sync would do now. */
  diff(environment: string): Promise<Plan>;
  /** The last `tail` lines the app's processes wrote, oldest first. */
  logs(environment: string, app: string, tail: number): Promise<readonly LogLine[]>;
  /** Ready to serve: the store is open and the first reconcile of every environment has run. */
  ready(): boolean;
  /** Emits `ControllerEvent`s under `CONTROLLER_EVENT`. */
  readonly events: EventEmitter;
  /** Canary and blue-green rollouts, pins and rollbacks; absent when the target cannot run them. */
  readonly rollouts?: RolloutApi;
}
