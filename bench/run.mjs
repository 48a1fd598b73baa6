#!/usr/bin/env node
// Plumbline's benchmarks (secret scanner, dependency scan, GitOps controller and router), in one command:
// `node bench/run.mjs` (see bench/README.md).
//
//   --size-mb N             working-tree corpus size (default 60)
//   --secretlint-size-mb N  corpus size for secretlint (default: the same corpus)
//   --commits N             commits in the generated history (default 6000)
//   --runs N                timed runs per tool; the median is reported (default 3)
//   --only LIST             tree, history, corpus, deps, controller, router, audit, rollouts (comma-separated or
//                           repeated; default all)
//   --audit-entries N       entries in the audit ledger benchmark's log (default 1000000)
//   --deps-packages N       packages in the generated repository's lockfiles (default 10000)
//   --deps-advisories N     generated OSV advisories (default 100000; the shared PyPI and Go ones come on top)
//   --no-double             skip the 2x tree run (memory flatness)
//   --profile               one more plumbline run per benchmark under node --cpu-prof: top functions
//   --rg-unicode            also time ripgrep in its default Unicode mode (slow on these patterns)
//   --max-wait S            before each round, wait up to S seconds for other work to finish (default 120)
//   --work-dir DIR          inputs are built and cached here (default $TMPDIR/plumbline-bench-work)
//   --build                 rebuild dist/ first (tsc -p tsconfig.build.json); default: when missing or stale
//   --no-install            install nothing (apt, npm); fail if something is missing
//   --no-write              do not update bench/RESULTS.md
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { auditTargets, benchAudit, renderAudit } from './audit.mjs';
import { benchController } from './lib/controller.mjs';
import { buildTreeCorpus, warmCache } from './lib/corpus.mjs';
import { buildDepsInputs, SHARED_ZIPS } from './lib/deps.mjs';
import { buildHistoryRepo } from './lib/history.mjs';
import { runPrecision } from './lib/precision.mjs';
import { profilePlumbline, renderProfile } from './lib/profile.mjs';
import { benchRouter } from './lib/router.mjs';
import {
  dbStatus,
  ensurePlumblineBuilt,
  ensureTools,
  exportRipgrepPatterns,
  plumblineDepsReport,
  plumblineReport,
  runDbImport,
  runGitLog,
  runPlumbline,
  runPlumblineDeps,
  runRipgrep,
  runSecretlint,
  runStoreLookups,
  scannedPackageCount,
  versions,
} from './lib/tools.mjs';
import {
  BENCH_DIR,
  cleanScratch,
  die,
  ensureDir,
  fmt,
  fmtKbAsMb,
  fmtMb,
  log,
  MB,
  mdTable,
  median,
  REPO_DIR,
  run,
  waitForQuiet,
} from './lib/util.mjs';
import { benchRollouts, renderRollouts, rolloutTargets } from './rollouts.mjs';

// Targets (see README.md). Ratios are within one run of this script, so machine noise mostly cancels.
const TARGET = {
  vsSecretlint: 100, // plumbline MB/s >= 100x secretlint's
  vsRipgrep: 4, // plumbline time <= 4x ripgrep's with plumbline's own patterns
  mbPerSecond: 100, // plumbline >= 100 MB/s on the tree corpus
  vsGitLog: 2, // plumbline --history time <= 2x git log -p --all
  rssMb: 300, // peak RSS < 300 MB (MiB of resident memory)
  flat: 1.25, // peak RSS at 2x the tree <= 1.25x the peak at 1x
  depsScanSeconds: 1, // deps scan of 10,000 packages against >= 100,000 advisories, warm store: < 1 s
  depsImportSeconds: 10, // db import of the shared PyPI and Go exports into an empty data dir: < 10 s
  depsAdvisories: 100_000, // the store scanned holds at least this many advisories
  liveMs: 2000, // webhook → new revision serving through the router: < 2 s plus the app's own start time
  planMs: 1000, // planEnvironment + formatPlan of 5,000 apps: < 1 s
  idleShare: 0.02, // the controller's CPU with 50 apps, idle: < 2% of a core
  routerAddedP99Ms: 1, // the router's added latency at p99, 2,000 req/s over loopback: < 1 ms
  zeroFailures: 0, // failed requests across a deploy, a self-heal and a controller restart
};
const ALL = ['tree', 'history', 'corpus', 'deps', 'controller', 'router', 'audit', 'rollouts'];

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '60' },
    'secretlint-size-mb': { type: 'string' },
    commits: { type: 'string', default: '6000' },
    'deps-packages': { type: 'string', default: '10000' },
    'deps-advisories': { type: 'string', default: '100000' },
    'audit-entries': { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string', multiple: true },
    'no-double': { type: 'boolean', default: false },
    'rg-unicode': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'max-wait': { type: 'string', default: '120' },
    'work-dir': { type: 'string' },
    build: { type: 'boolean', default: false },
    'no-install': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  // The header comment of this file, without the shebang.
  const lines = readFileSync(new URL(import.meta.url), 'utf8')
    .split('\n')
    .slice(1);
  const header = lines.slice(
    0,
    lines.findIndex((l) => !l.startsWith('//')),
  );
  process.stdout.write(`${header.map((l) => l.slice(3)).join('\n')}\n`);
  process.exit(0);
}

const num = (name, value, { min = 1 } = {}) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) die(`--${name}: expected a number >= ${min}, got "${value}"`);
  return n;
};
const sizeMb = num('size-mb', values['size-mb']);
const slSizeMb =
  values['secretlint-size-mb'] === undefined
    ? sizeMb
    : num('secretlint-size-mb', values['secretlint-size-mb']);
const commits = Math.round(num('commits', values.commits, { min: 10 }));
const runs = Math.round(num('runs', values.runs));
const depsPackages = Math.round(num('deps-packages', values['deps-packages'], { min: 100 }));
const depsAdvisories = Math.round(num('deps-advisories', values['deps-advisories'], { min: 100 }));
const maxWait = num('max-wait', values['max-wait'], { min: 0 });
const auditEntries = Math.round(num('audit-entries', values['audit-entries'], { min: 1000 }));
const only = new Set(
  (values.only ?? [ALL.join(',')])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter(Boolean),
);
for (const o of only) if (!ALL.includes(o)) die(`--only: unknown benchmark "${o}" (${ALL.join(', ')})`);
const workDir = ensureDir(
  values['work-dir'] ?? process.env.PLUMBLINE_BENCH_WORK ?? join(tmpdir(), 'plumbline-bench-work'),
);
if (workDir.startsWith(`${REPO_DIR}/`) && !workDir.startsWith(join(REPO_DIR, 'bench', 'work'))) {
  die(
    '--work-dir must be outside this repository (or under bench/work/): plumbline walks a Git work tree with git ls-files',
  );
}

const notes = [];
const results = {
  date: run('date', ['-u']).stdout.trim(),
  command: `node bench/run.mjs${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
  machine: machine(),
  runs,
};

function machine() {
  let cpu = cpus()[0]?.model ?? '?';
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {
    // keep os.cpus()
  }
  const cores = Number(run('nproc', []).stdout.trim()) || cpus().length;
  return { cpu, cores, memGiB: totalmem() / 1024 ** 3 };
}

/** Median wall time, CPU time and peaks over a tool's runs (`bytes` for MB/s, when given). */
function summarize(list, bytes) {
  const seconds = median(list.map((r) => r.seconds));
  const cpu = median(list.map((r) => (r.user ?? 0) + (r.sys ?? 0)));
  const hwm = list.map((r) => r.nodeHwmKb).filter((v) => v !== undefined);
  const other = list.map((r) => r.otherShare).filter((v) => v !== undefined);
  return {
    other: other.length > 0 ? median(other) : undefined,
    seconds,
    all: list.map((r) => r.seconds),
    cpu,
    mbps: bytes === undefined ? undefined : bytes / MB / seconds,
    maxRssKb: Math.max(...list.map((r) => r.maxRssKb ?? 0)) || undefined,
    nodeHwmKb: hwm.length > 0 ? Math.max(...hwm) : undefined,
  };
}

/** Waits for a quiet machine before a round; remembers the busiest start. */
let busiestStart = 0;
async function quiet(label) {
  const share = await waitForQuiet({ maxSeconds: maxWait, label });
  if (share !== undefined && share > busiestStart) busiestStart = share;
}

/**
 * Runs one timed command; when other processes took more than 15% of the CPU meanwhile, waits for quiet and
 * runs it again (twice at most), keeping the last result. The noise that remains shows as *other load*.
 */
async function measured(label, fn) {
  let result = await fn();
  for (let retry = 0; retry < 2 && (result.otherShare ?? 0) > 0.15; retry++) {
    log(
      `${label}: other processes used ${(result.otherShare * 100).toFixed(0)}% of the CPU meanwhile; again`,
    );
    await quiet(label);
    result = await fn();
  }
  return result;
}

/** Runs `fn` and records an error instead of stopping the whole benchmark. */
async function attempt(label, fn) {
  try {
    return await fn();
  } catch (error) {
    log(`ERROR in ${label}: ${error.message.split('\n').slice(0, 6).join('\n')}`);
    notes.push(`${label} failed: ${error.message.split('\n')[0]}`);
    return { error: error.message.split('\n')[0] };
  }
}

// ------------------------------------------------------------------------------------------ setup

if (!values['no-install']) {
  ensureTools({
    needRipgrep: only.has('tree'),
    needNpm: only.has('tree') || only.has('corpus'),
    needProxyTools: only.has('router'),
  });
}
// /dev/null must be the device: a plumbline given `--output /dev/null` as root renames its report over it (see
// README.md). The harness never does; say so if something else has, or does during the run.
const devNullOk = () => {
  try {
    return statSync('/dev/null').isCharacterDevice();
  } catch {
    return false;
  }
};
if (!devNullOk())
  notes.push(
    '/dev/null was not a character device when this run started (something replaced it with a file): `mknod -m 666 /dev/null c 1 3` restores it',
  );
const buildNote = ensurePlumblineBuilt({ build: values.build });
if (buildNote !== undefined) notes.push(buildNote);
results.versions = versions();
log(`plumbline ${results.versions.plumbline}; work dir ${workDir}`);

// ------------------------------------------------------------------------------------------ tree

async function benchTree() {
  const source = join(REPO_DIR, 'node_modules');
  const corpus = buildTreeCorpus({ workDir, sourceRoot: source, sizeMb });
  const slCorpus =
    slSizeMb === sizeMb ? corpus : buildTreeCorpus({ workDir, sourceRoot: source, sizeMb: slSizeMb });
  const double = values['no-double']
    ? undefined
    : buildTreeCorpus({ workDir, sourceRoot: source, sizeMb: sizeMb * 2 });
  for (const c of [corpus, slCorpus, double]) if (c !== undefined) warmCache(c.dir);

  const patterns = exportRipgrepPatterns(join(workDir, 'patterns.txt'));
  if (patterns.rejected.length > 0) {
    notes.push(
      `ripgrep rejected ${patterns.rejected.length} plumbline pattern(s), run without them: ${patterns.rejected.join(' ; ')}`,
    );
  }
  // One untimed run each first: checks the command works, reads the report, and warms up.
  log('tree: plumbline report run');
  const { result: firstPl, report } = await plumblineReport(corpus.dir, {
    reportFile: join(workDir, 'tree-report.json'),
  });
  if (firstPl.leftCache)
    notes.push(
      'plumbline left a .plumbline/ cache in the scanned folder; it is removed before every timed run (cold runs)',
    );

  const pl = [];
  const pl2 = [];
  const rg = [];
  const rgUni = [];
  const sl = [];
  let rgLast;
  for (let i = 1; i <= runs; i++) {
    await quiet(`tree round ${i}`);
    log(`tree: round ${i}/${runs}: plumbline`);
    pl.push(await measured('plumbline', () => runPlumbline(corpus.dir)));
    log(`tree: round ${i}/${runs}: ripgrep`);
    rgLast = await measured('ripgrep', () =>
      runRipgrep(corpus.dir, patterns.file, join(workDir, 'rg-counts.txt')),
    );
    rg.push(rgLast);
    if (values['rg-unicode']) {
      log(`tree: round ${i}/${runs}: ripgrep, Unicode mode (slow)`);
      rgUni.push(
        await runRipgrep(corpus.dir, patterns.file, join(workDir, 'rg-counts-unicode.txt'), {
          unicode: true,
        }),
      );
    }
    log(`tree: round ${i}/${runs}: secretlint (${fmtMb(slCorpus.bytes)}, slow)`);
    sl.push(await measured('secretlint', () => runSecretlint(slCorpus.dir)));
    if (double !== undefined) {
      log(`tree: round ${i}/${runs}: plumbline at 2x (${fmtMb(double.bytes)})`);
      pl2.push(await measured('plumbline 2x', () => runPlumbline(double.dir)));
    }
  }
  const profile = values.profile ? profilePlumbline(corpus.dir, { workDir, label: 'tree' }) : undefined;
  const skippedBytes = corpus.bytes - (report.stats?.bytes ?? corpus.bytes);
  if (report.skipped?.length > 0) {
    notes.push(
      `plumbline skipped ${report.skipped.length} file(s) of the tree corpus (${[...new Set(report.skipped.map((s) => s.reason))].join(', ')}); MB/s is still computed on the whole corpus`,
    );
  }
  return {
    corpus: { bytes: corpus.bytes, files: corpus.files, passes: corpus.passes },
    slCorpus: { bytes: slCorpus.bytes, files: slCorpus.files },
    double: double === undefined ? undefined : { bytes: double.bytes, files: double.files },
    patterns: { count: patterns.count, rejected: patterns.rejected.length },
    plumbline: {
      ...summarize(pl, corpus.bytes),
      findings: report.findings?.length,
      scannedFiles: report.stats?.files,
      scannedBytes: report.stats?.bytes,
      skipped: report.skipped?.length ?? 0,
      skippedBytes,
    },
    plumbline2x: double === undefined ? undefined : summarize(pl2, double.bytes),
    ripgrep: {
      ...summarize(rg, corpus.bytes),
      matchingLines: rgLast.matchingLines,
      matchingFiles: rgLast.matchingFiles,
    },
    ripgrepUnicode:
      rgUni.length === 0
        ? undefined
        : { ...summarize(rgUni, corpus.bytes), matchingLines: rgUni[rgUni.length - 1].matchingLines },
    secretlint: summarize(sl, slCorpus.bytes),
    profile,
  };
}

// ------------------------------------------------------------------------------------------ history

async function benchHistory() {
  const repo = await buildHistoryRepo({ workDir, commits });
  // Warm the page cache and measure the patch text once.
  const patchBytes = Number(run('sh', ['-c', 'git log -p --all | wc -c'], { cwd: repo.dir }).stdout.trim());
  log('history: plumbline report run');
  const { report } = await plumblineReport(repo.dir, {
    history: true,
    reportFile: join(workDir, 'history-report.json'),
  });
  const gl = [];
  const pl = [];
  for (let i = 1; i <= runs; i++) {
    await quiet(`history round ${i}`);
    log(`history: round ${i}/${runs}: git log -p --all`);
    gl.push(await measured('git log', () => runGitLog(repo.dir)));
    log(`history: round ${i}/${runs}: plumbline --history`);
    pl.push(await measured('plumbline --history', () => runPlumbline(repo.dir, { history: true })));
  }
  const profile = values.profile
    ? profilePlumbline(repo.dir, { history: true, workDir, label: 'history' })
    : undefined;
  const findings = report.findings ?? [];
  const matched = new Set();
  const planted = repo.planted.map((p) => {
    const hit = findings.find(
      (f) => f.location.path === p.path && Math.abs(f.location.startLine - p.line) <= 1,
    );
    if (hit !== undefined) matched.add(hit);
    return {
      ...p,
      found: hit !== undefined,
      rule: hit?.ruleId,
      commitMatches: hit?.location.commit === p.commit,
    };
  });
  const extra = findings.filter(
    (f) =>
      !matched.has(f) &&
      !repo.planted.some((p) => p.path === f.location.path && Math.abs(f.location.startLine - p.line) <= 1),
  );
  return {
    repo: { commits: repo.commits, packBytes: repo.packBytes, patchBytes },
    gitlog: summarize(gl, patchBytes),
    plumbline: {
      ...summarize(pl, patchBytes),
      findings: findings.length,
      scannedBytes: report.stats?.bytes,
      source: report.stats?.source,
    },
    planted,
    plantedFound: planted.filter((p) => p.found).length,
    extraFindings: extra.map((f) => `${f.location.path}:${f.location.startLine} ${f.ruleId}`),
    profile,
  };
}

// ------------------------------------------------------------------------------------------ deps

async function benchDeps() {
  const osvDir = resolve(REPO_DIR, '..', 'shared', 'data', 'osv');
  const shared = SHARED_ZIPS.map((z) => join(osvDir, z));
  const missing = shared.filter((z) => !existsSync(z));
  if (missing.length > 0) {
    const why = `the shared OSV exports are absent (${missing.join(', ')}): the import target needs them, and the advisory generator clones their documents`;
    log(`deps: skipped: ${why}`);
    return { skipped: why };
  }
  const { repo, advisories } = buildDepsInputs({
    workDir,
    osvDir,
    advisories: depsAdvisories,
    packages: depsPackages,
  });
  // What plumbline's own extractors read from the generated lockfiles (untimed, with `plumbline sbom`).
  const extracted = scannedPackageCount(repo.dir, join(workDir, 'deps-sbom.json'));
  if (extracted.count !== repo.packages) {
    notes.push(
      `deps: plumbline's extractors read ${extracted.count} scannable packages from the generated lockfiles, the generator wrote ${repo.packages}`,
    );
  }
  const sharedBytes = shared.reduce((n, z) => n + statSync(z).size, 0);

  // Target 2: the shared exports into an empty data folder, timed `runs` times (a fresh folder each time).
  const sharedDir = join(workDir, 'deps-db-shared');
  const imports = [];
  let sharedStatus;
  for (let i = 1; i <= runs; i++) {
    await quiet(`deps import round ${i}`);
    log(`deps: round ${i}/${runs}: db import ${SHARED_ZIPS.join(' ')} into an empty data dir`);
    imports.push(await measured('db import (shared)', () => runDbImport(shared, sharedDir)));
    if (i === 1) sharedStatus = dbStatus(sharedDir);
  }
  rmSync(sharedDir, { recursive: true, force: true });

  // The store that is scanned: the generated advisories and the shared ones, imported once (timed, no target).
  const dataDir = join(workDir, `deps-db-${depsAdvisories}`);
  const bigPaths = [...advisories.zips.map((z) => join(advisories.dir, z)), ...shared];
  await quiet('deps big import');
  log(`deps: db import of ${advisories.documents} generated + the shared advisories (one run)`);
  const bigImport = await measured('db import (generated + shared)', () => runDbImport(bigPaths, dataDir));
  const status = dbStatus(dataDir);
  const dbBytes = statSync(join(dataDir, 'advisories.db')).size;
  run('sync', []); // so that writing the new store back to disk does not overlap the timed scans

  // Warm-up: one scan, which also writes the report (page cache and SQLite pages warm from here on).
  log('deps: warm-up scan (writes the report)');
  const { report } = await plumblineDepsReport(repo.dir, dataDir, join(workDir, 'deps-report.json'));
  const findings = report.findings ?? [];
  const findingsByEcosystem = {};
  for (const f of findings) {
    const eco = f.dependency?.ecosystem ?? '?';
    findingsByEcosystem[eco] = (findingsByEcosystem[eco] ?? 0) + 1;
  }
  const affectedPackages = new Set(
    findings.map((f) => `${f.location?.path}\0${f.dependency?.name}\0${f.dependency?.version}`),
  ).size;
  const lookupsOut = join(workDir, 'deps-store-lookups.txt');
  await runStoreLookups(dataDir, repo.packagesFile, lookupsOut); // warm-up of the reference too

  const scan = [];
  const lookups = [];
  let lastLookups;
  for (let i = 1; i <= runs; i++) {
    await quiet(`deps scan round ${i}`);
    log(`deps: round ${i}/${runs}: plumbline check --only deps`);
    scan.push(await measured('plumbline check --only deps', () => runPlumblineDeps(repo.dir, dataDir)));
    log(`deps: round ${i}/${runs}: reference, the store lookups alone`);
    lastLookups = await measured('store lookups', () =>
      runStoreLookups(dataDir, repo.packagesFile, lookupsOut),
    );
    lookups.push(lastLookups);
  }
  const profile = values.profile
    ? profilePlumbline(repo.dir, { only: 'deps', dataDir, workDir, label: 'deps', inclusive: true })
    : undefined;
  if (findings.length !== repo.expectedFindings) {
    notes.push(
      `deps: plumbline reported ${findings.length} findings, the generator's index arithmetic expects ${repo.expectedFindings} (${JSON.stringify(findingsByEcosystem)} against ${JSON.stringify(repo.expectedByEcosystem)})`,
    );
  }
  if ((report.skipped ?? []).length > 0) {
    notes.push(
      `deps: the scan skipped ${report.skipped.length} item(s): ${report.skipped
        .slice(0, 3)
        .map((x) => `${x.path} (${x.detail ?? x.reason})`)
        .join('; ')}`,
    );
  }
  return {
    repo,
    advisories,
    extracted,
    shared: { files: SHARED_ZIPS, bytes: sharedBytes, documents: sharedStatus?.documents },
    store: {
      documents: status.documents,
      withdrawn: status.withdrawn,
      byEcosystem: status.byEcosystem,
      bytes: dbBytes,
    },
    importShared: summarize(imports),
    importAll: summarize([bigImport]),
    scan: summarize(scan),
    lookups: { ...summarize(lookups), found: lastLookups.found, documents: lastLookups.documents },
    findings: {
      count: findings.length,
      byEcosystem: findingsByEcosystem,
      affectedPackages,
      withUpgrade: findings.filter((f) => f.dependency?.upgradeTo !== undefined).length,
    },
    profile,
  };
}

// ------------------------------------------------------------------------------------------ main

if (only.has('tree')) results.tree = await attempt('tree benchmark', benchTree);
if (only.has('history')) results.history = await attempt('history benchmark', benchHistory);
if (only.has('corpus'))
  results.precision = await attempt('corpus precision/recall', () => runPrecision({ workDir }));
if (only.has('deps')) results.deps = await attempt('deps benchmark', benchDeps);
if (only.has('controller'))
  results.controller = await attempt('controller benchmark', () =>
    benchController({ workDir, runs, quiet, attempt, profile: values.profile }),
  );
if (only.has('router'))
  results.router = await attempt('router benchmark', () =>
    benchRouter({ workDir, runs, quiet, profile: values.profile }),
  );
if (only.has('audit'))
  results.audit = await attempt('audit benchmark', () =>
    benchAudit({ workDir, entries: auditEntries, quiet }),
  );
if (only.has('rollouts')) {
  await quiet('rollouts');
  results.rollouts = await attempt('rollouts benchmark', () => benchRollouts({ workDir }));
}
cleanScratch();
if (!devNullOk() && !notes.some((n) => n.startsWith('/dev/null')))
  notes.push('/dev/null was replaced by a regular file during this run (not by this harness, see README.md)');

if (busiestStart > 0.15) {
  notes.push(
    `the machine was busy with other work: up to ${(busiestStart * 100).toFixed(0)}% of its CPU when a round started (after waiting up to ${maxWait} s); see the "other load" column`,
  );
}
results.targets = targets(results);
results.notes = notes;
const section = render(results);
process.stdout.write(`\n${section}\n`);
if (!values['no-write']) {
  const file = join(BENCH_DIR, 'RESULTS.md');
  const header =
    '# Benchmark results\n\nNewest first. Each section is one run of `node bench/run.mjs`; see README.md for what is measured.\n';
  let previous = existsSync(file) ? readFileSync(file, 'utf8') : header;
  if (!previous.startsWith('# ')) previous = `${header}\n${previous}`;
  const at = previous.indexOf('\n## ');
  const head = at === -1 ? previous.trimEnd() : previous.slice(0, at).trimEnd();
  const rest = at === -1 ? '' : previous.slice(at + 1);
  writeFileSync(file, `${head}\n\n${section}\n${rest === '' ? '' : `\n${rest}`}`);
  log(`wrote ${file}`);
}
writeFileSync(join(workDir, 'last-results.json'), JSON.stringify(results, null, 2));
process.exitCode = results.targets.some((t) => t.pass === false) ? 1 : 0;

// ------------------------------------------------------------------------------------------ verdicts

function targets(r) {
  const out = [];
  const add = (name, required, measured, pass) => out.push({ name, required, measured, pass });
  const t = r.tree;
  if (t !== undefined && t.error === undefined) {
    const vsSl = t.plumbline.mbps / t.secretlint.mbps;
    add(
      'tree: throughput vs secretlint',
      `≥ ${TARGET.vsSecretlint}× secretlint's MB/s`,
      `${fmt(vsSl, 1)}×`,
      vsSl >= TARGET.vsSecretlint,
    );
    const vsRg = t.plumbline.seconds / t.ripgrep.seconds;
    add(
      'tree: time vs ripgrep --no-unicode (same patterns)',
      `≤ ${TARGET.vsRipgrep}× rg's time`,
      `${fmt(vsRg, 2)}×`,
      vsRg <= TARGET.vsRipgrep,
    );
    add(
      'tree: absolute throughput',
      `≥ ${TARGET.mbPerSecond} MB/s`,
      `${fmt(t.plumbline.mbps, 1)} MB/s`,
      t.plumbline.mbps >= TARGET.mbPerSecond,
    );
    const peak1 = peakKb(t.plumbline);
    add('tree: peak RSS (1×)', `< ${TARGET.rssMb} MiB`, fmtKbAsMb(peak1), peak1 / 1024 < TARGET.rssMb);
    if (t.plumbline2x !== undefined) {
      const peak2 = peakKb(t.plumbline2x);
      add('tree: peak RSS (2× tree)', `< ${TARGET.rssMb} MiB`, fmtKbAsMb(peak2), peak2 / 1024 < TARGET.rssMb);
      add(
        'tree: RSS flat when the tree doubles',
        `2×/1× ≤ ${TARGET.flat}`,
        `${fmt(peak2 / peak1, 2)}`,
        peak2 / peak1 <= TARGET.flat,
      );
    }
  } else if (t !== undefined) {
    add('tree benchmark', 'runs', t.error, false);
  }
  const h = r.history;
  if (h !== undefined && h.error === undefined) {
    const vsGit = h.plumbline.seconds / h.gitlog.seconds;
    add(
      'history: time vs git log -p --all',
      `≤ ${TARGET.vsGitLog}× git's time`,
      `${fmt(vsGit, 2)}×`,
      vsGit <= TARGET.vsGitLog,
    );
    const peak = peakKb(h.plumbline);
    add('history: peak RSS', `< ${TARGET.rssMb} MiB`, fmtKbAsMb(peak), peak / 1024 < TARGET.rssMb);
    add(
      'history: planted secrets found',
      `${h.planted.length} of ${h.planted.length}`,
      `${h.plantedFound} of ${h.planted.length}`,
      h.plantedFound === h.planted.length,
    );
  } else if (h !== undefined) {
    add('history benchmark', 'runs', h.error, false);
  }
  if (r.precision?.error !== undefined) add('corpus precision/recall', 'runs', r.precision.error, false);
  const d = r.deps;
  if (d !== undefined && d.error === undefined && d.skipped === undefined) {
    const n = (v) => v.toLocaleString('en');
    add(
      `deps: scan, warm store (${n(d.extracted.count)} packages, ${n(d.store.documents)} advisories)`,
      `< ${TARGET.depsScanSeconds} s`,
      `${fmt(d.scan.seconds, 3)} s`,
      d.scan.seconds < TARGET.depsScanSeconds,
    );
    add(
      `deps: db import of the shared ${SHARED_ZIPS.join(' + ')} (${n(d.shared.documents ?? 0)} documents), empty data dir`,
      `< ${TARGET.depsImportSeconds} s`,
      `${fmt(d.importShared.seconds, 2)} s`,
      d.importShared.seconds < TARGET.depsImportSeconds,
    );
    const peak = peakKb(d.scan);
    add('deps: peak RSS of the scan', `< ${TARGET.rssMb} MiB`, fmtKbAsMb(peak), peak / 1024 < TARGET.rssMb);
    add(
      'deps: the scan reports affected packages',
      'findings > 0',
      `${n(d.findings.count)} (the generator expects ${n(d.repo.expectedFindings)})`,
      d.findings.count > 0,
    );
    add(
      'deps: inputs as the targets specify',
      `≥ ${n(TARGET.depsAdvisories)} advisories; ${n(depsPackages)} packages`,
      `${n(d.store.documents)} advisories; ${n(d.extracted.count)} packages`,
      d.store.documents >= TARGET.depsAdvisories && d.extracted.count >= depsPackages,
    );
  } else if (d?.skipped !== undefined) {
    add('deps benchmark', 'runs', `skipped: ${d.skipped}`, undefined);
  } else if (d !== undefined) {
    add('deps benchmark', 'runs', d.error, false);
  }
  controllerTargets(r.controller, add);
  routerTargets(r.router, add);
  auditTargets(r.audit, add);
  rolloutTargets(r.rollouts, add);
  return out;
}

function controllerTargets(c, add) {
  if (c === undefined) return;
  if (c.error !== undefined) {
    add('controller benchmark', 'runs', c.error, false);
    return;
  }
  const n = (v) => (v ?? 0).toLocaleString('en');
  const l = c.live;
  if (l?.error !== undefined) add('controller: commit to live', 'runs', l.error, false);
  else if (l !== undefined) {
    add(
      `controller: commit to live (signed push webhook → the new revision answers through the router; median of ${l.rounds.length})`,
      `< ${TARGET.liveMs / 1000} s + the app's own start (${fmt(l.appStartMs, 0)} ms)`,
      `${fmt(l.totalMs, 0)} ms`,
      l.totalMs < TARGET.liveMs + l.appStartMs,
    );
  }
  const p = c.plan;
  if (p?.error !== undefined) add('controller: plan of 5,000 apps', 'runs', p.error, false);
  else if (p !== undefined) {
    add(
      `controller: plan + diff of ${n(p.apps)} apps (planEnvironment + formatPlan, first call in a fresh process)`,
      `< ${TARGET.planMs / 1000} s`,
      `${fmt(p.firstMs, 0)} ms`,
      p.firstMs < TARGET.planMs,
    );
  }
  const i = c.idle;
  if (i?.error !== undefined) add('controller: idle CPU with 50 apps', 'runs', i.error, false);
  else if (i !== undefined) {
    add(
      `controller: idle CPU with ${i.apps} apps (${i.windows.length} × ${i.windowSeconds} s, 30 s poll; the process and the git it runs)`,
      `< ${TARGET.idleShare * 100}% of a core`,
      `${fmt(i.controllerShare * 100, 2)}% (itself ${fmt(i.controllerSelfShare * 100, 2)}%, git ${fmt((i.controllerShare - i.controllerSelfShare) * 100, 2)}%)`,
      i.controllerShare < TARGET.idleShare,
    );
  }
  const z = c.zero;
  if (z?.error !== undefined) add('controller: zero failed requests', 'runs', z.error, false);
  else if (z !== undefined) {
    add(
      `controller: failed requests at ${z.rate} req/s through the router across a deploy, two self-heals and a controller restart`,
      `${TARGET.zeroFailures}`,
      `${n(z.failed)} of ${n(z.sent)}`,
      z.failed === TARGET.zeroFailures,
    );
  }
}

function routerTargets(rt, add) {
  if (rt === undefined) return;
  if (rt.error !== undefined) {
    add('router benchmark', 'runs', rt.error, false);
    return;
  }
  const n = (v) => Math.round(v ?? 0).toLocaleString('en');
  add(
    `router: added latency at p99, ${n(rt.rate)} req/s over loopback (router p99 − direct p99, median of ${rt.addedRouter.p99s.length} rounds)`,
    `< ${TARGET.routerAddedP99Ms} ms`,
    `${fmt(rt.addedRouter.p99, 2)} ms`,
    rt.addedRouter.p99 < TARGET.routerAddedP99Ms,
  );
  add(
    'router: throughput vs HAProxy (wrk -t2 -c32 -d10s)',
    'reported (no threshold)',
    `${fmt(rt.ratio, 2)}× (${n(rt.throughput.router.rps)} vs ${n(rt.throughput.haproxy.rps)} req/s)`,
    null,
  );
}

/** The plumbline process's own peak (VmHWM at exit); GNU time's %M when the hook did not report. */
function peakKb(s) {
  return s.nodeHwmKb ?? s.maxRssKb;
}

// ------------------------------------------------------------------------------------------ report

function render(r) {
  const out = [];
  const pass = (p) => (p === null ? 'reported' : p === undefined ? 'skipped' : p ? 'PASS' : '**FAIL**');
  out.push(
    `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — plumbline ${r.versions.plumbline}`,
    '',
  );
  out.push(`- Date: ${r.date}`);
  out.push(`- Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${fmt(r.machine.memGiB, 1)} GiB memory`);
  out.push(
    `- Node ${r.versions.node}; ${r.versions.git}; ${r.versions.ripgrep}; secretlint ${r.versions.secretlint}${r.deps === undefined && r.audit === undefined ? '' : `; ${r.versions.sqlite}`}${r.router === undefined ? '' : `; ${r.versions.haproxy}; ${r.versions.wrk}`}`,
  );
  out.push(
    `- Command: \`${r.command}\` (${r.runs} timed runs per tool, median; tools interleaved round by round)`,
  );
  out.push(
    "- Columns: *CPU s* is the tool's user + system time (children included); *peak RSS* is plumbline's own VmHWM (main and worker threads), GNU time's %M for the others; *other load* is the share of the machine's CPU that other processes used during the runs (noise).",
  );
  out.push('');
  if (r.targets.length > 0) {
    out.push('### Targets', '');
    out.push(
      mdTable([
        ['target', 'required', 'measured', 'result'],
        ...r.targets.map((t) => [t.name, t.required, t.measured, pass(t.pass)]),
      ]),
    );
    out.push('');
  }
  const row = (name, s, extra = []) => [
    name,
    fmt(s.seconds, 3),
    s.all.map((v) => fmt(v, 2)).join(' / '),
    fmt(s.cpu, 2),
    s.mbps === undefined ? '—' : fmt(s.mbps, 1),
    fmtKbAsMb(s.nodeHwmKb ?? s.maxRssKb),
    s.other === undefined ? '—' : `${(s.other * 100).toFixed(0)}%`,
    ...extra,
  ];
  const t = r.tree;
  if (t !== undefined && t.error === undefined) {
    out.push(
      `### Working tree: ${fmtMb(t.corpus.bytes)}, ${t.corpus.files.toLocaleString('en')} files (JS/TS/JSON from node_modules${t.corpus.passes > 1 ? `, cycled ${t.corpus.passes}×` : ''})`,
      '',
    );
    const rows = [['tool', 'median s', 'runs s', 'CPU s', 'MB/s', 'peak RSS', 'other load', 'input']];
    rows.push(row('plumbline check --only secrets', t.plumbline, [fmtMb(t.corpus.bytes)]));
    rows.push(
      row(`rg --no-unicode -c -f (plumbline's ${t.patterns.count} patterns)`, t.ripgrep, [
        fmtMb(t.corpus.bytes),
      ]),
    );
    if (t.ripgrepUnicode !== undefined) {
      rows.push(row('rg -c -f, same patterns, Unicode mode', t.ripgrepUnicode, [fmtMb(t.corpus.bytes)]));
    }
    rows.push(row('secretlint + preset-recommend', t.secretlint, [fmtMb(t.slCorpus.bytes)]));
    if (t.plumbline2x !== undefined)
      rows.push(row('plumbline at 2× tree', t.plumbline2x, [fmtMb(t.double.bytes)]));
    out.push(mdTable(rows), '');
    out.push(
      `Ratios: plumbline is ${fmt(t.plumbline.mbps / t.secretlint.mbps, 1)}× secretlint's MB/s; plumbline takes ${fmt(t.plumbline.seconds / t.ripgrep.seconds, 2)}× ripgrep's time${t.plumbline2x === undefined ? '' : `; peak RSS 2×/1× = ${fmt(peakKb(t.plumbline2x) / peakKb(t.plumbline), 2)}`}.`,
    );
    out.push(
      `Plumbline's report: ${t.plumbline.findings} findings, ${t.plumbline.scannedFiles} files / ${t.plumbline.scannedBytes === undefined ? '—' : fmtMb(t.plumbline.scannedBytes)} scanned, ${t.plumbline.skipped} skipped. ripgrep: ${t.ripgrep.matchingLines} matching lines in ${t.ripgrep.matchingFiles} files${t.ripgrepUnicode === undefined ? '' : ` (Unicode mode: ${t.ripgrepUnicode.matchingLines} lines)`}.`,
      '',
    );
    if (t.profile !== undefined) out.push(renderProfile('plumbline check, working tree', t.profile));
  }
  const h = r.history;
  if (h !== undefined && h.error === undefined) {
    out.push(
      `### History: ${h.repo.commits.toLocaleString('en')} commits (pack ${fmtMb(h.repo.packBytes)}, \`git log -p --all\` prints ${fmtMb(h.repo.patchBytes)})`,
      '',
    );
    const rows = [['tool', 'median s', 'runs s', 'CPU s', 'MB/s of patch text', 'peak RSS', 'other load']];
    rows.push(row('git log -p --all > /dev/null', h.gitlog));
    rows.push(row('plumbline check --history --only secrets', h.plumbline));
    out.push(mdTable(rows), '');
    out.push(
      `Ratio: plumbline takes ${fmt(h.plumbline.seconds / h.gitlog.seconds, 2)}× git log -p's time. Planted secrets found: ${h.plantedFound} of ${h.planted.length} (${h.planted.map((p) => `${p.kind} ${p.found ? `✓ ${p.rule}` : '✗'}`).join(', ')}); other findings: ${h.extraFindings.length}${h.extraFindings.length > 0 ? ` (${h.extraFindings.slice(0, 5).join('; ')})` : ''}.`,
      '',
    );
    if (h.profile !== undefined) out.push(renderProfile('plumbline check --history', h.profile));
  }
  const p = r.precision;
  if (p !== undefined && p.error === undefined && p.skipped === undefined) {
    out.push(`### Labelled corpus (test/corpus/secrets: ${p.files} files, ${p.labels} labelled secrets)`, '');
    const pr = (c) => `${fmt(c.precision, 3)} / ${fmt(c.recall, 3)}`;
    const rows = [['tool', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1', 'provider P / R', 'generic P / R']];
    const add = (name, s) =>
      rows.push([
        name,
        s.tp,
        s.fp,
        s.fn,
        fmt(s.precision, 3),
        fmt(s.recall, 3),
        fmt(s.f1, 3),
        pr(s.byKind.provider),
        pr(s.byKind.generic),
      ]);
    add('plumbline', p.plumbline);
    if (!p.plumblineAgrees) add('plumbline (copy outside the repo)', p.plumblineCopy);
    add('secretlint + preset-recommend', p.secretlint);
    out.push(mdTable(rows), '');
    out.push(
      `Plumbline run on \`test/corpus/secrets/files\` inside the repository (git walk, ${p.plumblineScanned} files scanned)${p.plumblineAgrees ? ' and on a copy outside it (plain walk) agree' : ` and on a copy outside it (${p.plumblineCopyScanned} files) DISAGREE`}. secretlint's preset has no generic (name-only) rule, so its generic recall is expected to be low.`,
      '',
    );
    if (p.gitIgnored.length > 0) {
      out.push(
        `Git ignores ${p.gitIgnored.length} corpus file(s) (so an in-repository scan skips them, and \`git add\` leaves them out): ${p.gitIgnored.join(', ')}.`,
        '',
      );
    }
  } else if (p?.skipped !== undefined) {
    out.push('### Labelled corpus', '', `Skipped: ${p.skipped}.`, '');
  }
  const d = r.deps;
  if (d !== undefined && d.error === undefined && d.skipped === undefined) {
    const n = (v) => (v ?? 0).toLocaleString('en');
    out.push(
      `### Dependencies: ${n(d.extracted.count)} packages in ${Object.keys(d.repo.byLockfile).length} lockfiles against ${n(d.store.documents)} OSV advisories (store ${fmtMb(d.store.bytes)})`,
      '',
    );
    const rows = [['command', 'median s', 'runs s', 'CPU s', 'docs/s', 'peak RSS', 'other load', 'input']];
    const drow = (name, s, docs, input) => [
      name,
      fmt(s.seconds, 3),
      s.all.map((v) => fmt(v, 2)).join(' / '),
      fmt(s.cpu, 2),
      docs === undefined ? '—' : n(Math.round(docs / s.seconds)),
      fmtKbAsMb(peakKb(s)),
      s.other === undefined ? '—' : `${(s.other * 100).toFixed(0)}%`,
      input,
    ];
    rows.push(
      drow(
        `plumbline db import ${d.shared.files.join(' ')} (empty data dir)`,
        d.importShared,
        d.shared.documents,
        `${n(d.shared.documents)} documents, ${fmtMb(d.shared.bytes)} of zips`,
      ),
    );
    rows.push(
      drow(
        'plumbline db import, generated + shared (1 run, no target)',
        d.importAll,
        d.store.documents,
        `${n(d.store.documents)} documents in ${d.advisories.zips.length + d.shared.files.length} zips`,
      ),
    );
    rows.push(
      drow('plumbline check --only deps (warm store)', d.scan, undefined, `${n(d.extracted.count)} packages`),
    );
    rows.push(
      drow(
        'reference: the store lookups alone (better-sqlite3)',
        d.lookups,
        undefined,
        `${n(d.lookups.packages ?? d.extracted.count)} lookups`,
      ),
    );
    out.push(mdTable(rows), '');
    const lockfiles = Object.entries(d.repo.byLockfile)
      .map(([f, c]) => `\`${f}\` ${n(c)}`)
      .join(', ');
    const ecos = Object.entries(d.store.byEcosystem)
      .map(([e, c]) => `${e} ${n(c)}`)
      .join(', ');
    out.push(
      `Repository (generated): ${lockfiles}; plumbline's extractors read ${n(d.extracted.count)} registry, non-dev packages from them. ` +
        `Store: ${n(d.advisories.documents)} generated documents (${n(d.advisories.vulnerabilities)} vulnerabilities, ${n(d.advisories.twins)} of them published twice under a shared CVE alias; ${n(d.advisories.withdrawn)} withdrawn) cloned from the shapes of the real PyPI and Go documents, plus the ${n(d.shared.documents)} real ones; by ecosystem: ${ecos}.`,
      '',
    );
    const same = d.findings.count === d.repo.expectedFindings;
    out.push(
      `Matching: ${n(d.repo.withAdvisories)} packages (${fmt((100 * d.repo.withAdvisories) / d.repo.packages, 1)}%) have advisories; by release index the generator expects ${n(d.repo.affectedPackages)} of them to be affected, with ${n(d.repo.expectedFindings)} findings. ` +
        `Plumbline reported ${n(d.findings.count)} findings on ${n(d.findings.affectedPackages)} packages (${Object.entries(
          d.findings.byEcosystem,
        )
          .map(([e, c]) => `${e} ${n(c)}`)
          .join(
            ', ',
          )}), ${n(d.findings.withUpgrade)} with an upgrade: ${same ? 'exactly as expected' : '**not what the generator expects**'}. ` +
        `The reference lookups found ${n(d.lookups.found)} (package, document) pairs, ${n(d.lookups.documents)} distinct documents.`,
      '',
    );
    out.push(
      "No peer: osv-scanner is a Go program shipped as prebuilt binaries (not packaged by Debian 12; only npm and Debian are reachable here), and `npm audit` and `pip-audit` query their registries' audit APIs; so the targets are absolute. The reference row is not a scanner: it only runs the store's queries for the same packages and parses the documents found (no lockfile parsing, no version matching, no report), a floor for the scan.",
      '',
    );
    if (d.profile !== undefined) out.push(renderProfile('plumbline check --only deps', d.profile));
  } else if (d?.skipped !== undefined) {
    out.push('### Dependencies', '', `Skipped: ${d.skipped}.`, '');
  }
  if (r.controller !== undefined && r.controller.error === undefined)
    out.push(renderController(r.controller));
  if (r.router !== undefined && r.router.error === undefined) out.push(renderRouter(r.router));
  if (r.audit !== undefined && r.audit.error === undefined) out.push(renderAudit(r.audit));
  if (r.rollouts !== undefined && r.rollouts.error === undefined) out.push(renderRollouts(r.rollouts));
  if (r.notes.length > 0) {
    out.push('### Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  }
  return out.join('\n').trimEnd();
}

// ------------------------------------------------------------------------------------------ controller, router

function renderController(c) {
  const out = [
    '### GitOps controller (`up()` from dist/ in its own process, its supervisor and router, the demo app)',
    '',
  ];
  const ms = (v) => (v === undefined ? '—' : fmt(v, 0));
  const pct = (v, d = 0) => (v === undefined ? '—' : `${fmt(v * 100, d)}%`);
  const n = (v) => (v ?? 0).toLocaleString('en');
  const l = c.live;
  if (l !== undefined && l.error === undefined) {
    out.push('#### Commit to live', '');
    const rows = [
      [
        'round',
        'webhook → live (ms)',
        '→ deploying event: fetch, release, render, plan',
        '→ instance spawned',
        '→ route switched',
        '→ app.synced event (old instance stopped)',
        'other load',
      ],
    ];
    l.rounds.forEach((x, i) => {
      rows.push([
        i + 1,
        ms(x.totalMs),
        ms(x.toDeployingMs),
        ms(x.toSpawnedMs),
        ms(x.toRouteSetMs),
        ms(x.toSyncedEventMs),
        pct(x.other),
      ]);
    });
    rows.push([
      'median',
      ms(l.totalMs),
      ms(l.toDeployingMs),
      ms(l.toSpawnedMs),
      ms(l.toRouteSetMs),
      ms(l.toSyncedEventMs),
      '',
    ]);
    out.push(mdTable(rows), '');
    const healthWait = l.toRouteSetMs - l.toSpawnedMs;
    out.push(
      `One app (replicas 1, the demo app); each commit changes its GREETING. The environment polls every 60 s (and \`intervalMs\` is 60 s), so only the webhook — \`POST /api/v1/webhooks/git\`, a GitHub push event signed with X-Hub-Signature-256 — starts the sync. *Live* is the first answer with the new greeting through the router port (polled every 5 ms over keep-alive). The times in between come from the controller's events and the supervisor's and router's JSON logs (millisecond clocks). ` +
        `The app's own start time (\`node server.js\` spawned to its first 200 on /healthz, polled every 2 ms): ${l.appStarts.map((v) => fmt(v, 0)).join(' / ')} ms, median ${ms(l.appStartMs)} ms. ` +
        `Where the time goes: ${ms(l.toDeployingMs)} ms to fetch, write the release, render and plan; ${ms(l.toSpawnedMs - l.toDeployingMs)} ms to ask the supervisor for the instance; ${ms(healthWait)} ms from spawn to the route switch (the app's start, its first passing health probe, the router's confirmation; the app alone needs about ${ms(l.appStartMs)} ms when spawned by the harness); then ${ms(l.totalMs - l.toRouteSetMs)} ms to the first new answer. The controller took ${ms(l.controllerStartMs)} ms to start (store, supervisor, router, first fetch).`,
      '',
    );
    const sp = l.secondPush;
    if (sp !== undefined) {
      const lost = sp.bMs === undefined || sp.bMs > 10_000;
      out.push(
        `A second push during a sync (a check, no target): commit A (its app made to start 1 s late, so its sync lasts) and its webhook, then 300 ms later commit B and its webhook${sp.bDuringA ? ', which arrived while A was still syncing' : ' (A had already finished: not a test of the case)'}. A went live after ${ms(sp.aMs)} ms, and meanwhile the controller used ${fmt(sp.aControllerCpu, 2)} CPU s and the supervisor ${fmt(sp.aSupervisorCpu, 2)} CPU s${sp.aControllerCpu > (0.5 * sp.aMs) / 1000 ? " — **the deploy's health wait does not pause between probes while an instance starts** (it asks the supervisor and probes again at once, all the time the app takes to listen)" : ''}; B ${sp.bMs === undefined ? 'did not go live within 90 s' : `went live ${ms(sp.bMs)} ms after its webhook`}. ${lost ? "**A webhook (or `plumbline sync`) that arrives while a sync is running is lost**: the reconcile loop's `wake()` only ends a sleep in progress, so B waits for the next poll (60 s here, 30 s in the README)." : 'B followed A at once.'}`,
        '',
      );
    }
  }
  const p = c.plan;
  if (p !== undefined && p.error === undefined) {
    out.push(`#### Plan and diff of ${n(p.apps)} apps`, '');
    const rows = [['what', 'median ms', 'runs ms', 'detail']];
    rows.push([
      'planEnvironment + formatPlan, first call in a fresh process',
      ms(p.firstMs),
      p.firstAll.map((v) => fmt(v, 0)).join(' / '),
      `plan ${ms(p.firstPlanMs)} + format ${ms(p.firstFormatMs)}`,
    ]);
    rows.push(['the same, warm (5 more calls in each process)', ms(p.warmMs), '—', '']);
    rows.push([
      `renderEnvironment over ${n(p.render.apps)} App documents (no target)`,
      ms(p.render.ms),
      p.render.all.map((v) => fmt(v, 0)).join(' / '),
      `${fmt(p.render.treeIdMs, 2)} ms per \`git rev-parse COMMIT:cwd\`, which it runs once per app: ~${fmt((p.render.treeIdMs * p.render.apps) / 1000, 1)} s of it`,
    ]);
    out.push(mdTable(rows), '');
    const f = p.first;
    out.push(
      `Inputs (generated, seeded): ${n(f.apps)} desired apps and ${n(f.applied)} applied ones — ${n(f.mix.unchanged)} unchanged, ${n(f.mix.update)} with spec changes (an env value, a secret-looking env value, an added or removed variable, replicas, port and dependsOn), ${n(f.mix.code)} with only their code changed, ${n(f.mix.create)} new, ${n(f.mix.delete)} gone from Git (prune on); about 30% depend on 1–3 others. The plan: ${Object.entries(
        f.steps,
      )
        .map(([k, v]) => `${n(v)} ${k}`)
        .join(', ')}; ${n(f.changeLines)} change lines, ${n(f.textBytes)} bytes of text. ` +
        `The render reads a generated repository (one App document per file under deploy/prod/, code in 50 team folders, one commit) from its work tree: ${n(p.render.apps)} apps, ${n(p.render.problems)} problems${p.render.firstProblem === undefined ? '' : ` (first: ${p.render.firstProblem})`}.`,
      '',
    );
    if (p.profiles?.plan !== undefined)
      out.push(
        renderProfile(
          'planEnvironment + formatPlan, 5,000 apps (with the input generation)',
          p.profiles.plan,
        ),
      );
    if (p.profiles?.render !== undefined)
      out.push(renderProfile('renderEnvironment, 5,000 App documents', p.profiles.render));
  }
  const i = c.idle;
  if (i !== undefined && i.error === undefined) {
    out.push(`#### Idle with ${i.apps} apps`, '');
    const rows = [
      [
        'window',
        's',
        'polls',
        'controller CPU s',
        'its git children CPU s',
        'controller, % of a core',
        'supervisor CPU',
        'router CPU',
        `${i.apps} apps' CPU`,
        'other load',
      ],
    ];
    i.windows.forEach((w, k) => {
      rows.push([
        k + 1,
        fmt(w.seconds, 1),
        w.polls,
        fmt(w.controller.self, 2),
        fmt(w.controller.children, 2),
        pct((w.controller.self + w.controller.children) / w.seconds, 2),
        `${fmt(w.supervisor.self + w.supervisor.children, 2)} s`,
        `${fmt(w.router.self, 2)} s`,
        `${fmt(w.appsCpu, 2)} s`,
        pct(w.other),
      ]);
    });
    rows.push([
      'all',
      fmt(
        i.windows.reduce((a, w) => a + w.seconds, 0),
        1,
      ),
      i.polls,
      '',
      '',
      pct(i.controllerShare, 2),
      `${pct(i.supervisorShare, 2)} of a core`,
      `${pct(i.routerShare, 2)} of a core`,
      `${pct(i.appsShare, 2)} of a core`,
      '',
    ]);
    out.push(mdTable(rows), '');
    const kb = (v) => (v === undefined ? '—' : `${Math.round(v / 1024)} MiB`);
    out.push(
      `${i.apps} Apps (replicas 1, the demo app, one document each), the environment's \`interval: 30s\` (the README's) and no \`intervalMs\` override; the controller runs as \`plumbline up\` does (lib/controller-proc.mjs). It took ${fmt(i.settleMs / 1000, 1)} s from start to all ${i.syncedApps} apps Synced (${i.serving} answering through the router): the apps are deployed one after the other, each waiting for its health check. CPU from /proc/PID/stat: utime+stime, and cutime+cstime for the git processes the controller ran and reaped. ` +
        `A poll of the unchanged environment (woken by a webhook, 3 times): ${i.syncTimes.map((x) => `${ms(x.ms)} ms / ${fmt(x.cpu, 2)} CPU s`).join(', ')} (wall time from the sync record / the controller's CPU with its git children) — every poll fetches, renders every app (one \`git rev-parse\` each), compares the apps' release folders with Git when due (\`git read-tree\` into a new temporary index, then \`git status\`: two more git processes per app checked, also for apps that share one release folder and cwd), lists the supervisor's instances and the router's table and writes a history record, even when the commit did not change. Resident memory after the windows: controller ${kb(i.rss.controller)}, supervisor ${kb(i.rss.supervisor)}, router ${kb(i.rss.router)}.`,
      '',
    );
    if (i.profiles !== undefined)
      out.push(
        renderProfile(
          `the controller, idle with ${i.apps} apps (one more window, under --cpu-prof)`,
          i.profiles,
        ),
      );
  }
  const z = c.zero;
  if (z !== undefined && z.error === undefined) {
    out.push('#### Zero failed requests', '');
    const rows = [['step', 's', 'detail', 'failed requests']];
    for (const ph of z.phases) {
      const detail =
        ph.liveMs !== undefined
          ? `live after ${ms(ph.liveMs)} ms`
          : ph.downMs !== undefined
            ? `controller back and Synced after ${ms(ph.downMs)} ms; ${ph.redeployed} redeploy(s) by the new controller`
            : ph.backMs !== undefined
              ? `${ph.instance} back after ${ms(ph.backMs)} ms`
              : '';
      const failed = z.failures.filter((f) => f.phase === ph.name).reduce((a, f) => a + f.count, 0);
      rows.push([ph.name, fmt(ph.seconds, 1), detail, failed]);
    }
    const between = z.failures.filter((f) => f.phase === 'between steps').reduce((a, f) => a + f.count, 0);
    rows.push(['before, between and after the steps', '', '', between]);
    out.push(mdTable(rows), '');
    out.push(
      `lib/loadgen.mjs at ${z.rate} req/s (open loop, 16 keep-alive connections, 5 s timeout) through the router port of one App with 2 replicas, for ${fmt(z.seconds, 1)} s: ${n(z.sent)} requests, ${n(z.ok)} answered 200, ${n(z.failed)} failed${z.failures.length > 0 ? ` (${z.failures.map((f) => `${f.kind} ×${f.count} in "${f.phase}"`).join('; ')})` : ''}. Answers by greeting: ${Object.entries(
        z.words,
      )
        .map(([w, k]) => `${w} ${n(k)}`)
        .join(
          ', ',
        )}. Latency p50 ${fmt(z.latencyMs.p50, 2)} ms, p99 ${fmt(z.latencyMs.p99, 2)} ms, max ${fmt(z.latencyMs.max, 1)} ms. Each step is followed by 3 s of traffic. With a single replica a killed instance cannot be hidden: the router has no other backend to retry on until the supervisor restarts it (after its ~1 s backoff).`,
      '',
    );
  }
  for (const part of ['live', 'plan', 'idle', 'zero']) {
    if (c[part]?.error !== undefined) out.push(`Part "${part}" failed: ${c[part].error}`, '');
  }
  return out.join('\n');
}

function renderRouter(rt) {
  const out = ["### Router: plumbline's router process vs HAProxy, in front of the demo app on loopback", ''];
  const ms = (v, d = 2) => fmt(v, d);
  const n = (v) => Math.round(v ?? 0).toLocaleString('en');
  const pct = (v) => (v === undefined ? '—' : `${fmt(v * 100, 0)}%`);
  out.push(
    `#### Latency at ${n(rt.rate)} req/s (${rt.latencySeconds} s measured after ${rt.warmupSeconds} s of warm-up, per path and round)`,
    '',
  );
  const rows = [
    [
      'path',
      'p50 ms',
      'p99 ms',
      'p99.9 ms',
      'p99 per round',
      'added p50 / p99 ms',
      'proxy CPU, % of a core',
      'failed',
      'other load',
    ],
  ];
  for (const [key, s] of Object.entries(rt.latency)) {
    const added = { router: rt.addedRouter, haproxy: rt.addedHaproxy, node: rt.addedNode }[key];
    rows.push([
      s.label,
      ms(s.p50),
      ms(s.p99),
      ms(s.p999),
      s.p99s.map((v) => fmt(v, 2)).join(' / '),
      added === undefined ? '—' : `${ms(added.p50)} / ${ms(added.p99)}`,
      key === 'direct' ? `(app ${pct(s.proxyCpuPerSecond)})` : pct(s.proxyCpuPerSecond),
      n(s.failed),
      pct(s.other),
    ]);
  }
  out.push(mdTable(rows), '');
  out.push(
    `lib/loadgen.mjs (Debian 12 has wrk but no wrk2): an open-loop generator at a fixed rate over up to 64 keep-alive connections, latency from handing the request to http.request to the end of the body (process.hrtime); the paths are interleaved round by round, and *added* is the proxied p99 minus the direct p99 of the same round (median over the rounds). The router is \`dist/targets/local/router/main.js\` with one route; HAProxy is Debian's, \`mode http\`, keep-alive, one server line, its config written to the work folder.`,
    '',
  );
  out.push('#### Throughput (`wrk -t2 -c32 -d10s --latency`)', '');
  const trows = [
    [
      'path',
      'req/s (median)',
      'runs',
      'p50 ms',
      'p99 ms',
      'errors',
      'proxy CPU µs/request',
      'app CPU µs/request',
      'other load',
    ],
  ];
  for (const s of Object.values(rt.throughput)) {
    trows.push([
      s.label,
      n(s.rps),
      s.all.map((v) => n(v)).join(' / '),
      ms(s.p50),
      ms(s.p99),
      n(s.errors),
      s.proxyUsPerReq === undefined ? '—' : fmt(s.proxyUsPerReq, 0),
      fmt(s.appUsPerReq, 0),
      pct(s.other),
    ]);
  }
  out.push(mdTable(trows), '');
  out.push(
    `Router / HAProxy: ${fmt(rt.ratio, 2)}× the requests per second (${fmt(rt.ratio1, 2)}× HAProxy with one thread; ${fmt(rt.ratioNode, 2)}× the minimal Node proxy). The minimal Node proxy is not a contender (it filters no header, retries nothing, keeps no metrics): it is the floor of Node's own HTTP stack, so the router's CPU per request above it is the router's code. Everything shares 2 cores (wrk's 2 threads, the proxy, the app), so the proxy's CPU per request is the fairer comparison of the two proxies. The router process's peak RSS: ${rt.routerHwmKb === undefined ? '—' : `${Math.round(rt.routerHwmKb / 1024)} MiB`}.`,
    '',
  );
  if (rt.profiles !== undefined)
    out.push(renderProfile(`the router at ${n(rt.rate / 2)} req/s under --cpu-prof`, rt.profiles));
  return out.join('\n');
}
