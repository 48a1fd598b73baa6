// Semantic versions (the Kubernetes semver library): semver("1.2.3"), isSemver, major/minor/patch, and
// ordering by SemVer 2.0.0 precedence (build metadata ignored).
import { type CelFunc, celFunc, celMethod } from '@bufbuild/cel';
import type { Message } from '@bufbuild/protobuf';
import { fieldsOf, newMessage, type ReflectedMessage, SEMVER, SemverDesc } from '../types.js';
import { BOOL, INT, STRING } from './common.js';

const SEMVER_RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

interface Version {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly prerelease: string;
}

export function parseSemver(text: string): Version | undefined {
  const m = SEMVER_RE.exec(text);
  if (m === null) return undefined;
  return {
    major: BigInt(m[1] as string),
    minor: BigInt(m[2] as string),
    patch: BigInt(m[3] as string),
    prerelease: m[4] ?? '',
  };
}

function compare(a: Version, b: Version): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  if (a.prerelease === b.prerelease) return 0;
  if (a.prerelease === '') return 1;
  if (b.prerelease === '') return -1;
  const x = a.prerelease.split('.');
  const y = b.prerelease.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn) return BigInt(p) < BigInt(q) ? -1 : 1;
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

const toMessage = (v: Version): Message => newMessage(SemverDesc, { ...v, build: '' });
const ofMessage = (m: ReflectedMessage): Version => {
  const f = fieldsOf(m);
  return {
    major: f.major as bigint,
    minor: f.minor as bigint,
    patch: f.patch as bigint,
    prerelease: f.prerelease as string,
  };
};

export const semverFunctions: CelFunc[] = [
  celFunc('semver', [STRING], SEMVER, (s) => {
    const v = parseSemver(s);
    if (v === undefined) throw new Error(`"${s}" is not a semantic version (e.g. 1.2.3)`);
    return toMessage(v);
  }),
  celFunc('isSemver', [STRING], BOOL, (s) => parseSemver(s) !== undefined),
  celMethod('major', SEMVER, [], INT, function () {
    return ofMessage(this).major;
  }),
  celMethod('minor', SEMVER, [], INT, function () {
    return ofMessage(this).minor;
  }),
  celMethod('patch', SEMVER, [], INT, function () {
    return ofMessage(this).patch;
  }),
  celMethod('isGreaterThan', SEMVER, [SEMVER], BOOL, function (o) {
    return compare(ofMessage(this), ofMessage(o)) > 0;
  }),
  celMethod('isLessThan', SEMVER, [SEMVER], BOOL, function (o) {
    return compare(ofMessage(this), ofMessage(o)) < 0;
  }),
  celMethod('compareTo', SEMVER, [SEMVER], INT, function (o) {
    return BigInt(compare(ofMessage(this), ofMessage(o)));
  }),
];
