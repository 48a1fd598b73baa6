// Parses .plumbline/suppressions.yaml, with file:line errors. Loaded only when the file exists.
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { SuppressionEntry } from './suppressions.js';

const dateString = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'write the date as YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'not a real date');

const entrySchema = z
  .object({
    rule: z.string().min(1).optional(),
    /** An advisory id or any of its aliases (`GHSA-…`, `CVE-…`, `PYSEC-…`). */
    advisory: z.string().min(1).optional(),
    /** A package name (`lodash`, `org.apache.logging.log4j:log4j-core`), or `name@version`. */
    package: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
    fingerprint: z
      .string()
      .regex(/^[0-9a-f]{16,64}$/, 'copy the fingerprint from a report')
      .optional(),
    reason: z.string().trim().min(3, 'say why this is suppressed; a reason is required'),
    expires: z.union([dateString, z.date().transform((d) => d.toISOString().slice(0, 10))]).optional(),
  })
  .strict()
  .refine(
    (e) =>
      e.rule !== undefined ||
      e.path !== undefined ||
      e.fingerprint !== undefined ||
      e.advisory !== undefined ||
      e.package !== undefined,
    {
      message: 'give a scope: rule, advisory, package, path (a glob) or fingerprint',
    },
  );

const fileSchema = z.object({ suppressions: z.array(entrySchema).default([]) }).strict();

export function parseSuppressions(text: string, file: string): SuppressionEntry[] {
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
