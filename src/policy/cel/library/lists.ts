// Lists, sets and math: the Kubernetes list library (isSorted, sum, min, max, indexOf, lastIndexOf), cel-go's
// lists extension (slice, flatten, reverse, distinct, sort, lists.range), its sets extension (contains,
// equivalent, intersects) and the math extension's greatest/least and rounding.
import {
  type CelFunc,
  type CelList,
  type CelValue,
  celFunc,
  celMethod,
  celUint,
  isCelList,
  isCelUint,
} from '@bufbuild/cel';
import { charge } from '../cost.js';
import { INTERNAL } from '../rewrite.js';
import { BOOL, celCompare, celEquals, DOUBLE, DYN, INT, LIST, MAP, toArray, UINT } from './common.js';

function isSorted(list: CelList): boolean {
  const items = toArray(list);
  for (let i = 1; i < items.length; i++)
    if (celCompare(items[i - 1] as CelValue, items[i] as CelValue) > 0) return false;
  return true;
}

function sum(list: CelList): CelValue {
  const items = toArray(list);
  if (items.length === 0) return 0n;
  if (items.every((x) => typeof x === 'bigint')) return (items as bigint[]).reduce((a, b) => a + b, 0n);
  if (items.every((x) => typeof x === 'number')) return (items as number[]).reduce((a, b) => a + b, 0);
  throw new Error('sum() needs a list of ints or of doubles');
}

function extreme(list: CelList, sign: 1 | -1, name: string): CelValue {
  const items = toArray(list);
  if (items.length === 0) throw new Error(`${name}() called on an empty list`);
  let best = items[0] as CelValue;
  for (const x of items.slice(1)) if (celCompare(x, best) * sign > 0) best = x;
  return best;
}

function indexOf(list: CelList, value: CelValue, last: boolean): bigint {
  const items = toArray(list);
  charge(items.length / 10);
  if (last) {
    for (let i = items.length - 1; i >= 0; i--) if (celEquals(items[i] as CelValue, value)) return BigInt(i);
  } else {
    for (let i = 0; i < items.length; i++) if (celEquals(items[i] as CelValue, value)) return BigInt(i);
  }
  return -1n;
}

function flatten(list: CelList, depth: number): CelValue[] {
  if (depth < 0) throw new Error('flatten(): the depth must not be negative');
  const out: CelValue[] = [];
  for (const x of list) {
    if (isCelList(x) && depth > 0) out.push(...flatten(x, depth - 1));
    else out.push(x);
  }
  return out;
}

function distinct(list: CelList): CelValue[] {
  const out: CelValue[] = [];
  const items = toArray(list);
  charge((items.length * items.length) / 100);
  for (const x of items) if (!out.some((y) => celEquals(x, y))) out.push(x);
  return out;
}

function sortList(list: CelList): CelValue[] {
  const items = toArray(list);
  charge((items.length * Math.log2(items.length + 1)) / 10);
  return items.sort(celCompare);
}

function slice(list: CelList, start: bigint, end: bigint): CelValue[] {
  const items = toArray(list);
  if (start < 0n || end < 0n) throw new Error(`slice(${start}, ${end}): negative index`);
  if (start > end) throw new Error(`slice(${start}, ${end}): start after end`);
  if (end > BigInt(items.length))
    throw new Error(`slice(${start}, ${end}): end beyond the list (${items.length})`);
  return items.slice(Number(start), Number(end));
}

function range(n: bigint): bigint[] {
  if (n < 0n) throw new Error('lists.range(): the count must not be negative');
  if (n > 1_000_000n) throw new Error('lists.range(): at most 1,000,000 elements');
  charge(Number(n) / 10);
  return Array.from({ length: Number(n) }, (_, i) => BigInt(i));
}

function setsContains(a: CelList, b: CelList): boolean {
  const items = toArray(a);
  charge((items.length * b.size) / 100);
  return toArray(b).every((x) => items.some((y) => celEquals(x, y)));
}

function greatestOf(values: readonly CelValue[], sign: 1 | -1): CelValue {
  if (values.length === 0) throw new Error('math.greatest/least need at least one argument');
  let best = values[0] as CelValue;
  for (const v of values.slice(1)) {
    if (typeof v !== 'bigint' && typeof v !== 'number' && !isCelUint(v)) {
      throw new Error('math.greatest/least take numbers');
    }
    if (celCompare(v, best) * sign > 0) best = v;
  }
  return best;
}

function numeric(name: string, fn: (x: number) => number): CelFunc[] {
  return [celFunc(`math.${name}`, [DOUBLE], DOUBLE, fn)];
}

const mathVariadic: CelFunc[] = [];
for (const [name, sign] of [
  ['greatest', 1],
  ['least', -1],
] as const) {
  mathVariadic.push(
    celFunc(`math.${name}`, [LIST], DYN, (list) => greatestOf(toArray(list), sign)),
    celFunc(`math.${name}`, [DYN], DYN, (a) => greatestOf(isCelList(a) ? toArray(a) : [a], sign)),
  );
  for (let arity = 2; arity <= 6; arity++) {
    const args = Array.from({ length: arity }, () => DYN);
    mathVariadic.push(
      celFunc(`math.${name}`, args, DYN, (...values: CelValue[]) => greatestOf(values, sign)),
    );
  }
}

const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

/** math.bitAnd/bitOr/bitXor/bitNot/bitShiftLeft/bitShiftRight on 64-bit ints and uints. */
function bitFunctions(): CelFunc[] {
  const asInt = (x: bigint): bigint => BigInt.asIntN(64, x);
  const out: CelFunc[] = [];
  for (const [name, op] of [
    ['bitAnd', (a: bigint, b: bigint) => a & b],
    ['bitOr', (a: bigint, b: bigint) => a | b],
    ['bitXor', (a: bigint, b: bigint) => a ^ b],
  ] as const) {
    out.push(
      celFunc(`math.${name}`, [INT, INT], INT, (a, b) => asInt(op(a, b))),
      celFunc(`math.${name}`, [UINT, UINT], UINT, (a, b) => celUint(op(a.value, b.value))),
    );
  }
  const shift = (n: bigint): bigint => {
    if (n < 0n) throw new Error('math.bitShift: negative offset');
    return n;
  };
  out.push(
    celFunc('math.bitNot', [INT], INT, (a) => asInt(~a)),
    celFunc('math.bitNot', [UINT], UINT, (a) => celUint(UINT64_MAX ^ a.value)),
    celFunc('math.bitShiftLeft', [INT, INT], INT, (a, n) => (shift(n) > 63n ? 0n : asInt(a << n))),
    celFunc('math.bitShiftLeft', [UINT, INT], UINT, (a, n) =>
      celUint(shift(n) > 63n ? 0n : BigInt.asUintN(64, a.value << n)),
    ),
    celFunc('math.bitShiftRight', [INT, INT], INT, (a, n) =>
      shift(n) > 63n ? 0n : asInt(BigInt.asUintN(64, a) >> n),
    ),
    celFunc('math.bitShiftRight', [UINT, INT], UINT, (a, n) => celUint(shift(n) > 63n ? 0n : a.value >> n)),
  );
  return out;
}

export const listFunctions: CelFunc[] = [
  celMethod('isSorted', LIST, [], BOOL, function () {
    return isSorted(this);
  }),
  celMethod('sum', LIST, [], DYN, function () {
    return sum(this);
  }),
  celMethod('min', LIST, [], DYN, function () {
    return extreme(this, -1, 'min');
  }),
  celMethod('max', LIST, [], DYN, function () {
    return extreme(this, 1, 'max');
  }),
  celMethod('indexOf', LIST, [DYN], INT, function (v) {
    return indexOf(this, v, false);
  }),
  celMethod('lastIndexOf', LIST, [DYN], INT, function (v) {
    return indexOf(this, v, true);
  }),
  celMethod('slice', LIST, [INT, INT], LIST, function (a, b) {
    return slice(this, a, b);
  }),
  celMethod('flatten', LIST, [], LIST, function () {
    return flatten(this, 1);
  }),
  celMethod('flatten', LIST, [INT], LIST, function (depth) {
    return flatten(this, Number(depth));
  }),
  celMethod('reverse', LIST, [], LIST, function () {
    return toArray(this).reverse();
  }),
  celMethod('distinct', LIST, [], LIST, function () {
    return distinct(this);
  }),
  celMethod('sort', LIST, [], LIST, function () {
    return sortList(this);
  }),
  celFunc('lists.range', [INT], LIST, range),
  celFunc('sets.contains', [LIST, LIST], BOOL, setsContains),
  celFunc('sets.equivalent', [LIST, LIST], BOOL, (a, b) => setsContains(a, b) && setsContains(b, a)),
  celFunc('sets.intersects', [LIST, LIST], BOOL, (a, b) => {
    const items = toArray(a);
    charge((items.length * b.size) / 100);
    return toArray(b).some((x) => items.some((y) => celEquals(x, y)));
  }),
  ...mathVariadic,
  ...numeric('ceil', Math.ceil),
  ...numeric('floor', Math.floor),
  ...numeric('round', (x) => (x < 0 ? -Math.round(-x) : Math.round(x))),
  ...numeric('trunc', Math.trunc),
  celFunc('math.abs', [INT], INT, (x) => {
    if (x === INT64_MIN) throw new Error('integer overflow');
    return x < 0n ? -x : x;
  }),
  celFunc('math.abs', [UINT], UINT, (x) => x),
  celFunc('math.sign', [UINT], UINT, (x) => celUint(x.value > 0n ? 1n : 0n)),
  ...bitFunctions(),
  celFunc('math.abs', [DOUBLE], DOUBLE, Math.abs),
  celFunc('math.sign', [INT], INT, (x) => (x > 0n ? 1n : x < 0n ? -1n : 0n)),
  celFunc('math.sign', [DOUBLE], DOUBLE, (x) => Math.sign(x)),
  celFunc('math.isNaN', [DOUBLE], BOOL, Number.isNaN),
  celFunc(
    'math.isInf',
    [DOUBLE],
    BOOL,
    (x) => x === Number.POSITIVE_INFINITY || x === Number.NEGATIVE_INFINITY,
  ),
  celFunc('math.isFinite', [DOUBLE], BOOL, Number.isFinite),
  // For the two-variable comprehensions the parser expands: the indexes of a list, the keys of a map.
  celFunc(INTERNAL.keys, [DYN], LIST, (v) => {
    if (isCelList(v)) return Array.from({ length: v.size }, (_, i) => BigInt(i));
    if (v !== null && typeof v === 'object' && 'keys' in v && typeof v.keys === 'function') {
      return [...(v as { keys(): Iterable<CelValue> }).keys()];
    }
    throw new Error('a two-variable comprehension needs a list or a map');
  }),
  celFunc(INTERNAL.zipMap, [LIST, LIST], MAP, (keys, values) => {
    const out = new Map<bigint | string | boolean, CelValue>();
    const vs = toArray(values);
    toArray(keys).forEach((k, i) => {
      out.set(k as bigint | string | boolean, vs[i] as CelValue);
    });
    return out;
  }),
];
