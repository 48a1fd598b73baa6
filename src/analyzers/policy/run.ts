// The policy analyzer's work: load the policies (a malformed one is a ConfigError: exit 2 with file and
// line), read every environment's documents from the working tree, judge them with the same engine the
// controller uses, and turn failures into findings at the manifest's file and line.
// Deny → high (gates by default), Warn → medium, Audit → info.
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { CONFIG_FILE } from '../../config/load.js';
import type { RawFinding, Severity } from '../../findings/model.js';
import { gitSync } from '../../git/git.js';
import { readEnvironments } from '../../gitops/render.js';
import {
  evaluate,
  loadPolicies,
  type PolicyResource,
  readEnvironmentDocuments,
  readEnvironmentManifests,
  type Verdict,
  verdictMessage,
} from '../../policy/index.js';
import type { ValidationAction } from '../../policy/schema.js';
import type { RuleMeta, Skipped } from '../../report/types.js';
import type { AnalyzerContext, AnalyzerResult } from '../types.js';

const SEVERITY: Record<ValidationAction, Severity> = { Deny: 'high', Warn: 'medium', Audit: 'info' };

export async function runPolicy(context: AnalyzerContext): Promise<AnalyzerResult> {
  // Policies judge the environments of a GitOps repository (its root plumbline.yaml); elsewhere (a
  // repository that only keeps example GitOps repositories in sub-folders) there is nothing to judge.
  if (!existsSync(join(context.root, CONFIG_FILE))) {
    return { findings: [], rules: [], skipped: [], files: 0, bytes: 0 };
  }
  const files = await context.files;
  const policies = loadPolicies(context.root, files);
  const skipped: Skipped[] = policies.notes.map((note) => ({
    path: note.slice(0, note.indexOf(': ')),
    reason: 'other' as const,
    detail: note.slice(note.indexOf(': ') + 2),
  }));
  const empty: AnalyzerResult = { findings: [], rules: [], skipped, files: 0, bytes: 0 };
  if (policies.instances.length === 0) return empty;

  const raw = new Map(readEnvironmentDocuments(context.root).map((e) => [e.name, e]));
  const environments = readEnvironments(context.root);
  const resources: { resource: PolicyResource; environment: string }[] = [];
  for (const env of environments) {
    context.signal.throwIfAborted();
    const source = raw.get(env.metadata.name);
    const manifests = await readEnvironmentManifests(context.root, env, {
      ...(source === undefined
        ? {}
        : { environmentDocument: source.doc, environmentSource: { file: CONFIG_FILE, line: source.line } }),
      signal: context.signal,
    });
    for (const p of manifests.problems) {
      skipped.push({
        path: p.line === undefined ? p.file : `${p.file}:${p.line}`,
        reason: 'other',
        detail: p.message,
      });
    }
    for (const resource of manifests.resources) resources.push({ resource, environment: env.metadata.name });
  }

  const verdicts = evaluate(
    policies,
    resources.map((r) => r.resource),
    { operation: 'CREATE' },
  );
  // One folder can serve two environments, and every environment judges plumbline.yaml's Environment
  // documents: say each violation once, naming the environments it applies to.
  const byKey = new Map<string, { verdict: Verdict; environments: Set<string> }>();
  const resourceByLocation = new Map(
    resources.map((r) => [`${r.resource.file}:${r.resource.line}`, r.environment]),
  );
  for (const v of verdicts) {
    if (v.result !== 'fail' && v.result !== 'error') continue;
    const key = [
      v.file,
      v.line,
      v.policy,
      v.binding,
      v.validation,
      v.message,
      v.resource.kind,
      v.resource.name,
    ].join('\0');
    const env = resourceByLocation.get(`${v.file}:${v.line}`) ?? '';
    const entry = byKey.get(key) ?? { verdict: v, environments: new Set<string>() };
    if (env !== '') entry.environments.add(env);
    byKey.set(key, entry);
  }

  const since = context.sinceBase === undefined ? undefined : changedFiles(context);
  const lines = new Map<string, string[]>();
  const findings: RawFinding[] = [];
  const rules = new Map<string, RuleMeta>();
  const titles = new Map(policies.instances.map((i) => [i.policy.name, i.policy.title]));
  for (const { verdict: v, environments: envs } of byKey.values()) {
    if (since !== undefined && !since.has(v.file)) continue;
    const ruleId = `policy/${v.policy}`;
    const severity = SEVERITY[v.action];
    findings.push({
      analyzer: 'policy',
      ruleId,
      title: titles.get(v.policy) ?? v.policy,
      message: verdictMessage(v, [...envs]),
      severity,
      confidence: 'high',
      location: { path: v.file, startLine: v.line, startColumn: 1, endLine: v.line, endColumn: 1 },
      snippet: `${v.resource.kind} ${v.resource.name}`,
      fingerprintContent: [
        v.policy,
        v.binding ?? '',
        v.validation ?? '',
        v.resource.kind,
        v.resource.namespace ?? '',
        v.resource.name,
      ].join('/'),
      help: `${ACTION_HELP[v.action]} The policy is ${v.policyFile}:${v.policyLine}.`,
      tags: ['policy', v.action.toLowerCase()],
      ...(allowedInline(context.root, v, ruleId, lines) ? { inlineAllowed: true } : {}),
    });
    const rule = rules.get(ruleId);
    if (rule === undefined || rankOf(severity) > rankOf(rule.severity)) {
      rules.set(ruleId, {
        id: ruleId,
        analyzer: 'policy',
        title: titles.get(v.policy) ?? v.policy,
        severity,
        help: `Policy ${v.policy} in ${v.policyFile}. ${ACTION_HELP[v.action]}`,
        tags: ['policy'],
      });
    }
  }
  return {
    findings,
    rules: [...rules.values()],
    skipped,
    files: new Set(resources.map((r) => r.resource.file)).size,
    bytes: 0,
  };
}

const ACTION_HELP: Record<ValidationAction, string> = {
  Deny: 'Deny: the controller will not apply this environment until the document satisfies the policy.',
  Warn: 'Warn: the controller applies it and shows the warning.',
  Audit: 'Audit: recorded only.',
};

function rankOf(s: Severity): number {
  return { critical: 4, high: 3, medium: 2, low: 1, info: 0 }[s];
}

/** `# plumbline:allow policy/NAME` (or a bare `plumbline:allow`) on the document's first line or just above it. */
function allowedInline(root: string, v: Verdict, ruleId: string, cache: Map<string, string[]>): boolean {
  let lines = cache.get(v.file);
  if (lines === undefined) {
    try {
      lines = readFileSync(join(root, v.file), 'utf8').split('\n');
    } catch {
      lines = [];
    }
    cache.set(v.file, lines);
  }
  for (const text of [lines[v.line - 1], lines[v.line - 2]]) {
    const m =
      text === undefined ? null : /plumbline:allow(?:[ \t]+([\w./-]+(?:\s*,\s*[\w./-]+)*))?/.exec(text);
    if (m === null) continue;
    if (m[1] === undefined) return true;
    if (m[1].split(',').some((id) => id.trim() === ruleId || id.trim() === v.policy)) return true;
  }
  return false;
}

/** Files changed since the merge-base, and untracked ones (relative to the scanned root). */
function changedFiles(context: AnalyzerContext): Set<string> {
  const workTree = context.workTree as string;
  const prefix = posix.relative(workTree, context.root);
  const out = new Set<string>();
  const add = (stdout: string): void => {
    for (const path of stdout.split('\n')) {
      if (path === '') continue;
      out.add(
        prefix === '' ? path : path.startsWith(`${prefix}/`) ? path.slice(prefix.length + 1) : `../${path}`,
      );
    }
  };
  add(gitSync(workTree, ['diff', '--name-only', context.sinceBase as string]).stdout);
  add(gitSync(workTree, ['ls-files', '--others', '--exclude-standard']).stdout);
  return out;
}
