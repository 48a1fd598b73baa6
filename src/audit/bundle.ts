// Proof bundles: one entry with everything needed to check, offline and with nothing but the ledger's public
// key, that it is in the log — its canonical bytes (the leaf), its index, an inclusion proof and the signed
// checkpoint the proof leads to.
import { z } from 'zod';
import { InputError } from '../errors.js';
import { openCheckpoint } from './checkpoint.js';
import { type AuditEntry, entryFromLeaf } from './entry.js';
import { hashLeaf, verifyInclusion } from './merkle.js';
import type { NoteVerifier } from './note.js';
import type { AuditLedger } from './store.js';

export const BUNDLE_FORMAT = 'plumbline-audit-proof/v1';

export const proofBundleSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  /** The entry, for reading; what is checked is `canonical`, and this must say the same. */
  entry: z.record(z.string(), z.unknown()),
  /** The leaf's exact bytes, as a JSON string (canonical JSON is valid UTF-8). */
  canonical: z.string(),
  /** Hex SHA-256(0x00 ‖ canonical), for reading; recomputed when verified. */
  leafHash: z.string(),
  leafIndex: z.number().int().nonnegative(),
  treeSize: z.number().int().positive(),
  /** Base64 hashes, lowest first (RFC 9162). */
  inclusionProof: z.array(z.string()),
  /** The signed checkpoint (C2SP tlog-checkpoint) of size `treeSize`. */
  checkpoint: z.string(),
});
export type ProofBundle = z.infer<typeof proofBundleSchema>;

/**
 * The bundle of entry `id` against the latest stored checkpoint; InputError when the entry does not exist
 * or no checkpoint covers it yet.
 */
export async function proveEntry(ledger: AuditLedger, id: number): Promise<ProofBundle> {
  const leaf = await ledger.leaf(id);
  if (leaf === undefined) {
    throw new InputError(
      `there is no entry ${id} (the ledger has ${await ledger.size()})`,
      'list entries with `plumbline audit log`',
    );
  }
  const checkpoint = await ledger.latestCheckpoint();
  if (checkpoint === undefined || checkpoint.size <= id) {
    throw new InputError(
      `entry ${id} is not covered by a signed checkpoint yet${checkpoint === undefined ? '' : ` (the latest is at size ${checkpoint.size})`}`,
      'checkpoints are made every N entries or T seconds by the controller; or run `plumbline audit checkpoint`',
    );
  }
  const proof = await ledger.inclusionProof(id, checkpoint.size);
  const entry = entryFromLeaf(leaf.canonical);
  return {
    format: BUNDLE_FORMAT,
    entry: entry.ok ? { ...entry.entry } : {},
    canonical: leaf.canonical,
    leafHash: leaf.leafHash,
    leafIndex: id,
    treeSize: checkpoint.size,
    inclusionProof: proof.map((hash) => hash.toString('base64')),
    checkpoint: checkpoint.note,
  };
}

export type BundleVerdict =
  | {
      readonly ok: true;
      readonly entry: AuditEntry;
      readonly origin: string;
      readonly treeSize: number;
      readonly key: string;
    }
  | { readonly ok: false; readonly reason: string };

/** Parses a bundle's JSON text; InputError (exit 2) when it is not one. */
export function parseBundle(text: string, where: string): ProofBundle {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InputError(
      `${where} is not JSON: ${(error as Error).message}`,
      'a bundle is what `plumbline audit prove` writes',
    );
  }
  const parsed = proofBundleSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined || issue.path.length === 0 ? '(root)' : issue.path.join('.');
    throw new InputError(
      `${where}: ${field}: ${issue?.message ?? 'invalid'}`,
      'a bundle is what `plumbline audit prove` writes',
    );
  }
  return parsed.data;
}

/** Verifies a bundle with the ledger's public key alone. */
export function verifyBundle(bundle: ProofBundle, verifier: NoteVerifier): BundleVerdict {
  const opened = openCheckpoint(bundle.checkpoint, verifier);
  if (!opened.ok) return { ok: false, reason: `the checkpoint: ${opened.reason}` };
  const { checkpoint } = opened;
  if (checkpoint.size !== bundle.treeSize) {
    return {
      ok: false,
      reason: `the bundle says tree size ${bundle.treeSize}, its checkpoint ${checkpoint.size}`,
    };
  }
  const leaf = entryFromLeaf(bundle.canonical);
  if (!leaf.ok) return { ok: false, reason: `the entry's canonical bytes: ${leaf.reason}` };
  if (leaf.entry.id !== bundle.leafIndex) {
    return {
      ok: false,
      reason: `the entry says it is entry ${leaf.entry.id}, the proof is for index ${bundle.leafIndex}`,
    };
  }
  if (JSON.stringify(sorted(bundle.entry)) !== JSON.stringify(sorted(leaf.entry))) {
    return { ok: false, reason: 'the readable "entry" differs from the canonical bytes the proof is about' };
  }
  const leafHash = hashLeaf(Buffer.from(bundle.canonical, 'utf8'));
  const proof = bundle.inclusionProof.map((hash) => Buffer.from(hash, 'base64'));
  const verdict = verifyInclusion(bundle.leafIndex, checkpoint.size, leafHash, proof, checkpoint.root);
  if (!verdict.ok) return { ok: false, reason: `the inclusion proof: ${verdict.reason}` };
  return {
    ok: true,
    entry: leaf.entry,
    origin: checkpoint.origin,
    treeSize: checkpoint.size,
    key: verifier.verifierKey,
  };
}

/** A value with object keys sorted, for comparing two JSON values whatever their key order. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
  );
}
