// Optional values (cel-go's optional library, which Kubernetes enables): optional.of / ofNonZeroValue /
// none, hasValue, value, orValue, or, and the functions the parser's rewrite calls for `a.?b`, `a[?k]`,
// `[?x]` and `{?k: v}`.
import {
  type CelFunc,
  type CelInput,
  type CelList,
  type CelMap,
  type CelValue,
  celFunc,
  celMethod,
  isCelList,
  isCelMap,
} from '@bufbuild/cel';
import { INTERNAL } from '../rewrite.js';
import {
  fieldsOf,
  isOptional,
  isReflected,
  OPTIONAL,
  optionalNone,
  optionalOf,
  optionalValue,
} from '../types.js';
import { BOOL, DYN, LIST, MAP, STRING } from './common.js';

function isZero(v: CelValue): boolean {
  if (v === null || v === false || v === '' || v === 0 || v === 0n) return true;
  if (v instanceof Uint8Array) return v.length === 0;
  if (isCelList(v) || isCelMap(v)) return v.size === 0;
  return false;
}

function present(v: CelValue): CelValue | undefined {
  if (!isOptional(v)) throw new Error('expected an optional value');
  return optionalValue(v);
}

/** `x.?field` and selection on an optional: an optional of the field, none when it is absent. */
function select(target: CelValue, field: CelValue): CelInput {
  let value: CelValue | undefined = target;
  if (isOptional(target)) {
    value = optionalValue(target);
    if (value === undefined) return optionalNone();
  }
  if (isCelMap(value)) {
    const found = (value as CelMap).get(field as string);
    return found === undefined ? optionalNone() : optionalOf(found);
  }
  if (isReflected(value)) {
    const desc = value.desc;
    const f = desc.fields.find((x) => x.name === field || x.jsonName === field);
    const raw = fieldsOf(value)[f?.localName ?? String(field)];
    return raw === undefined || f === undefined ? optionalNone() : optionalOf(raw as CelValue);
  }
  throw new Error(`no such key: ${String(field)}`);
}

/** `x[?key]` and indexing an optional. */
function index(target: CelValue, key: CelValue): CelInput {
  let value: CelValue | undefined = target;
  if (isOptional(target)) {
    value = optionalValue(target);
    if (value === undefined) return optionalNone();
  }
  if (isCelList(value)) {
    const list = value as CelList;
    const i =
      typeof key === 'bigint'
        ? Number(key)
        : typeof key === 'number' && Number.isInteger(key)
          ? key
          : Number.NaN;
    if (Number.isNaN(i)) throw new Error('list index must be an integer');
    const found = i >= 0 && i < list.size ? list.get(i) : undefined;
    return found === undefined ? optionalNone() : optionalOf(found);
  }
  if (isCelMap(value)) {
    const found = (value as CelMap).get(key as string);
    return found === undefined ? optionalNone() : optionalOf(found);
  }
  throw new Error(`no such key: ${String(key)}`);
}

/** `has(opt.field)`: false when the optional is empty or the field absent. */
function has(target: CelValue, field: CelValue): boolean {
  const value = isOptional(target) ? optionalValue(target) : target;
  if (value === undefined) return false;
  if (isCelMap(value)) return (value as CelMap).has(field as string);
  if (isReflected(value)) return value.desc.fields.some((f) => f.name === field);
  throw new Error(`no such key: ${String(field)}`);
}

/** `[a, ?b, c]`: drops the empty optionals at the marked positions, unwraps the others. */
function optionalList(list: CelList, positions: CelList): CelValue[] {
  const marked = new Set([...positions].map((p) => Number(p)));
  const out: CelValue[] = [];
  let i = 0;
  for (const element of list) {
    if (marked.has(i)) {
      const v = present(element);
      if (v !== undefined) out.push(v);
    } else {
      out.push(element);
    }
    i++;
  }
  return out;
}

/** `{?k: v}`: drops the entries whose optional value is empty, unwraps the others. */
function optionalMap(map: CelMap, keys: CelList): Map<bigint | string | boolean, CelValue> {
  const optionalKeys = [...keys];
  const out = new Map<bigint | string | boolean, CelValue>();
  for (const [k, v] of map) {
    const isMarked = optionalKeys.some((key) => key === k);
    if (!isMarked) {
      out.set(k as bigint | string | boolean, v);
      continue;
    }
    const value = present(v);
    if (value !== undefined) out.set(k as bigint | string | boolean, value);
  }
  return out;
}

export const optionalFunctions: CelFunc[] = [
  celFunc('optional.of', [DYN], OPTIONAL, (v) => optionalOf(v)),
  celFunc('optional.ofNonZeroValue', [DYN], OPTIONAL, (v) => (isZero(v) ? optionalNone() : optionalOf(v))),
  celFunc('optional.none', [], OPTIONAL, () => optionalNone()),
  celMethod('hasValue', OPTIONAL, [], BOOL, function () {
    return present(this) !== undefined;
  }),
  celMethod('value', OPTIONAL, [], DYN, function () {
    const v = present(this);
    if (v === undefined) throw new Error('optional.none() dereference');
    return v;
  }),
  celMethod('orValue', OPTIONAL, [DYN], DYN, function (fallback) {
    return present(this) ?? fallback;
  }),
  celMethod('or', OPTIONAL, [OPTIONAL], OPTIONAL, function (other) {
    return (present(this) === undefined ? other : this) as never;
  }),
  celFunc(INTERNAL.optSelect, [DYN, STRING], DYN, select),
  celFunc(INTERNAL.optIndex, [DYN, DYN], DYN, index),
  celFunc(INTERNAL.optHas, [DYN, STRING], BOOL, has),
  celFunc(INTERNAL.optList, [LIST, LIST], LIST, optionalList),
  celFunc(INTERNAL.optMap, [MAP, LIST], MAP, optionalMap),
];
