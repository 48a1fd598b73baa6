// Fingerprints that survive moving code: rule + path + normalised matched content + occurrence index.
// No line numbers, so inserting lines above a finding does not make it new.
import { createHash } from 'node:crypto';
import type { Finding, RawFinding } from './model.js';

export function normaliseContent(content: string): string {
  return content.trim().replace(/\s+/g, ' ');
}

export function fingerprintOf(ruleId: string, path: string, content: string, occurrence: number): string {
  return createHash('sha256')
    .update(`${ruleId}\0${path}\0${normaliseContent(content)}\0${occurrence}`)
    .digest('hex')
    .slice(0, 32);
}

/**
 * Assigns fingerprints. Findings with the same rule, path and content are numbered in the order they appear
 * (by line, then column), so two identical secrets in one file get two stable fingerprints.
 */
export function assignFingerprints(raw: readonly RawFinding[]): Finding[] {
  const ordered = [...raw].sort(
    (a, b) =>
      a.location.path.localeCompare(b.location.path) ||
      a.location.startLine - b.location.startLine ||
      a.location.startColumn - b.location.startColumn,
  );
  const seen = new Map<string, number>();
  return ordered.map((r) => {
    const key = `${r.ruleId}\0${r.location.path}\0${normaliseContent(r.fingerprintContent)}`;
    const occurrence = seen.get(key) ?? 0;
    seen.set(key, occurrence + 1);
    const { fingerprintContent, inlineAllowed, ...rest } = r;
    const finding: Finding = {
      ...rest,
      fingerprint: fingerprintOf(r.ruleId, r.location.path, fingerprintContent, occurrence),
    };
    return inlineAllowed === true
      ? {
          ...finding,
          suppression: { kind: 'inSource', justification: 'plumbline:allow comment on the line' },
        }
      : finding;
  });
}
