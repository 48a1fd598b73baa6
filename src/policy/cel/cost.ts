// The cost limit: a hostile or careless expression (nested comprehensions over large lists, a string that
// doubles in a loop) must stop instead of hanging the controller. Every function call and every
// comprehension iteration charges the meter (one unit, plus a tenth of a unit per element or character of
// the values involved, as Kubernetes estimates string and list work); going over the limit throws at once.
// The limits are Kubernetes' own: 1,000,000 per expression (PerCallLimit) and 10,000,000 per policy and
// object (RuntimeCELCostBudget), about 0.1 s and 1 s of work.
import { type CelValue, isCelList, isCelMap } from '@bufbuild/cel';

export const PER_EXPRESSION_LIMIT = 1_000_000;
export const PER_EVALUATION_BUDGET = 10_000_000;

export class CostLimitError extends Error {
  readonly limit: number;
  readonly scope: 'expression' | 'evaluation';
  constructor(limit: number, scope: 'expression' | 'evaluation') {
    super(
      scope === 'expression'
        ? `the expression exceeded the cost limit of ${limit.toLocaleString('en')} units and was stopped`
        : `the policy exceeded its cost budget of ${limit.toLocaleString('en')} units for one object and was stopped`,
    );
    this.name = 'CostLimitError';
    this.limit = limit;
    this.scope = scope;
  }
}

/** Counts the cost of one policy's evaluation against one object; each expression also has its own limit. */
export class CostMeter {
  private total = 0;
  private expression = 0;
  private exceeded: CostLimitError | undefined;

  constructor(
    readonly expressionLimit = PER_EXPRESSION_LIMIT,
    readonly budget = PER_EVALUATION_BUDGET,
  ) {}

  /** Starts counting a new expression (the budget keeps counting across expressions). */
  startExpression(): void {
    this.expression = 0;
    if (this.exceeded?.scope === 'expression') this.exceeded = undefined;
  }

  charge(units: number): void {
    if (this.exceeded !== undefined) throw this.exceeded;
    this.expression += units;
    this.total += units;
    if (this.expression > this.expressionLimit) {
      this.exceeded = new CostLimitError(this.expressionLimit, 'expression');
    } else if (this.total > this.budget) {
      this.exceeded = new CostLimitError(this.budget, 'evaluation');
    }
    if (this.exceeded !== undefined) throw this.exceeded;
  }

  /** Set once a limit was hit: CEL's error absorption (`error || true`) must not hide it. */
  get limitError(): CostLimitError | undefined {
    return this.exceeded;
  }

  get used(): number {
    return this.total;
  }
}

/** Elements or characters in a value: what its traversal or copy costs. */
export function sizeOf(value: CelValue | undefined): number {
  if (typeof value === 'string') return value.length;
  if (value instanceof Uint8Array) return value.length;
  if (isCelList(value) || isCelMap(value)) return value.size;
  return 0;
}

// The meter of the evaluation running now. Evaluation is synchronous, so one slot is enough; library
// functions that do more than constant work (regex, sorting) charge it directly.
let active: CostMeter | undefined;

export function withMeter<T>(meter: CostMeter, run: () => T): T {
  const previous = active;
  active = meter;
  try {
    return run();
  } finally {
    active = previous;
  }
}

export function charge(units: number): void {
  active?.charge(units);
}
