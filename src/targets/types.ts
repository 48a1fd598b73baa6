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
