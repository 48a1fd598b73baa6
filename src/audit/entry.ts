// What one ledger entry says, and its one byte form: who (actor) did what (action) to what (subject), when,
// the state before and after, why, and digests of the evidence (check reports, policy decisions, approvals,
// analysis results). The leaf is the canonical JSON of the entry, its id (= leaf index) included, so a leaf
// and the row it came from can be checked against each other.
import type { Selectable } from 'kysely';
import { InputError } from '../errors.js';
import type { AuditEntriesTable } from '../store/db.js';
import { canonicalize, type JsonValue } from './canonical.js';
import { hashLeaf } from './merkle.js';

/** The leaf format; a change to the canonical shape is a new version, never an edit of this one. */
export const ENTRY_VERSION = 1;

/** Who acted: a person (from a Git commit or pull request), an API token's owner, the controller, a CI run. */
export const ACTOR_KINDS = ['person', 'token', 'controller', 'ci'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export interface Actor {
  readonly kind: ActorKind;
  /** `Ada Lovelace <ada@example.com>`, `token:ci-deployer`, `plumbline-controller`, `github-actions#1234`. */
  readonly id: string;
}

export interface Subject {
  readonly environment?: string;
  readonly app?: string;
  readonly revision?: string;
  readonly commit?: string;
}

/** A reference to evidence kept elsewhere: its kind, a digest of its bytes, and where to find it. */
export interface EvidenceRef {
  /** `check-report`, `policy-decision`, `approval`, `analysis`, `sbom`… */
  readonly kind: string;
  /** `sha256:<64 hex>` (any `alg:hex` is accepted). */
  readonly digest: string;
  readonly uri?: string;
}

/** What a caller appends. */
export interface AuditEntryInput {
  /** When it happened (default: when appended). */
  readonly at?: string | Date;
  readonly actor: Actor;
  /** Dotted and stable: `sync.succeeded`, `drift.healed`, `policy.verdict`, `secret.decrypted`, `rollout.started`… */
  readonly action: string;
  readonly subject?: Subject;
  readonly before?: JsonValue;
  readonly after?: JsonValue;
  readonly reason?: string;
  readonly evidence?: readonly EvidenceRef[];
}

/** A stored entry. */
export interface AuditEntry {
  /** The sequence number, from 0: also the entry's leaf index in the tree. */
  readonly id: number;
  /** ISO 8601 UTC with milliseconds. */
  readonly at: string;
  readonly actor: Actor;
  readonly action: string;
  readonly subject: Subject;
  readonly before?: JsonValue;
  readonly after?: JsonValue;
  readonly reason?: string;
  readonly evidence: readonly EvidenceRef[];
}

/** Limits that keep one entry from swamping the log (an entry is a record, not a payload). */
export const LIMITS = { text: 1000, reason: 10_000, evidence: 100, leafBytes: 1024 * 1024 } as const;

const ACTION = /^[a-z][a-z0-9]*(?:[._-][a-z0-9]+)*$/;
const DIGEST = /^[a-z0-9-]+:[0-9a-f]{32,128}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function bad(field: string, message: string, hint?: string): never {
  throw new InputError(`audit entry: ${field}: ${message}`, hint);
}

function text(value: unknown, field: string, max: number, required: boolean): string | undefined {
  if (value === undefined || value === null) {
    if (required) bad(field, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') bad(field, `must be a string, not ${typeof value}`);
  if (required && value === '') bad(field, 'must not be empty');
  if (value.length > max) bad(field, `is ${value.length} characters; at most ${max}`);
  if (LONE_SURROGATE.test(value)) bad(field, 'holds an unpaired UTF-16 surrogate (not valid Unicode)');
  return value;
}

function timestamp(value: string | Date | undefined, now: () => Date): string {
  if (value === undefined) return now().toISOString();
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime()))
    bad('at', `"${String(value)}" is not a date`, 'use ISO 8601, e.g. 2026-01-31T12:00:00Z');
  return date.toISOString();
}

/** Checks and normalises an input into the entry it becomes at `id`; throws InputError naming the field. */
export function buildEntry(
  input: AuditEntryInput,
  id: number,
  now: () => Date = () => new Date(),
): AuditEntry {
  if (typeof input !== 'object' || input === null) bad('entry', 'must be an object');
  const actor = input.actor as Partial<Actor> | undefined;
  if (typeof actor !== 'object' || actor === null)
    bad('actor', 'is required', 'e.g. { kind: "person", id: "Ada <ada@example.com>" }');
  const kind = ACTOR_KINDS.find((k) => k === actor.kind);
  if (kind === undefined)
    bad('actor.kind', `"${String(actor.kind)}" is not one of ${ACTOR_KINDS.join(', ')}`);
  const actorId = text(actor.id, 'actor.id', LIMITS.text, true) as string;
  const action = text(input.action, 'action', 100, true) as string;
  if (!ACTION.test(action)) {
    bad(
      'action',
      `"${action}" is not a dotted lower-case name`,
      'e.g. sync.succeeded, drift.healed, token.created',
    );
  }
  const subject: { -readonly [K in keyof Subject]: string } = {};
  for (const field of ['environment', 'app', 'revision', 'commit'] as const) {
    const value = text(input.subject?.[field], `subject.${field}`, LIMITS.text, false);
    if (value !== undefined) subject[field] = value;
  }
  const evidence = (input.evidence ?? []).map((ref, i): EvidenceRef => {
    const field = `evidence[${i}]`;
    if (typeof ref !== 'object' || ref === null) bad(field, 'must be an object');
    const refKind = text(ref.kind, `${field}.kind`, 100, true) as string;
    const digest = text(ref.digest, `${field}.digest`, 200, true) as string;
    if (!DIGEST.test(digest)) bad(`${field}.digest`, `"${digest}" is not alg:hex`, 'e.g. sha256:9f86d081…');
    const uri = text(ref.uri, `${field}.uri`, LIMITS.text, false);
    return uri === undefined ? { kind: refKind, digest } : { kind: refKind, digest, uri };
  });
  if (evidence.length > LIMITS.evidence)
    bad('evidence', `has ${evidence.length} references; at most ${LIMITS.evidence}`);
  const reason = text(input.reason, 'reason', LIMITS.reason, false);
  const entry: AuditEntry = {
    id,
    at: timestamp(input.at, now),
    actor: { kind, id: actorId },
    action,
    subject,
    ...(input.before === undefined ? {} : { before: input.before }),
    ...(input.after === undefined ? {} : { after: input.after }),
    ...(reason === undefined ? {} : { reason }),
    evidence,
  };
  return entry;
}

/** The object whose canonical JSON is the leaf: absent fields are absent, never null. */
export function leafObject(entry: AuditEntry): Record<string, unknown> {
  return {
    v: ENTRY_VERSION,
    id: entry.id,
    at: entry.at,
    actor: { kind: entry.actor.kind, id: entry.actor.id },
    action: entry.action,
    subject: { ...entry.subject },
    before: entry.before,
    after: entry.after,
    reason: entry.reason,
    evidence: entry.evidence.map((ref) => ({ ...ref })),
  };
}

/** The leaf text of an entry (throws InputError when before/after are not plain JSON). */
export function leafText(entry: AuditEntry): string {
  const canonical = canonicalize(leafObject(entry));
  checkLeafSize(canonical);
  return canonical;
}

function checkLeafSize(canonical: string): void {
  if (Buffer.byteLength(canonical, 'utf8') > LIMITS.leafBytes) {
    bad(
      'entry',
      `is ${Buffer.byteLength(canonical, 'utf8')} bytes as canonical JSON; at most ${LIMITS.leafBytes}`,
      'keep large evidence outside the ledger and reference it by digest',
    );
  }
}

/**
 * An entry's row without its leaf: every field checked and serialised (before, after and evidence as
 * canonical JSON, once), so that nothing can fail once an id is claimed. `withId` completes it.
 */
export function prepareRow(entry: AuditEntry): AuditEntriesTable {
  const row: AuditEntriesTable = {
    id: entry.id,
    at: entry.at,
    actor_kind: entry.actor.kind,
    actor: entry.actor.id,
    action: entry.action,
    environment: entry.subject.environment ?? null,
    app: entry.subject.app ?? null,
    revision: entry.subject.revision ?? null,
    commit_sha: entry.subject.commit ?? null,
    before_json: entry.before === undefined ? null : canonicalize(entry.before, '$.before'),
    after_json: entry.after === undefined ? null : canonicalize(entry.after, '$.after'),
    reason: entry.reason ?? null,
    evidence_json: canonicalize(
      entry.evidence.map((ref) => ({ ...ref })),
      '$.evidence',
    ),
    canonical: '',
    leaf_hash: '',
  };
  checkLeafSize(leafTextFromColumns(row));
  return row;
}

/**
 * The prepared row as entry `id`: its leaf assembled from the columns (`leafTextFromColumns`, held equal to
 * `leafText` by the tests; every string was checked well-formed by `buildEntry`, so the assembly is
 * canonical) and the leaf's hash.
 */
export function withId(prepared: AuditEntriesTable, id: number): AuditEntriesTable {
  const row = { ...prepared, id };
  row.canonical = leafTextFromColumns(row);
  row.leaf_hash = hashLeaf(Buffer.from(row.canonical, 'utf8')).toString('hex');
  return row;
}

/** The row that stores an entry. */
export function entryRow(entry: AuditEntry): AuditEntriesTable {
  return withId(prepareRow(entry), entry.id);
}

/**
 * The leaf a row's columns make, assembled from their stored text verbatim (JSON columns included): equal to
 * `leafText(entryFromRow(row))` for every row we write, and one string build instead of a parse and a
 * serialisation per column — what lets `verify` check a million rows in seconds. Keys in canonical order.
 */
export function leafTextFromColumns(row: Selectable<AuditEntriesTable>): string {
  const q = JSON.stringify;
  const subject: string[] = [];
  if (row.app !== null) subject.push(`"app":${q(row.app)}`);
  if (row.commit_sha !== null) subject.push(`"commit":${q(row.commit_sha)}`);
  if (row.environment !== null) subject.push(`"environment":${q(row.environment)}`);
  if (row.revision !== null) subject.push(`"revision":${q(row.revision)}`);
  return (
    `{"action":${q(row.action)},"actor":{"id":${q(row.actor)},"kind":${q(row.actor_kind)}}` +
    (row.after_json === null ? '' : `,"after":${row.after_json}`) +
    `,"at":${q(row.at)}` +
    (row.before_json === null ? '' : `,"before":${row.before_json}`) +
    `,"evidence":${row.evidence_json},"id":${row.id}` +
    (row.reason === null ? '' : `,"reason":${q(row.reason)}`) +
    `,"subject":{${subject.join(',')}},"v":${ENTRY_VERSION}}`
  );
}

/**
 * The entry a row's structured columns describe. Rows are our own writes, but `verify` reads rows an attacker
 * may have edited, so JSON that does not parse is reported rather than thrown.
 */
export function entryFromRow(row: Selectable<AuditEntriesTable>): AuditEntry {
  const subject: { -readonly [K in keyof Subject]: string } = {};
  if (row.environment !== null) subject.environment = row.environment;
  if (row.app !== null) subject.app = row.app;
  if (row.revision !== null) subject.revision = row.revision;
  if (row.commit_sha !== null) subject.commit = row.commit_sha;
  return {
    id: row.id,
    at: row.at,
    actor: { kind: row.actor_kind as ActorKind, id: row.actor },
    action: row.action,
    subject,
    ...(row.before_json === null ? {} : { before: JSON.parse(row.before_json) as JsonValue }),
    ...(row.after_json === null ? {} : { after: JSON.parse(row.after_json) as JsonValue }),
    ...(row.reason === null ? {} : { reason: row.reason }),
    evidence: JSON.parse(row.evidence_json) as EvidenceRef[],
  };
}

/** The entry a leaf's canonical text describes, or a reason it does not describe one. */
export function entryFromLeaf(text: string): { ok: true; entry: AuditEntry } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the leaf is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'the leaf is not a JSON object' };
  }
  const leaf = value as Record<string, unknown>;
  if (leaf.v !== ENTRY_VERSION)
    return { ok: false, reason: `the leaf has version ${String(leaf.v)}, not ${ENTRY_VERSION}` };
  if (!Number.isSafeInteger(leaf.id)) return { ok: false, reason: 'the leaf has no integer id' };
  if (typeof leaf.at !== 'string' || !ISO_UTC.test(leaf.at))
    return { ok: false, reason: 'the leaf has no ISO 8601 time' };
  try {
    const entry = buildEntry(
      {
        at: leaf.at,
        actor: leaf.actor as Actor,
        action: leaf.action as string,
        subject: leaf.subject as Subject,
        ...(leaf.before === undefined ? {} : { before: leaf.before as JsonValue }),
        ...(leaf.after === undefined ? {} : { after: leaf.after as JsonValue }),
        ...(leaf.reason === undefined ? {} : { reason: leaf.reason as string }),
        evidence: leaf.evidence as EvidenceRef[],
      },
      leaf.id as number,
    );
    if (leafText(entry) !== text) return { ok: false, reason: 'the leaf is not in canonical form' };
    return { ok: true, entry };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
