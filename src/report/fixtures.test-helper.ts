// Shared CheckReport fixtures for the reporter tests: every kind of finding a reporter has to handle.
import { compareFindings, type Finding } from '../findings/model.js';
import type { CheckReport, RuleMeta } from './types.js';

/** Everything a hostile file could put into a message: Markdown, HTML, quotes, `&` and an escape sequence. */
export const HOSTILE_MESSAGE =
  'AWS key assigned to `AWS_KEY` | <script>alert("pwned")</script> & \'quoted\' @octocat \u001b[31mred';

export const HISTORY_COMMIT = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

/**
 * A new, failing finding as the secrets analyzer writes it: the secret in the snippet is replaced by its
 * redaction (`ghp_…(40 chars)`), so the snippet is shorter than the source line the columns refer to.
 */
export const criticalFinding: Finding = {
  analyzer: 'secrets',
  ruleId: 'github-pat-classic',
  title: 'GitHub personal access token (classic)',
  message: 'A GitHub personal access token is assigned to `token`.',
  severity: 'critical',
  confidence: 'high',
  location: { path: 'src/config/settings.ts', startLine: 12, startColumn: 16, endLine: 12, endColumn: 56 },
  cwe: ['CWE-798'],
  snippet: "const token = 'ghp_…(40 chars)';",
  fingerprint: 'fp-github-pat-0001',
  help: 'Revoke the token at https://github.com/settings/tokens and read it from the environment.',
  tags: ['github', 'token'],
  baselineState: 'new',
};

/** New and failing, with a hostile message and a path that needs escaping everywhere. */
export const hostileFinding: Finding = {
  analyzer: 'secrets',
  ruleId: 'aws-access-key-id',
  title: 'AWS access key ID',
  message: HOSTILE_MESSAGE,
  severity: 'high',
  confidence: 'high',
  location: { path: 'deploy/run|me <v2>.sh', startLine: 3, startColumn: 9, endLine: 3, endColumn: 29 },
  cwe: ['CWE-798'],
  snippet: 'export AWS_KEY=AKIA…(20 chars)',
  fingerprint: 'fp-aws-key-0002',
  baselineState: 'new',
};

/** New but below the gate; a snippet whose columns match the source (redacted in place); it starts with a tab. */
export const mediumFinding: Finding = {
  analyzer: 'secrets',
  ruleId: 'generic-password',
  title: 'Hard-coded password',
  message: 'A password literal is assigned to `password`.',
  severity: 'medium',
  confidence: 'low',
  location: { path: 'src/db.ts', startLine: 7, startColumn: 19, endLine: 7, endColumn: 29 },
  snippet: '\tconst password = "********";',
  fingerprint: 'fp-password-0003',
};

export const lowFinding: Finding = {
  analyzer: 'secrets',
  ruleId: 'jwt',
  title: 'JSON Web Token',
  message: 'A JSON Web Token appears in a test fixture.',
  severity: 'low',
  confidence: 'medium',
  location: { path: 'test/fixtures/token.txt', startLine: 1, startColumn: 1, endLine: 1, endColumn: 20 },
  snippet: 'eyJhbGciOi*********',
  fingerprint: 'fp-jwt-0004',
  baselineState: 'new',
};

export const inlineSuppressed: Finding = {
  analyzer: 'secrets',
  ruleId: 'slack-webhook',
  title: 'Slack incoming webhook',
  message: 'SUPPRESSED-INLINE a Slack webhook URL.',
  severity: 'high',
  confidence: 'high',
  location: { path: 'src/notify.ts', startLine: 4, startColumn: 13, endLine: 4, endColumn: 90 },
  snippet: "const url = 'https://hooks.slack.com/services/T000/B000/********'; // plumbline:allow",
  fingerprint: 'fp-slack-0005',
  baselineState: 'new',
  suppression: { kind: 'inSource', justification: 'test workspace webhook, revoked' },
};

export const externalSuppressed: Finding = {
  analyzer: 'secrets',
  ruleId: 'private-key',
  title: 'Private key',
  message: 'SUPPRESSED-EXTERNAL a PEM private key.',
  severity: 'critical',
  confidence: 'high',
  location: { path: 'keys/dev.pem', startLine: 1, startColumn: 1, endLine: 3, endColumn: 30 },
  snippet: '-----BEGIN PRIVATE KEY-----\n****\n-----END PRIVATE KEY-----',
  fingerprint: 'fp-pem-0006',
  suppression: { kind: 'external', justification: 'dev-only key for the local stack', expires: '2030-01-01' },
};

export const unchangedFinding: Finding = {
  analyzer: 'secrets',
  ruleId: 'aws-secret-access-key',
  title: 'AWS secret access key',
  message: 'UNCHANGED an AWS secret access key.',
  severity: 'high',
  confidence: 'medium',
  location: { path: 'legacy/old.py', startLine: 22, startColumn: 10, endLine: 22, endColumn: 50 },
  snippet: 'SECRET = "****************************************"',
  fingerprint: 'fp-aws-secret-0007',
  baselineState: 'unchanged',
};

/** From Git history: commit, author and date set. */
export const historyFinding: Finding = {
  analyzer: 'secrets',
  ruleId: 'stripe-secret-key',
  title: 'Stripe secret key',
  message: 'A Stripe live secret key was committed.',
  severity: 'high',
  confidence: 'high',
  location: {
    path: 'src/payments.ts',
    startLine: 5,
    startColumn: 14,
    endLine: 5,
    endColumn: 46,
    commit: HISTORY_COMMIT,
    author: 'Alice Example <alice@example.com>',
    date: '2024-03-01T10:22:33Z',
  },
  snippet: 'const key = "sk_l…(32 chars)";',
  fingerprint: 'fp-stripe-0008',
  baselineState: 'new',
};

export const ALL_FINDINGS: readonly Finding[] = [
  criticalFinding,
  hostileFinding,
  mediumFinding,
  lowFinding,
  inlineSuppressed,
  externalSuppressed,
  unchangedFinding,
  historyFinding,
].sort(compareFindings);

/** Findings that count against a `high` gate. */
export const FAILING = [criticalFinding, hostileFinding, historyFinding];

function ruleOf(finding: Finding): RuleMeta {
  return {
    id: finding.ruleId,
    analyzer: finding.analyzer,
    title: finding.title,
    severity: finding.severity,
    help: finding.help,
    cwe: finding.cwe,
    tags: finding.tags,
  };
}

export function makeReport(overrides: Partial<CheckReport> = {}): CheckReport {
  return {
    tool: { name: 'plumbline', version: '0.1.0' },
    root: '/home/ci/work/acme app',
    analyzers: ['secrets', 'deps'],
    findings: ALL_FINDINGS,
    absent: [
      { fingerprint: 'fp-absent-0009', ruleId: 'aws-access-key-id', path: 'src/removed.ts' },
      { fingerprint: 'fp-absent-0010', ruleId: 'gitlab-pat', path: 'ci/old token.yml' },
    ],
    rules: ALL_FINDINGS.map(ruleOf),
    skipped: [
      { path: 'assets/logo.png', reason: 'binary', detail: 'NUL byte in the first 8 KiB' },
      { path: 'assets/font.woff2', reason: 'binary', detail: 'NUL byte in the first 8 KiB' },
      { path: 'assets/icon.ico', reason: 'binary', detail: 'NUL byte in the first 8 KiB' },
      { path: 'assets/sprite.bin', reason: 'binary', detail: 'NUL byte in the first 8 KiB' },
      { path: 'data/dump.sql', reason: 'too-large', detail: '52 MiB is over the 10 MiB limit' },
      { path: 'secret/locked.txt', reason: 'unreadable', detail: 'EACCES: permission denied' },
    ],
    gate: { failOn: 'high', failing: FAILING.length, passed: false },
    stats: { files: 1234, bytes: 5_678_901, durationMs: 1534, source: 'tree' },
    startedAt: '2024-05-01T12:00:00.000Z',
    ...overrides,
  };
}

/** A run with nothing to report. */
export function cleanReport(): CheckReport {
  return makeReport({
    findings: [],
    absent: [],
    rules: [],
    skipped: [],
    gate: { failOn: 'high', failing: 0, passed: true },
  });
}
