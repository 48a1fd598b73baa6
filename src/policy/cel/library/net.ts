// IP addresses and CIDR ranges (the Kubernetes ip and cidr libraries), with Go's net/netip rules: no zones,
// no IPv4-mapped IPv6, no leading zeros in IPv4; canonical text as RFC 5952.
import { type CelFunc, celFunc, celMethod } from '@bufbuild/cel';
import type { Message } from '@bufbuild/protobuf';
import { CIDR, CidrDesc, fieldsOf, IP, IpDesc, newMessage, type ReflectedMessage } from '../types.js';
import { BOOL, INT, STRING } from './common.js';

/** 4 or 16 bytes. */
export type Address = Uint8Array;

function parseIPv4(text: string): Address | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith('0'))) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIPv6(text: string): Address | undefined {
  if (text.includes('%')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (v4 === undefined) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      out.push(Number.parseInt(p, 16));
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function isMapped(a: Address): boolean {
  return a.length === 16 && a.slice(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff;
}

export function parseAddress(text: string): Address | undefined {
  const a = text.includes(':') ? parseIPv6(text) : parseIPv4(text);
  return a === undefined || isMapped(a) ? undefined : a;
}

export function formatAddress(a: Address): string {
  if (a.length === 4) return [...a].join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a[i] as number) << 8) | (a[i + 1] as number));
  // The longest run of two or more zero groups becomes `::` (the first one when two are as long).
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLength))}`;
}

interface Prefix {
  readonly address: Address;
  readonly bits: number;
}

export function parsePrefix(text: string): Prefix | undefined {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return undefined;
  const address = parseAddress(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  if (
    address === undefined ||
    !/^\d{1,3}$/.test(bitsText) ||
    (bitsText.length > 1 && bitsText.startsWith('0'))
  ) {
    return undefined;
  }
  const bits = Number(bitsText);
  return bits > address.length * 8 ? undefined : { address, bits };
}

function masked(p: Prefix): Address {
  const out = new Uint8Array(p.address);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, p.bits - i * 8));
    out[i] = (out[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

function contains(p: Prefix, a: Address): boolean {
  if (a.length !== p.address.length) return false;
  const m = masked(p);
  return masked({ address: a, bits: p.bits }).every((b, i) => b === m[i]);
}

function inRange(a: Address, prefix: string): boolean {
  const p = parsePrefix(prefix) as Prefix;
  return contains(p, a);
}

const ipMessage = (a: Address): Message => newMessage(IpDesc, { bytes: a });
const cidrMessage = (p: Prefix): Message =>
  newMessage(CidrDesc, { bytes: p.address, prefix: BigInt(p.bits) });
const addressOf = (v: ReflectedMessage): Address => fieldsOf(v).bytes as Uint8Array;
const prefixOf = (v: ReflectedMessage): Prefix => ({
  address: fieldsOf(v).bytes as Uint8Array,
  bits: Number(fieldsOf(v).prefix as bigint),
});

function ipOrThrow(text: string): Address {
  const a = parseAddress(text);
  if (a === undefined) throw new Error(`IP Address "${text}" parse error during conversion from string`);
  return a;
}

function cidrOrThrow(text: string): Prefix {
  const p = parsePrefix(text);
  if (p === undefined) throw new Error(`network address "${text}" parse error during conversion from string`);
  return p;
}

function isUnspecified(a: Address): boolean {
  return a.every((b) => b === 0);
}
function isLoopback(a: Address): boolean {
  return a.length === 4 ? a[0] === 127 : inRange(a, '::1/128');
}
function isMulticast(a: Address): boolean {
  return a.length === 4 ? inRange(a, '224.0.0.0/4') : a[0] === 0xff;
}
function isLinkLocalUnicast(a: Address): boolean {
  return a.length === 4 ? inRange(a, '169.254.0.0/16') : inRange(a, 'fe80::/10');
}
function isLinkLocalMulticast(a: Address): boolean {
  return a.length === 4 ? inRange(a, '224.0.0.0/24') : inRange(a, 'ff02::/16');
}
function isGlobalUnicast(a: Address): boolean {
  if (a.length === 4 && a.every((b) => b === 255)) return false;
  return !isUnspecified(a) && !isLoopback(a) && !isMulticast(a) && !isLinkLocalUnicast(a);
}

export const netFunctions: CelFunc[] = [
  celFunc('ip', [STRING], IP, (s) => ipMessage(ipOrThrow(s))),
  celFunc('isIP', [STRING], BOOL, (s) => parseAddress(s) !== undefined),
  celFunc('ip.isCanonical', [STRING], BOOL, (s) => formatAddress(ipOrThrow(s)) === s),
  celFunc('string', [IP], STRING, (v) => formatAddress(addressOf(v))),
  celMethod('family', IP, [], INT, function () {
    return addressOf(this).length === 4 ? 4n : 6n;
  }),
  celMethod('isUnspecified', IP, [], BOOL, function () {
    return isUnspecified(addressOf(this));
  }),
  celMethod('isLoopback', IP, [], BOOL, function () {
    return isLoopback(addressOf(this));
  }),
  celMethod('isLinkLocalMulticast', IP, [], BOOL, function () {
    return isLinkLocalMulticast(addressOf(this));
  }),
  celMethod('isLinkLocalUnicast', IP, [], BOOL, function () {
    return isLinkLocalUnicast(addressOf(this));
  }),
  celMethod('isGlobalUnicast', IP, [], BOOL, function () {
    return isGlobalUnicast(addressOf(this));
  }),
  celFunc('cidr', [STRING], CIDR, (s) => cidrMessage(cidrOrThrow(s))),
  celFunc('isCIDR', [STRING], BOOL, (s) => parsePrefix(s) !== undefined),
  celFunc('string', [CIDR], STRING, (v) => {
    const p = prefixOf(v);
    return `${formatAddress(p.address)}/${p.bits}`;
  }),
  celMethod('containsIP', CIDR, [IP], BOOL, function (ip) {
    return contains(prefixOf(this), addressOf(ip));
  }),
  celMethod('containsIP', CIDR, [STRING], BOOL, function (ip) {
    return contains(prefixOf(this), ipOrThrow(ip));
  }),
  celMethod('containsCIDR', CIDR, [CIDR], BOOL, function (other) {
    const p = prefixOf(this);
    const o = prefixOf(other);
    return o.bits >= p.bits && contains(p, o.address);
  }),
  celMethod('containsCIDR', CIDR, [STRING], BOOL, function (other) {
    const p = prefixOf(this);
    const o = cidrOrThrow(other);
    return o.bits >= p.bits && contains(p, o.address);
  }),
  celMethod('ip', CIDR, [], IP, function () {
    return ipMessage(prefixOf(this).address);
  }),
  celMethod('masked', CIDR, [], CIDR, function () {
    const p = prefixOf(this);
    return cidrMessage({ address: masked(p), bits: p.bits });
  }),
  celMethod('prefixLength', CIDR, [], INT, function () {
    return BigInt(prefixOf(this).bits);
  }),
];
