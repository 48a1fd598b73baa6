// The deps analyzer's work: find lockfiles, extract packages, match them against OSV advisories (the local
// store, or the OSV API with --online), and turn each vulnerable package into one finding per vulnerability.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import type { RawFinding, Severity } from '../../findings/model.js';
import { gitSync } from '../../git/git.js';
import type { RuleMeta, Skipped } from '../../report/types.js';
import type { AdvisoryStore } from '../../store/advisories.js';
import type { AnalyzerContext, AnalyzerResult, DatabaseSnapshot } from '../types.js';
import { extractorFor } from './extractors/index.js';
import { severityOf } from './osv/cvss.js';
import { fixedVersions, matchVulnerability, mergeAliases, smallestFix, type VulnGroup } from './osv/match.js';
import type { OsvVuln } from './osv/schema.js';
import { LockfileError, type Package } from './types.js';
import { schemeFor } from './versions/index.js';

/** Where advisories are stored unless the Check or --data-dir says otherwise. */
export function defaultDataDir(): string {
  const env = process.env.PLUMBLINE_DATA_DIR;
  if (env !== undefined && env !== '') return resolve(env);
  const xdg = process.env.XDG_DATA_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.local', 'share'), 'plumbline');
}

const MAX_LOCKFILE_BYTES = 64 * 1024 * 1024;

export interface Extracted {
  readonly packages: Package[];
  readonly skipped: Skipped[];
  readonly files: number;
  readonly bytes: number;
}

/** Every package of every lockfile under root (paths as listed for the tree scan). */
export function extractAll(root: string, paths: readonly string[]): Extracted {
  const packages: Package[] = [];
  const skipped: Skipped[] = [];
  let files = 0;
  let bytes = 0;
  for (const path of paths) {
    const extractor = extractorFor(path);
    if (extractor === undefined) continue;
    const text = readText(join(root, path));
    if (typeof text !== 'string') {
      skipped.push({ path, ...text });
      continue;
    }
    files++;
    bytes += text.length;
    try {
      packages.push(
        ...extractor.extract(text, {
          path,
          // Paths are relative to the scanned root (the extractors resolve them against the lockfile's folder).
          readFile: (relative) => {
            const target = posix.normalize(relative);
            if (target.startsWith('../') || posix.isAbsolute(target)) return undefined; // stay inside the tree
            const other = readText(join(root, target));
            return typeof other === 'string' ? other : undefined;
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof LockfileError)) throw error;
      // A malformed lockfile is reported with its line; the rest of the scan goes on.
      skipped.push({
        path: error.line === undefined ? path : `${path}:${error.line}`,
        reason: 'other',
        detail: `cannot read this ${extractor.name} file: ${error.message}`,
      });
    }
  }
  return { packages, skipped, files, bytes };
}

function readText(file: string): string | Omit<Skipped, 'path'> {
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_LOCKFILE_BYTES) return { reason: 'too-large', detail: `${bytes.length} bytes` };
    if (bytes.subarray(0, 8000).includes(0)) return { reason: 'binary', detail: 'contains NUL bytes' };
    return bytes.toString('utf8');
  } catch (error) {
    return { reason: 'unreadable', detail: (error as NodeJS.ErrnoException).code ?? 'error' };
  }
}

export async function runDeps(context: AnalyzerContext): Promise<AnalyzerResult> {
  const settings = { ...context.config.deps, ...context.deps };
  const extracted = extractAll(context.root, await context.files);
  let packages = extracted.packages.filter((p) => p.source === 'registry');
  if (!settings.includeDev) packages = packages.filter((p) => !p.dev);
  if (context.sinceBase !== undefined) packages = changedSince(packages, context);
  const skipped = [...extracted.skipped];
  const empty = (database?: DatabaseSnapshot): AnalyzerResult => ({
    findings: [],
    rules: [],
    skipped,
    files: extracted.files,
    bytes: extracted.bytes,
    ...(database === undefined ? {} : { database }),
  });
  if (packages.length === 0) return empty();

  const source = await openSource(settings, context);
  if (source === undefined) {
    skipped.push({
      path: '(advisory database)',
      reason: 'other',
      detail: `no advisory database in ${settings.dataDir ?? defaultDataDir()}: ${packages.length} packages were not checked. Run \`plumbline db import\` or use --online`,
    });
    return empty();
  }
  try {
    const advisories = await source.lookup(packages);
    const findings: RawFinding[] = [];
    const rules = new Map<string, RuleMeta>();
    const paths = new DependencyPaths(extracted.packages);
    packages.forEach((pkg, index) => {
      const scheme = schemeFor(pkg.ecosystem);
      if (scheme === undefined) return;
      const affecting = (advisories[index] ?? []).filter(
        (v) => matchVulnerability(v, pkg, scheme).status === 'affected',
      );
      const groups = mergeAliases(affecting);
      const fixesAll = upgradeFixingAll(pkg, affecting, scheme);
      for (const group of groups) {
        const finding = withFixAll(toFinding(pkg, group, scheme, paths), fixesAll);
        if (settings.fixableOnly && finding.dependency?.upgradeTo === undefined) continue;
        findings.push(finding);
        if (!rules.has(finding.ruleId)) rules.set(finding.ruleId, ruleOf(finding, group));
      }
    });
    return {
      findings,
      rules: [...rules.values()],
      skipped,
      files: extracted.files,
      bytes: extracted.bytes,
      database: source.snapshot,
    };
  } finally {
    source.close();
  }
}

interface AdvisorySource {
  readonly snapshot: DatabaseSnapshot;
  lookup(packages: readonly Package[]): Promise<OsvVuln[][]>;
  close(): void;
}

async function openSource(
  settings: { dataDir?: string; online: boolean; osvUrl: string },
  context: AnalyzerContext,
): Promise<AdvisorySource | undefined> {
  if (settings.online) {
    const { queryOsvBatch } = await import('./osv/online.js');
    return {
      snapshot: {
        name: `OSV API ${settings.osvUrl}`,
        snapshot: `online at ${new Date().toISOString()}`,
        documents: 0,
      },
      lookup: async (packages) => (await queryOsvBatch(packages, { baseUrl: settings.osvUrl })).results,
      close() {},
    };
  }
  const dataDir = resolve(context.root, settings.dataDir ?? defaultDataDir());
  const { AdvisoryStore, ADVISORIES_FILE } = await import('../../store/advisories.js');
  if (!existsSync(join(dataDir, ADVISORIES_FILE))) return undefined;
  const store: AdvisoryStore = AdvisoryStore.open(dataDir);
  const status = store.snapshot();
  if (status.documents === 0) {
    store.close();
    return undefined;
  }
  return {
    snapshot: {
      name: `OSV store ${join(dataDir, ADVISORIES_FILE)}`,
      snapshot: status.contentHash,
      documents: status.documents,
      ...(status.newestModified === undefined ? {} : { newestModified: status.newestModified }),
    },
    lookup: async (packages) => store.lookupMany(packages),
    close: () => store.close(),
  };
}

/** `--since`: only packages whose name@version the lockfile did not have at the merge-base. */
function changedSince(packages: Package[], context: AnalyzerContext): Package[] {
  const workTree = context.workTree as string;
  const prefix = posix.relative(workTree, context.root);
  const before = new Map<string, Set<string>>();
  const known = (file: string): Set<string> => {
    let set = before.get(file);
    if (set !== undefined) return set;
    set = new Set();
    before.set(file, set);
    const gitPath = prefix === '' ? file : `${prefix}/${file}`;
    const shown = gitSync(workTree, ['show', `${context.sinceBase}:${gitPath}`], MAX_LOCKFILE_BYTES);
    const extractor = extractorFor(file);
    if (shown.status !== 0 || extractor === undefined) return set; // a new lockfile: everything in it is new
    try {
      for (const p of extractor.extract(shown.stdout, { path: file, readFile: () => undefined })) {
        set.add(`${p.ecosystem}\0${p.name}\0${p.version}`);
      }
    } catch {
      // the old version did not parse: judge every package as new
    }
    return set;
  };
  return packages.filter((p) => !known(p.file).has(`${p.ecosystem}\0${p.name}\0${p.version}`));
}

/** Shortest paths from a direct dependency to each package, per lockfile, from the recorded edges. */
class DependencyPaths {
  private readonly parents = new Map<string, string[]>();
  private readonly byKey = new Map<string, Package>();

  constructor(packages: readonly Package[]) {
    for (const p of packages) {
      this.byKey.set(`${p.file}\0${p.key}`, p);
      for (const child of p.dependencies ?? []) {
        const id = `${p.file}\0${child}`;
        const list = this.parents.get(id);
        if (list === undefined) this.parents.set(id, [`${p.file}\0${p.key}`]);
        else list.push(`${p.file}\0${p.key}`);
      }
    }
  }

  /** `[direct@1, middle@2]` for a transitive package; undefined when direct or unknown. */
  pathTo(pkg: Package): string[] | undefined {
    if (pkg.direct) return undefined;
    const start = `${pkg.file}\0${pkg.key}`;
    const previous = new Map<string, string>([[start, start]]);
    const queue = [start];
    for (let head = 0; head < queue.length; head++) {
      const id = queue[head] as string;
      for (const parent of this.parents.get(id) ?? []) {
        if (previous.has(parent)) continue;
        previous.set(parent, id);
        const found = this.byKey.get(parent);
        if (found?.direct === true) {
          const path: string[] = [];
          for (let at = parent; at !== start; at = previous.get(at) as string) {
            const p = this.byKey.get(at) as Package;
            path.push(`${p.name}@${p.version}`);
          }
          return path;
        }
        queue.push(parent);
      }
    }
    return undefined;
  }
}

function toFinding(
  pkg: Package,
  group: VulnGroup,
  scheme: NonNullable<ReturnType<typeof schemeFor>>,
  paths: DependencyPaths,
): RawFinding {
  const severities = group.vulns.map((v) => severityOf(v));
  const worst = severities.reduce((a, b) => (rank(b.severity) > rank(a.severity) ? b : a));
  const fixed = [...new Set(group.vulns.flatMap((v) => fixedVersions(v, pkg)))];
  const upgrades = group.vulns
    .map((v) => smallestFix(v, pkg, scheme))
    .filter((v): v is string => v !== undefined);
  // Every document of the group must be fixed: take the largest of their smallest fixes.
  const upgradeTo =
    upgrades.length === group.vulns.length && upgrades.length > 0
      ? upgrades.reduce((a, b) => (scheme.compare(a, b) >= 0 ? a : b))
      : undefined;
  // Go advisories write versions without the `v` that go.mod uses.
  const display = (v: string): string => (pkg.ecosystem === 'Go' && !v.startsWith('v') ? `v${v}` : v);
  const primary = group.vulns[0] as OsvVuln;
  const summary = shorten(
    primary.summary ??
      group.vulns.find((v) => v.summary !== undefined)?.summary ??
      firstLine(primary.details) ??
      group.id,
  );
  const path = paths.pathTo(pkg);
  const cwe = [...new Set(group.vulns.flatMap((v) => cweIds(v)))];
  const way =
    upgradeTo !== undefined
      ? `upgrade to ${upgradeTo}`
      : fixed.length > 0
        ? `fixed in ${fixed.join(', ')}`
        : 'no fix yet';
  const via = path === undefined ? '' : ` (via ${path.join(' > ')})`;
  return {
    analyzer: 'deps',
    ruleId: group.id,
    title: summary,
    message: `${pkg.name} ${pkg.version}${via} is affected by ${group.id}${group.aliases.length > 0 ? ` (${group.aliases.slice(0, 4).join(', ')})` : ''}: ${summary}. ${capitalise(way)}.`,
    severity: worst.severity,
    confidence: 'high',
    location: { path: pkg.file, startLine: pkg.line, startColumn: 1, endLine: pkg.line, endColumn: 1 },
    ...(cwe.length > 0 ? { cwe } : {}),
    snippet: `${pkg.name}@${pkg.version}`,
    fingerprintContent: `${pkg.ecosystem}/${pkg.name}@${pkg.version}`,
    help: `Upgrade ${pkg.name}${upgradeTo === undefined ? '' : ` to ${display(upgradeTo)}`}${path === undefined ? '' : `, or the direct dependency that pulls it in (${path[0]})`}. Advisory: https://osv.dev/vulnerability/${group.id}`,
    tags: ['security', 'dependency', pkg.ecosystem],
    dependency: {
      ecosystem: pkg.ecosystem,
      name: pkg.name,
      version: pkg.version,
      purl: pkg.purl,
      direct: pkg.direct,
      dev: pkg.dev,
      aliases: group.aliases,
      fixedVersions: fixed.map(display),
      ...(upgradeTo === undefined ? {} : { upgradeTo: display(upgradeTo) }),
      ...(path === undefined ? {} : { path }),
      ...(worst.score !== undefined && worst.vector !== undefined
        ? { cvss: { score: worst.score, vector: worst.vector } }
        : {}),
    },
  };
}

/**
 * The smallest version that no advisory found for this package affects, among the fixed versions above the
 * installed one: what to upgrade to once, instead of one advisory at a time.
 */
export function upgradeFixingAll(
  pkg: Package,
  affecting: readonly OsvVuln[],
  scheme: NonNullable<ReturnType<typeof schemeFor>>,
): string | undefined {
  if (affecting.length === 0 || !scheme.isValid(pkg.version)) return undefined;
  const candidates = [...new Set(affecting.flatMap((v) => fixedVersions(v, pkg)))]
    .filter((v) => scheme.isValid(v) && scheme.compare(v, pkg.version) > 0)
    .sort((a, b) => scheme.compare(a, b));
  return candidates.find((version) =>
    affecting.every((v) => matchVulnerability(v, { ...pkg, version }, scheme).status === 'not-affected'),
  );
}

function withFixAll(finding: RawFinding, version: string | undefined): RawFinding {
  if (version === undefined || finding.dependency === undefined) return finding;
  const shown = finding.dependency.ecosystem === 'Go' && !version.startsWith('v') ? `v${version}` : version;
  return { ...finding, dependency: { ...finding.dependency, upgradeFixesAll: shown } };
}

function ruleOf(finding: RawFinding, group: VulnGroup): RuleMeta {
  return {
    id: group.id,
    analyzer: 'deps',
    title: finding.title,
    severity: finding.severity,
    help: `https://osv.dev/vulnerability/${group.id}`,
    ...(finding.cwe === undefined ? {} : { cwe: finding.cwe }),
    tags: ['security', 'dependency'],
  };
}

const RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
function rank(s: Severity): number {
  return RANK[s];
}

function cweIds(vuln: OsvVuln): string[] {
  const ids = (vuln.database_specific as { cwe_ids?: unknown } | undefined)?.cwe_ids;
  return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
}

function firstLine(text: string | undefined): string | undefined {
  const line = text?.trim().split('\n')[0];
  return line === undefined || line === '' ? undefined : line;
}

/** A title: the first sentence, at most 120 characters, cut at a word. */
export function shorten(text: string): string {
  const sentence = /^(.{20,}?[.!?])(\s|$)/.exec(text)?.[1] ?? text;
  if (sentence.length <= 120) return sentence.replace(/\.$/, '');
  const cut = sentence.slice(0, 119);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(' '), 60))}…`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
