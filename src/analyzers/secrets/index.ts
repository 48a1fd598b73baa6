// The secrets analyzer: provider tokens, private keys and generic credentials in the working tree, the
// index (pre-commit) or the whole Git history.
import picomatch from 'picomatch';
import type { CheckSpec } from '../../config/schema.js';
import { ConfigError, GitError } from '../../errors.js';
import { filterPaths } from '../../files/walk.js';
import type { Location, RawFinding } from '../../findings/model.js';
import { firstLine, hasCommits, spawnGit } from '../../git/git.js';
import { type AddedFragment, addedFragments, HISTORY_FORMAT } from '../../git/patch.js';
import type { RuleMeta, Skipped } from '../../report/types.js';
import type { Analyzer, AnalyzerResult } from '../types.js';
import { type CompiledRules, compileRules, EXAMPLE_PATH, scanBytes, scanText } from './engine.js';
import { scanFiles } from './pool.js';
import { redactLine, redactSecret } from './redact.js';
import type { SecretRule } from './rule.js';
import { BUILTIN_RULES } from './rules/index.js';
import { toWire, type WireMatch } from './scan-file.js';

const CWE = ['CWE-798'] as const;

export const secretsAnalyzer: Analyzer = {
  name: 'secrets',
  description: 'Leaked credentials: provider tokens, private keys, generic passwords and keys',
  sources: ['tree', 'staged', 'history'],
  async run(context) {
    const rules = resolveRules(context.config);
    const byId = new Map(rules.map((r) => [r.id, r]));
    const allowPath = pathAllow(context.config);
    const allow = {
      regexes: context.config.secrets.allow.regexes,
      stopwords: context.config.secrets.allow.stopwords,
    };
    const toFindings = (
      path: string,
      matches: readonly WireMatch[],
      extra: Partial<Location> = {},
    ): RawFinding[] => findingsOf(byId, path, matches, extra, context.showSecrets);

    if (context.source.kind === 'tree') {
      const paths = context.files.then((files) => files.filter((p) => !allowPath(p)));
      const results = await scanFiles({
        init: { rules, allow, root: context.root, maxFileSize: context.config.maxFileSize },
        paths,
        progress: context.progress,
        signal: context.signal,
      });
      const findings: RawFinding[] = [];
      const skipped: Skipped[] = [];
      let bytes = 0;
      for (const r of results) {
        bytes += r.bytes;
        if (r.skipped !== undefined) skipped.push(r.skipped);
        findings.push(...toFindings(r.path, r.matches));
      }
      return result(findings, rules, skipped, (await paths).length, bytes);
    }

    const workTree = context.workTree as string;
    const compiled = compileRules(rules, allow);
    const keep = (path: string): boolean =>
      !allowPath(path) && filterPaths([path], context.config.paths).length === 1;

    if (context.source.kind === 'staged') {
      const args = ['diff', '--cached', '-U0', '--no-color', '--no-ext-diff', '--diff-filter=ACMR', '--'];
      const findings: RawFinding[] = [];
      let files = 0;
      let bytes = 0;
      for await (const fragment of gitFragments(workTree, args, context.signal)) {
        if (!keep(fragment.path)) continue;
        files++;
        bytes += fragment.text.length;
        findings.push(...toFindings(fragment.path, scanFragment(fragment, compiled)));
      }
      return result(findings, rules, [], files, bytes);
    }

    // History: a secret that many commits carry is reported once, with the commit that introduced it.
    if (!hasCommits(workTree)) return result([], rules, [], 0, 0);
    const range = context.source.range;
    const args = ['log', '-p', '-U0', '--no-color', '--no-ext-diff', HISTORY_FORMAT];
    args.push(...(range === undefined ? ['--all'] : ['--end-of-options', range]), '--');
    const bySecret = new Map<string, RawFinding>();
    let fragments = 0;
    let bytes = 0;
    let commits = 0;
    let lastSha = '';
    for await (const fragment of gitFragments(workTree, args, context.signal)) {
      if (fragment.commit !== undefined && fragment.commit.sha !== lastSha) {
        lastSha = fragment.commit.sha;
        commits++;
      }
      fragments++;
      bytes += fragment.text.length;
      context.progress.update(commits, undefined, `commits, ${(bytes / 1e6).toFixed(1)} MB added`);
      if (!keep(fragment.path)) continue;
      const matches = scanFragment(fragment, compiled);
      if (matches.length === 0) continue;
      const commit = fragment.commit;
      const extra: Partial<Location> =
        commit === undefined
          ? {}
          : { commit: commit.sha, author: `${commit.author} <${commit.email}>`, date: commit.date };
      toFindings(fragment.path, matches, extra).forEach((f, i) => {
        // Newest first: a later sighting of the same secret is an older commit, so it replaces the earlier.
        bySecret.set(`${f.ruleId}\0${(matches[i] as WireMatch).secret}`, f);
      });
    }
    return result([...bySecret.values()], rules, [], fragments, bytes);
  },
};

function result(
  findings: RawFinding[],
  rules: readonly SecretRule[],
  skipped: Skipped[],
  files: number,
  bytes: number,
): AnalyzerResult {
  const used = new Set(findings.map((f) => f.ruleId));
  return { findings, rules: rules.filter((r) => used.has(r.id)).map(ruleMeta), skipped, files, bytes };
}

export function ruleMeta(rule: SecretRule): RuleMeta {
  return {
    id: rule.id,
    analyzer: 'secrets',
    title: rule.description,
    severity: rule.severity,
    help: HELP,
    cwe: CWE,
    tags: ['security', 'secret', ...(rule.tags ?? [])],
  };
}

const HELP =
  'Revoke the credential at its provider first (it is in Git now, so assume it is compromised), then remove it ' +
  'from the code and load it from the environment or a secret store. If it is a false positive, add ' +
  '`plumbline:allow RULE-ID` in a comment on the line, or a suppression with a reason.';

/** Findings for one file's matches (in order); secrets sharing a line are all redacted in each snippet. */
function findingsOf(
  rules: ReadonlyMap<string, SecretRule>,
  path: string,
  matches: readonly WireMatch[],
  extra: Partial<Location>,
  show: boolean,
): RawFinding[] {
  return matches.map((m) => {
    const rule = rules.get(m.ruleId) as SecretRule;
    const sameLine = matches.filter((o) => o.line === m.line);
    const snippet = redactLine(
      m.lineText,
      sameLine.map((o) => ({ span: o.lineSpan, secret: o.secret })),
      sameLine.indexOf(m),
      show,
    );
    return {
      analyzer: 'secrets',
      ruleId: rule.id,
      title: rule.description,
      message: `${rule.description}: ${show ? m.secret : redactSecret(m.secret)}`,
      severity: rule.severity,
      confidence: m.confidence,
      location: {
        path,
        startLine: m.line,
        startColumn: m.column,
        endLine: m.endLine,
        endColumn: m.endColumn,
        ...extra,
      },
      cwe: CWE,
      snippet: snippet.text,
      snippetSpan: snippet.span,
      fingerprintContent: m.secret,
      inlineAllowed: m.inlineAllowed,
      help: HELP,
      tags: ['secret', ...(rule.tags ?? [])],
    };
  });
}

/** Scans the added lines of a fragment and maps lines back to the file's own line numbers. */
function scanFragment(fragment: AddedFragment, compiled: CompiledRules): WireMatch[] {
  return toWire(scanBytes(fragment.text, fragment.path, compiled)).map((m) => ({
    ...m,
    line: fragment.lines[m.line - 1] ?? m.line,
    endLine: fragment.lines[m.endLine - 1] ?? m.endLine,
  }));
}

async function* gitFragments(
  cwd: string,
  args: string[],
  signal: AbortSignal,
): AsyncGenerator<AddedFragment> {
  const child = spawnGit(cwd, args);
  const onAbort = (): void => {
    child.kill();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 8192) stderr += chunk;
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
  try {
    yield* addedFragments(child.stdout);
    const code = await exited;
    signal.throwIfAborted();
    if (code !== 0)
      throw new GitError(`git ${args[0]} failed: ${firstLine(stderr) || `exit ${code}`}`, hintFor(stderr));
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (child.exitCode === null) child.kill();
  }
}

function hintFor(stderr: string): string | undefined {
  if (/unknown revision|bad revision|ambiguous argument/.test(stderr)) {
    return 'check the range: it takes git revision syntax, e.g. main..HEAD or v1.0..';
  }
  return undefined;
}

function pathAllow(config: CheckSpec): (path: string) => boolean {
  const globs = config.secrets.allow.paths;
  return globs.length === 0 ? () => false : picomatch([...globs], { dot: true });
}

/** Built-in rules, minus disabled ones, plus the Check's own rules (whose examples must hold). */
export function resolveRules(config: CheckSpec, configFile = 'plumbline.yaml'): SecretRule[] {
  const disabled = new Set(config.secrets.disableRules);
  const known = new Set(BUILTIN_RULES.map((r) => r.id));
  for (const id of disabled) {
    if (!known.has(id) && !config.secrets.rules.some((r) => r.id === id)) {
      throw new ConfigError(
        configFile,
        undefined,
        'spec.secrets.disableRules',
        `no rule "${id}"`,
        'list rules with `plumbline rules list`',
      );
    }
  }
  const custom: SecretRule[] = config.secrets.rules.map((r) => ({
    ...r,
    allow: r.allow ?? {},
    tags: ['custom', ...r.tags],
  }));
  custom.forEach((rule, index) => {
    if (known.has(rule.id)) {
      throw new ConfigError(
        configFile,
        undefined,
        `spec.secrets.rules[${index}].id`,
        `"${rule.id}" is a built-in rule id`,
        'choose another id',
      );
    }
    const compiled = compileRules([rule]);
    rule.examples.positive.forEach((example, i) => {
      if (!scanText(example, EXAMPLE_PATH, compiled).some((m) => m.rule.id === rule.id)) {
        throw new ConfigError(
          configFile,
          undefined,
          `spec.secrets.rules[${index}].examples.positive[${i}]`,
          `rule "${rule.id}" does not match its own example`,
          'fix the pattern or keywords (a keyword must occur inside the match)',
        );
      }
    });
    rule.examples.negative.forEach((example, i) => {
      if (scanText(example, EXAMPLE_PATH, compiled).some((m) => m.rule.id === rule.id)) {
        throw new ConfigError(
          configFile,
          undefined,
          `spec.secrets.rules[${index}].examples.negative[${i}]`,
          `rule "${rule.id}" matches an example it must not match`,
          'tighten the pattern or add an allow entry',
        );
      }
    });
  });
  return [...BUILTIN_RULES.filter((r) => !disabled.has(r.id)), ...custom];
}
