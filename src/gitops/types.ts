// The contracts of the GitOps controller (`plumbline up`): what Git says should run, what was applied, and
// the plan between them. Schemas for the Environment and App documents live in config/schema.ts.
import type { Strategy } from '../rollouts/strategy.js';

/** An App as the repository declares it at one revision, after rendering and validation. */
export interface DesiredApp {
  readonly environment: string;
  readonly name: string;
  /** The Git commit the App was read from. */
  readonly revision: string;
  readonly spec: AppSpec;
  /** sha256 of the canonical JSON of `spec` (plus the revision's content digest for the app's cwd). */
  readonly specHash: string;
  /** Where the document was found, for messages: repository-relative path and line. */
  readonly source: { readonly file: string; readonly line: number };
  /**
   * The decrypted values of `spec.process.secretRefs`, in memory only: handed to the instances' environment,
   * never stored, logged, shown or diffed (only their digest reaches `specHash`).
   */
  readonly secretEnv?: Readonly<Record<string, string>>;
}

/** A reference to a secret: a key of a SOPS file in the repository, or a key of a Vault KV v2 secret. */
export type SecretRefSpec =
  | { readonly file: string; readonly key: string }
  | { readonly vault: { readonly path: string; readonly key: string } };

export interface AppSpec {
  readonly process: {
    readonly command: readonly string[];
    /** Relative to the repository root, at the revision being deployed. */
    readonly cwd: string;
    readonly env: Readonly<Record<string, string>>;
    /** Variables whose values come from secrets, resolved by the controller at apply time. */
    readonly secretRefs?: Readonly<Record<string, SecretRefSpec>>;
  };
  /** Where the router serves this app on this host. */
  readonly port: number;
  readonly replicas: number;
  readonly health: {
    readonly http: { readonly path: string };
    readonly intervalMs: number;
    readonly timeoutMs: number;
  };
  readonly dependsOn: readonly string[];
  /** A progressive rollout (canary or blue-green) instead of an all-at-once switch; src/gitops/rollouts.ts. */
  readonly strategy?: Strategy;
}

/** What the controller applied last, per environment and app (the stored inventory). */
export interface AppliedApp {
  readonly environment: string;
  readonly name: string;
  readonly revision: string;
  readonly specHash: string;
  readonly spec: AppSpec;
}

export type PlanAction = 'create' | 'update' | 'delete' | 'unchanged';

export interface PlanStep {
  readonly action: PlanAction;
  readonly app: string;
  readonly before?: AppliedApp;
  readonly after?: DesiredApp;
  /** Human-readable lines: `~ replicas: 2 → 3`, `+ env.GREETING: hello`. */
  readonly changes: readonly string[];
}

export interface Plan {
  readonly environment: string;
  readonly revision: string;
  /** In dependsOn order: an App comes after everything it depends on (deletes last, in reverse). */
  readonly steps: readonly PlanStep[];
  /** Deletes that prune is off for, or that the empty-render guard refused. */
  readonly withheld: readonly { readonly app: string; readonly reason: string }[];
}

/** The phase of an environment or app, best first. */
export const PHASES = ['Synced', 'Progressing', 'OutOfSync', 'Degraded', 'Failed'] as const;
export type Phase = (typeof PHASES)[number];

/** A failure of a reconcile phase: terminal ones wait for a new commit, transient ones are retried. */
export interface PhaseFailure {
  readonly phase: 'source' | 'render' | 'validate' | 'plan' | 'apply' | 'health' | 'record';
  readonly reason: string;
  readonly message: string;
  readonly terminal: boolean;
}
