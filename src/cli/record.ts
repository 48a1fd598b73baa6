// `plumbline check --record DIR`: the check's verdict as an audit-ledger entry in a controller data directory,
// with the digest of its JSON report as evidence, so a deploy can be traced back to the gate that passed it.
import { createHash } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Actor } from '../audit/entry.js';
import { AuditLedger, setDurability } from '../audit/store.js';
import { gitSync } from '../git/git.js';
import { getReporter } from '../report/index.js';
import type { CheckReport as Report } from '../report/types.js';
import { openDatabase } from '../store/db.js';
import { migrateToLatest } from '../store/migrations.js';

/** Appends the check's entry; returns its id. */
export async function recordCheck(
  dataDir: string,
  report: Report,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const json = getReporter('json')?.render(report, { color: false }) ?? JSON.stringify(report);
  const db = openDatabase({ dataDir: resolve(dataDir) });
  try {
    await migrateToLatest(db);
    await setDurability(db, 'FULL');
    const commit = headCommit(report.root);
    const bySeverity: Record<string, number> = {};
    for (const finding of report.findings) {
      if (finding.suppression !== undefined || finding.baselineState === 'unchanged') continue;
      bySeverity[finding.severity] = (bySeverity[finding.severity] ?? 0) + 1;
    }
    const entry = await new AuditLedger(db).append({
      actor: ciActor(env),
      action: report.gate.passed ? 'check.passed' : 'check.failed',
      ...(commit === undefined ? {} : { subject: { commit } }),
      after: {
        analyzers: [...report.analyzers],
        failOn: report.gate.failOn,
        failing: report.gate.failing,
        newFindings: bySeverity,
        source: report.stats.source,
      },
      reason: report.gate.passed
        ? `the gate passed (fail on ${report.gate.failOn})`
        : `${report.gate.failing} finding(s) at or above ${report.gate.failOn}`,
      evidence: [
        { kind: 'check-report', digest: `sha256:${createHash('sha256').update(json).digest('hex')}` },
      ],
    });
    return entry.id;
  } finally {
    await db.destroy();
  }
}

/** Who ran the check: the CI run when there is one (GitHub Actions, GitLab CI, others), else the person here. */
export function ciActor(env: NodeJS.ProcessEnv): Actor {
  if (env.GITHUB_ACTIONS === 'true') {
    return { kind: 'ci', id: `github-actions:${env.GITHUB_REPOSITORY ?? '?'}#${env.GITHUB_RUN_ID ?? '?'}` };
  }
  if (env.GITLAB_CI === 'true')
    return { kind: 'ci', id: `gitlab-ci:${env.CI_PROJECT_PATH ?? '?'}#${env.CI_JOB_ID ?? '?'}` };
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false') return { kind: 'ci', id: 'ci' };
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container)
  }
  return { kind: 'person', id: `${user}@${hostname()}` };
}

function headCommit(root: string): string | undefined {
  const result = gitSync(root, ['rev-parse', '--verify', '--quiet', 'HEAD']);
  const id = result.status === 0 ? result.stdout.trim() : '';
  return /^[0-9a-f]{40,64}$/.test(id) ? id : undefined;
}
