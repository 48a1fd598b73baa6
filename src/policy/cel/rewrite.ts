// Parsing CEL for the policy engine. CEL-ES parses standard CEL; Kubernetes policies also use syntax and
// macros its parser lacks (optional selection `a.?b`, `a[?k]`, `[?x]`, `{?k: v}`, backquoted fields,
// `cel.bind`, `optMap`, two-variable comprehensions). So parsing is two small passes around CEL-ES's parser:
//   1. a token-level rewrite of the missing syntax into calls and field names the parser accepts, with a map
//      from rewritten columns back to the author's;
//   2. an AST pass that turns those markers into calls to the engine's functions (names starting with `@`,
//      which no author can write), expands the missing macros, and puts a cost tick into every
//      comprehension's loop condition, so that the cost meter sees every iteration.
import { parse } from '@bufbuild/cel';
import {
  type Expr,
  type Expr_CreateStruct_Entry,
  Expr_CreateStruct_EntrySchema,
  ExprSchema,
} from '@bufbuild/cel-spec/cel/expr/syntax_pb.js';
import { create } from '@bufbuild/protobuf';

/** A syntax error in a CEL expression, with the 1-based column in the author's text. */
export class CelSyntaxError extends Error {
  readonly column: number | undefined;
  constructor(message: string, column: number | undefined) {
    super(message);
    this.name = 'CelSyntaxError';
    this.column = column;
  }
}

const OPT_FIELD = '__plumbline_opt_';
const QUOTED_FIELD = '__plumbline_q_';
const OPT_QUOTED_FIELD = '__plumbline_optq_';
const OPT_INDEX = '__plumbline_optindex';
const OPT_ELEM = '__plumbline_optelem';
const OPT_KEY = '__plumbline_optkey';

/** Functions the AST pass calls; env.ts implements them. */
export const INTERNAL = {
  tick: '@tick',
  optSelect: '@opt_select',
  optIndex: '@opt_index',
  optHas: '@opt_has',
  optList: '@opt_list',
  optMap: '@opt_map',
  keys: '@keys',
  zipMap: '@zip_map',
} as const;

// --- pass 1: tokens ---

type TokenKind = 'ident' | 'quoted' | 'number' | 'string' | 'punct' | 'trivia';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly start: number;
}

const PUNCT2 = ['==', '!=', '<=', '>=', '&&', '||'];
const NUMBER = /^(?:0[xX][0-9a-fA-F]+[uU]?|\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+[uU]?)/;
const IDENT = /^[_a-zA-Z][_a-zA-Z0-9]*/;
const STRING_PREFIX = /^(?:[rR][bB]?|[bB][rR]?)?(?="|')/;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < source.length) {
    const rest = source.slice(at, at + 4096);
    const ch = source.charAt(at);
    let length = 0;
    let kind: TokenKind = 'punct';
    if (/\s/.test(ch)) {
      length = /^\s+/.exec(rest)?.[0].length ?? 1;
      kind = 'trivia';
    } else if (source.startsWith('//', at)) {
      const end = source.indexOf('\n', at);
      length = (end === -1 ? source.length : end) - at;
      kind = 'trivia';
    } else if (ch === '`') {
      const end = source.indexOf('`', at + 1);
      if (end === -1) throw new CelSyntaxError('unterminated backquoted field name', at + 1);
      length = end + 1 - at;
      kind = 'quoted';
    } else if (STRING_PREFIX.test(rest)) {
      length = stringLength(source, at);
      kind = 'string';
    } else if (
      /[0-9]/.test(ch) ||
      (ch === '.' && /[0-9]/.test(source.charAt(at + 1)) && !endsOperand(tokens, tokens.length))
    ) {
      length =
        ch === '.'
          ? (/^\.\d+(?:[eE][+-]?\d+)?/.exec(rest)?.[0].length ?? 1)
          : (NUMBER.exec(rest)?.[0].length ?? 1);
      kind = 'number';
    } else if (IDENT.test(rest)) {
      length = IDENT.exec(rest)?.[0].length ?? 1;
      kind = 'ident';
    } else {
      length = PUNCT2.some((p) => source.startsWith(p, at)) ? 2 : 1;
    }
    tokens.push({ kind, text: source.slice(at, at + length), start: at });
    at += length;
  }
  return tokens;
}

function stringLength(source: string, start: number): number {
  let at = start;
  while (source.charAt(at) !== '"' && source.charAt(at) !== "'") at++;
  const quote = source.charAt(at);
  const triple = source.startsWith(quote.repeat(3), at);
  const close = triple ? quote.repeat(3) : quote;
  at += close.length;
  while (at < source.length) {
    if (source.charAt(at) === '\\') {
      at += 2;
      continue;
    }
    if (source.startsWith(close, at)) return at + close.length - start;
    if (!triple && source.charAt(at) === '\n') break;
    at++;
  }
  throw new CelSyntaxError('unterminated string literal', start + 1);
}

function endsOperand(tokens: readonly Token[], before: number): boolean {
  const last = lastSignificant(tokens, before);
  if (last === undefined) return false;
  if (last.kind === 'ident') return last.text !== 'in';
  return last.kind !== 'punct' || last.text === ')' || last.text === ']' || last.text === '}';
}

function lastSignificant(tokens: readonly Token[], before: number): Token | undefined {
  for (let i = before - 1; i >= 0; i--) {
    const t = tokens[i] as Token;
    if (t.kind !== 'trivia') return t;
  }
  return undefined;
}

interface Frame {
  readonly kind: 'index' | 'list' | 'map' | 'struct' | 'paren';
  /** A marker call was opened inside this bracket and must be closed: before `,`/the closing bracket, or `:`. */
  open: 'elem' | 'index' | 'key' | undefined;
}

interface Rewritten {
  readonly text: string;
  /** Maps an offset in `text` to the author's offset. */
  readonly original: (offset: number) => number;
}

/** Pass 1: rewrites the syntax CEL-ES does not parse. Returns the text unchanged when there is none. */
export function rewriteSource(source: string): Rewritten {
  if (!/[?`]/.test(source)) return { text: source, original: (o) => o };
  const tokens = tokenize(source);
  // Each piece of the output remembers where it came from; inserted text maps to the token it precedes.
  const parts: { text: string; at: number; verbatim: boolean }[] = [];
  const emit = (text: string, at: number): void => {
    parts.push({ text, at, verbatim: source.startsWith(text, at) });
  };
  const stack: Frame[] = [];
  const nextIndex = (i: number): number => {
    let j = i + 1;
    while (j < tokens.length && (tokens[j] as Token).kind === 'trivia') j++;
    return j;
  };
  const isQuestion = (i: number): boolean => tokens[i]?.text === '?';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    const top = stack[stack.length - 1];
    if (t.text === '.') {
      let j = nextIndex(i);
      const optional = isQuestion(j);
      if (optional) j = nextIndex(j);
      const name = tokens[j];
      if (
        (optional || name?.kind === 'quoted') &&
        name !== undefined &&
        (name.kind === 'ident' || name.kind === 'quoted')
      ) {
        const field =
          name.kind === 'quoted'
            ? `${optional ? OPT_QUOTED_FIELD : QUOTED_FIELD}${Buffer.from(name.text.slice(1, -1), 'utf8').toString('hex')}`
            : `${OPT_FIELD}${name.text}`;
        emit(`.${field}`, t.start);
        i = j;
        continue;
      }
      emit(t.text, t.start);
      continue;
    }
    if (t.text === '[' || t.text === '{' || t.text === '(') {
      const kind: Frame['kind'] =
        t.text === '('
          ? 'paren'
          : t.text === '['
            ? endsOperand(tokens, i)
              ? 'index'
              : 'list'
            : lastSignificant(tokens, i)?.kind === 'ident' && lastSignificant(tokens, i)?.text !== 'in'
              ? 'struct'
              : 'map';
      const frame: Frame = { kind, open: undefined };
      stack.push(frame);
      emit(t.text, t.start);
      const j = nextIndex(i);
      if (kind !== 'paren' && isQuestion(j)) {
        openMarker(frame, emit, (tokens[j] as Token).start);
        i = j;
      }
      continue;
    }
    if (t.text === ',' && top !== undefined) {
      if (top.open === 'elem') emit(')', t.start);
      if (top.open !== 'key') top.open = undefined;
      emit(',', t.start);
      const j = nextIndex(i);
      if (top.kind !== 'paren' && top.kind !== 'index' && isQuestion(j)) {
        openMarker(top, emit, (tokens[j] as Token).start);
        i = j;
      }
      continue;
    }
    if (t.text === ':' && top?.open === 'key') {
      emit(')', t.start);
      top.open = undefined;
      emit(':', t.start);
      continue;
    }
    if (t.text === ']' || t.text === '}' || t.text === ')') {
      const frame = stack.pop();
      if (frame?.open === 'elem' || frame?.open === 'index') emit(')', t.start);
      emit(t.text, t.start);
      continue;
    }
    emit(t.text, t.start);
  }
  let text = '';
  const starts: number[] = [];
  for (const part of parts) {
    starts.push(text.length);
    text += part.text;
  }
  return {
    text,
    original: (offset) => {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((starts[mid] as number) <= offset) lo = mid;
        else hi = mid - 1;
      }
      const part = parts[lo];
      if (part === undefined) return offset;
      return part.verbatim ? part.at + Math.min(offset - (starts[lo] ?? 0), part.text.length) : part.at;
    },
  };
}

function openMarker(frame: Frame, emit: (text: string, at: number) => void, at: number): void {
  switch (frame.kind) {
    case 'index':
      emit(`${OPT_INDEX}(`, at);
      frame.open = 'index';
      return;
    case 'list':
      emit(`${OPT_ELEM}(`, at);
      frame.open = 'elem';
      return;
    case 'map':
      emit(`${OPT_KEY}(`, at);
      frame.open = 'key';
      return;
    default:
      // `?` in a message literal or elsewhere: leave it for the parser to reject.
      emit('?', at);
  }
}

// --- parsing ---

/** Parses CEL with the Kubernetes extensions: the AST CEL-ES plans, with cost ticks in every loop. */
export function parseCel(source: string): Expr {
  const rewritten = rewriteSource(source);
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rewritten.text);
  } catch (error) {
    const message = (error as Error).message;
    const m = /^<input>:(\d+):(\d+): (.*)$/s.exec(message);
    if (m === null) throw new CelSyntaxError(message, undefined);
    // Columns count in the one-line text CEL-ES saw; map them back through the rewrite.
    const offset = offsetOf(rewritten.text, Number(m[1]), Number(m[2]));
    throw new CelSyntaxError(unmark(m[3] as string), rewritten.original(offset) + 1);
  }
  if (parsed.expr === undefined) throw new CelSyntaxError('empty expression', 1);
  const ids = { next: maxId(parsed.expr) + 1n };
  return new Transformer(ids).expr(parsed.expr);
}

function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl === -1) break;
    offset = nl + 1;
  }
  return offset + column - 1;
}

function unmark(message: string): string {
  return message
    .replaceAll(OPT_INDEX, '')
    .replaceAll(OPT_ELEM, '')
    .replaceAll(OPT_KEY, '')
    .replaceAll(OPT_FIELD, '?');
}

/** The direct sub-expressions of a node (map entries' keys and values included). */
export function childrenOf(e: Expr): Expr[] {
  const k = e.exprKind;
  const out: (Expr | undefined)[] = [];
  switch (k.case) {
    case 'selectExpr':
      out.push(k.value.operand);
      break;
    case 'callExpr':
      out.push(k.value.target, ...k.value.args);
      break;
    case 'listExpr':
      out.push(...k.value.elements);
      break;
    case 'structExpr':
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') out.push(entry.keyKind.value);
        out.push(entry.value);
      }
      break;
    case 'comprehensionExpr':
      out.push(k.value.iterRange, k.value.accuInit, k.value.loopCondition, k.value.loopStep, k.value.result);
      break;
    default:
      break;
  }
  return out.filter((x): x is Expr => x !== undefined);
}

/** Calls `visit` on every node of an expression, parents first. */
export function walk(expr: Expr, visit: (e: Expr) => void): void {
  const stack = [expr];
  while (stack.length > 0) {
    const e = stack.pop() as Expr;
    visit(e);
    stack.push(...childrenOf(e));
  }
}

function maxId(expr: Expr): bigint {
  let max = 0n;
  walk(expr, (e) => {
    if (e.id > max) max = e.id;
    if (e.exprKind.case === 'structExpr')
      for (const entry of e.exprKind.value.entries) if (entry.id > max) max = entry.id;
  });
  return max;
}

// --- pass 2: the AST ---

/** Functions whose result is an optional value: selection and indexing on them stay optional. */
const OPTIONAL_RESULTS = new Set([
  INTERNAL.optSelect,
  INTERNAL.optIndex,
  'optional.of',
  'optional.ofNonZeroValue',
  'optional.none',
]);

class Transformer {
  constructor(private readonly ids: { next: bigint }) {}

  private id(): bigint {
    const id = this.ids.next;
    this.ids.next += 1n;
    return id;
  }

  private node(exprKind: Expr['exprKind']): Expr {
    return create(ExprSchema, { id: this.id(), exprKind });
  }

  call(fn: string, args: Expr[], target?: Expr): Expr {
    return this.node({
      case: 'callExpr',
      value: {
        $typeName: 'cel.expr.Expr.Call',
        function: fn,
        args,
        ...(target === undefined ? {} : { target }),
      },
    });
  }

  ident(name: string): Expr {
    return this.node({ case: 'identExpr', value: { $typeName: 'cel.expr.Expr.Ident', name } });
  }

  str(value: string): Expr {
    return this.node({
      case: 'constExpr',
      value: { $typeName: 'cel.expr.Constant', constantKind: { case: 'stringValue', value } },
    });
  }

  int(value: number): Expr {
    return this.node({
      case: 'constExpr',
      value: { $typeName: 'cel.expr.Constant', constantKind: { case: 'int64Value', value: BigInt(value) } },
    });
  }

  bool(value: boolean): Expr {
    return this.node({
      case: 'constExpr',
      value: { $typeName: 'cel.expr.Constant', constantKind: { case: 'boolValue', value } },
    });
  }

  list(elements: Expr[]): Expr {
    return this.node({
      case: 'listExpr',
      value: { $typeName: 'cel.expr.Expr.CreateList', elements, optionalIndices: [] },
    });
  }

  /** `cel.bind(name, init, body)`: a comprehension over nothing whose accumulator is the bound value. */
  bind(name: string, init: Expr, body: Expr): Expr {
    return this.node({
      case: 'comprehensionExpr',
      value: {
        $typeName: 'cel.expr.Expr.Comprehension',
        iterVar: '#unused',
        iterVar2: '',
        iterRange: this.list([]),
        accuVar: name,
        accuInit: init,
        loopCondition: this.bool(false),
        loopStep: this.ident(name),
        result: body,
      },
    });
  }

  private isOptional(e: Expr): boolean {
    const k = e.exprKind;
    if (k.case !== 'callExpr') return false;
    const name = qualifiedName(k.value);
    if (OPTIONAL_RESULTS.has(name)) return true;
    if (name === '_?_:_') {
      const [, a, b] = k.value.args;
      return a !== undefined && b !== undefined && this.isOptional(a) && this.isOptional(b);
    }
    return (
      (k.value.function === 'or' || k.value.function === 'optMap') &&
      k.value.target !== undefined &&
      this.isOptional(k.value.target)
    );
  }

  expr(e: Expr): Expr {
    const k = e.exprKind;
    switch (k.case) {
      case 'selectExpr': {
        const operand = k.value.operand === undefined ? undefined : this.expr(k.value.operand);
        if (operand === undefined) return e;
        const { optional, name } = decodeField(k.value.field);
        if (k.value.testOnly) {
          if (optional || this.isOptional(operand))
            return this.call(INTERNAL.optHas, [operand, this.str(name)]);
          return this.node({ case: 'selectExpr', value: { ...k.value, operand, field: name } });
        }
        if (optional || this.isOptional(operand))
          return this.call(INTERNAL.optSelect, [operand, this.str(name)]);
        return this.node({ case: 'selectExpr', value: { ...k.value, operand, field: name } });
      }
      case 'callExpr':
        return this.callExpr(k.value);
      case 'listExpr': {
        const optional: Expr[] = [];
        const elements = k.value.elements.map((el, index) => {
          const marked = markerArg(el, OPT_ELEM);
          if (marked === undefined) return this.expr(el);
          optional.push(this.int(index));
          return this.expr(marked);
        });
        const list = this.list(elements);
        return optional.length === 0 ? list : this.call(INTERNAL.optList, [list, this.list(optional)]);
      }
      case 'structExpr': {
        const optionalKeys: Expr[] = [];
        const entries: Expr_CreateStruct_Entry[] = k.value.entries.map((entry) => {
          const value = entry.value === undefined ? undefined : this.expr(entry.value);
          if (entry.keyKind.case !== 'mapKey') return { ...entry, ...(value === undefined ? {} : { value }) };
          const marked = markerArg(entry.keyKind.value, OPT_KEY);
          const key = this.expr(marked ?? entry.keyKind.value);
          if (marked !== undefined) optionalKeys.push(this.expr(marked));
          return create(Expr_CreateStruct_EntrySchema, {
            id: entry.id,
            keyKind: { case: 'mapKey', value: key },
            ...(value === undefined ? {} : { value }),
          });
        });
        const struct = this.node({ case: 'structExpr', value: { ...k.value, entries } });
        return optionalKeys.length === 0
          ? struct
          : this.call(INTERNAL.optMap, [struct, this.list(optionalKeys)]);
      }
      case 'comprehensionExpr': {
        const v = k.value;
        const sub = (x: Expr | undefined): Expr | undefined => (x === undefined ? undefined : this.expr(x));
        const loopCondition = sub(v.loopCondition);
        return this.node({
          case: 'comprehensionExpr',
          value: {
            ...v,
            iterRange: sub(v.iterRange),
            accuInit: sub(v.accuInit),
            // Every iteration passes through a call, so the cost meter can count it and stop a runaway loop.
            loopCondition:
              loopCondition === undefined ? undefined : this.call(INTERNAL.tick, [loopCondition]),
            loopStep: sub(v.loopStep),
            result: sub(v.result),
          },
        });
      }
      default:
        return e;
    }
  }

  private callExpr(c: Extract<Expr['exprKind'], { case: 'callExpr' }>['value']): Expr {
    const fn = c.function;
    const args = c.args;
    // cel.bind(name, init, body)
    if (fn === 'bind' && isIdent(c.target, 'cel') && args.length === 3) {
      const name = identName(args[0]);
      if (name === undefined)
        throw new CelSyntaxError('cel.bind: the first argument must be a name', undefined);
      return this.bind(name, this.expr(args[1] as Expr), this.expr(args[2] as Expr));
    }
    if (c.target !== undefined && (fn === 'optMap' || fn === 'optFlatMap') && args.length === 2) {
      const name = identName(args[0]);
      if (name === undefined) throw new CelSyntaxError(`${fn}: the first argument must be a name`, undefined);
      const holder = `@opt${this.ids.next}`;
      const value = this.call('value', [], this.ident(holder));
      const body = this.bind(name, value, this.expr(args[1] as Expr));
      const some = fn === 'optMap' ? this.call('of', [body], this.ident('optional')) : body;
      const none = this.call('none', [], this.ident('optional'));
      const cond = this.call('_?_:_', [this.call('hasValue', [], this.ident(holder)), some, none]);
      return this.bind(holder, this.expr(c.target), cond);
    }
    // Two-variable comprehensions: all(k, v, p), exists, existsOne, transformList, transformMap.
    if (
      c.target !== undefined &&
      TWO_VAR.has(fn) &&
      (args.length === 3 || (args.length === 4 && fn.startsWith('transform'))) &&
      identName(args[0]) !== undefined &&
      identName(args[1]) !== undefined
    ) {
      return this.twoVar(fn, c.target, args);
    }
    // Indexing with [?k], or indexing an optional value.
    if (fn === '_[_]' && args.length === 2) {
      const base = this.expr(args[0] as Expr);
      const marked = markerArg(args[1] as Expr, OPT_INDEX);
      if (marked !== undefined || this.isOptional(base)) {
        return this.call(INTERNAL.optIndex, [base, this.expr(marked ?? (args[1] as Expr))]);
      }
      return this.call(fn, [base, this.expr(args[1] as Expr)]);
    }
    const target = c.target === undefined ? undefined : this.expr(c.target);
    return this.node({
      case: 'callExpr',
      value: { ...c, args: args.map((a) => this.expr(a)), ...(target === undefined ? {} : { target }) },
    });
  }

  /** `t.all(k, v, p)` → bind t; keys(t).all(k, bind(v, t[k], p)); likewise the other two-variable macros. */
  private twoVar(fn: string, targetExpr: Expr, args: readonly Expr[]): Expr {
    const holder = `@t${this.ids.next}`;
    const k = identName(args[0]) as string;
    const v = identName(args[1]) as string;
    const withValue = (body: Expr): Expr =>
      this.bind(v, this.call('_[_]', [this.ident(holder), this.ident(k)]), body);
    const keys = (): Expr => this.call(INTERNAL.keys, [this.ident(holder)]);
    const macro = (name: string, over: Expr, body: Expr): Expr => this.expandMacro(name, over, k, body);
    let result: Expr;
    switch (fn) {
      case 'all':
      case 'exists':
        result = macro(fn, keys(), withValue(args[2] as Expr));
        break;
      case 'existsOne':
      case 'exists_one':
        result = macro('exists_one', keys(), withValue(args[2] as Expr));
        break;
      case 'transformList': {
        const selected = args.length === 4 ? macro('filter', keys(), withValue(args[2] as Expr)) : keys();
        result = macro('map', selected, withValue(args[args.length - 1] as Expr));
        break;
      }
      default: {
        // transformMap: the same keys, new values.
        const selected = args.length === 4 ? macro('filter', keys(), withValue(args[2] as Expr)) : keys();
        const sel = `@s${this.ids.next}`;
        result = this.bind(
          sel,
          selected,
          this.call(INTERNAL.zipMap, [
            this.ident(sel),
            macro('map', this.ident(sel), withValue(args[args.length - 1] as Expr)),
          ]),
        );
      }
    }
    // Built from the author's parts untransformed, then transformed once as a whole.
    return this.expr(this.bind(holder, targetExpr, result));
  }

  /** The standard macros, built as CEL-ES builds them, via its own parser on a template. */
  private expandMacro(name: string, over: Expr, variable: string, body: Expr): Expr {
    const template = parse(`__range.${name}(${variable}, __body)`).expr as Expr;
    renumber(template, this.ids);
    return substitute(template, { __range: over, __body: body });
  }
}

const TWO_VAR = new Set(['all', 'exists', 'existsOne', 'exists_one', 'transformList', 'transformMap']);

function substitute(e: Expr, with_: Record<string, Expr>): Expr {
  const k = e.exprKind;
  switch (k.case) {
    case 'identExpr':
      return with_[k.value.name] ?? e;
    case 'selectExpr':
      if (k.value.operand !== undefined) k.value.operand = substitute(k.value.operand, with_);
      return e;
    case 'callExpr':
      if (k.value.target !== undefined) k.value.target = substitute(k.value.target, with_);
      k.value.args = k.value.args.map((a) => substitute(a, with_));
      return e;
    case 'listExpr':
      k.value.elements = k.value.elements.map((a) => substitute(a, with_));
      return e;
    case 'comprehensionExpr': {
      const v = k.value;
      for (const key of ['iterRange', 'accuInit', 'loopCondition', 'loopStep', 'result'] as const) {
        const part = v[key];
        if (part !== undefined) v[key] = substitute(part, with_);
      }
      return e;
    }
    default:
      return e;
  }
}

/** Gives a template's nodes ids that do not collide with the expression's. */
function renumber(expr: Expr, ids: { next: bigint }): void {
  walk(expr, (e) => {
    e.id = ids.next;
    ids.next += 1n;
  });
}

function decodeField(field: string): { optional: boolean; name: string } {
  if (field.startsWith(OPT_QUOTED_FIELD)) {
    return {
      optional: true,
      name: Buffer.from(field.slice(OPT_QUOTED_FIELD.length), 'hex').toString('utf8'),
    };
  }
  if (field.startsWith(QUOTED_FIELD)) {
    return { optional: false, name: Buffer.from(field.slice(QUOTED_FIELD.length), 'hex').toString('utf8') };
  }
  if (field.startsWith(OPT_FIELD)) return { optional: true, name: field.slice(OPT_FIELD.length) };
  return { optional: false, name: field };
}

function markerArg(e: Expr, marker: string): Expr | undefined {
  const k = e.exprKind;
  if (
    k.case === 'callExpr' &&
    k.value.function === marker &&
    k.value.target === undefined &&
    k.value.args.length === 1
  ) {
    return k.value.args[0];
  }
  return undefined;
}

function isIdent(e: Expr | undefined, name: string): boolean {
  return e?.exprKind.case === 'identExpr' && e.exprKind.value.name === name;
}

function identName(e: Expr | undefined): string | undefined {
  return e?.exprKind.case === 'identExpr' ? e.exprKind.value.name : undefined;
}

/** `optional.of` for a call on the ident `optional`; the plain function name otherwise. */
export function qualifiedName(c: { target?: Expr | undefined; function: string }): string {
  const t = c.target;
  if (t?.exprKind.case === 'identExpr') return `${t.exprKind.value.name}.${c.function}`;
  return c.function;
}

/** Every identifier an expression reads that no comprehension binds: what the environment must supply. */
export function freeIdentifiers(expr: Expr): { names: Set<string>; qualifiedCalls: Set<string> } {
  const names = new Set<string>();
  const qualifiedCalls = new Set<string>();
  const visit = (e: Expr | undefined, bound: ReadonlySet<string>): void => {
    if (e === undefined) return;
    const k = e.exprKind;
    switch (k.case) {
      case 'identExpr':
        if (!bound.has(k.value.name)) names.add(k.value.name);
        return;
      case 'selectExpr':
        visit(k.value.operand, bound);
        return;
      case 'callExpr':
        if (k.value.target?.exprKind.case === 'identExpr' && !bound.has(k.value.target.exprKind.value.name)) {
          qualifiedCalls.add(qualifiedName(k.value));
        }
        visit(k.value.target, bound);
        for (const a of k.value.args) visit(a, bound);
        return;
      case 'listExpr':
        for (const a of k.value.elements) visit(a, bound);
        return;
      case 'structExpr':
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === 'mapKey') visit(entry.keyKind.value, bound);
          visit(entry.value, bound);
        }
        return;
      case 'comprehensionExpr': {
        const v = k.value;
        visit(v.iterRange, bound);
        visit(v.accuInit, bound);
        const inner = new Set(bound);
        inner.add(v.accuVar);
        visit(v.result, inner);
        inner.add(v.iterVar);
        if (v.iterVar2 !== '') inner.add(v.iterVar2);
        visit(v.loopCondition, inner);
        visit(v.loopStep, inner);
        return;
      }
      default:
        return;
    }
  };
  visit(expr, new Set());
  return { names, qualifiedCalls };
}
