// The contract every target implements: run a desired App, remove one, and say what is live. The local
// target (supervised processes behind our router) is the embedded default; Kubernetes comes later.
import type { DesiredApp } from '../gitops/types.js';

export type DeployResult =
  | { readonly ok: true; readonly instances: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly message: string };

export interface LiveApp {
  readonly environment: string;
  readonly name: string;
  /** The spec hash the running instances were started from. */
  readonly specHash: string | undefined;
  readonly instances: readonly { readonly id: string; readonly state: string; readonly restarts: number }[];
  /** The router serves the app's port with these instances. */
  readonly routed: boolean;
}

/** One instance of a revision, as the router names it. */
export interface RevisionInstance {
  readonly id: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The router's revision label for it. */
  readonly revision: string;
}

export type StartRevisionResult =
  | { readonly ok: true; readonly instances: readonly RevisionInstance[] }
  | { readonly ok: false; readonly reason: string; readonly message: string };

export interface StartRevisionOptions {
  /** The router's label for the instances; the commit's first 12 characters unless told. */
  readonly revision?: string;
  /** Ports no instance may take besides the App's own (a blue-green preview port). */
  readonly avoidPorts?: readonly number[];
  readonly signal: AbortSignal;
}

/**
 * What a progressive rollout needs of a target besides `deploy`: start a revision's instances beside the
 * ones serving (without routing them), and stop instances once the router no longer sends them anything.
 */
export interface RevisionTarget {
  /**
   * Starts every replica of `app` (instances already running with the same spec are kept, not restarted)
   * and waits until each passes its health check; on a failure it stops the ones it started.
   */
  startRevision(
    app: DesiredApp,
    releaseDir: string,
    options: StartRevisionOptions,
  ): Promise<StartRevisionResult>;
  /** The ids `startRevision` gives `app`'s instances (known before they start, so an abort can stop them). */
  instanceIds(app: DesiredApp): string[];
  /** Stops instances (SIGTERM, then SIGKILL after the grace); ids that are not running are skipped. */
  stopInstances(ids: readonly string[], signal: AbortSignal): Promise<void>;
}

export interface Target {
  /** Starts the new instances, waits until they are healthy, switches traffic, then stops the old ones. */
  deploy(app: DesiredApp, releaseDir: string, signal: AbortSignal): Promise<DeployResult>;
  remove(environment: string, name: string, port: number, signal: AbortSignal): Promise<void>;
  observe(environment: string, signal: AbortSignal): Promise<LiveApp[]>;
  /**
   * The ports an environment's Apps declare, told before each apply: a target that picks ports for
   * instances keeps clear of them, so an instance never takes the port an App is about to be served on.
   */
  reservePorts?(environment: string, ports: readonly number[]): void;
}
