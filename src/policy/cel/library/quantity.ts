// Kubernetes quantities (`quantity("1.5Gi")`): parsed exactly as resource.Quantity does, held as a reduced
// rational so that comparisons and sums are exact, with the Kubernetes library's methods.
import { type CelFunc, celFunc, celMethod } from '@bufbuild/cel';
import type { Message } from '@bufbuild/protobuf';
import { fieldsOf, newMessage, QUANTITY, QuantityDesc, type ReflectedMessage } from '../types.js';
import { BOOL, DOUBLE, INT, STRING } from './common.js';

interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QUANTITY_RE = /^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x === 0n ? 1n : x;
}

function reduce(num: bigint, den: bigint): Rational {
  const sign = den < 0n ? -1n : 1n;
  const g = gcd(num, den < 0n ? -den : den);
  return { num: (sign * num) / g, den: (sign * den) / g };
}

export function parseQuantity(text: string): Rational | undefined {
  const m = QUANTITY_RE.exec(text.trim() === text ? text : '');
  if (m === null) return undefined;
  const sign = m[1] ?? '';
  const number = m[2] ?? '0';
  const suffix = m[3] ?? '';
  const [whole = '', fraction = ''] = number.split('.');
  let num = BigInt(`${whole || '0'}${fraction}`);
  let den = 10n ** BigInt(fraction.length);
  if (sign === '-') num = -num;
  if (suffix in BINARY) {
    num *= BINARY[suffix] as bigint;
  } else {
    const exponent = suffix in DECIMAL ? (DECIMAL[suffix] as number) : Number(suffix.slice(1));
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 1000) return undefined;
    if (exponent >= 0) num *= 10n ** BigInt(exponent);
    else den *= 10n ** BigInt(-exponent);
  }
  return reduce(num, den);
}

function toMessage(q: Rational): Message {
  return newMessage(QuantityDesc, { num: q.num.toString(), den: q.den.toString() });
}

function ofMessage(value: ReflectedMessage): Rational {
  const f = fieldsOf(value);
  return { num: BigInt(f.num as string), den: BigInt(f.den as string) };
}

function compare(a: Rational, b: Rational): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

function format(q: Rational): string {
  if (q.den === 1n) return q.num.toString();
  // A finite decimal when the denominator divides a power of ten; otherwise an approximation.
  let den = q.den;
  let digits = 0;
  while (den % 10n === 0n || den % 2n === 0n || den % 5n === 0n) {
    if (den === 1n) break;
    if (den % 10n === 0n) den /= 10n;
    else if (den % 2n === 0n) den /= 2n;
    else den /= 5n;
    digits++;
    if (digits > 40) break;
  }
  if (den !== 1n) return String(Number(q.num) / Number(q.den));
  const scaled = (q.num * 10n ** BigInt(digits)) / q.den;
  const negative = scaled < 0n;
  const s = (negative ? -scaled : scaled).toString().padStart(digits + 1, '0');
  const text = `${s.slice(0, -digits)}.${s.slice(-digits)}`.replace(/\.?0+$/, '');
  return negative ? `-${text}` : text;
}

function parseOrThrow(text: string): Rational {
  const q = parseQuantity(text);
  if (q === undefined)
    throw new Error(
      `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (found "${text}")`,
    );
  return q;
}

function add(a: Rational, b: Rational): Rational {
  return reduce(a.num * b.den + b.num * a.den, a.den * b.den);
}

function negate(q: Rational): Rational {
  return { num: -q.num, den: q.den };
}

function integerOf(q: Rational): bigint | undefined {
  if (q.num % q.den !== 0n) return undefined;
  const v = q.num / q.den;
  return v > INT64_MAX || v < INT64_MIN ? undefined : v;
}

const fromInt = (n: bigint): Rational => ({ num: n, den: 1n });

export const quantityFunctions: CelFunc[] = [
  celFunc('quantity', [STRING], QUANTITY, (s) => toMessage(parseOrThrow(s))),
  celFunc('isQuantity', [STRING], BOOL, (s) => parseQuantity(s) !== undefined),
  celMethod('sign', QUANTITY, [], INT, function () {
    return BigInt(compare(ofMessage(this), fromInt(0n)));
  }),
  celMethod('isGreaterThan', QUANTITY, [QUANTITY], BOOL, function (other) {
    return compare(ofMessage(this), ofMessage(other)) > 0;
  }),
  celMethod('isLessThan', QUANTITY, [QUANTITY], BOOL, function (other) {
    return compare(ofMessage(this), ofMessage(other)) < 0;
  }),
  celMethod('compareTo', QUANTITY, [QUANTITY], INT, function (other) {
    return BigInt(compare(ofMessage(this), ofMessage(other)));
  }),
  celMethod('add', QUANTITY, [QUANTITY], QUANTITY, function (other) {
    return toMessage(add(ofMessage(this), ofMessage(other)));
  }),
  celMethod('add', QUANTITY, [INT], QUANTITY, function (n) {
    return toMessage(add(ofMessage(this), fromInt(n)));
  }),
  celMethod('sub', QUANTITY, [QUANTITY], QUANTITY, function (other) {
    return toMessage(add(ofMessage(this), negate(ofMessage(other))));
  }),
  celMethod('sub', QUANTITY, [INT], QUANTITY, function (n) {
    return toMessage(add(ofMessage(this), fromInt(-n)));
  }),
  celMethod('isInteger', QUANTITY, [], BOOL, function () {
    return integerOf(ofMessage(this)) !== undefined;
  }),
  celMethod('asInteger', QUANTITY, [], INT, function () {
    const v = integerOf(ofMessage(this));
    if (v === undefined)
      throw new Error('cannot convert value to integer: the quantity is fractional or out of range');
    return v;
  }),
  celMethod('asApproximateFloat', QUANTITY, [], DOUBLE, function () {
    const q = ofMessage(this);
    return Number(q.num) / Number(q.den);
  }),
  celFunc('string', [QUANTITY], STRING, (q) => format(ofMessage(q))),
];
