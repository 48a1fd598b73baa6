// What the HTTP API needs from the controller. The controller (`plumbline up`) implements it; the server
// only talks to this interface, so it can be built and tested without Git, targets or processes.
import type { EventEmitter } from 'node:events';
import type { Plan } from '../gitops/types.js';
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
}
