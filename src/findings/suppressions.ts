// Suppressions with a scope, a reason and an optional expiry. An expired suppression stops suppressing and
// is reported itself, so nothing stays hidden by a decision nobody renews.
import { readFileSync } from 'node:fs';
import picomatch from 'picomatch';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Finding, RawFinding } from './model.js';

export const DEFAULT_SUPPRESSIONS = '.plumbline/suppressions.yaml';
export const EXPIRED_RULE_ID = 'plumbline-expired-suppression';

const dateString = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'write the date as YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'not a real date');

const entrySchema = z
  .object({
    rule: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
    fingerprint: z
      .string()
      .regex(/^[0-9a-f]{16,64}$/, 'copy the fingerprint from a report')
      .optional(),
    reason: z.string().trim().min(3, 'say why this is suppressed; a reason is required'),
    expires: z.union([dateString, z.date().transform((d) => d.toISOString().slice(0, 10))]).optional(),
  })
  .strict()
  .refine((e) => e.rule !== undefined || e.path !== undefined || e.fingerprint !== undefined, {
    message: 'give a scope: rule, path (a glob) or fingerprint',
  });

const fileSchema = z.object({ suppressions: z.array(entrySchema).default([]) }).strict();

export interface SuppressionEntry extends z.infer<typeof entrySchema> {
  readonly line: number;
}

export function readSuppressions(file: string): SuppressionEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError(
      file,
      undefined,
      undefined,
      `cannot be read (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const error = doc.errors[0];
  if (error !== undefined) {
    throw new ConfigError(
      file,
      lineCounter.linePos(error.pos[0]).line,
      undefined,
      `YAML syntax error: ${error.message.split('\n')[0]}`,
    );
  }
  const parsed = fileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = (issue?.path ?? []).filter((p): p is string | number => typeof p !== 'symbol');
    let line: number | undefined;
    for (let depth = path.length; depth >= 0 && line === undefined; depth--) {
      const node = doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) line = lineCounter.linePos(node.range[0]).line;
    }
    throw new ConfigError(
      file,
      line,
      path
        .map((p) => (typeof p === 'number' ? `[${p}]` : p))
        .join('.')
        .replace('.[', '['),
      issue?.message ?? 'invalid',
      'each entry needs a scope (rule, path or fingerprint) and a reason; expires is YYYY-MM-DD',
    );
  }
  return parsed.data.suppressions.map((entry, index) => {
    const node = doc.getIn(['suppressions', index], true);
    const line = isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : 1;
    return { ...entry, line };
  });
}

/** Applies suppressions; returns the findings (suppressed ones marked) and one finding per expired entry. */
export function applySuppressions(
  findings: readonly Finding[],
  entries: readonly SuppressionEntry[],
  file: string,
  now: Date,
): { findings: Finding[]; expired: RawFinding[] } {
  const today = now.toISOString().slice(0, 10);
  const active = entries.filter((e) => e.expires === undefined || e.expires.slice(0, 10) >= today);
  const expired = entries.filter((e) => !active.includes(e));
  const matchers = active.map((e) => ({
    entry: e,
    path: e.path === undefined ? undefined : picomatch(e.path, { dot: true }),
  }));
  const result = findings.map((f): Finding => {
    if (f.suppression !== undefined) return f;
    const hit = matchers.find(
      ({ entry, path }) =>
        (entry.rule === undefined || entry.rule === f.ruleId) &&
        (entry.fingerprint === undefined || entry.fingerprint === f.fingerprint) &&
        (path === undefined || path(f.location.path)),
    );
    if (hit === undefined) return f;
    return {
      ...f,
      suppression: {
        kind: 'external',
        justification: hit.entry.reason,
        ...(hit.entry.expires === undefined ? {} : { expires: hit.entry.expires }),
      },
    };
  });
  const expiredFindings = expired.map(
    (e): RawFinding => ({
      analyzer: 'plumbline',
      ruleId: EXPIRED_RULE_ID,
      title: 'Expired suppression',
      message: `The suppression "${e.reason}" expired on ${e.expires}; the findings it covered are reported again. Renew it with a new date or fix them.`,
      severity: 'medium',
      confidence: 'high',
      location: { path: file, startLine: e.line, startColumn: 1, endLine: e.line, endColumn: 1 },
      snippet: `- ${[e.rule && `rule: ${e.rule}`, e.path && `path: ${e.path}`, e.fingerprint && `fingerprint: ${e.fingerprint}`].filter(Boolean).join(', ')}`,
      fingerprintContent: `${e.rule ?? ''}|${e.path ?? ''}|${e.fingerprint ?? ''}|${e.expires ?? ''}`,
    }),
  );
  return { findings: result, expired: expiredFindings };
}
