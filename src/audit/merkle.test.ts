// The Merkle tree: every vector of ../shared/data/merkle (transparency-dev/merkle's testdata: valid proofs
// accepted, every mutated one rejected), proofs generated from stored nodes equal to the RFC 9162 definitions
// computed naively, the reference proofs reproduced byte for byte, and sizes beyond 2^32.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  consistencyProof,
  consistencyRanges,
  EMPTY_ROOT,
  hashChildren,
  hashLeaf,
  inclusionProof,
  inclusionRanges,
  isValidSubtree,
  type NodeId,
  type NodeReader,
  nodeKey,
  rangeNodes,
  rootFromInclusionProof,
  rootOfLeafHashes,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  verifySubtreeConsistency,
  verifySubtreeInclusion,
} from './merkle.js';

const VECTORS = resolve(import.meta.dirname, '../../../shared/data/merkle');
const HAS_VECTORS = existsSync(join(VECTORS, 'inclusion')) && existsSync(join(VECTORS, 'consistency'));

function b64(text: string): Buffer {
  return Buffer.from(text, 'base64');
}

function jsonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...jsonFiles(path));
    else if (name.endsWith('.json')) out.push(path);
  }
  return out;
}

interface Vector {
  readonly file: string;
  readonly data: Record<string, unknown>;
}

function vectors(folder: string): Vector[] {
  return jsonFiles(join(VECTORS, folder)).map((file) => ({
    file: relative(VECTORS, file),
    // Sizes above 2^53 (one vector has 2^63 + 2) parse to unsafe numbers, which every verifier refuses.
    data: JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>,
  }));
}

function proofOf(data: Record<string, unknown>): Buffer[] {
  return ((data.proof as string[] | null) ?? []).map(b64);
}

/** Runs `check` on every vector of a folder; returns the files whose verdict disagreed with `wantErr`. */
function disagreements(folder: string, check: (data: Record<string, unknown>) => boolean): string[] {
  return vectors(folder)
    .filter(({ data }) => check(data) === (data.wantErr as boolean))
    .map(({ file, data }) => `${file} (${String(data.desc)}, wantErr ${String(data.wantErr)})`);
}

describe.skipIf(!HAS_VECTORS)('the shared proof vectors (transparency-dev/merkle testdata)', () => {
  it('has the expected vector sets (a missing folder must not pass silently)', () => {
    const counts = Object.fromEntries(
      ['inclusion', 'consistency', 'subtreeinclusion', 'subtreeconsistency'].map((f) => [
        f,
        vectors(f).length,
      ]),
    );
    expect(counts.inclusion).toBeGreaterThanOrEqual(80);
    expect(counts.consistency).toBeGreaterThanOrEqual(90);
    expect(counts.subtreeinclusion).toBeGreaterThanOrEqual(180);
    expect(counts.subtreeconsistency).toBeGreaterThanOrEqual(110);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total).toBe(518);
    // Both kinds occur in every set: valid proofs to accept and mutated ones to reject.
    for (const folder of Object.keys(counts)) {
      const kinds = new Set(vectors(folder).map((v) => v.data.wantErr));
      expect(kinds, folder).toEqual(new Set([true, false]));
    }
  });

  it('inclusion/: accepts every valid proof and rejects every mutated one', () => {
    const wrong = disagreements(
      'inclusion',
      (d) =>
        verifyInclusion(
          d.leafIdx as number,
          d.treeSize as number,
          b64(d.leafHash as string),
          proofOf(d),
          b64(d.root as string),
        ).ok,
    );
    expect(wrong).toEqual([]);
  });

  it('consistency/: accepts every valid proof and rejects every mutated one', () => {
    const wrong = disagreements(
      'consistency',
      (d) =>
        verifyConsistency(
          d.size1 as number,
          d.size2 as number,
          proofOf(d),
          b64(d.root1 as string),
          b64(d.root2 as string),
        ).ok,
    );
    expect(wrong).toEqual([]);
  });

  // The subtree sets apply: a subtree [start, end) is what our store keeps as nodes, and the draft's subtree
  // proofs let an auditor check one batch of entries as a unit. Their semantics (draft-ietf-plants-merkle-
  // tree-certs §4.3–4.4) are implemented by verifySubtreeInclusion and verifySubtreeConsistency.
  it('subtreeinclusion/: accepts every valid proof and rejects every mutated or invalid one', () => {
    const wrong = disagreements(
      'subtreeinclusion',
      (d) =>
        verifySubtreeInclusion(
          d.leafIdx as number,
          d.start as number,
          d.end as number,
          b64(d.leafHash as string),
          proofOf(d),
          b64(d.root as string),
        ).ok,
    );
    expect(wrong).toEqual([]);
  });

  it('subtreeconsistency/: accepts every valid proof and rejects every mutated or invalid one', () => {
    const wrong = disagreements(
      'subtreeconsistency',
      (d) =>
        verifySubtreeConsistency(
          d.start as number,
          d.end as number,
          d.size as number,
          proofOf(d),
          b64(d.root1 as string),
          b64(d.root2 as string),
        ).ok,
    );
    expect(wrong).toEqual([]);
  });

  // The eight leaves transparency-dev's generator builds its trees from (proofgen's `leaves`, extended as in
  // its verify tests): our generator must produce the vectors' happy-path proofs byte for byte.
  const REFERENCE_LEAVES = [
    '',
    '00',
    '10',
    '2021',
    '3031',
    '40414243',
    '5051525354555657',
    '606162636465666768696a6b6c6d6e6f',
  ].map((hex) => Buffer.from(hex, 'hex'));
  const reference = memoryTree(REFERENCE_LEAVES.map((leaf) => hashLeaf(leaf)));

  it('generates the happy-path inclusion proofs of the vectors from stored nodes', async () => {
    const happy = vectors('inclusion').filter(
      (v) => v.data.desc === 'happy path' && (v.data.treeSize as number) > 1,
    );
    expect(happy.length).toBeGreaterThanOrEqual(4);
    for (const { file, data } of happy) {
      const size = data.treeSize as number;
      const index = data.leafIdx as number;
      expect(hashLeaf(REFERENCE_LEAVES[index] as Buffer).toString('base64'), file).toBe(data.leafHash);
      const proof = await inclusionProof(index, size, reference.reader(size));
      expect(
        proof.map((h) => h.toString('base64')),
        file,
      ).toEqual(data.proof);
      expect((await treeRoot(size, reference.reader(size))).toString('base64'), file).toBe(data.root);
    }
  });

  it('generates the happy-path consistency proofs of the vectors from stored nodes', async () => {
    const happy = vectors('consistency').filter(
      (v) => v.data.desc === 'happy path' && (v.data.size1 as number) < (v.data.size2 as number),
    );
    expect(happy.length).toBeGreaterThanOrEqual(4);
    for (const { file, data } of happy) {
      const size1 = data.size1 as number;
      const size2 = data.size2 as number;
      const proof = await consistencyProof(size1, size2, reference.reader(size2));
      expect(
        proof.map((h) => h.toString('base64')),
        file,
      ).toEqual(data.proof);
      expect((await treeRoot(size1, reference.reader(size2))).toString('base64'), file).toBe(data.root1);
    }
  });
});

if (!HAS_VECTORS) {
  describe('the shared proof vectors', () => {
    it.skip(`skipped: ${VECTORS} is absent (the shared data folder sits beside the project)`, () => {});
  });
}

// --- a tree in memory, stored node by node as the ledger stores it ---

interface MemoryTree {
  readonly leaves: readonly Buffer[];
  /** Reads nodes of the tree of the first `size` leaves; refuses nodes that are not complete at that size. */
  reader(size: number): NodeReader & { reads: number };
}

function memoryTree(leafHashes: readonly Buffer[]): MemoryTree {
  const nodes = new Map<number, Buffer>();
  const range = new CompactRange();
  leafHashes.forEach((leaf, i) => {
    nodes.set(nodeKey({ level: 0, index: i }), leaf);
    range.push(leaf, (id, hash) => nodes.set(nodeKey(id), hash));
  });
  return {
    leaves: leafHashes,
    reader(size: number) {
      const reader = {
        reads: 0,
        async readNodes(ids: readonly NodeId[]): Promise<readonly Buffer[]> {
          reader.reads++;
          return ids.map((id) => {
            if ((id.index + 1) * 2 ** id.level > size) {
              throw new Error(`node ${id.level}/${id.index} is not complete at size ${size}`);
            }
            const hash = nodes.get(nodeKey(id));
            if (hash === undefined) throw new Error(`no node ${id.level}/${id.index}`);
            return hash;
          });
        },
      };
      return reader;
    },
  };
}

// --- RFC 9162 §2.1, written as the RFC states it, over leaf hashes in memory ---

function mth(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return hashChildren(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function path(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  if (m < k) return [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))];
  return [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

function subproof(m: number, leaves: readonly Buffer[], complete: boolean): Buffer[] {
  if (m === leaves.length) return complete ? [] : [mth(leaves)];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  if (m <= k) return [...subproof(m, leaves.slice(0, k), complete), mth(leaves.slice(k))];
  return [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

function leavesOf(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => hashLeaf(Buffer.from(`entry ${i}`)));
}

function flipped(proof: readonly Buffer[], at: number): Buffer[] {
  return proof.map((hash, i) => {
    if (i !== at) return hash;
    const copy = Buffer.from(hash);
    copy[0] = (copy[0] as number) ^ 1;
    return copy;
  });
}

describe('proofs generated from stored nodes', () => {
  const MAX = 70;
  const tree = memoryTree(leavesOf(MAX));

  it('roots equal MTH for every size, and the compact range agrees', async () => {
    const range = new CompactRange();
    for (let size = 0; size <= MAX; size++) {
      const want = mth(tree.leaves.slice(0, size));
      expect((await treeRoot(size, tree.reader(size))).equals(want), `size ${size}`).toBe(true);
      expect(range.root().equals(want), `compact range at ${size}`).toBe(true);
      expect(rootOfLeafHashes(tree.leaves.slice(0, size)).equals(want)).toBe(true);
      if (size < MAX) range.push(tree.leaves[size] as Buffer);
    }
  });

  it('inclusion proofs equal PATH(m, D[n]), verify, and fail when changed', async () => {
    for (let size = 1; size <= MAX; size++) {
      const root = mth(tree.leaves.slice(0, size));
      for (let index = 0; index < size; index++) {
        const reader = tree.reader(size);
        const proof = await inclusionProof(index, size, reader);
        expect(reader.reads).toBe(1);
        const want = path(index, tree.leaves.slice(0, size));
        expect(proof.map((h) => h.toString('hex'))).toEqual(want.map((h) => h.toString('hex')));
        const leaf = tree.leaves[index] as Buffer;
        expect(verifyInclusion(index, size, leaf, proof, root)).toEqual({ ok: true });
        for (let at = 0; at < proof.length; at++) {
          expect(verifyInclusion(index, size, leaf, flipped(proof, at), root).ok).toBe(false);
        }
        if (size > 1) {
          const other = tree.leaves[(index + 1) % size] as Buffer;
          expect(verifyInclusion(index, size, other, proof, root).ok).toBe(false);
        }
      }
    }
  });

  it('consistency proofs equal PROOF(m, D[n]), verify, and fail when changed', async () => {
    for (let size2 = 1; size2 <= 40; size2++) {
      const root2 = mth(tree.leaves.slice(0, size2));
      for (let size1 = 1; size1 <= size2; size1++) {
        const root1 = mth(tree.leaves.slice(0, size1));
        const proof = await consistencyProof(size1, size2, tree.reader(size2));
        const want = size1 === size2 ? [] : subproof(size1, tree.leaves.slice(0, size2), true);
        expect(proof.map((h) => h.toString('hex'))).toEqual(want.map((h) => h.toString('hex')));
        expect(verifyConsistency(size1, size2, proof, root1, root2)).toEqual({ ok: true });
        for (let at = 0; at < proof.length; at++) {
          expect(verifyConsistency(size1, size2, flipped(proof, at), root1, root2).ok).toBe(false);
        }
        if (size1 < size2) {
          // A different old tree (one leaf changed) is not a prefix.
          const forged = mth([hashLeaf(Buffer.from('forged')), ...tree.leaves.slice(1, size1)]);
          expect(verifyConsistency(size1, size2, proof, forged, root2).ok).toBe(false);
        }
      }
    }
  });

  it('refuses to generate impossible proofs', async () => {
    expect(() => inclusionRanges(3, 3)).toThrow(RangeError);
    expect(() => inclusionRanges(-1, 3)).toThrow(RangeError);
    expect(() => consistencyRanges(4, 3)).toThrow(RangeError);
    expect(consistencyRanges(0, 5)).toEqual([]);
    expect(consistencyRanges(5, 5)).toEqual([]);
    await expect(treeRoot(-1, tree.reader(1))).rejects.toThrow(RangeError);
    expect(() => new CompactRange(3, [])).toThrow(RangeError);
  });

  it('says why a proof is refused', () => {
    const leaf = tree.leaves[0] as Buffer;
    expect(rootFromInclusionProof(0, 0, leaf, [])).toMatchObject({ ok: false, reason: /beyond/ });
    expect(rootFromInclusionProof(0, 1, Buffer.alloc(3), [])).toMatchObject({ ok: false, reason: /3 bytes/ });
    expect(rootFromInclusionProof(0, 2, leaf, [])).toMatchObject({ ok: false, reason: /needs 1/ });
    expect(verifyConsistency(2, 1, [], leaf, leaf)).toMatchObject({ ok: false, reason: /smaller/ });
    expect(verifyConsistency(0, 1, [], leaf, leaf)).toMatchObject({ ok: false, reason: /empty tree/ });
    expect(verifyConsistency(1, 2, [Buffer.alloc(5)], leaf, leaf)).toMatchObject({ ok: false });
    expect(verifySubtreeInclusion(0, 3, 5, leaf, [], leaf)).toMatchObject({ reason: /not a subtree/ });
    expect(verifySubtreeConsistency(0, 4, 3, [], leaf, leaf)).toMatchObject({ reason: /beyond/ });
  });
});

describe('sizes beyond 2^32 (no 32-bit truncation)', () => {
  // BigInt versions of the range arithmetic, as the RFC states it.
  function bigRangeNodes(begin: bigint, end: bigint): string[] {
    const out: string[] = [];
    let at = begin;
    while (at < end) {
      let level = 0n;
      while ((at === 0n || at % (1n << (level + 1n)) === 0n) && at + (1n << (level + 1n)) <= end) level++;
      out.push(`${level}/${at >> level}`);
      at += 1n << level;
    }
    return out;
  }
  function bigInclusion(index: bigint, size: bigint): string[] {
    const out: string[] = [];
    let begin = 0n;
    let end = size;
    while (end - begin > 1n) {
      let k = 1n;
      while (k * 2n < end - begin) k *= 2n;
      if (index < begin + k) {
        out.push(`${begin + k}-${end}`);
        end = begin + k;
      } else {
        out.push(`${begin}-${begin + k}`);
        begin += k;
      }
    }
    return out.reverse();
  }

  // A deterministic sample of large positions (a fixed-seed generator: reproducible failures).
  let seed = 0x2545f491;
  function random(below: number): number {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const high = seed % 2 ** 21;
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (high * 2 ** 31 + seed) % below;
  }

  it('decomposes ranges and plans proofs as BigInt arithmetic does', () => {
    for (let i = 0; i < 300; i++) {
      const size = 2 ** 32 + random(2 ** 52);
      const index = random(size);
      const begin = random(size);
      expect(
        rangeNodes(begin, size).map((n) => `${n.level}/${n.index}`),
        `[${begin}, ${size})`,
      ).toEqual(bigRangeNodes(BigInt(begin), BigInt(size)));
      expect(
        inclusionRanges(index, size).map(([a, b]) => `${a}-${b}`),
        `${index} of ${size}`,
      ).toEqual(bigInclusion(BigInt(index), BigInt(size)));
    }
  });

  it('verifies proofs generated in a tree of 2^45 + 3 leaves', async () => {
    // Every leaf equal, so a perfect subtree's hash depends only on its level: a consistent tree of any size
    // without storing it. Lengths, levels and the right edge are what this exercises.
    const perLevel: Buffer[] = [hashLeaf(Buffer.from('same'))];
    for (let level = 1; level < 53; level++) {
      const below = perLevel[level - 1] as Buffer;
      perLevel.push(hashChildren(below, below));
    }
    const reader: NodeReader = {
      async readNodes(ids) {
        return ids.map((id) => perLevel[id.level] as Buffer);
      },
    };
    const size = 2 ** 45 + 3;
    const root = await treeRoot(size, reader);
    const otherRoot = await treeRoot(size + 1, reader);
    expect(otherRoot.equals(root)).toBe(false);
    for (const index of [0, 2 ** 33 + 7, size - 1, size - 3]) {
      const proof = await inclusionProof(index, size, reader);
      expect(proof.length).toBe(bigInclusion(BigInt(index), BigInt(size)).length);
      if (index < 2 ** 45) expect(proof.length).toBeGreaterThanOrEqual(45);
      expect(verifyInclusion(index, size, perLevel[0] as Buffer, proof, root)).toEqual({ ok: true });
      expect(verifyInclusion(index, size, perLevel[0] as Buffer, proof, otherRoot).ok).toBe(false);
      expect(verifyInclusion(index, size, perLevel[1] as Buffer, proof, root).ok).toBe(false);
    }
    const size1 = 2 ** 40 + 5;
    const proof = await consistencyProof(size1, size, reader);
    expect(verifyConsistency(size1, size, proof, await treeRoot(size1, reader), root)).toEqual({ ok: true });
  });

  it('knows which ranges are subtrees', () => {
    expect(isValidSubtree(2 ** 40, 2 ** 40 + 2 ** 39)).toBe(true);
    expect(isValidSubtree(2 ** 40 + 1, 2 ** 40 + 3)).toBe(false);
    expect(isValidSubtree(5, 4)).toBe(false);
    expect(isValidSubtree(8, 13)).toBe(true);
  });
});

it('hashes as RFC 6962 says (a known leaf and the empty tree)', () => {
  expect(EMPTY_ROOT.toString('hex')).toBe(createHash('sha256').update('').digest('hex'));
  // RFC 6962 leaf hash of the empty string (transparency-dev's roots[0]).
  expect(hashLeaf(Buffer.alloc(0)).toString('hex')).toBe(
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  );
});
