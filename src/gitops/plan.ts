// Plan (pure): what to create, update and delete so an environment runs what Git says, in dependsOn order,
// with readable field-level changes (secret-looking env values never shown), prune honoured, and a guard
// that never deletes everything because a render came out empty.
import type { Strategy } from '../rollouts/strategy.js';
import { formatDuration } from './duration.js';
import type { AppliedApp, AppSpec, DesiredApp, Plan, PlanStep } from './types.js';

export interface PlanInput {
  readonly environment: string;
  readonly revision: string;
  readonly desired: readonly DesiredApp[];
  readonly applied: readonly AppliedApp[];
  /** The environment's spec.sync.prune: delete apps that are no longer in Git. */
  readonly prune: boolean;
  /**
   * Let an empty render delete every applied app. Off by default: an empty render is far more often a broken
   * path or branch than a wish to stop everything.
   */
  readonly allowEmpty?: boolean;
}

/** Env names whose values are never printed. */
const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE/i;

export function planEnvironment(input: PlanInput): Plan {
  const desired = new Map(input.desired.map((app) => [app.name, app]));
  const applied = new Map(input.applied.map((app) => [app.name, app]));

  const forward: PlanStep[] = [];
  for (const name of topologicalOrder(new Map([...desired].map(([n, a]) => [n, a.spec.dependsOn])))) {
    const after = desired.get(name);
    if (after === undefined) continue;
    const before = applied.get(name);
    if (before === undefined) {
      forward.push({ action: 'create', app: name, after, changes: diffSpecs(undefined, after.spec) });
    } else if (before.specHash === after.specHash) {
      forward.push({ action: 'unchanged', app: name, before, after, changes: [] });
    } else {
      const changes = diffSpecs(before.spec, after.spec);
      if (changes.length === 0) {
        const what =
          after.spec.process.secretRefs === undefined
            ? `code in ${after.spec.process.cwd}`
            : `code in ${after.spec.process.cwd} or a referenced secret`;
        changes.push(`~ ${what}: changed (${short(before.revision)} → ${short(after.revision)})`);
      }
      forward.push({ action: 'update', app: name, before, after, changes });
    }
  }

  const gone = [...applied.values()].filter((app) => !desired.has(app.name));
  const withheld: { app: string; reason: string }[] = [];
  const deletes: PlanStep[] = [];
  const emptyRender = desired.size === 0 && applied.size > 0 && input.allowEmpty !== true;
  // Dependents go before what they depend on: the reverse of the start order.
  const order = topologicalOrder(new Map(gone.map((app) => [app.name, app.spec.dependsOn]))).reverse();
  for (const name of order) {
    const before = applied.get(name);
    if (before === undefined) continue;
    if (emptyRender) {
      withheld.push({
        app: name,
        reason:
          'the render produced no apps at all, so nothing is deleted (a wrong path or branch looks like this); ' +
          'to really remove every app, delete them explicitly or allow an empty render',
      });
    } else if (!input.prune) {
      withheld.push({
        app: name,
        reason: `no longer in Git, and prune is off for ${input.environment} (spec.sync.prune)`,
      });
    } else {
      deletes.push({ action: 'delete', app: name, before, changes: [] });
    }
  }

  return {
    environment: input.environment,
    revision: input.revision,
    steps: [...forward, ...deletes],
    withheld,
  };
}

/**
 * Names in an order where each comes after what it depends on (dependencies outside the map are ignored);
 * ties in alphabetical order; names caught in a cycle (render refuses those) last, alphabetically.
 */
export function topologicalOrder(dependsOn: ReadonlyMap<string, readonly string[]>): string[] {
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const [name, deps] of dependsOn) {
    const known = [...new Set(deps)].filter((dep) => dependsOn.has(dep) && dep !== name);
    waiting.set(name, known.length);
    for (const dep of known) {
      const list = dependents.get(dep);
      if (list === undefined) dependents.set(dep, [name]);
      else list.push(name);
    }
  }
  // Kahn's algorithm with a min-heap of the ready names: O((n + e) log n), alphabetical among ties.
  const ready = new MinHeap();
  for (const [name, count] of waiting) if (count === 0) ready.push(name);
  const order: string[] = [];
  for (let name = ready.pop(); name !== undefined; name = ready.pop()) {
    order.push(name);
    for (const dependent of dependents.get(name) ?? []) {
      const left = (waiting.get(dependent) ?? 0) - 1;
      waiting.set(dependent, left);
      if (left === 0) ready.push(dependent);
    }
  }
  const placed = new Set(order);
  const stuck = [...dependsOn.keys()].filter((name) => !placed.has(name)).sort();
  return [...order, ...stuck];
}

/** A binary min-heap of strings (code-unit order, as `Array.prototype.sort` without a comparator). */
class MinHeap {
  readonly #items: string[] = [];

  push(item: string): void {
    const items = this.#items;
    items.push(item);
    let index = items.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((items[parent] as string) <= item) break;
      items[index] = items[parent] as string;
      index = parent;
    }
    items[index] = item;
  }

  pop(): string | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as string) < (items[left] as string) ? right : left;
      if ((items[child] as string) >= last) break;
      items[index] = items[child] as string;
      index = child;
    }
    items[index] = last;
    return top;
  }
}

/** `~ replicas: 2 → 3`, `+ env.NEW: x`, `- env.OLD`; secret-looking env values as `(changed)`/`(hidden)`. */
export function diffSpecs(before: AppSpec | undefined, after: AppSpec | undefined): string[] {
  const a = before === undefined ? new Map<string, string>() : flatten(before);
  const b = after === undefined ? new Map<string, string>() : flatten(after);
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort(
    (x, y) => fieldRank(x) - fieldRank(y) || x.localeCompare(y),
  );
  const lines: string[] = [];
  for (const key of keys) {
    const old = a.get(key);
    const now = b.get(key);
    const secret = key.startsWith('env.') && SECRET_NAME.test(key.slice(4));
    if (old === undefined && now !== undefined) lines.push(`+ ${key}: ${secret ? '(hidden)' : now}`);
    else if (old !== undefined && now === undefined) lines.push(`- ${key}`);
    else if (old !== now) lines.push(`~ ${key}: ${secret ? '(changed)' : `${old} → ${now}`}`);
  }
  return lines;
}

const FIELD_ORDER = [
  'process.command',
  'process.cwd',
  'env.',
  'port',
  'replicas',
  'health.http.path',
  'health.interval',
  'health.timeout',
  'dependsOn',
  'strategy',
];

function fieldRank(key: string): number {
  return FIELD_ORDER.indexOf(key.startsWith('env.') ? 'env.' : key);
}

/** A spec as ordered `field → shown value` pairs, env variables one per entry. */
function flatten(spec: AppSpec): Map<string, string> {
  const out = new Map<string, string>();
  out.set('process.command', list(spec.process.command));
  out.set('process.cwd', spec.process.cwd);
  for (const name of Object.keys(spec.process.env).sort()) {
    out.set(`env.${name}`, quote(spec.process.env[name] ?? ''));
  }
  // A reference shows where the secret comes from, never its value.
  for (const [name, ref] of Object.entries(spec.process.secretRefs ?? {}).sort(([a], [b]) =>
    a.localeCompare(b),
  )) {
    out.set(
      `env.${name}`,
      'vault' in ref ? `secret vault:${ref.vault.path}#${ref.vault.key}` : `secret ${ref.file}#${ref.key}`,
    );
  }
  out.set('port', String(spec.port));
  out.set('replicas', String(spec.replicas));
  out.set('health.http.path', spec.health.http.path);
  out.set('health.interval', formatDuration(spec.health.intervalMs));
  out.set('health.timeout', formatDuration(spec.health.timeoutMs));
  out.set('dependsOn', list(spec.dependsOn));
  if (spec.strategy !== undefined) out.set('strategy', describeStrategy(spec.strategy));
  return out;
}

/** `canary [setWeight 10, pause 30s, analysis success-rate, pause until promoted]`, `blueGreen [preview 18080, …]`. */
export function describeStrategy(strategy: Strategy): string {
  if ('canary' in strategy) {
    const c = strategy.canary;
    const parts = c.steps.map((step) =>
      'setWeight' in step
        ? `setWeight ${step.setWeight}`
        : 'analysis' in step
          ? `analysis ${step.analysis.templates.join('+')}`
          : step.pause.durationMs === undefined
            ? 'pause until promoted'
            : `pause ${formatDuration(step.pause.durationMs)}`,
    );
    if (c.stickiness !== undefined) parts.push(`stickiness ${c.stickiness}`);
    if (c.headerRoute !== undefined) parts.push(`headerRoute ${c.headerRoute.name}=${c.headerRoute.value}`);
    return `canary [${parts.join(', ')}]`;
  }
  const b = strategy.blueGreen;
  const parts: string[] = [];
  if (b.previewPort !== undefined) parts.push(`preview ${b.previewPort}`);
  if (b.prePromotionAnalysis !== undefined)
    parts.push(`analysis ${b.prePromotionAnalysis.templates.join('+')}`);
  parts.push(
    b.autoPromote === 'manual'
      ? 'promote manually'
      : b.autoPromote.afterMs === 0
        ? 'promote when ready'
        : `promote after ${formatDuration(b.autoPromote.afterMs)}`,
  );
  parts.push(`scale down after ${formatDuration(b.scaleDownDelayMs)}`);
  return `blueGreen [${parts.join(', ')}]`;
}

function list(values: readonly string[]): string {
  return `[${values.map(quote).join(', ')}]`;
}

/** A value as is when it is plain, JSON-quoted when spaces, commas or nothing would hide its edges. */
function quote(value: string): string {
  return /^[\w./:@=+-]+$/.test(value) ? value : JSON.stringify(value);
}

function short(revision: string): string {
  return revision.slice(0, 7);
}

const SIGN = { create: '+', update: '~', delete: '-', unchanged: '=' } as const;

/** The text `plumbline diff ENV` prints. */
export function formatPlan(plan: Plan): string {
  const count = (action: PlanStep['action']): number => plan.steps.filter((s) => s.action === action).length;
  const summary = [
    `${count('create')} to create`,
    `${count('update')} to update`,
    `${count('delete')} to delete`,
    `${count('unchanged')} unchanged`,
    ...(plan.withheld.length > 0 ? [`${plan.withheld.length} withheld`] : []),
  ].join(', ');
  const lines = [`Plan for ${plan.environment} at ${short(plan.revision)}: ${summary}`];
  const unchanged: string[] = [];
  for (const step of plan.steps) {
    if (step.action === 'unchanged') {
      unchanged.push(step.app);
      continue;
    }
    lines.push('', `${SIGN[step.action]} ${step.action} ${step.app}`);
    for (const change of step.changes) lines.push(`    ${change}`);
  }
  if (unchanged.length > 0) lines.push('', `= unchanged: ${unchanged.join(', ')}`);
  if (plan.withheld.length > 0) {
    lines.push('', 'Withheld deletes:');
    for (const w of plan.withheld) lines.push(`  ! ${w.app}: ${w.reason}`);
  }
  if (plan.steps.every((s) => s.action === 'unchanged') && plan.withheld.length === 0) {
    lines.push('', 'No changes: the environment matches Git.');
  }
  return `${lines.join('\n')}\n`;
}
