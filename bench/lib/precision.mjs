// Precision and recall of secretlint and plumbline on the labelled corpus test/corpus/secrets/, scored by
// the corpus's own pure scoring function (score.ts, loaded through tsx).
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { plumblineArgs, SECRETLINT_BIN, SECRETLINT_RC } from './tools.mjs';
import { ensureDir, log, REPO_DIR, run } from './util.mjs';

export const CORPUS_DIR = join(REPO_DIR, 'test', 'corpus', 'secrets');
const FILES_DIR = join(CORPUS_DIR, 'files');

async function loadScoring() {
  const { tsImport } = await import('tsx/esm/api');
  const mod = await tsImport(pathToFileURL(join(CORPUS_DIR, 'score.ts')).href, import.meta.url);
  const { parse } = await import('yaml');
  const labels = mod.parseLabels(parse(readFileSync(join(CORPUS_DIR, 'labels.yaml'), 'utf8')));
  return { score: mod.score, labels };
}

function listFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name);
      if (entry.isDirectory()) walk(abs);
      else if (entry.isFile()) out.push(abs);
    }
  };
  walk(root);
  return out.sort();
}

const toPosix = (p) => p.split(sep).join('/');

/** secretlint on every file (dotfiles included: the paths are passed literally, not globbed). */
function secretlintFindings(filesDir, reportFile) {
  const files = listFiles(filesDir).map((f) => relative(filesDir, f));
  const result = run(
    SECRETLINT_BIN,
    [
      '--secretlintrc',
      SECRETLINT_RC,
      '--format',
      'json',
      '--output',
      reportFile,
      '--no-color',
      '--no-glob',
      '--no-gitignore',
      ...files,
    ],
    { cwd: filesDir },
  );
  if (result.status !== 0 && result.status !== 1) {
    throw new Error(`secretlint exited ${result.status}: ${result.stderr.slice(-2000)}`);
  }
  const findings = [];
  for (const file of JSON.parse(readFileSync(reportFile, 'utf8'))) {
    const rel = toPosix(relative(filesDir, resolve(filesDir, file.filePath)));
    for (const m of file.messages) {
      // The preset has provider-format rules only: none matches on a variable's name alone.
      findings.push({ file: rel, line: m.loc.start.line, rule: m.ruleId, kind: 'provider' });
    }
  }
  return findings;
}

/** Plumbline's kind for a finding: its generic rules are tagged (or named) generic. */
function plumblineKind(finding) {
  const generic = (finding.tags ?? []).includes('generic') || finding.ruleId.startsWith('generic');
  return generic ? 'generic' : 'provider';
}

/** Runs `plumbline check DIR --only secrets --format json`, mapping paths to be relative to `filesDir`. */
function plumblineFindings(scanDir, filesDir, reportFile) {
  const result = run('node', plumblineArgs(scanDir, { output: reportFile }), { cwd: REPO_DIR });
  if (result.status !== 0 && result.status !== 1) {
    throw new Error(`plumbline exited ${result.status}: ${result.stderr.slice(-2000)}`);
  }
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const findings = report.findings
    .filter((f) => f.analyzer === 'secrets' || f.analyzer === undefined)
    .map((f) => ({
      file: toPosix(relative(filesDir, resolve(report.root, f.location.path))),
      line: f.location.startLine,
      rule: f.ruleId,
      kind: plumblineKind(f),
      suppressed: f.suppression !== undefined,
    }));
  return { findings, report };
}

function summarize(score) {
  const pick = (c) => ({ tp: c.tp, fp: c.fp, fn: c.fn, precision: c.precision, recall: c.recall, f1: c.f1 });
  return {
    ...pick(score),
    byKind: Object.fromEntries(Object.entries(score.byKind).map(([k, c]) => [k, pick(c)])),
    falsePositives: score.falsePositives.slice(0, 15).map((f) => `${f.file}:${f.line} ${f.rules.join(',')}`),
    falseNegatives: score.falseNegatives
      .slice(0, 15)
      .map((l) => `${l.file}:${l.line} (${l.kind}${l.rule ? `, ${l.rule}` : ''})`),
  };
}

/**
 * Scores both tools. Plumbline is run twice: on test/corpus/secrets/files inside this repository (as a user
 * would; it then walks with git) and on a copy outside it (a plain folder, paths exactly as labelled). The
 * two should agree; if they do not, both are reported.
 */
export async function runPrecision({ workDir }) {
  if (!existsSync(join(CORPUS_DIR, 'labels.yaml')) || !existsSync(FILES_DIR)) {
    return { skipped: `no labelled corpus yet (${relative(REPO_DIR, CORPUS_DIR)}/labels.yaml and files/)` };
  }
  const { score, labels } = await loadScoring();
  const dir = ensureDir(join(workDir, 'precision'));
  const copy = join(dir, 'files');
  rmSync(copy, { recursive: true, force: true });
  cpSync(FILES_DIR, copy, { recursive: true });
  const fileCount = listFiles(FILES_DIR).length;

  log('corpus: secretlint');
  const sl = secretlintFindings(copy, join(dir, 'secretlint.json'));
  log('corpus: plumbline (in the repository, git walk)');
  const inRepo = plumblineFindings(FILES_DIR, FILES_DIR, join(dir, 'plumbline-in-repo.json'));
  log('corpus: plumbline (copy outside the repository)');
  const outside = plumblineFindings(copy, copy, join(dir, 'plumbline-copy.json'));

  // Suppressed findings (an inline plumbline:allow in a corpus file) are not reported to a user as findings.
  const active = (list) => list.filter((f) => !f.suppressed);
  const result = {
    labels: labels.length,
    files: fileCount,
    secretlint: summarize(score(labels, sl)),
    plumbline: summarize(score(labels, active(inRepo.findings))),
    plumblineCopy: summarize(score(labels, active(outside.findings))),
    plumblineScanned: inRepo.report.stats?.files,
    plumblineCopyScanned: outside.report.stats?.files,
  };
  // Files Git ignores are not walked in the repository (nor would they be committed without -f).
  const ignored = run('git', ['check-ignore', '--stdin'], {
    cwd: REPO_DIR,
    input: listFiles(FILES_DIR)
      .map((f) => relative(REPO_DIR, f))
      .join('\n'),
  });
  result.gitIgnored = ignored.stdout
    .split('\n')
    .filter(Boolean)
    .map((f) => toPosix(relative(FILES_DIR, join(REPO_DIR, f))));
  result.plumblineAgrees =
    result.plumbline.tp === result.plumblineCopy.tp &&
    result.plumbline.fp === result.plumblineCopy.fp &&
    result.plumbline.fn === result.plumblineCopy.fn;
  return result;
}
