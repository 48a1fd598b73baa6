// Health of local app instances: HTTP probes, polling until healthy, and the pure rules that turn instance
// states and probe results into a health phase.
import type { InstanceState } from './supervisor/protocol.js';

export interface ProbeResult {
  /** A 2xx or 3xx answer. */
  readonly ok: boolean;
  readonly status?: number;
  /** Why there was no answer (refused, timed out, …) or why it is unhealthy. */
  readonly error?: string;
  readonly latencyMs: number;
}

export interface ProbeOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Whether an HTTP status counts as healthy (2xx or 3xx; redirects are not followed). */
export function isHealthyStatus(status: number): boolean {
  return status >= 200 && status < 400;
}

/** One GET of `url`. Never throws for the target's failures; only an abort of `signal` rejects. */
export async function probeHttp(url: string, options: ProbeOptions): Promise<ProbeResult> {
  options.signal?.throwIfAborted();
  const signals = [AbortSignal.timeout(options.timeoutMs)];
  if (options.signal !== undefined) signals.push(options.signal);
  const started = performance.now();
  const latency = (): number => Math.round((performance.now() - started) * 10) / 10;
  try {
    const response = await fetch(url, {
      method: 'GET',
      redirect: 'manual',
      signal: AbortSignal.any(signals),
      headers: { 'user-agent': 'plumbline-health' },
    });
    await response.body?.cancel().catch(() => {});
    const ok = isHealthyStatus(response.status);
    return ok
      ? { ok, status: response.status, latencyMs: latency() }
      : { ok, status: response.status, error: `HTTP ${response.status}`, latencyMs: latency() };
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason;
    return { ok: false, error: describeFetchError(error, options.timeoutMs), latencyMs: latency() };
  }
}

/** A short reason for a failed fetch: the system error code when there is one. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = error instanceof Error ? (error.cause as NodeJS.ErrnoException | undefined) : undefined;
  if (cause?.code !== undefined) return cause.code;
  return error instanceof Error ? error.message : String(error);
}

export interface WaitHealthyOptions {
  /** Between the start of one probe and the next. */
  readonly intervalMs: number;
  /** Per probe. */
  readonly timeoutMs: number;
  /** How long to keep starting probes, from the call. */
  readonly deadlineMs: number;
  readonly signal?: AbortSignal;
}

/**
 * Probes until one succeeds or the deadline passes, and returns the last result (ok or not). At least one
 * probe runs, and every probe gets its whole `timeoutMs`: the deadline bounds when the last probe starts, so
 * the call can take up to `deadlineMs + timeoutMs`. An abort of `signal` rejects with its reason.
 */
export async function waitHealthy(url: string, options: WaitHealthyOptions): Promise<ProbeResult> {
  const deadline = Date.now() + options.deadlineMs;
  for (;;) {
    const started = Date.now();
    const result = await probeHttp(url, { timeoutMs: options.timeoutMs, signal: options.signal });
    if (result.ok) return result;
    const wait = Math.max(0, options.intervalMs - (Date.now() - started));
    if (Date.now() + wait >= deadline) return result;
    await sleep(wait, options.signal);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Health phases, best first. */
export const HEALTH_PHASES = ['Healthy', 'Progressing', 'Degraded', 'Missing'] as const;
export type HealthPhase = (typeof HEALTH_PHASES)[number];

/** Negative when `a` is better than `b`, for sorting best first. */
export function compareHealth(a: HealthPhase, b: HealthPhase): number {
  return HEALTH_PHASES.indexOf(a) - HEALTH_PHASES.indexOf(b);
}

/** The worst of some phases; `Missing` for none. */
export function worstHealth(phases: Iterable<HealthPhase>): HealthPhase {
  let worst: HealthPhase | undefined;
  for (const phase of phases) if (worst === undefined || compareHealth(phase, worst) > 0) worst = phase;
  return worst ?? 'Missing';
}

export interface InstanceHealthInput {
  /** The supervisor's state, or undefined when it has no such instance. */
  readonly state: InstanceState | undefined;
  /** The latest probe, if any ran since the process started. */
  readonly probe?: Pick<ProbeResult, 'ok'>;
  /** How long the current process has been up. */
  readonly uptimeMs?: number;
  /** How long a running instance may fail its probe before it counts as Degraded rather than Progressing. */
  readonly startupGraceMs?: number;
}

/**
 * One instance's phase: Healthy when running and its probe passes; Progressing while it starts (or fails
 * its probe within the start-up grace); Degraded when it crash-loops, cannot start or keeps failing its
 * probe; Missing when the supervisor has nothing running for it.
 */
export function instanceHealth(input: InstanceHealthInput): HealthPhase {
  switch (input.state) {
    case undefined:
    case 'stopped':
    case 'stopping':
      return 'Missing';
    case 'failed':
    case 'backoff':
      return 'Degraded';
    case 'starting':
      return 'Progressing';
    case 'running': {
      if (input.probe?.ok === true) return 'Healthy';
      const grace = input.startupGraceMs ?? 30_000;
      return (input.uptimeMs ?? 0) < grace ? 'Progressing' : 'Degraded';
    }
  }
}

/**
 * An app's phase from its instances' phases and the replicas it wants: Healthy when at least `replicas` are
 * Healthy, Missing when none exist, otherwise the worst phase among those not Healthy.
 */
export function appHealth(instances: readonly HealthPhase[], replicas: number): HealthPhase {
  const healthy = instances.filter((phase) => phase === 'Healthy').length;
  if (healthy >= replicas) return 'Healthy';
  const present = instances.filter((phase) => phase !== 'Missing');
  if (present.length === 0) return 'Missing';
  const others = present.filter((phase) => phase !== 'Healthy');
  // Fewer than wanted but everything present is healthy: the rest are still to come.
  return others.length === 0 ? 'Progressing' : worstHealth(others);
}
