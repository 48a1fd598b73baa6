// `plumbline check` as a function: resolve the root and configuration, run analyzers, then fingerprints,
// the --since filter, suppressions, the baseline and the gate. Returns one CheckReport; printing is the CLI's.
import { statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { ANALYZERS, findAnalyzer } from '../analyzers/registry.js';
import type { AnalyzerContext, DatabaseSnapshot, ScanSource } from '../analyzers/types.js';
import { CONFIG_FILE, loadConfig } from '../config/load.js';
import type { AnalyzerName } from '../config/schema.js';
import { InputError, UsageError } from '../errors.js';
import { listFiles } from '../files/walk.js';
import { applyBaseline, readBaseline } from '../findings/baseline.js';
import { assignFingerprints } from '../findings/fingerprint.js';
import { atLeast, compareFindings, type Finding, type RawFinding, type Severity } from '../findings/model.js';
import { applySuppressions, DEFAULT_SUPPRESSIONS, readSuppressions } from '../findings/suppressions.js';
import { currentBranch, findWorkTree, git, gitSync, requireWorkTree, spawnGit } from '../git/git.js';
import { addedFragments } from '../git/patch.js';
import { type Progress, silentProgress } from '../observe/progress.js';
import type { AbsentEntry, CheckReport, RuleMeta, Skipped } from '../report/types.js';
import { VERSION } from '../version.js';

export interface CheckOptions {
  readonly path: string;
  readonly configFile?: string;
  readonly only?: readonly string[];
  readonly source: ScanSource;
  readonly since?: string;
  readonly baselineFile?: string;
  readonly suppressionsFile?: string;
  readonly failOn?: Severity;
  readonly showSecrets?: boolean;
  /** Command-line overrides of the Check's deps settings. */
  readonly deps?: { readonly dataDir?: string; readonly online?: boolean; readonly fixableOnly?: boolean };
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
  readonly now?: Date;
}

export async function runCheck(options: CheckOptions): Promise<CheckReport> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const root = resolve(options.path);
  assertFolder(root);
  const workTree = findWorkTree(root);
  const gitOnly =
    options.source.kind !== 'tree'
      ? `--${options.source.kind}`
      : options.since !== undefined
        ? '--since'
        : undefined;
  if (gitOnly !== undefined) requireWorkTree(root, gitOnly);
  if (options.source.kind !== 'tree' && options.since !== undefined) {
    throw new UsageError(`--since goes with a working-tree scan, not with --${options.source.kind}`);
  }

  const configFile = options.configFile ?? join(root, CONFIG_FILE);
  const config = await loadConfig(configFile, { required: options.configFile !== undefined });
  const names = selectAnalyzers(config.check.analyzers, options.only);
  const analyzers = names
    .map((n) => findAnalyzer(n))
    .filter((a) => a !== undefined)
    .filter((a) => {
      if (a.sources.includes(options.source.kind)) return true;
      // Asked for by name: say it cannot; enabled by default: it simply has nothing to read here.
      if (options.only !== undefined && options.only.length > 0) {
        throw new UsageError(
          `the ${a.name} analyzer cannot read --${options.source.kind}`,
          'drop it from --only, or scan the tree',
        );
      }
      return false;
    });
  const sinceBase = options.since === undefined ? undefined : mergeBase(workTree as string, options.since);

  const files =
    options.source.kind === 'tree'
      ? new Promise<readonly string[]>((resolve, reject) => {
          setImmediate(() => {
            try {
              resolve(listFiles(root, config.check.paths));
            } catch (error) {
              reject(error);
            }
          });
        })
      : Promise.resolve([]);
  files.catch(() => {}); // awaited by the analyzers; this only stops an unhandled-rejection warning
  const context: AnalyzerContext = {
    root,
    workTree,
    config: config.check,
    source: options.source,
    files,
    showSecrets: options.showSecrets === true,
    sinceBase,
    deps: options.deps ?? {},
    progress: options.progress ?? silentProgress,
    signal: options.signal ?? new AbortController().signal,
  };

  const raw: RawFinding[] = [];
  const lineFiltered: RawFinding[] = [];
  const databases: DatabaseSnapshot[] = [];
  const rules: RuleMeta[] = [];
  const skipped: Skipped[] = [];
  let scannedFiles = 0;
  let bytes = 0;
  for (const analyzer of analyzers) {
    const result = await analyzer.run(context);
    (analyzer.ownsSince === true ? raw : lineFiltered).push(...result.findings);
    if (result.database !== undefined) databases.push(result.database);
    rules.push(...result.rules);
    for (const skip of result.skipped) {
      // Two analyzers passing over the same binary file say it once.
      if (!skipped.some((s) => s.path === skip.path && s.reason === skip.reason)) skipped.push(skip);
    }
    scannedFiles = Math.max(scannedFiles, result.files);
    bytes += result.bytes;
  }
  context.progress.done();

  // Locations of git-sourced scans are relative to the work tree; the report root says so.
  const reportRoot = options.source.kind === 'tree' ? root : (workTree as string);
  const kept =
    sinceBase === undefined
      ? [...raw, ...lineFiltered]
      : [...raw, ...(await filterToAddedLines(lineFiltered, root, workTree as string, sinceBase))];

  const suppressionsFile = options.suppressionsFile ?? join(reportRoot, DEFAULT_SUPPRESSIONS);
  const entries = await readSuppressions(suppressionsFile);
  const suppressionsPath = relative(reportRoot, suppressionsFile).split(sep).join('/');
  const fingerprinted = assignFingerprints(kept);
  const suppressed = applySuppressions(fingerprinted, entries, suppressionsPath, options.now ?? new Date());
  let findings: Finding[] = [...suppressed.findings, ...assignFingerprints(suppressed.expired)];
  if (suppressed.expired.length > 0) {
    rules.push({
      id: 'plumbline-expired-suppression',
      analyzer: 'plumbline',
      title: 'Expired suppression',
      severity: 'medium',
      help: 'Renew the suppression with a new expiry date and reason, or fix the findings it covered.',
    });
  }

  let absent: AbsentEntry[] = [];
  if (options.baselineFile !== undefined) {
    const applied = applyBaseline(findings, readBaseline(options.baselineFile));
    findings = applied.findings;
    absent = applied.absent;
  }
  findings.sort(compareFindings);

  const failOn = options.failOn ?? config.check.failOn;
  const failing = findings.filter(
    (f) => f.suppression === undefined && f.baselineState !== 'unchanged' && atLeast(f.severity, failOn),
  ).length;

  return {
    tool: { name: 'plumbline', version: VERSION },
    root: reportRoot,
    analyzers: analyzers.map((a) => a.name),
    findings,
    absent,
    rules: dedupeRules(rules),
    skipped,
    ...(databases.length > 0 ? { databases } : {}),
    gate: { failOn, failing, passed: failing === 0 },
    stats: {
      files: scannedFiles,
      bytes,
      durationMs: Date.now() - started,
      source: describeSource(options, workTree),
    },
    startedAt,
  };
}

function assertFolder(root: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(root).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(
      `${root} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`}`,
      'give the path of a folder to scan',
    );
  }
  if (!isDir) throw new InputError(`${root} is a file, not a folder`, 'give the folder that contains it');
}

function selectAnalyzers(enabled: readonly AnalyzerName[], only: readonly string[] | undefined): string[] {
  if (only === undefined || only.length === 0) return [...enabled];
  const known = ANALYZERS.map((a) => a.name);
  const planned = ['sast', 'policy', 'coverage'];
  for (const name of only) {
    if (!known.includes(name)) {
      const later = planned.includes(name) ? ` (${name} is not built yet)` : '';
      throw new UsageError(`--only: unknown analyzer "${name}"${later}`, `available: ${known.join(', ')}`);
    }
  }
  return [...only];
}

function describeSource(options: CheckOptions, workTree: string | undefined): string {
  const detached = workTree !== undefined && currentBranch(workTree) === undefined ? ' (detached HEAD)' : '';
  switch (options.source.kind) {
    case 'tree':
      return options.since === undefined
        ? `tree${detached}`
        : `lines added since ${options.since}${detached}`;
    case 'staged':
      return 'staged changes';
    case 'history':
      return `history ${options.source.range ?? '--all'}${detached}`;
  }
}

function dedupeRules(rules: readonly RuleMeta[]): RuleMeta[] {
  const byId = new Map<string, RuleMeta>();
  for (const r of rules) if (!byId.has(r.id)) byId.set(r.id, r);
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** The merge-base of HEAD and `ref`, with a clear error when there is none. */
function mergeBase(workTree: string, ref: string): string {
  const result = gitSync(workTree, ['merge-base', 'HEAD', '--end-of-options', ref]);
  if (result.status === 0) return result.stdout.trim();
  const exists = gitSync(workTree, [
    'rev-parse',
    '--verify',
    '--quiet',
    '--end-of-options',
    `${ref}^{commit}`,
  ]);
  if (exists.status !== 0) {
    throw new UsageError(
      `--since: no commit "${ref}" in this repository`,
      'give a branch, tag or commit, e.g. --since origin/main',
    );
  }
  throw new UsageError(
    `--since: "${ref}" and HEAD have no common ancestor`,
    'give a ref on the same history, e.g. the target branch of the pull request',
  );
}

/** Keeps findings on lines added since the merge-base (committed or not), and in new files. */
async function filterToAddedLines(
  findings: readonly RawFinding[],
  root: string,
  workTree: string,
  base: string,
): Promise<RawFinding[]> {
  const added = new Map<string, Set<number>>();
  const child = spawnGit(workTree, ['diff', '-U0', '--no-color', '--no-ext-diff', base, '--']);
  for await (const fragment of addedFragments(child.stdout)) {
    let lines = added.get(fragment.path);
    if (lines === undefined) {
      lines = new Set();
      added.set(fragment.path, lines);
    }
    for (const n of fragment.lines) lines.add(n);
  }
  const untracked = new Set(
    git(workTree, ['ls-files', '-z', '--others', '--exclude-standard'])
      .split('\0')
      .filter((p) => p.length > 0),
  );
  const prefix = relative(workTree, root).split(sep).join('/');
  return findings.filter((f) => {
    const path = prefix === '' ? f.location.path : `${prefix}/${f.location.path}`;
    if (untracked.has(path)) return true;
    const lines = added.get(path);
    if (lines === undefined) return false;
    for (let n = f.location.startLine; n <= f.location.endLine; n++) if (lines.has(n)) return true;
    return false;
  });
}
