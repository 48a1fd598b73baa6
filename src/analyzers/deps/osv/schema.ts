// A lenient zod schema of OSV documents (schema 1.x): what the matcher needs is checked, everything else passes through.
import { z } from 'zod';
import { ECOSYSTEMS } from '../types.js';

const severityEntry = z.looseObject({ type: z.string(), score: z.string() });

const EVENT_KINDS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;
export type OsvEventKind = (typeof EVENT_KINDS)[number];

/** One event of a range: exactly one of `introduced`, `fixed`, `last_affected`, `limit`. */
const event = z
  .looseObject({
    introduced: z.string().optional(),
    fixed: z.string().optional(),
    last_affected: z.string().optional(),
    limit: z.string().optional(),
  })
  .refine((e) => EVENT_KINDS.filter((k) => e[k] !== undefined).length === 1, {
    message: 'an event has exactly one of introduced, fixed, last_affected, limit',
  });

const range = z.looseObject({
  /** `ECOSYSTEM`, `SEMVER`, `GIT`; other strings are kept and ignored by the matcher. */
  type: z.string(),
  repo: z.string().optional(),
  events: z.array(event),
  database_specific: z.record(z.string(), z.unknown()).optional(),
});

const affected = z.looseObject({
  package: z
    .looseObject({
      ecosystem: z.string(),
      name: z.string(),
      purl: z.string().optional(),
    })
    .optional(),
  severity: z.array(severityEntry).optional(),
  ranges: z.array(range).optional(),
  versions: z.array(z.string()).optional(),
  ecosystem_specific: z.record(z.string(), z.unknown()).optional(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
});

const reference = z.looseObject({ type: z.string().optional(), url: z.string().optional() });

export const osvVulnSchema = z.looseObject({
  schema_version: z.string().optional(),
  id: z.string().min(1),
  modified: z.string().min(1),
  published: z.string().optional(),
  withdrawn: z.string().optional(),
  aliases: z.array(z.string()).optional(),
  related: z.array(z.string()).optional(),
  upstream: z.array(z.string()).optional(),
  summary: z.string().optional(),
  details: z.string().optional(),
  severity: z.array(severityEntry).optional(),
  affected: z.array(affected).optional(),
  references: z.array(reference).optional(),
  database_specific: z.record(z.string(), z.unknown()).optional(),
});

export type OsvVuln = z.infer<typeof osvVulnSchema>;
export type OsvAffected = NonNullable<OsvVuln['affected']>[number];
export type OsvRange = NonNullable<OsvAffected['ranges']>[number];
export type OsvEvent = OsvRange['events'][number];
export type OsvSeverity = NonNullable<OsvVuln['severity']>[number];

export type ParseResult = { ok: true; vuln: OsvVuln } | { ok: false; reason: string };

/**
 * JSON `null` stands for "absent" in many real exports (`"aliases": null`): drop such keys so that optional
 * fields stay optional. Elements of arrays are kept (a `null` alias is malformed).
 */
function dropNullKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNullKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child !== null) out[key] = dropNullKeys(child);
  }
  return out;
}

/**
 * A reason that aggregates well: the first issue's path with array indices folded (`affected[].ranges[].events[]`)
 * and zod's message, e.g. `id: Invalid input: expected string, received undefined`.
 */
function reasonOf(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid OSV document';
  let path = '';
  for (const part of issue.path) {
    if (typeof part === 'number') path += '[]';
    else path += path === '' ? String(part) : `.${String(part)}`;
  }
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

/** Validates one parsed document. Never throws: a malformed document comes back with a reason. */
export function parseOsvDocument(value: unknown): ParseResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'not a JSON object' };
  }
  const result = osvVulnSchema.safeParse(dropNullKeys(value));
  if (!result.success) return { ok: false, reason: reasonOf(result.error) };
  return { ok: true, vuln: result.data };
}

/** Parses and validates one OSV JSON text. Never throws. */
export function parseOsvJson(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not valid JSON' };
  }
  return parseOsvDocument(value);
}

const CANONICAL_ECOSYSTEMS = new Map<string, string>(ECOSYSTEMS.map((e) => [e.toLowerCase(), e]));

/**
 * The base ecosystem of an OSV ecosystem string: the part before the first `:` (`Debian:11` → `Debian`,
 * `Ubuntu:22.04:LTS` → `Ubuntu`, `Alpine:v3.18` → `Alpine`, `Maven:https://maven.google.com` → `Maven`).
 * The ecosystems Plumbline scans are also brought to OSV's spelling (`pypi` → `PyPI`).
 */
export function normaliseEcosystem(ecosystem: string): string {
  const colon = ecosystem.indexOf(':');
  const base = (colon === -1 ? ecosystem : ecosystem.slice(0, colon)).trim();
  return CANONICAL_ECOSYSTEMS.get(base.toLowerCase()) ?? base;
}

/** The single kind and version of an event (the schema guarantees exactly one). */
export function eventOf(e: OsvEvent): { kind: OsvEventKind; version: string } {
  for (const kind of EVENT_KINDS) {
    const version = e[kind];
    if (version !== undefined) return { kind, version };
  }
  throw new Error('an OSV event without a kind (not validated by osvVulnSchema)');
}
