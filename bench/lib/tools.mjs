// The tools under test and their exact command lines, plus installing what the benchmark needs.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BENCH_DIR, discardFile, log, REPO_DIR, run, runOk, timed, which } from './util.mjs';

export const STORE_LOOKUPS = join(BENCH_DIR, 'lib', 'store-lookups.mjs');

// PLUMBLINE_BENCH_BIN points the benchmark at another build (to compare two builds, say).
export const PLUMBLINE_BIN = process.env.PLUMBLINE_BENCH_BIN ?? join(REPO_DIR, 'bin', 'plumbline.js');
export const SECRETLINT_BIN = join(BENCH_DIR, 'node_modules', '.bin', 'secretlint');
export const SECRETLINT_RC = join(BENCH_DIR, 'secretlintrc.json');

// ---------------------------------------------------------------------------------------------- installs

let aptUpdated = false;
function aptInstall(pkg) {
  if (!aptUpdated) {
    log('apt-get update');
    runOk('apt-get', ['update', '-qq']);
    aptUpdated = true;
  }
  log(`apt-get install -y ${pkg}`);
  runOk('apt-get', ['install', '-y', '-qq', pkg], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * Installs ripgrep and GNU time via apt, the router benchmark's HAProxy and wrk (Debian has no wrk2), and the
 * bench's npm dependencies, when missing.
 */
export function ensureTools({ needRipgrep, needNpm, needProxyTools = false }) {
  if (!existsSync('/usr/bin/time')) aptInstall('time');
  if (needRipgrep && which('rg') === undefined) aptInstall('ripgrep');
  if (needProxyTools && which('haproxy') === undefined) aptInstall('haproxy');
  if (needProxyTools && which('wrk') === undefined) aptInstall('wrk');
  const lock = join(BENCH_DIR, 'package-lock.json');
  const installed = join(BENCH_DIR, 'node_modules', '.package-lock.json');
  const stale =
    !existsSync(SECRETLINT_BIN) ||
    !existsSync(installed) ||
    (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs);
  if (needNpm && stale) {
    const useCi = existsSync(lock);
    log(`npm ${useCi ? 'ci' : 'install'} --prefix bench`);
    runOk('npm', [useCi ? 'ci' : 'install', '--prefix', BENCH_DIR, '--no-audit', '--no-fund'], {
      cwd: REPO_DIR,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }
}

/** The newest modification time of the compiled sources (src/, without tests). */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(abs));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(abs).mtimeMs);
  }
  return newest;
}

/**
 * Makes sure `dist/` matches the sources for bin/plumbline.js: builds it (as `make build` does) when asked,
 * when it is missing, or when a source file is newer than it. Returns a note when the build fails and an
 * older dist/ is measured instead.
 */
export function ensurePlumblineBuilt({ build }) {
  if (process.env.PLUMBLINE_BENCH_BIN !== undefined)
    return `measured the build at PLUMBLINE_BENCH_BIN=${PLUMBLINE_BIN}`;
  const marker = join(REPO_DIR, 'dist', 'cli', 'main.js');
  const stale = !existsSync(marker) || newestSource(join(REPO_DIR, 'src')) > statSync(marker).mtimeMs;
  if (build || stale) {
    log(
      `building plumbline${stale ? ' (dist/ is missing or older than src/)' : ''}: tsc -p tsconfig.build.json`,
    );
    const result = run(join(REPO_DIR, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
      cwd: REPO_DIR,
    });
    if (result.status !== 0) {
      const out = `${result.stdout}${result.stderr}`.trim().split('\n').slice(0, 20).join('\n');
      if (!existsSync(marker)) throw new Error(`plumbline does not build:\n${out}`);
      log(`WARNING: the build failed; benchmarking the existing dist/:\n${out}`);
      return 'the build of the current sources failed; the previous dist/ was measured';
    }
  }
  if (!existsSync(PLUMBLINE_BIN)) throw new Error(`${PLUMBLINE_BIN} is missing`);
  return undefined;
}

// ---------------------------------------------------------------------------------------------- versions

export function versions() {
  const first = (cmd, args, options) => {
    try {
      const result = run(cmd, args, options);
      return `${result.stdout}${result.stderr}`.trim().split('\n')[0] || '?';
    } catch {
      return 'not installed';
    }
  };
  let plumbline = first('node', [PLUMBLINE_BIN, '--version'], { cwd: REPO_DIR });
  const head = run('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_DIR });
  const dirty =
    run('git', ['status', '--porcelain', '--', 'src', 'bin'], { cwd: REPO_DIR }).stdout.trim() !== '';
  plumbline +=
    head.status === 0
      ? ` (commit ${head.stdout.trim()}${dirty ? ', uncommitted changes in src/' : ''})`
      : ' (no commit yet)';
  return {
    plumbline,
    secretlint: `${first(SECRETLINT_BIN, ['--version'])} + @secretlint/secretlint-rule-preset-recommend ${presetVersion()}`,
    ripgrep: first('rg', ['--version']),
    git: first('git', ['--version']),
    node: process.version,
    sqlite: sqliteVersion(),
    haproxy: which('haproxy') === undefined ? 'not installed' : first('haproxy', ['-v']),
    wrk: which('wrk') === undefined ? 'not installed' : first('wrk', ['-v']).replace(/ Copyright.*$/, ''),
  };
}

/** better-sqlite3's version and the SQLite it bundles (the advisory store's engine). */
function sqliteVersion() {
  const script =
    "const D=require('better-sqlite3');const v=new D(':memory:').prepare('select sqlite_version()').pluck().get();" +
    "console.log(require('better-sqlite3/package.json').version+' (SQLite '+v+')')";
  try {
    const result = run('node', ['-e', script], { cwd: REPO_DIR });
    return result.status === 0 ? `better-sqlite3 ${result.stdout.trim()}` : 'better-sqlite3 ?';
  } catch {
    return 'better-sqlite3 ?';
  }
}

function presetVersion() {
  try {
    const pkg = join(
      BENCH_DIR,
      'node_modules',
      '@secretlint',
      'secretlint-rule-preset-recommend',
      'package.json',
    );
    return JSON.parse(readFileSync(pkg, 'utf8')).version;
  } catch {
    return '?';
  }
}

// ---------------------------------------------------------------------------------------------- plumbline

/**
 * The documented command line: `plumbline check DIR [--history] --only secrets --format json ...`; with
 * `only: 'deps'` and `dataDir`, the dependency scan against the advisory store in `dataDir`.
 */
export function plumblineArgs(
  dir,
  { history = false, output = discardFile(), only = 'secrets', dataDir } = {},
) {
  return [
    PLUMBLINE_BIN,
    'check',
    dir,
    ...(history ? ['--history'] : []),
    '--only',
    only,
    ...(dataDir === undefined ? [] : ['--data-dir', dataDir]),
    '--format',
    'json',
    '--output',
    output,
    '--quiet',
    '--fail-on',
    'critical',
  ];
}

/** Plumbline keeps a cache under `<root>/.plumbline/cache`; each timed run starts without one (cold). */
function clearPlumblineCache(dir) {
  const cache = join(dir, '.plumbline');
  const had = existsSync(cache);
  rmSync(cache, { recursive: true, force: true });
  return had;
}

export async function runPlumbline(dir, { history = false, output, only, dataDir } = {}) {
  const hadCache = clearPlumblineCache(dir);
  const result = await timed('node', plumblineArgs(dir, { history, output, only, dataDir }), {
    cwd: REPO_DIR,
    rssHook: true,
    okCodes: [0, 1],
  });
  const leftCache = existsSync(join(dir, '.plumbline'));
  clearPlumblineCache(dir);
  return { ...result, hadCache, leftCache };
}

/** One extra, untimed-for-the-table run that writes the JSON report, to read findings and stats. */
export async function plumblineReport(dir, { history = false, reportFile }) {
  const result = await runPlumbline(dir, { history, output: reportFile });
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  return { result, report };
}

// ---------------------------------------------------------------------------------------------- ripgrep

/**
 * Exports plumbline's rule patterns for ripgrep and checks that ripgrep accepts them. Patterns ripgrep
 * rejects are listed and left out (plumbline's rules promise the subset both engines share).
 */
export function exportRipgrepPatterns(file) {
  // Run from the work folder: `rules export` reads ./plumbline.yaml, and the scanned corpora have none either.
  const out = runOk('node', [PLUMBLINE_BIN, 'rules', 'export', '--format', 'ripgrep'], {
    cwd: dirname(file),
  });
  const patterns = out.split('\n').filter((l) => l.trim() !== '');
  writeFileSync(file, `${patterns.join('\n')}\n`);
  const check = run('rg', ['--no-ignore', '-c', '-f', file, '/dev/null']);
  if (check.status === 0 || check.status === 1) return { file, count: patterns.length, rejected: [] };
  const rejected = [];
  const accepted = [];
  for (const pattern of patterns) {
    const one = run('rg', ['--no-ignore', '-c', '-e', pattern, '/dev/null']);
    if (one.status === 2) rejected.push(pattern);
    else accepted.push(pattern);
  }
  writeFileSync(file, `${accepted.join('\n')}\n`);
  log(`ripgrep rejected ${rejected.length} of ${patterns.length} patterns; running the rest`);
  return { file, count: accepted.length, rejected };
}

/** The ripgrep command line; `unicode: false` adds --no-unicode (ASCII \w, \d, \s and case folding). */
export function ripgrepArgs(dir, patternsFile, { unicode }) {
  return ['--no-ignore', ...(unicode ? [] : ['--no-unicode']), '-c', '-f', patternsFile, dir];
}

/**
 * ripgrep with plumbline's patterns. By default in ASCII mode (--no-unicode): plumbline's patterns are
 * JavaScript regexes without the `u` flag, whose \w and \d are ASCII, so that is the same search; ripgrep's
 * default Unicode mode turns the bounded classes (`[\w.$-]{0,40}`) into a far larger automaton and is
 * about 100x slower on them (see README.md).
 */
export async function runRipgrep(dir, patternsFile, countsFile, { unicode = false } = {}) {
  // stdout goes through a pipe to a file (not /dev/null) so no "output is discarded" shortcut applies.
  const result = await timed('rg', ripgrepArgs(dir, patternsFile, { unicode }), {
    stdoutFile: countsFile,
    okCodes: [0, 1],
  });
  let matchingLines = 0;
  let matchingFiles = 0;
  for (const line of readFileSync(countsFile, 'utf8').split('\n')) {
    const n = Number(line.slice(line.lastIndexOf(':') + 1));
    if (line !== '' && Number.isFinite(n)) {
      matchingLines += n;
      matchingFiles += 1;
    }
  }
  return { ...result, matchingLines, matchingFiles };
}

// ---------------------------------------------------------------------------------------------- secretlint

export function secretlintArgs(output) {
  return ['--secretlintrc', SECRETLINT_RC, '--format', 'json', '--output', output, '--no-color', '**/*'];
}

/** secretlint over every file under `dir` (its glob, run from `dir`); exit 0 or 1 is success. */
export async function runSecretlint(dir, output = '/dev/null') {
  return timed(SECRETLINT_BIN, secretlintArgs(output), { cwd: dir, okCodes: [0, 1] });
}

// ---------------------------------------------------------------------------------------------- git

export async function runGitLog(repo) {
  return timed('git', ['log', '-p', '--all'], { cwd: repo, okCodes: [0] });
}

// ---------------------------------------------------------------------------------------------- deps

/** `plumbline check REPO --only deps --data-dir DIR --format json --output FILE --quiet --fail-on critical`. */
export async function runPlumblineDeps(repo, dataDir, { output } = {}) {
  return runPlumbline(repo, { only: 'deps', dataDir, output });
}

/** The scan once, writing the JSON report, to read its findings. */
export async function plumblineDepsReport(repo, dataDir, reportFile) {
  const result = await runPlumblineDeps(repo, dataDir, { output: reportFile });
  return { result, report: JSON.parse(readFileSync(reportFile, 'utf8')) };
}

/** `plumbline db import PATH… --data-dir DIR` into a fresh (removed first) data folder; exit 0 is success. */
export async function runDbImport(paths, dataDir) {
  rmSync(dataDir, { recursive: true, force: true });
  return timed('node', [PLUMBLINE_BIN, 'db', 'import', ...paths, '--data-dir', dataDir], {
    cwd: REPO_DIR,
    rssHook: true,
    okCodes: [0],
  });
}

/** `plumbline db status --data-dir DIR --json`, parsed. */
export function dbStatus(dataDir) {
  return JSON.parse(
    runOk('node', [PLUMBLINE_BIN, 'db', 'status', '--data-dir', dataDir, '--json'], { cwd: REPO_DIR }),
  );
}

/** The reference run: the store's lookups alone (lib/store-lookups.mjs). */
export async function runStoreLookups(dataDir, packagesFile, outFile) {
  const result = await timed('node', [STORE_LOOKUPS, dataDir, packagesFile], {
    cwd: REPO_DIR,
    rssHook: true,
    stdoutFile: outFile,
    okCodes: [0],
  });
  const [packages, found, documents] = readFileSync(outFile, 'utf8').trim().split(' ').map(Number);
  return { ...result, packages, found, documents };
}

/**
 * The packages plumbline's own extractors read from REPO that a deps scan checks (registry, not dev), counted
 * from `plumbline sbom` (untimed): checks the generated lockfiles hold what they should.
 */
export function scannedPackageCount(repo, sbomFile) {
  runOk('node', [PLUMBLINE_BIN, 'sbom', repo, '--output', sbomFile], { cwd: REPO_DIR });
  const sbom = JSON.parse(readFileSync(sbomFile, 'utf8'));
  const prop = (c, name) => c.properties?.find((p) => p.name === name)?.value;
  const byLockfile = {};
  let count = 0;
  for (const c of sbom.components ?? []) {
    if (prop(c, 'plumbline:source') !== 'registry' || prop(c, 'plumbline:dev') === 'true') continue;
    count++;
    const file = prop(c, 'plumbline:lockfile') ?? '?';
    byLockfile[file] = (byLockfile[file] ?? 0) + 1;
  }
  return { count, byLockfile, components: sbom.components?.length ?? 0 };
}
