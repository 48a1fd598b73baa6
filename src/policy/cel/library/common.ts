// Helpers the libraries share: CEL equality and ordering (taken from CEL-ES's own standard functions, so
// they agree with `==` and `<`), and small type declarations.
import {
  type CelList,
  type CelMap,
  CelScalar,
  type CelValue,
  celEnv,
  isCelError,
  listType,
  mapType,
} from '@bufbuild/cel';

export const LIST = listType(CelScalar.DYN);
export const MAP = mapType(CelScalar.DYN, CelScalar.DYN);
export const { BOOL, INT, UINT, DOUBLE, STRING, BYTES, DYN } = CelScalar;

const std = celEnv().funcs;
const eq = std.find('_==_');
const lt = std.find('_<_');

/** CEL `==` (heterogeneous numbers, lists, maps, messages). */
export function celEquals(a: CelValue, b: CelValue): boolean {
  return eq?.call(0, undefined, [a, b]) === true;
}

/** CEL ordering of two values of comparable types; throws when they are not comparable. */
export function celCompare(a: CelValue, b: CelValue): number {
  const less = lt?.call(0, undefined, [a, b]);
  if (less === undefined || isCelError(less)) {
    throw new Error(`no ordering between ${describe(a)} and ${describe(b)}`);
  }
  if (less === true) return -1;
  return lt?.call(0, undefined, [b, a]) === true ? 1 : 0;
}

export function describe(value: CelValue): string {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return 'double';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (value instanceof Uint8Array) return 'bytes';
  return 'object';
}

export function toArray(list: CelList): CelValue[] {
  return [...list];
}

export function mapKeys(map: CelMap): CelValue[] {
  return [...map.keys()] as CelValue[];
}
