// Canonical JSON: RFC 8785's own examples, key order by UTF-16 code units, and hostile input refused with
// the JSON path of the offending value.
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { canonicalBytes, canonicalize, MAX_DEPTH, parseCanonical } from './canonical.js';

function fromBits(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

/** [1, <hole>, 3]: an array with a missing element. */
function holey(): unknown[] {
  const array: unknown[] = [1];
  array[2] = 3;
  return array;
}

describe('canonicalize', () => {
  it('writes RFC 8785 §3.2.2 example as the RFC does', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units (RFC 8785 §3.2.3)', () => {
    const input = {
      '€': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '😀': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      ö: 'Latin Small Letter O With Diaeresis',
    };
    // Read the order off the text: Object.keys would put the integer-like key "1" first whatever the text says.
    const text = canonicalize(input);
    const keys = [...text.matchAll(/"((?:[^"\\]|\\.)*)":/g)].map((m) => JSON.parse(`"${m[1]}"`));
    expect(keys).toEqual(['\r', '1', '\u0080', 'ö', '€', '😀', '\ufb33']);
    expect(text.startsWith('{"\\r":"Carriage Return","1":"One",')).toBe(true);
    // An astral character (a surrogate pair, 0xD83D…) sorts before U+FB33 by code units, though not by
    // code point: that is what the RFC specifies.
  });

  it('prints numbers as ECMAScript does (RFC 8785 appendix B)', () => {
    const cases: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af6', '1e+23'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ];
    for (const [bits, want] of cases) expect(canonicalize(fromBits(bits)), bits).toBe(want);
  });

  it('nests, keeps array order, omits undefined members and escapes only what it must', () => {
    const value = { b: [3, { z: 1, a: [true, null] }], a: 'x\u2028y\u007f', c: undefined, d: '' };
    expect(canonicalize(value)).toBe('{"a":"x\u2028y\u007f","b":[3,{"a":[true,null],"z":1}],"d":""}');
    expect(canonicalBytes({ s: 'é' })).toEqual(Buffer.from('{"s":"é"}', 'utf8'));
    expect(canonicalize(Object.create(null))).toBe('{}');
    // An own "__proto__" member (as JSON.parse makes one) is an ordinary key.
    expect(canonicalize(JSON.parse('{"b":2,"__proto__":1}'))).toBe('{"__proto__":1,"b":2}');
  });

  it('is the same for equal values built in any key order', () => {
    const a = { x: { p: 1, q: [1, 2] }, y: 'v' };
    const b = { y: 'v', x: { q: [1, 2], p: 1 } };
    expect(canonicalize(a)).toBe(canonicalize(b));
  });

  it.each([
    ['NaN', { a: Number.NaN }, /\$\.a: NaN is not a finite number/],
    ['Infinity', [1, Number.POSITIVE_INFINITY], /\$\[1\]: Infinity/],
    ['-Infinity', Number.NEGATIVE_INFINITY, /-Infinity/],
    ['undefined at the top', undefined, /undefined is not JSON/],
    ['undefined in an array', [1, undefined], /\$\[1\]: undefined/],
    ['a hole in an array', holey(), /\$\[1\]: undefined/],
    ['a bigint', { n: 10n }, /\$\.n: a bigint is not JSON/],
    ['a function', { f: () => 1 }, /a function/],
    ['a symbol value', { s: Symbol('x') }, /a symbol/],
    ['a symbol key', { [Symbol('k')]: 1 }, /symbol keys/],
    ['a Date', { at: new Date(0) }, /\$\.at: a Date is not a plain object/],
    ['a Map', new Map([[1, 2]]), /a Map/],
    ['a class instance', new (class Thing {})(), /a Thing/],
    ['a lone high surrogate', { s: 'a\ud800b' }, /unpaired UTF-16 surrogate/],
    ['a lone low surrogate in a key', { 'k\udc00': 1 }, /unpaired/],
    ['an odd key in the path', { 'a b': { c: Number.NaN } }, /\$\["a b"\]\.c: NaN/],
  ])('refuses %s', (_name, value, message) => {
    expect(() => canonicalize(value)).toThrow(InputError);
    expect(() => canonicalize(value)).toThrow(message);
  });

  it('refuses cycles and nesting deeper than the limit, without overflowing the stack', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(() => canonicalize(cyclic)).toThrow(/\$\.self\.back: a cycle/);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => canonicalize(deep)).toThrow(new RegExp(`deeper than ${MAX_DEPTH}`));
    let ok: unknown = 'leaf';
    for (let i = 0; i < MAX_DEPTH; i++) ok = { k: ok };
    expect(canonicalize(ok).length).toBeGreaterThan(MAX_DEPTH * 6);
    // The same object twice (not a cycle) is fine.
    const shared = { v: 1 };
    expect(canonicalize({ a: shared, b: shared })).toBe('{"a":{"v":1},"b":{"v":1}}');
  });

  it('gives a hint that names what is allowed', () => {
    try {
      canonicalize({ x: Number.NaN });
      expect.unreachable();
    } catch (error) {
      expect((error as InputError).hint).toMatch(/plain JSON only/);
    }
  });
});

describe('parseCanonical', () => {
  it('returns the value of canonical text', () => {
    expect(parseCanonical('{"a":[1,"é"],"b":null}')).toEqual({ a: [1, 'é'], b: null });
  });

  it.each([
    ['whitespace', '{"a": 1}'],
    ['unsorted keys', '{"b":1,"a":2}'],
    ['a non-minimal number', '{"a":1.0}'],
    ['an escaped character that needs none', '{"a":"\\u0041"}'],
    ['upper-case hex in an escape', '"\\u001F"'],
    ['a duplicate key', '{"a":1,"a":1}'],
    ['a number beyond double precision', '12345678901234567890'],
    ['an escaped lone surrogate', '"\\ud800"'],
    ['text that is not JSON', '{"a":'],
  ])('refuses %s', (_name, text) => {
    expect(parseCanonical(text)).toBeUndefined();
  });
});
