// The one door to CEL for analysis conditions (`result >= 0.99`): compile once to check a template, evaluate
// per measurement. Only this file imports the CEL library, so another can replace it without touching the rest.
// It is loaded on first use: a configuration read for the gate (which may also hold templates, once their kind
// is registered) does not pay for it until a condition is checked.
import { createRequire } from 'node:module';
import type * as Cel from '@bufbuild/cel';
import type { CelEnv, CelInput } from '@bufbuild/cel';

/** The values a condition can read: `result`, and for comparisons `canary` and `stable`. */
export type ConditionVars = Readonly<Record<string, unknown>>;

export type CompileResult = { ok: true } | { ok: false; message: string };

type Expr = ReturnType<typeof Cel.parse>['expr'];
type Program = ReturnType<typeof Cel.plan>;

/** Compiled conditions by source: templates are few and their conditions are evaluated again and again. */
const programs = new Map<string, Program>();
const MAX_CACHED = 1_000;

let loaded: { cel: typeof Cel; env: CelEnv } | undefined;

function library(): { cel: typeof Cel; env: CelEnv } {
  if (loaded === undefined) {
    // require() keeps the load synchronous (zod refinements are); the package ships CommonJS for it.
    const cel = createRequire(import.meta.url)('@bufbuild/cel') as typeof Cel;
    loaded = { cel, env: cel.celEnv() };
  }
  return loaded;
}

/**
 * Checks a condition without running it: the syntax, and that every variable it reads is one of `allowed`
 * (a misspelt `reslt` is a template error, not a measurement error at 3 a.m.).
 */
export function compileCondition(expr: string, allowed: readonly string[]): CompileResult {
  let parsed: ReturnType<typeof Cel.parse>;
  try {
    parsed = library().cel.parse(expr);
  } catch (error) {
    return { ok: false, message: `not a valid CEL expression: ${firstLine(error)}` };
  }
  const unknown = [...freeIdentifiers(parsed.expr)].filter((name) => !allowed.includes(name));
  if (unknown.length > 0) {
    return {
      ok: false,
      message: `unknown variable ${unknown.map((n) => JSON.stringify(n)).join(', ')}; a condition can read ${allowed.join(', ')}`,
    };
  }
  return { ok: true };
}

/** Evaluates a condition to a boolean; throws an Error (with the CEL message) otherwise. */
export function evaluateCondition(expr: string, vars: ConditionVars): boolean {
  const { cel, env } = library();
  let program = programs.get(expr);
  if (program === undefined) {
    program = cel.plan(env, cel.parse(expr));
    if (programs.size >= MAX_CACHED) programs.clear();
    programs.set(expr, program);
  }
  const bindings: Record<string, CelInput> = {};
  for (const [name, value] of Object.entries(vars)) bindings[name] = toCel(value);
  const value = program(bindings);
  if (cel.isCelError(value))
    throw new Error(`the condition ${JSON.stringify(expr)} failed: ${value.message}`);
  if (typeof value !== 'boolean') {
    throw new Error(`the condition ${JSON.stringify(expr)} gave ${describe(value)}, not true or false`);
  }
  return value;
}

/** JSON-like values as CEL sees them: numbers are doubles, objects maps, arrays lists. */
function toCel(value: unknown): CelInput {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'object') {
    const out = new Map<string, CelInput>();
    for (const [key, item] of Object.entries(value)) out.set(key, toCel(item));
    return out;
  }
  return String(value);
}

/** The identifiers an expression reads that no comprehension inside it binds. */
function freeIdentifiers(root: Expr): Set<string> {
  const free = new Set<string>();
  const visit = (expr: Expr | undefined, bound: ReadonlySet<string>): void => {
    if (expr === undefined) return;
    const kind = expr.exprKind;
    switch (kind.case) {
      case 'identExpr':
        if (!bound.has(kind.value.name)) free.add(kind.value.name);
        return;
      case 'selectExpr':
        visit(kind.value.operand, bound);
        return;
      case 'callExpr':
        visit(kind.value.target, bound);
        for (const arg of kind.value.args) visit(arg, bound);
        return;
      case 'listExpr':
        for (const element of kind.value.elements) visit(element, bound);
        return;
      case 'structExpr':
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value, bound);
          visit(entry.value, bound);
        }
        return;
      case 'comprehensionExpr': {
        const c = kind.value;
        visit(c.iterRange, bound);
        visit(c.accuInit, bound);
        const inner = new Set([...bound, c.iterVar, c.iterVar2, c.accuVar].filter((n) => n !== ''));
        visit(c.loopCondition, inner);
        visit(c.loopStep, inner);
        visit(c.result, new Set([...bound, c.accuVar]));
        return;
      }
      default:
        return;
    }
  };
  visit(root, new Set());
  return free;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'string')
    return `${typeof value} ${JSON.stringify(value)}`;
  return typeof value;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).replace(/^syntax error: /, '');
}
