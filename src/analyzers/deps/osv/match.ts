// Matching one installed package against OSV documents: the schema's evaluation algorithm, fixes, alias groups.
import type { VersionScheme } from '../types.js';
import { eventOf, normaliseEcosystem, type OsvAffected, type OsvRange, type OsvVuln } from './schema.js';

/** A package as advisories name it. `ecosystem` may carry an OSV suffix (`Debian:11`); it is normalised. */
export interface PackageRef {
  readonly ecosystem: string;
  readonly name: string;
}

export interface PackageVersion extends PackageRef {
  readonly version: string;
}

/**
 * `affected` and `not-affected` are answers; `unknown` means the question could not be answered: the installed
 * version (or an event version of a range that had to be evaluated) is not valid in the ecosystem's scheme.
 * `isAffected` maps `unknown` to false; callers that report unknowns use `matchVulnerability`.
 */
export type MatchStatus = 'affected' | 'not-affected' | 'unknown';

export interface MatchResult {
  readonly status: MatchStatus;
  /** Why the answer is `unknown` (or that the document is withdrawn). */
  readonly reason?: string;
}

/**
 * The name under which an ecosystem considers two spellings the same package: PyPI per PEP 503
 * (`[-_.]+` → `-`, lowercase); NuGet and Packagist case-insensitive (lowercase); npm, Go, crates.io,
 * RubyGems, Maven (`group:artifact`) and every other ecosystem exact.
 */
export function normalisePackageName(ecosystem: string, name: string): string {
  switch (normaliseEcosystem(ecosystem)) {
    case 'PyPI':
      return name.replace(/[-_.]+/g, '-').toLowerCase();
    case 'NuGet':
    case 'Packagist':
      return name.toLowerCase();
    default:
      return name;
  }
}

/** True when an advisory's `affected[].package` names this package. */
export function packageMatches(advisoryPackage: PackageRef | undefined, pkg: PackageRef): boolean {
  if (advisoryPackage === undefined) return false;
  const ecosystem = normaliseEcosystem(pkg.ecosystem);
  if (normaliseEcosystem(advisoryPackage.ecosystem) !== ecosystem) return false;
  return normalisePackageName(ecosystem, advisoryPackage.name) === normalisePackageName(ecosystem, pkg.name);
}

/** The `affected` entries of a document that are about this package. */
export function affectedEntriesFor(vuln: OsvVuln, pkg: PackageRef): OsvAffected[] {
  return (vuln.affected ?? []).filter((entry) => packageMatches(entry.package, pkg));
}

/** Range types that order registry versions. GIT ranges (commit graphs) never match a registry version. */
function isVersionRange(range: OsvRange): boolean {
  return range.type === 'ECOSYSTEM' || range.type === 'SEMVER';
}

/** Go versions are written with a `v` in go.mod and without one in OSV. */
function sameVersionString(ecosystem: string, a: string, b: string): boolean {
  if (a === b) return true;
  return ecosystem === 'Go' && a.replace(/^v/, '') === b.replace(/^v/, '');
}

function inVersionsList(
  entry: OsvAffected,
  ecosystem: string,
  version: string,
  scheme: VersionScheme,
): boolean {
  const listed = entry.versions ?? [];
  if (listed.length === 0) return false;
  const valid = scheme.isValid(version);
  for (const candidate of listed) {
    if (sameVersionString(ecosystem, candidate, version)) return true;
    // Equal in the ecosystem's ordering (PyPI `1.0` and `1.0.0`).
    if (valid && scheme.isValid(candidate) && scheme.compare(candidate, version) === 0) return true;
  }
  return false;
}

const KIND_ORDER = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 } as const;

/**
 * The schema's `IncludedInRanges` for one range: `undefined` when an event version is not valid in the scheme
 * (the range cannot be evaluated). Events are sorted by version (`introduced: "0"` lowest; on equal versions
 * `introduced` comes first, so `introduced: X, fixed: X` is empty); `limit` events cap the range (a version
 * must be below at least one of them; `*` is infinity).
 */
function includedInRange(version: string, range: OsvRange, scheme: VersionScheme): boolean | undefined {
  const events = range.events.map(eventOf);
  for (const e of events) {
    if (e.kind === 'introduced' && e.version === '0') continue;
    if (e.kind === 'limit' && e.version.includes('*')) continue;
    if (!scheme.isValid(e.version)) return undefined;
  }
  const limits = events.filter((e) => e.kind === 'limit');
  if (
    limits.length > 0 &&
    !limits.some((l) => l.version.includes('*') || scheme.compare(version, l.version) < 0)
  ) {
    return false;
  }
  const ordered = events
    .filter((e) => e.kind !== 'limit')
    .sort((a, b) => {
      const aZero = a.kind === 'introduced' && a.version === '0';
      const bZero = b.kind === 'introduced' && b.version === '0';
      if (aZero || bZero) return aZero && bZero ? 0 : aZero ? -1 : 1;
      return scheme.compare(a.version, b.version) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind];
    });
  let vulnerable = false;
  for (const e of ordered) {
    if (e.kind === 'introduced') {
      if (e.version === '0' || scheme.compare(version, e.version) >= 0) vulnerable = true;
    } else if (e.kind === 'fixed') {
      if (scheme.compare(version, e.version) >= 0) vulnerable = false;
    } else if (e.kind === 'last_affected') {
      if (scheme.compare(version, e.version) > 0) vulnerable = false;
    }
  }
  return vulnerable;
}

/**
 * The schema's `IsVulnerable` with a tri-state answer. A withdrawn document never matches. ECOSYSTEM and SEMVER
 * ranges are evaluated with `scheme` (the ecosystem's ordering, also for SEMVER ranges: the semver
 * ecosystems' schemes are semver); GIT ranges are ignored; the `versions` list of a matching entry counts
 * by string equality (and by equality in the scheme), so even an invalid installed version can be found there.
 */
export function matchVulnerability(vuln: OsvVuln, pkg: PackageVersion, scheme: VersionScheme): MatchResult {
  if (vuln.withdrawn !== undefined) return { status: 'not-affected', reason: `withdrawn ${vuln.withdrawn}` };
  const ecosystem = normaliseEcosystem(pkg.ecosystem);
  const entries = affectedEntriesFor(vuln, pkg);
  if (entries.length === 0) return { status: 'not-affected' };
  const installedValid = scheme.isValid(pkg.version);
  let unknown: string | undefined;
  for (const entry of entries) {
    if (inVersionsList(entry, ecosystem, pkg.version, scheme)) return { status: 'affected' };
    for (const range of entry.ranges ?? []) {
      if (!isVersionRange(range)) continue;
      if (!installedValid) {
        unknown ??= `"${pkg.version}" is not a valid ${ecosystem} version`;
        continue;
      }
      const included = includedInRange(pkg.version, range, scheme);
      if (included === true) return { status: 'affected' };
      if (included === undefined) {
        const bad = range.events
          .map(eventOf)
          .find((e) => e.version !== '0' && !e.version.includes('*') && !scheme.isValid(e.version));
        unknown ??= `the advisory's event version "${bad?.version ?? '?'}" is not a valid ${ecosystem} version`;
      }
    }
  }
  return unknown === undefined ? { status: 'not-affected' } : { status: 'unknown', reason: unknown };
}

/** True when the package at its version is affected; an unknown answer is false (see `matchVulnerability`). */
export function isAffected(vuln: OsvVuln, pkg: PackageVersion, scheme: VersionScheme): boolean {
  return matchVulnerability(vuln, pkg, scheme).status === 'affected';
}

/** The `fixed` events of the ECOSYSTEM/SEMVER ranges of the entries about this package, deduplicated, in order. */
export function fixedVersions(vuln: OsvVuln, pkg: PackageRef): string[] {
  const out: string[] = [];
  for (const entry of affectedEntriesFor(vuln, pkg)) {
    for (const range of entry.ranges ?? []) {
      if (!isVersionRange(range)) continue;
      for (const e of range.events) {
        if (e.fixed !== undefined && !out.includes(e.fixed)) out.push(e.fixed);
      }
    }
  }
  return out;
}

const SEMVER_ECOSYSTEMS = new Set(['npm', 'crates.io', 'Go']);

/**
 * The "major version" used to prefer a fix on the same release line: the first release segment (leading zeros
 * dropped; PyPI keeps its epoch, `1!2.0` → `1!2`). In the semver ecosystems (npm, crates.io, Go) a `0.x`
 * version's minor counts as the major, like Cargo's and npm's caret (`0.3.1` → `0.3`, `0.0.7` → `0.0`).
 * Undefined when the version does not start with a number.
 */
export function majorOf(ecosystem: string, version: string): string | undefined {
  const eco = normaliseEcosystem(ecosystem);
  let v = version.trim().replace(/^[vV]/, '');
  let epoch = '';
  if (eco === 'PyPI') {
    const m = /^(\d+)!/.exec(v);
    if (m !== null && m[1] !== undefined) {
      const e = Number.parseInt(m[1], 10);
      if (e !== 0) epoch = `${e}!`;
      v = v.slice(m[0].length);
    }
  }
  const m = /^(\d+)(?:\.(\d+))?/.exec(v);
  if (m === null || m[1] === undefined) return undefined;
  const first = Number.parseInt(m[1], 10);
  if (first === 0 && SEMVER_ECOSYSTEMS.has(eco)) return `0.${Number.parseInt(m[2] ?? '0', 10)}`;
  return `${epoch}${first}`;
}

/**
 * The version to upgrade to: among the `fixed` versions greater than the installed one at which the package is
 * no longer affected by this document (a fix that another range still covers is no way out), the smallest on
 * the installed version's major line (`majorOf`) when there is one, else the smallest overall. Undefined when
 * the installed version is invalid or no such fix exists (unfixed, or only `last_affected`).
 */
export function smallestFix(vuln: OsvVuln, pkg: PackageVersion, scheme: VersionScheme): string | undefined {
  if (!scheme.isValid(pkg.version)) return undefined;
  const candidates = fixedVersions(vuln, pkg).filter(
    (fix) =>
      scheme.isValid(fix) &&
      scheme.compare(fix, pkg.version) > 0 &&
      matchVulnerability(vuln, { ...pkg, version: fix }, scheme).status === 'not-affected',
  );
  function smallest(versions: string[]): string | undefined {
    return versions.reduce<string | undefined>(
      (best, v) => (best === undefined || scheme.compare(v, best) < 0 ? v : best),
      undefined,
    );
  }
  const major = majorOf(pkg.ecosystem, pkg.version);
  const sameMajor =
    major === undefined ? [] : candidates.filter((fix) => majorOf(pkg.ecosystem, fix) === major);
  return smallest(sameMajor) ?? smallest(candidates);
}

/** Documents found for one package that describe the same vulnerability, reported once. */
export interface VulnGroup {
  /** The preferred id among the documents' own ids (see `idRank`). */
  readonly id: string;
  /** Every other id and alias of the group, most preferred first. */
  readonly aliases: readonly string[];
  /** The documents, primary first. */
  readonly vulns: readonly OsvVuln[];
}

/**
 * Preference of ids for the primary: GitHub advisories (`GHSA-`) first, then the ecosystem databases
 * (`PYSEC-`, `GO-`, `RUSTSEC-`, `RSEC-`, `MAL-`, … any other prefix), then the global aggregators
 * (`GSD-`, `OSV-`), then `CVE-` last; ties by string order.
 */
export function idRank(id: string): number {
  const prefix = id.slice(0, id.indexOf('-') + 1).toUpperCase();
  if (prefix === 'GHSA-') return 0;
  if (prefix === 'CVE-') return 3;
  if (prefix === 'GSD-' || prefix === 'OSV-') return 2;
  return 1;
}

function byPreference(a: string, b: string): number {
  return idRank(a) - idRank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Groups the documents found for one package: two documents whose ids or aliases intersect are one
 * vulnerability, transitively (union–find over every id and alias). The primary id is chosen among the
 * documents' own ids, so it can always be looked up; the other ids and aliases become `aliases`. A document id
 * seen twice keeps its newest `modified`. Groups come sorted by primary id.
 */
export function mergeAliases(vulns: readonly OsvVuln[]): VulnGroup[] {
  const byId = new Map<string, OsvVuln>();
  for (const v of vulns) {
    const seen = byId.get(v.id);
    if (seen === undefined || Date.parse(v.modified) > Date.parse(seen.modified)) byId.set(v.id, v);
  }
  const docs = [...byId.values()];
  const parent = docs.map((_, i) => i);
  function find(i: number): number {
    let root = i;
    while (parent[root] !== root) root = parent[root] ?? root;
    let node = i;
    while (parent[node] !== root) {
      const next = parent[node] ?? root;
      parent[node] = root;
      node = next;
    }
    return root;
  }
  const owner = new Map<string, number>();
  docs.forEach((doc, i) => {
    for (const key of [doc.id, ...(doc.aliases ?? [])]) {
      const other = owner.get(key);
      if (other === undefined) owner.set(key, i);
      else {
        const a = find(i);
        const b = find(other);
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  });
  const members = new Map<number, OsvVuln[]>();
  docs.forEach((doc, i) => {
    const root = find(i);
    const list = members.get(root);
    if (list === undefined) members.set(root, [doc]);
    else list.push(doc);
  });
  const groups: VulnGroup[] = [];
  for (const list of members.values()) {
    const ordered = [...list].sort((a, b) => byPreference(a.id, b.id));
    const primary = ordered[0];
    if (primary === undefined) continue;
    const ids = new Set<string>();
    for (const doc of ordered) for (const key of [doc.id, ...(doc.aliases ?? [])]) ids.add(key);
    ids.delete(primary.id);
    groups.push({ id: primary.id, aliases: [...ids].sort(byPreference), vulns: ordered });
  }
  return groups.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
