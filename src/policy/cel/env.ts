// The CEL environment policies run in: CEL-ES's standard library and strings extension, the Kubernetes
// libraries (library/), and the parser extensions (rewrite.ts). Every function call goes through one wrapper
// that charges the cost meter, so the limit applies to the standard functions too.
import {
  type CelEnv,
  type CelFunc,
  type CelInput,
  type CelValue,
  celEnv,
  celFunc,
  celMethod,
  isCelError,
  plan,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { Expr } from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { CostMeter, charge, sizeOf, withMeter } from './cost.js';
import { celEquals, DYN } from './library/common.js';
import { listFunctions } from './library/lists.js';
import { netFunctions } from './library/net.js';
import { optionalFunctions } from './library/optional.js';
import { quantityFunctions } from './library/quantity.js';
import { semverFunctions } from './library/semver.js';
import { stringFunctions } from './library/strings.js';
import { urlFunctions } from './library/url.js';
import { CelSyntaxError, freeIdentifiers, INTERNAL, parseCel, qualifiedName, walk } from './rewrite.js';
import { isOptional, OPTIONAL, optionalValue, TYPE_REGISTRY } from './types.js';

/** A CEL expression that failed while evaluating (a missing field, a bad conversion, …). */
export class CelEvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CelEvalError';
  }
}

/** An expression that parses but cannot run here: an unknown variable or function. */
export class CelCompileError extends Error {
  readonly column: number | undefined;
  constructor(message: string, column?: number) {
    super(message);
    this.name = 'CelCompileError';
    this.column = column;
  }
}

const LIBRARY: CelFunc[] = [
  ...strings,
  ...stringFunctions,
  ...listFunctions,
  ...optionalFunctions,
  ...quantityFunctions,
  ...netFunctions,
  ...urlFunctions,
  ...semverFunctions,
  celFunc(INTERNAL.tick, [DYN], DYN, (v) => v),
  ...authorizerStubs(),
];

/**
 * The Kubernetes authorizer library's methods, declared so that policies using them load; the engine never
 * binds `authorizer` (there is no API server to ask), and evaluating such an expression is an error.
 */
function authorizerStubs(): CelFunc[] {
  const fail = (): never => {
    throw new Error(
      'authorizer checks need a Kubernetes API server; Plumbline evaluates policies without one',
    );
  };
  const methods: [string, number][] = [
    ['path', 1],
    ['group', 1],
    ['serviceAccount', 2],
    ['resource', 1],
    ['subresource', 1],
    ['namespace', 1],
    ['name', 1],
    ['check', 1],
    ['allowed', 0],
    ['reason', 0],
    ['errored', 0],
    ['error', 0],
  ];
  return methods.map(([name, arity]) =>
    celMethod(
      name,
      DYN,
      Array.from({ length: arity }, () => DYN),
      DYN,
      fail,
    ),
  );
}

/** Names CEL itself resolves: type denotations. */
const TYPE_NAMES = new Set([
  'int',
  'uint',
  'double',
  'bool',
  'string',
  'bytes',
  'list',
  'map',
  'null_type',
  'type',
  'dyn',
]);

/** Calls the planner handles itself rather than through the function resolver. */
const PLANNER_CALLS = new Set([
  '_[_]',
  '_?_:_',
  '_&&_',
  '_||_',
  '@not_strictly_false',
  '__not_strictly_false__',
]);

interface Group {
  call(id: number, target: CelValue | undefined, args: CelValue[]): ReturnType<CelFunc['call']>;
}

const base = celEnv({ registry: TYPE_REGISTRY, funcs: LIBRARY });

/** Every call charges the meter: one unit, plus a tenth per element or character of its inputs and output. */
function metered(name: string, group: Group): Group {
  const optionalEquality = name === '_==_' || name === '_!=_';
  return {
    call(id, target, args) {
      let units = 1;
      if (name !== INTERNAL.tick) {
        for (const a of args) units += sizeOf(a) / 10;
        if (target !== undefined) units += sizeOf(target) / 10;
      }
      charge(units);
      if (optionalEquality && isOptional(args[0]) && isOptional(args[1])) {
        const a = optionalValue(args[0]);
        const b = optionalValue(args[1]);
        const same = a === undefined || b === undefined ? a === b : celEquals(a, b);
        return name === '_==_' ? same : !same;
      }
      const result = group.call(id, target, args);
      if (result !== undefined && !isCelError(result)) charge(sizeOf(result) / 10);
      return result;
    },
  };
}

const wrapped = new Map<string, Group | undefined>();
const resolver = {
  [Symbol.iterator]: () => base.funcs[Symbol.iterator](),
  find(name: string): Group | undefined {
    if (!wrapped.has(name)) {
      const group = base.funcs.find(name);
      wrapped.set(name, group === undefined ? undefined : metered(name, group));
    }
    return wrapped.get(name);
  },
};

// The planner reads `funcs`, `registry` and `namespace` from the environment; this one differs from CEL-ES's
// only in its resolver. (CelEnv's fields are private to CEL-ES, hence the prototype.)
const ENV: CelEnv = Object.create(base, { funcs: { value: resolver } });

function known(name: string): boolean {
  return PLANNER_CALLS.has(name) || resolver.find(name) !== undefined;
}

export interface CompiledExpression {
  readonly source: string;
  /** The variables the expression reads (of those the environment declares). */
  readonly reads: ReadonlySet<string>;
  /** The fields it selects on `variables` (`variables.foo` → foo), to check they are declared. */
  readonly variableFields: ReadonlySet<string>;
  /**
   * Runs the expression; throws CelEvalError, or CostLimitError when the meter's limit is reached. `nested`:
   * an expression evaluated inside another (a lazy variable) counts toward the outer one's limit.
   */
  run(
    bindings: Readonly<Record<string, CelInput>>,
    meter: CostMeter,
    options?: { nested?: boolean },
  ): CelValue;
}

/**
 * Parses and plans one expression. `variables` are the names it may read; anything else is a
 * CelCompileError, as is an unknown function, so that a policy fails when it is loaded, not when it runs.
 */
export function compileExpression(source: string, variables: readonly string[]): CompiledExpression {
  let expr: Expr;
  try {
    expr = parseCel(source);
  } catch (error) {
    if (error instanceof CelSyntaxError)
      throw new CelCompileError(`syntax error: ${error.message}`, error.column);
    throw error;
  }
  for (const fn of collectCalls(expr)) {
    if (!known(fn.qualified) && !known(fn.name)) {
      throw new CelCompileError(
        `unknown function ${fn.qualified}${KYVERNO_HINT.has(fn.qualified) ? ' (a Kyverno context library, which Plumbline does not provide)' : ''}`,
      );
    }
  }
  const { names, qualifiedCalls } = freeIdentifiers(expr);
  for (const call of qualifiedCalls) {
    if (resolver.find(call) !== undefined) names.delete(call.slice(0, call.indexOf('.')));
  }
  const declared = new Set(variables);
  const reads = new Set<string>();
  for (const name of names) {
    if (declared.has(name)) reads.add(name);
    else if (!TYPE_NAMES.has(name) && name !== 'optional_type' && name !== 'google') {
      throw new CelCompileError(
        `undeclared reference to "${name}"; the variables are: ${variables.join(', ')}`,
      );
    }
  }
  const program = plan(ENV, expr);
  return {
    source,
    reads,
    variableFields: fieldsSelectedOn(expr, 'variables'),
    run(bindings, m, options) {
      if (options?.nested !== true) m.startExpression();
      const result = withMeter(m, () => program({ ...bindings, optional_type: OPTIONAL }));
      if (m.limitError !== undefined) throw m.limitError;
      if (isCelError(result)) throw new CelEvalError(cleanMessage(result.message));
      return result;
    },
  };
}

const KYVERNO_HINT = new Set([
  'resource.Get',
  'resource.List',
  'http.Get',
  'http.Post',
  'globalContext.Get',
  'image.GetMetadata',
  'imagedata.Get',
]);

function collectCalls(expr: Expr): { name: string; qualified: string }[] {
  const out: { name: string; qualified: string }[] = [];
  walk(expr, (e) => {
    if (e.exprKind.case === 'callExpr') {
      out.push({ name: e.exprKind.value.function, qualified: qualifiedName(e.exprKind.value) });
    }
  });
  return out;
}

/** Fields selected directly on an identifier: `variables.a`, `variables.?b`. */
function fieldsSelectedOn(expr: Expr, ident: string): Set<string> {
  const out = new Set<string>();
  const isIdent = (e: Expr | undefined): boolean =>
    e?.exprKind.case === 'identExpr' && e.exprKind.value.name === ident;
  walk(expr, (e) => {
    const k = e.exprKind;
    if (k.case === 'selectExpr' && isIdent(k.value.operand)) out.add(k.value.field);
    if (k.case === 'callExpr' && k.value.function === INTERNAL.optSelect) {
      const [first, second] = k.value.args;
      const c = second?.exprKind.case === 'constExpr' ? second.exprKind.value.constantKind : undefined;
      if (isIdent(first) && c?.case === 'stringValue') out.add(c.value);
    }
  });
  return out;
}

function cleanMessage(message: string): string {
  return message.replaceAll('@opt_select', 'optional select').replaceAll('@', '');
}

/** Evaluates a standalone expression (tests, `plumbline policy eval`), with a fresh meter. */
export function evaluateExpression(
  source: string,
  bindings: Readonly<Record<string, CelInput>> = {},
  meter = new CostMeter(),
): CelValue {
  return compileExpression(source, Object.keys(bindings)).run(bindings, meter);
}
