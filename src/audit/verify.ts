// Full verification of the ledger: every entry's leaf recomputed from its stored canonical bytes and from its
// structured columns (so editing either is caught), the tree recomputed and compared with the stored nodes,
// every checkpoint's signature, the consistency between successive checkpoints, and the store against
// checkpoints published outside it (a file, a Git ref). Streams entries in batches: memory stays flat.
import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { InputError } from '../errors.js';
import { canonicalize, parseCanonical } from './canonical.js';
import { openCheckpoint, readGitCheckpoints, splitNotes } from './checkpoint.js';
import {
  type ActorKind,
  type AuditEntry,
  buildEntry,
  type EvidenceRef,
  entryFromLeaf,
  entryFromRow,
  leafTextFromColumns,
} from './entry.js';
import { CompactRange, hashLeaf, type NodeId, nodeKey, verifyConsistency } from './merkle.js';
import type { NoteVerifier } from './note.js';
import type { AuditLedger } from './store.js';

export const PROBLEM_KINDS = [
  'entry-missing',
  'entry-order',
  'entry-leaf',
  'entry-columns',
  'leaf-hash',
  'tree-node',
  'tree-extra',
  'head',
  'checkpoint-signature',
  'checkpoint-root',
  'checkpoint-beyond',
  'checkpoint-consistency',
  'external-signature',
  'external-root',
  'external-beyond',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

export interface Problem {
  readonly kind: ProblemKind;
  readonly message: string;
  /** The entry it is about, when one can be named. */
  readonly entry?: number;
}

/** A checkpoint note from outside the store, and where it came from (for messages). */
export interface ExternalCheckpoint {
  readonly source: string;
  readonly note: string;
}

export interface VerifyOptions {
  readonly ledger: AuditLedger;
  /** The key every checkpoint must be signed by. */
  readonly verifier: NoteVerifier;
  readonly external?: readonly ExternalCheckpoint[];
  /** Entries read per query (default 5,000). */
  readonly batchSize?: number;
  /** Called after each batch. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
  /** Problems kept in the report (default 50; the count goes on). */
  readonly maxProblems?: number;
}

export interface VerifyReport {
  readonly ok: boolean;
  /** The size the head records. */
  readonly size: number;
  /** Entry rows read. */
  readonly entries: number;
  /** The recomputed root over the rows read, hex. */
  readonly root: string;
  readonly checkpoints: number;
  readonly external: number;
  /** The lowest entry id a problem names. */
  readonly firstBadEntry?: number;
  readonly problems: readonly Problem[];
  /** How many problems there were (the report keeps the first `maxProblems`). */
  readonly problemCount: number;
  readonly key: string;
}

interface Target {
  readonly size: number;
  readonly root: Buffer;
  readonly kind: 'store' | 'external';
  readonly label: string;
}

/** Verifies the whole ledger. Never throws for what it finds: problems are data in the report. */
export async function verifyLedger(options: VerifyOptions): Promise<VerifyReport> {
  const { ledger, verifier } = options;
  const batchSize = options.batchSize ?? 5000;
  const maxProblems = options.maxProblems ?? 50;
  const problems: Problem[] = [];
  let problemCount = 0;
  const report = (problem: Problem): void => {
    problemCount++;
    if (problems.length < maxProblems) problems.push(problem);
  };

  const size = await ledger.size();
  const targets: Target[] = [];

  // Stored checkpoints: each signed by the trusted key, and saying what its row says.
  const stored = await ledger.checkpoints();
  const opened: { size: number; root: Buffer }[] = [];
  for (const row of stored) {
    const result = openCheckpoint(row.note, verifier);
    if (!result.ok) {
      report({
        kind: 'checkpoint-signature',
        message: `the stored checkpoint at size ${row.size}: ${result.reason}`,
      });
      continue;
    }
    const { checkpoint } = result;
    if (checkpoint.size !== row.size || checkpoint.root.toString('hex') !== row.root) {
      report({
        kind: 'checkpoint-signature',
        message: `the stored checkpoint at size ${row.size}: its row says size ${row.size}, root ${row.root.slice(0, 16)}…, its signed note says size ${checkpoint.size}, root ${checkpoint.root.toString('hex').slice(0, 16)}…`,
      });
    }
    opened.push({ size: checkpoint.size, root: checkpoint.root });
    targets.push({
      size: checkpoint.size,
      root: checkpoint.root,
      kind: 'store',
      label: `the stored checkpoint at size ${checkpoint.size}`,
    });
  }

  // Checkpoints published outside: signed by the trusted key and not beyond the store.
  for (const external of options.external ?? []) {
    const result = openCheckpoint(external.note, verifier);
    if (!result.ok) {
      report({
        kind: 'external-signature',
        message: `the external checkpoint from ${external.source}: ${result.reason}`,
      });
      continue;
    }
    const { checkpoint } = result;
    targets.push({
      size: checkpoint.size,
      root: checkpoint.root,
      kind: 'external',
      label: `the external checkpoint at size ${checkpoint.size} (${external.source})`,
    });
  }
  targets.sort((a, b) => a.size - b.size);

  // Stream the entries.
  const range = new CompactRange();
  const matched = new Map<Target, boolean>();
  let nextTarget = 0;
  const checkTargets = (): void => {
    while (nextTarget < targets.length && (targets[nextTarget] as Target).size === range.size) {
      const target = targets[nextTarget] as Target;
      const same = range.root().equals(target.root);
      matched.set(target, same);
      nextTarget++;
    }
  };
  checkTargets();
  let expected = 0;
  let cursor = 0;
  // Tree positions (node keys; a leaf at position p is 2p) whose recomputed hash differs from the stored
  // one: a node above one of them differs as a consequence, so only the lowest are reported.
  const differing = new Set<number>();
  let displaced = false;
  for (;;) {
    if (options.signal?.aborted) throw new InputError('verification was interrupted');
    const rows = await ledger.db
      .selectFrom('audit_entries')
      .selectAll()
      .where('id', '>=', cursor)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    if (rows.length === 0) break;
    const computed: { key: number; id: NodeId; hash: Buffer }[] = [];
    const firstPosition = range.size;
    for (const row of rows) {
      if (row.id !== expected) {
        // Every later leaf sits at the wrong position: the nodes above them differ because of this gap.
        displaced = true;
        report({
          kind: 'entry-missing',
          entry: expected,
          message:
            row.id === expected + 1
              ? `entry ${expected} is missing (deleted): the next stored entry is ${row.id}`
              : `entries ${expected}–${row.id - 1} are missing (deleted): the next stored entry is ${row.id}`,
        });
        expected = row.id;
      }
      const misplaced = checkRow(row, report);
      if (misplaced || displaced) differing.add(2 * range.size);
      const leafHash = hashLeaf(Buffer.from(row.canonical, 'utf8'));
      if (leafHash.toString('hex') !== row.leaf_hash) {
        differing.add(2 * range.size);
        report({
          kind: 'leaf-hash',
          entry: row.id,
          message: `entry ${row.id}: its stored leaf hash is not the hash of its canonical bytes (the hash column was edited)`,
        });
      }
      range.push(leafHash, (id, hash) => computed.push({ key: nodeKey(id), id, hash }));
      checkTargets();
      expected++;
    }
    await compareNodes(ledger, computed, firstPosition, differing, report);
    cursor = (rows[rows.length - 1]?.id ?? cursor) + 1;
    options.onProgress?.(range.size, size);
  }
  const rowsRead = range.size;

  if (rowsRead !== size || expected !== size) {
    report({
      kind: 'head',
      ...(expected < size ? { entry: expected } : {}),
      message:
        expected < size
          ? `the head records ${size} entries but only ${expected} are stored: entries ${expected}–${size - 1} were removed`
          : `the head records ${size} entries but ${expected} are stored`,
    });
  }
  const nodeRows = await sql<{ count: number }>`select count(*) as count from audit_nodes`.execute(ledger.db);
  const storedNodes = Number(nodeRows.rows[0]?.count ?? 0);
  const wantNodes = rowsRead - onesCount(rowsRead);
  if (storedNodes > wantNodes) {
    report({
      kind: 'tree-extra',
      message: `the stored tree has ${storedNodes - wantNodes} more node(s) than ${rowsRead} entries make: it was built over entries that are gone (truncated)`,
    });
  }

  // Roots at every checkpoint size. A matching external checkpoint vouches for the entries below it; a
  // matching stored one only for other stored ones (a forger rewrites those too).
  let lastGoodExternal = 0;
  let lastGoodStore = 0;
  for (const target of targets) {
    const lastGood =
      target.kind === 'external' ? lastGoodExternal : Math.max(lastGoodStore, lastGoodExternal);
    const same = matched.get(target);
    if (same === undefined) {
      report({
        kind: target.kind === 'store' ? 'checkpoint-beyond' : 'external-beyond',
        entry: rowsRead,
        message: `${target.label} covers ${target.size} entries but the store holds ${rowsRead}: the log was truncated (entries ${rowsRead}–${target.size - 1} are gone)`,
      });
    } else if (!same) {
      // No `entry`: a root names a range, not an entry (the row and node checks name exact ones).
      report({
        kind: target.kind === 'store' ? 'checkpoint-root' : 'external-root',
        message: `${target.label} does not match the entries: the first ${target.size} entries were changed since it was signed (the change is in entries ${lastGood}–${target.size - 1})`,
      });
    } else if (target.kind === 'external') {
      lastGoodExternal = target.size;
    } else {
      lastGoodStore = target.size;
    }
  }

  // Consistency between successive stored checkpoints, with proofs from the stored tree (what a monitor that
  // keeps only checkpoints would check).
  const ordered = opened.filter((cp) => cp.size > 0 && cp.size <= rowsRead).sort((a, b) => a.size - b.size);
  for (let i = 1; i < ordered.length; i++) {
    const a = ordered[i - 1] as { size: number; root: Buffer };
    const b = ordered[i] as { size: number; root: Buffer };
    if (a.size === b.size) continue;
    let verdict: { ok: boolean; reason?: string };
    try {
      verdict = verifyConsistency(
        a.size,
        b.size,
        await ledger.consistencyProof(a.size, b.size),
        a.root,
        b.root,
      );
    } catch (error) {
      verdict = { ok: false, reason: (error as Error).message };
    }
    if (!verdict.ok) {
      report({
        kind: 'checkpoint-consistency',
        message: `the checkpoints at sizes ${a.size} and ${b.size} are not consistent: ${verdict.reason ?? ''}`,
      });
    }
  }

  const named = problems.filter((p) => p.entry !== undefined).map((p) => p.entry as number);
  const firstBadEntry = named.length === 0 ? undefined : Math.min(...named);
  return {
    ok: problemCount === 0,
    size,
    entries: rowsRead,
    root: range.root().toString('hex'),
    checkpoints: stored.length,
    external: options.external?.length ?? 0,
    ...(firstBadEntry === undefined ? {} : { firstBadEntry }),
    problems: [...problems].sort(
      (a, b) => (a.entry ?? Number.MAX_SAFE_INTEGER) - (b.entry ?? Number.MAX_SAFE_INTEGER),
    ),
    problemCount,
    key: verifier.verifierKey,
  };
}

type Row = Parameters<typeof entryFromRow>[0];

/**
 * Checks one row: its leaf is a valid entry with its id, and its columns say exactly what the leaf says.
 * Returns true when the row holds another entry's leaf (its position in the tree is wrong).
 */
function checkRow(row: Row, report: (problem: Problem) => void): boolean {
  // The common case, fast: the columns' text assembles into the leaf byte for byte; then the leaf is a
  // valid canonical entry exactly when the column values are valid and the JSON columns canonical (the rest
  // of the assembly is canonical by construction), which is cheaper to check than re-serialising the leaf.
  if (leafTextFromColumns(row) === row.canonical) {
    const problem = columnsProblem(row);
    if (problem === undefined) return false;
    report({
      kind: 'entry-leaf',
      entry: row.id,
      message: `entry ${row.id}: it is not a valid entry (${problem})`,
    });
    return false;
  }
  const leaf = entryFromLeaf(row.canonical);
  if (!leaf.ok) {
    report({
      kind: 'entry-leaf',
      entry: row.id,
      message: `entry ${row.id}: its canonical bytes are not a valid entry (${leaf.reason})`,
    });
    return false;
  }
  if (leaf.entry.id !== row.id) {
    report({
      kind: 'entry-order',
      entry: row.id,
      message: `entry ${row.id} holds the leaf of entry ${leaf.entry.id}: entries were reordered or renumbered`,
    });
    return true;
  }
  let columns: AuditEntry;
  try {
    columns = entryFromRow(row);
  } catch (error) {
    report({
      kind: 'entry-columns',
      entry: row.id,
      message: `entry ${row.id}: a JSON column does not parse (${(error as Error).message})`,
    });
    return false;
  }
  const field = differingField(columns, leaf.entry, row);
  report({
    kind: 'entry-columns',
    entry: row.id,
    message: `entry ${row.id}: its columns do not match its canonical bytes (${field})`,
  });
  return false;
}

/** A value as text whatever its key order (columns parse back in stored order, leaves in built order). */
function comparable(value: unknown): string {
  try {
    return value === undefined ? 'absent' : canonicalize(value);
  } catch {
    return String(value);
  }
}

/**
 * Why a row whose columns assemble into its leaf is still not a valid entry, or undefined. Each JSON column
 * must be one whole canonical JSON value (so none can stand in for part of its neighbour's text), and the
 * other values must pass the checks an append makes.
 */
function columnsProblem(row: Row): string | undefined {
  try {
    const json: Record<string, unknown> = {};
    for (const column of ['before_json', 'after_json', 'evidence_json'] as const) {
      const text = row[column];
      if (text === null) continue;
      const value: unknown = JSON.parse(text);
      if (canonicalize(value) !== text) return `column ${column} is not in canonical form`;
      json[column] = value;
    }
    if (!Array.isArray(json.evidence_json)) return 'column evidence_json is not an array';
    const entry = buildEntry(
      {
        at: row.at,
        actor: { kind: row.actor_kind as ActorKind, id: row.actor },
        action: row.action,
        subject: {
          ...(row.environment === null ? {} : { environment: row.environment }),
          ...(row.app === null ? {} : { app: row.app }),
          ...(row.revision === null ? {} : { revision: row.revision }),
          ...(row.commit_sha === null ? {} : { commit: row.commit_sha }),
        },
        ...(row.reason === null ? {} : { reason: row.reason }),
        evidence: json.evidence_json as EvidenceRef[],
      },
      row.id,
    );
    if (entry.at !== row.at) return `its time "${row.at}" is not in ISO 8601 UTC form`;
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^audit entry: /, '');
  }
}

function differingField(columns: AuditEntry, leaf: AuditEntry, row: Row): string {
  const show = (value: unknown): string => {
    const text = JSON.stringify(value) ?? 'absent';
    return text.length > 60 ? `${text.slice(0, 57)}…` : text;
  };
  const fields: [string, unknown, unknown][] = [
    ['at', columns.at, leaf.at],
    ['actor.kind', columns.actor.kind, leaf.actor.kind],
    ['actor', columns.actor.id, leaf.actor.id],
    ['action', columns.action, leaf.action],
    ['environment', columns.subject.environment, leaf.subject.environment],
    ['app', columns.subject.app, leaf.subject.app],
    ['revision', columns.subject.revision, leaf.subject.revision],
    ['commit', columns.subject.commit, leaf.subject.commit],
    ['before', columns.before, leaf.before],
    ['after', columns.after, leaf.after],
    ['reason', columns.reason, leaf.reason],
    ['evidence', columns.evidence, leaf.evidence],
  ];
  for (const [name, a, b] of fields) {
    if (comparable(a) !== comparable(b))
      return `${name}: the column says ${show(a)}, the leaf says ${show(b)}`;
  }
  for (const column of ['before_json', 'after_json', 'evidence_json'] as const) {
    const value = row[column];
    if (value !== null && parseCanonical(value) === undefined)
      return `column ${column} is not in canonical form`;
  }
  return 'they differ in form';
}

/** Compares the nodes the entries complete with the stored ones (the tree proofs are built from). */
async function compareNodes(
  ledger: AuditLedger,
  computed: readonly { key: number; id: NodeId; hash: Buffer }[],
  firstPosition: number,
  differing: Set<number>,
  report: (problem: Problem) => void,
): Promise<void> {
  const storedHashes = new Map<number, string>();
  // Most completed nodes sit at in-order positions at or after the batch's first leaf: one range read; the
  // few larger ones that began earlier are read by key.
  const low = 2 * firstPosition;
  const high = computed.reduce((max, node) => Math.max(max, node.key), low);
  const rangeRows = await ledger.db
    .selectFrom('audit_nodes')
    .select(['id', 'hash'])
    .where('id', '>=', low)
    .where('id', '<=', high)
    .execute();
  for (const row of rangeRows) storedHashes.set(row.id, row.hash);
  const earlier = computed.filter((node) => node.key < low).map((node) => node.key);
  for (let i = 0; i < earlier.length; i += 500) {
    const rows = await ledger.db
      .selectFrom('audit_nodes')
      .select(['id', 'hash'])
      .where('id', 'in', earlier.slice(i, i + 500))
      .execute();
    for (const row of rows) storedHashes.set(row.id, row.hash);
  }
  // `computed` is in completion order: children before their parent.
  for (const node of computed) {
    const stored = storedHashes.get(node.key);
    if (stored === node.hash.toString('hex')) continue;
    differing.add(node.key);
    const left = nodeKey({ level: node.id.level - 1, index: 2 * node.id.index });
    const right = nodeKey({ level: node.id.level - 1, index: 2 * node.id.index + 1 });
    if (differing.has(left) || differing.has(right)) continue;
    const begin = node.id.index * 2 ** node.id.level;
    const end = begin + 2 ** node.id.level;
    report({
      kind: 'tree-node',
      entry: begin,
      message:
        stored === undefined
          ? `the stored tree lacks the node over entries ${begin}–${end - 1} (proofs that need it fail)`
          : `the stored tree node over entries ${begin}–${end - 1} does not match those entries: the tree or the entries were rewritten`,
    });
  }
}

function onesCount(n: number): number {
  let count = 0;
  let v = n;
  while (v > 0) {
    count += v % 2;
    v = Math.floor(v / 2);
  }
  return count;
}

/**
 * Checkpoints published outside the store: `against` is a file (one note, or an append-only list of them)
 * or a Git ref (`refs/…`) in `repo`, whose every commit holds one.
 */
export async function loadExternalCheckpoints(against: string, repo = '.'): Promise<ExternalCheckpoint[]> {
  if (existsSync(against)) {
    const notes = splitNotes(readFileSync(against, 'utf8'));
    if (notes.length === 0)
      throw new InputError(`${against} holds no checkpoint`, 'publish one first, or check the path');
    return notes.map((note, i) => ({ source: notes.length === 1 ? against : `${against} #${i + 1}`, note }));
  }
  if (against.startsWith('refs/')) {
    const notes = await readGitCheckpoints(repo, against);
    if (notes.length === 0) throw new InputError(`${against} in ${repo} holds no checkpoint`);
    return notes.map((note, i) => ({ source: `${against} in ${repo} #${i + 1}`, note }));
  }
  throw new InputError(
    `--against ${against}: no such file, and not a Git ref`,
    'give a checkpoint file, or a ref such as refs/plumbline/checkpoints (with --repo DIR)',
  );
}
