// Suppressions with a scope, a reason and an optional expiry. An expired suppression stops suppressing and
// is reported itself, so nothing stays hidden by a decision nobody renews.
import { readFileSync } from 'node:fs';
import picomatch from 'picomatch';
import { ConfigError } from '../errors.js';
import type { Finding, RawFinding } from './model.js';

export const DEFAULT_SUPPRESSIONS = '.plumbline/suppressions.yaml';
export const EXPIRED_RULE_ID = 'plumbline-expired-suppression';

export interface SuppressionEntry {
  readonly rule?: string;
  readonly advisory?: string;
  readonly package?: string;
  readonly path?: string;
  readonly fingerprint?: string;
  readonly reason: string;
  readonly expires?: string;
  /** 1-based line of the entry in the file. */
  readonly line: number;
}

/** Reads the suppressions file; none is no suppressions. The YAML and schema code loads only for a file. */
export async function readSuppressions(file: string): Promise<SuppressionEntry[]> {
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
  const { parseSuppressions } = await import('./suppressions-file.js');
  return parseSuppressions(text, file);
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
        (entry.advisory === undefined ||
          entry.advisory === f.ruleId ||
          f.dependency?.aliases.includes(entry.advisory) === true) &&
        (entry.package === undefined ||
          entry.package === f.dependency?.name ||
          entry.package === `${f.dependency?.name}@${f.dependency?.version}`) &&
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
