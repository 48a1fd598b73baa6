// The rollout engine's contracts with the rest of Plumbline: the analysis it calls (injected, so the engine
// does not depend on how analysis is done), the status it reports, the events it emits, and its outcomes.
import type { RouterClient } from '../targets/local/router/client.js';

/** What an analysis judges: the App, where it is served, and the two revisions (router labels). */
export interface AnalysisContext {
  readonly environment: string;
  /** The App's name. */
  readonly app: string;
  /** The router port the judged traffic arrives on: the App's, or a blue-green preview port. */
  readonly port: number;
  /** The new revision's router label. */
  readonly revision: string;
  /** The serving revision's router label. */
  readonly stableRevision: string;
}

export type AnalysisPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

export interface AnalysisVerdict {
  readonly phase: AnalysisPhase;
  readonly message: string;
  /** The measurements behind the verdict, as plain JSON (kept in the rollout's status). */
  readonly metrics?: unknown;
}

/**
 * Runs the named AnalysisTemplates to a verdict (their limits applied). Failed and Error roll back;
 * Inconclusive pauses for a person. Aborted through `signal` when the rollout no longer needs the answer.
 */
export type AnalysisRunner = (
  templates: readonly string[],
  context: AnalysisContext,
  signal: AbortSignal,
) => Promise<AnalysisVerdict>;

/** Best first, like the controller's phases. */
export const ROLLOUT_PHASES = [
  'Healthy',
  'Progressing',
  'Paused',
  'Promoting',
  'Degraded',
  'Aborted',
] as const;
/**
 * Progressing: starting instances, moving weight, running analysis. Paused: waiting for a duration, for
 * `promote`, or for a person after an inconclusive analysis. Promoting: all traffic is going (or went) to the
 * new revision, the old one is kept for the scale-down delay. Healthy: done, the old revision stopped.
 * Degraded: rolled back on its own (failed health or analysis, or an error). Aborted: rolled back by a person.
 */
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

export type FailureReason = 'analysis' | 'health' | 'aborted' | 'error';

/** Why a revision was rolled back, for the status and the quarantine ("revision X failed analysis Y at step Z"). */
export interface RolloutFailure {
  readonly reason: FailureReason;
  /** The failed revision's commit. */
  readonly revision: string;
  /** The templates of the failed analysis. */
  readonly analysis?: readonly string[];
  /** 1-based, in the order of the rollout's steps. */
  readonly step?: number;
  readonly message: string;
  /** When the failure was found, and when all traffic was on the stable revision again (ISO). */
  readonly at: string;
  readonly restoredAt?: string;
}

export interface AnalysisRecord {
  /** 1-based step. */
  readonly step: number;
  readonly templates: readonly string[];
  readonly port: number;
  readonly phase: AnalysisPhase;
  readonly message: string;
  readonly metrics?: unknown;
  readonly at: string;
}

export interface RolloutStatus {
  readonly environment: string;
  readonly app: string;
  readonly strategy: 'canary' | 'blueGreen';
  /** The new revision: its commit and router label. */
  readonly revision: string;
  readonly label: string;
  /** The serving revision's router label; null for a first deploy. */
  readonly stableRevision: string | null;
  readonly phase: RolloutPhase;
  readonly message: string;
  /** 1-based index of the step running (the last once all ran, named `done`), and how many there are. */
  readonly step: { readonly index: number; readonly total: number; readonly name: string };
  /** Percent of the App port's new requests per revision label. */
  readonly weights: Readonly<Record<string, number>>;
  readonly preview?: { readonly port: number; readonly revision: string };
  readonly pause?: { readonly reason: PauseReason; readonly until?: string };
  readonly analysis: readonly AnalysisRecord[];
  readonly failure?: RolloutFailure;
  readonly attempt: number;
  readonly startedAt: string;
  readonly updatedAt: string;
}

/** `step`: a pause step; `promotion`: blue-green waiting to promote; `inconclusive`: analysis asked a person. */
export type PauseReason = 'step' | 'promotion' | 'inconclusive';

export type RolloutEventType =
  /** A rollout began (or began again after `retry`). */
  | 'rollout.started'
  /** Re-adopted after a controller restart. */
  | 'rollout.adopted'
  /** A step began. */
  | 'rollout.step'
  /** The router confirmed new weights. */
  | 'rollout.weight'
  /** The preview port serves the new revision. */
  | 'rollout.preview'
  | 'rollout.paused'
  /** A pause ended (its time passed, or `promote`). */
  | 'rollout.resumed'
  /** An analysis verdict. */
  | 'rollout.analysis'
  /** All traffic on the new revision (confirmed). */
  | 'rollout.promoted'
  /** The old revision stopped: the rollout is done. */
  | 'rollout.completed'
  /** Rolled back on its own (health, analysis, error); traffic is on the stable revision again. */
  | 'rollout.rolledBack'
  /** Rolled back by `abort`. */
  | 'rollout.aborted'
  /** Stopped where it was by the controller's shutdown; `Rollout.resume` carries on. */
  | 'rollout.suspended';

export interface RolloutEvent {
  readonly type: RolloutEventType;
  readonly at: string;
  readonly message: string;
  readonly status: RolloutStatus;
  /** With `rollout.analysis`. */
  readonly analysis?: AnalysisRecord;
  /** With `rollout.rolledBack` and `rollout.aborted`. */
  readonly failure?: RolloutFailure;
}

/** How a rollout attempt ended. */
export type RolloutResult =
  | { readonly outcome: 'promoted'; readonly revision: string; readonly message: string }
  | {
      readonly outcome: 'rolledBack';
      readonly revision: string;
      readonly failure: RolloutFailure;
      readonly message: string;
    }
  | { readonly outcome: 'suspended'; readonly revision: string; readonly message: string };

/** What the rollout does with the router: read the table, set a route (confirmed), remove a preview route. */
export type RolloutRouter = Pick<RouterClient, 'routes' | 'setRoutes' | 'removeRoute'>;

/** A structured logger (pino's Logger fits). */
export interface RolloutLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
