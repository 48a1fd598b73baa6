// The Merkle tree of the audit ledger: RFC 6962 / RFC 9162 hashing (leaf = SHA-256(0x00 ‖ data), node =
// SHA-256(0x01 ‖ left ‖ right)), roots, inclusion and consistency proofs, and their verification.
//
// Proofs are generated against stored hashes: every complete, aligned subtree (a "node": level L, index I,
// covering leaves [I·2^L, (I+1)·2^L)) is written once, when its last leaf is appended. Any hash a proof needs
// is the hash of a range that splits into at most 2·log2(n) such nodes, so a root or a proof costs O(log n)
// node reads, at any size. Sizes are safe integers (below 2^53); the bit arithmetic below never uses the
// 32-bit operators on them.
import { createHash } from 'node:crypto';

export const HASH_BYTES = 32;

/** MTH({}) = SHA-256(""): the root of the empty tree. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export function hashLeaf(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** A complete, aligned subtree: covers leaves [index·2^level, (index+1)·2^level). Level 0 is a leaf. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** Where proofs read stored hashes from: the hash of each node asked for, in the same order. */
export interface NodeReader {
  readNodes(ids: readonly NodeId[]): Promise<readonly Uint8Array[]>;
}

/** The outcome of checking a proof: data, so callers decide what a failure means. */
export type Verdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const OK: Verdict = { ok: true };
function no(reason: string): { readonly ok: false; readonly reason: string } {
  return { ok: false, reason };
}

// --- bit arithmetic on safe integers (the 32-bit operators would truncate sizes above 2^31) ---

const TWO_32 = 2 ** 32;

function bitLength(n: number): number {
  if (n < TWO_32) return 32 - Math.clz32(n);
  return 64 - Math.clz32(Math.floor(n / TWO_32));
}

function trailingZeros32(n: number): number {
  return 31 - Math.clz32(n & -n);
}

/** Trailing zero bits of n > 0. */
function trailingZeros(n: number): number {
  const low = n % TWO_32;
  if (low !== 0) return trailingZeros32(low);
  return 32 + trailingZeros32(Math.floor(n / TWO_32));
}

function popCount32(n: number): number {
  let v = n >>> 0;
  let count = 0;
  while (v !== 0) {
    v &= v - 1;
    count++;
  }
  return count;
}

function onesCount(n: number): number {
  return popCount32(n % TWO_32) + popCount32(Math.floor(n / TWO_32));
}

function xor(a: number, b: number): number {
  const high = (Math.floor(a / TWO_32) ^ Math.floor(b / TWO_32)) >>> 0;
  const low = ((a % TWO_32) ^ (b % TWO_32)) >>> 0;
  return high * TWO_32 + low;
}

function shiftRight(n: number, bits: number): number {
  return Math.floor(n / 2 ** bits);
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** The largest power of two strictly below n (n ≥ 2). */
function splitPoint(n: number): number {
  return 2 ** (bitLength(n - 1) - 1);
}

/** The smallest power of two at or above n. */
function bitCeil(n: number): number {
  return n <= 1 ? 1 : 2 ** bitLength(n - 1);
}

// --- nodes and ranges ---

/**
 * The position of a node in in-order (flat-tree) numbering: leaves are the even numbers (leaf i is 2i), the
 * node over [a, b) sits at a + b − 1. Unique across levels, below 2·size: one integer key per stored node.
 */
export function nodeKey(id: NodeId): number {
  const width = 2 ** id.level;
  return id.index * 2 * width + width - 1;
}

/** The nodes that exactly cover [begin, end), left to right, each as large as alignment allows. */
export function rangeNodes(begin: number, end: number): NodeId[] {
  const nodes: NodeId[] = [];
  let at = begin;
  while (at < end) {
    const fit = bitLength(end - at) - 1;
    const level = at === 0 ? fit : Math.min(trailingZeros(at), fit);
    nodes.push({ level, index: at / 2 ** level });
    at += 2 ** level;
  }
  return nodes;
}

/**
 * The RFC 6962 hash of a subtree range from the hashes of its `rangeNodes`: for a range that starts on a
 * boundary of its own size's power of two (every range a proof uses), MTH is the right fold of its nodes.
 */
export function foldRange(hashes: readonly Uint8Array[]): Buffer {
  const last = hashes[hashes.length - 1];
  if (last === undefined) return EMPTY_ROOT;
  let hash: Buffer = Buffer.from(last);
  for (let i = hashes.length - 2; i >= 0; i--) hash = hashChildren(hashes[i] as Uint8Array, hash);
  return hash;
}

/** MTH over leaf hashes held in memory (RFC 9162 §2.1.1), for small trees and tests. */
export function rootOfLeafHashes(leafHashes: readonly Uint8Array[]): Buffer {
  const range = new CompactRange();
  for (const leaf of leafHashes) range.push(leaf);
  return range.root();
}

/**
 * The right border of a tree being built leaf by leaf: one hash per set bit of the size. Appending a leaf
 * completes the nodes above it whose last leaf it is; `push` reports each, so they can be stored.
 */
export class CompactRange {
  #size: number;
  readonly #hashes: Buffer[];

  constructor(size = 0, hashes: readonly Uint8Array[] = []) {
    if (!isSize(size) || rangeNodes(0, size).length !== hashes.length) {
      throw new RangeError(`a compact range of size ${size} needs ${rangeNodes(0, size).length} hashes`);
    }
    this.#size = size;
    this.#hashes = hashes.map((hash) => Buffer.from(hash));
  }

  get size(): number {
    return this.#size;
  }

  /** Appends a leaf hash; `onNode` sees every node (level ≥ 1) this completes, lowest first. */
  push(leafHash: Uint8Array, onNode?: (id: NodeId, hash: Buffer) => void): void {
    let hash: Buffer = Buffer.from(leafHash);
    let level = 0;
    let index = this.#size;
    while (isOdd(index)) {
      hash = hashChildren(this.#hashes.pop() as Buffer, hash);
      level++;
      index = (index - 1) / 2;
      onNode?.({ level, index }, hash);
    }
    this.#hashes.push(hash);
    this.#size++;
  }

  root(): Buffer {
    return foldRange(this.#hashes);
  }
}

// --- proof generation over stored nodes ---

type Range = readonly [begin: number, end: number];

/** The ranges whose hashes form the inclusion proof of leaf `index` in a tree of `size` (RFC 9162 §2.1.3.1). */
export function inclusionRanges(index: number, size: number): Range[] {
  if (!isSize(size) || !isSize(index) || index >= size) {
    throw new RangeError(`no inclusion proof for leaf ${index} in a tree of size ${size}`);
  }
  const ranges: Range[] = [];
  let begin = 0;
  let end = size;
  // Top-down; RFC order is bottom-up, so the ranges are reversed at the end.
  while (end - begin > 1) {
    const k = splitPoint(end - begin);
    if (index < begin + k) {
      ranges.push([begin + k, end]);
      end = begin + k;
    } else {
      ranges.push([begin, begin + k]);
      begin += k;
    }
  }
  return ranges.reverse();
}

/** The ranges whose hashes form the consistency proof from size1 to size2 (RFC 9162 §2.1.4.1). */
export function consistencyRanges(size1: number, size2: number): Range[] {
  if (!isSize(size1) || !isSize(size2) || size1 > size2) {
    throw new RangeError(`no consistency proof from size ${size1} to size ${size2}`);
  }
  if (size1 === 0 || size1 === size2) return [];
  const ranges: Range[] = [];
  let begin = 0;
  let end = size2;
  let m = size1;
  let complete = true;
  for (;;) {
    const n = end - begin;
    if (m === n) {
      if (!complete) ranges.push([begin, end]);
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      ranges.push([begin + k, end]);
      end = begin + k;
    } else {
      ranges.push([begin, begin + k]);
      begin += k;
      m -= k;
      complete = false;
    }
  }
  return ranges.reverse();
}

/** The hashes of `ranges`, reading every node they need in one call. */
export async function hashRanges(ranges: readonly Range[], reader: NodeReader): Promise<Buffer[]> {
  const perRange = ranges.map(([begin, end]) => rangeNodes(begin, end));
  const unique = new Map<number, NodeId>();
  for (const nodes of perRange) for (const node of nodes) unique.set(nodeKey(node), node);
  const ids = [...unique.values()];
  const hashes = await reader.readNodes(ids);
  if (hashes.length !== ids.length) throw new Error(`asked for ${ids.length} nodes, read ${hashes.length}`);
  const byKey = new Map<number, Uint8Array>();
  for (let i = 0; i < ids.length; i++) byKey.set(nodeKey(ids[i] as NodeId), hashes[i] as Uint8Array);
  return perRange.map((nodes) => foldRange(nodes.map((node) => byKey.get(nodeKey(node)) as Uint8Array)));
}

/** The root of the tree of the first `size` leaves. */
export async function treeRoot(size: number, reader: NodeReader): Promise<Buffer> {
  if (!isSize(size)) throw new RangeError(`no tree of size ${size}`);
  if (size === 0) return EMPTY_ROOT;
  const [root] = await hashRanges([[0, size]], reader);
  return root as Buffer;
}

export async function inclusionProof(index: number, size: number, reader: NodeReader): Promise<Buffer[]> {
  return hashRanges(inclusionRanges(index, size), reader);
}

export async function consistencyProof(size1: number, size2: number, reader: NodeReader): Promise<Buffer[]> {
  return hashRanges(consistencyRanges(size1, size2), reader);
}

// --- verification (after transparency-dev/merkle's proof package, which the shared vectors come from) ---

function hashSizeProblem(what: string, hash: Uint8Array): string | undefined {
  return hash.length === HASH_BYTES ? undefined : `${what} is ${hash.length} bytes, not ${HASH_BYTES}`;
}

function proofProblem(proof: readonly Uint8Array[]): string | undefined {
  for (let i = 0; i < proof.length; i++) {
    const problem = hashSizeProblem(`proof[${i}]`, proof[i] as Uint8Array);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

/** Lengths of the two parts of the inclusion proof of `index` in `size`: below and above where the paths
 * to `index` and to `size − 1` meet. */
function decomposeInclusion(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, size - 1));
  return { inner, border: onesCount(shiftRight(index, inner)) };
}

function chainInner(seed: Buffer, proof: readonly Uint8Array[], index: number): Buffer {
  let hash = seed;
  proof.forEach((sibling, i) => {
    hash = isOdd(shiftRight(index, i)) ? hashChildren(sibling, hash) : hashChildren(hash, sibling);
  });
  return hash;
}

/** Like chainInner, with only the left siblings: the hash of the earlier version of the subtree. */
function chainInnerRight(seed: Buffer, proof: readonly Uint8Array[], index: number): Buffer {
  let hash = seed;
  proof.forEach((sibling, i) => {
    if (isOdd(shiftRight(index, i))) hash = hashChildren(sibling, hash);
  });
  return hash;
}

function chainBorderRight(seed: Buffer, proof: readonly Uint8Array[]): Buffer {
  let hash = seed;
  for (const sibling of proof) hash = hashChildren(sibling, hash);
  return hash;
}

/** The root an inclusion proof leads to, or why there is none. */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): { readonly ok: true; readonly root: Buffer } | { readonly ok: false; readonly reason: string } {
  if (!isSize(index) || !isSize(size)) return no(`index ${index} or size ${size} is not a tree position`);
  if (index >= size) return no(`index ${index} is beyond the tree size ${size}`);
  const problem = hashSizeProblem('the leaf hash', leafHash) ?? proofProblem(proof);
  if (problem !== undefined) return no(problem);
  const { inner, border } = decomposeInclusion(index, size);
  if (proof.length !== inner + border) {
    return no(`the proof has ${proof.length} hashes; leaf ${index} of ${size} needs ${inner + border}`);
  }
  const root = chainBorderRight(
    chainInner(Buffer.from(leafHash), proof.slice(0, inner), index),
    proof.slice(inner),
  );
  return { ok: true, root };
}

/** Checks that the leaf with `leafHash` is at `index` in the tree of `size` leaves whose root is `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): Verdict {
  const result = rootFromInclusionProof(index, size, leafHash, proof);
  if (!result.ok) return result;
  return equal(result.root, root) ? OK : no(`the proof leads to a different root at size ${size}`);
}

/**
 * Checks that the tree of `size1` leaves with `root1` is a prefix of the tree of `size2` with `root2`. A
 * proof from the empty tree proves nothing, so size1 = 0 is refused (as the shared vectors require).
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): Verdict {
  if (!isSize(size1) || !isSize(size2)) return no(`size ${size1} or ${size2} is not a tree size`);
  if (size2 < size1) return no(`size2 ${size2} is smaller than size1 ${size1}`);
  if (size1 === 0) return no('a consistency proof from the empty tree proves nothing');
  if (size1 === size2) {
    if (proof.length > 0) return no('equal sizes need an empty proof');
    return equal(root1, root2) ? OK : no(`two different roots for size ${size1}`);
  }
  if (proof.length === 0) return no('an empty proof between different sizes');
  const problem = proofProblem(proof);
  if (problem !== undefined) return no(problem);

  const decomposed = decomposeInclusion(size1 - 1, size2);
  const shift = trailingZeros(size1);
  const inner = decomposed.inner - shift;
  // The proof starts with the root of the largest perfect subtree ending at size1, unless that subtree is
  // the whole old tree (size1 a power of two), whose root the verifier already has.
  const isPowerOfTwo = size1 === 2 ** shift;
  const seed = Buffer.from(isPowerOfTwo ? root1 : (proof[0] as Uint8Array));
  const rest = isPowerOfTwo ? proof : proof.slice(1);
  if (rest.length !== inner + decomposed.border) {
    return no(
      `the proof has ${proof.length} hashes; ${size1} → ${size2} needs ${inner + decomposed.border + (isPowerOfTwo ? 0 : 1)}`,
    );
  }
  const mask = shiftRight(size1 - 1, shift);
  const hash1 = chainBorderRight(chainInnerRight(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!equal(hash1, root1)) return no(`the proof does not lead to the root at size ${size1}`);
  const hash2 = chainBorderRight(chainInner(seed, rest.slice(0, inner), mask), rest.slice(inner));
  return equal(hash2, root2) ? OK : no(`the proof does not lead to the root at size ${size2}`);
}

// --- subtree proofs (draft-ietf-plants-merkle-tree-certs): a batch [start, end) as a unit of the log ---

/** A subtree [start, end) is a node of some tree when start is a multiple of BIT_CEIL(end − start). */
export function isValidSubtree(start: number, end: number): boolean {
  if (!isSize(start) || !isSize(end) || start > end) return false;
  if (start === 0 || start === end) return true;
  return start % bitCeil(end - start) === 0;
}

/** Checks that the leaf with `leafHash` is at `index` of the subtree [start, end) whose hash is `root`. */
export function verifySubtreeInclusion(
  index: number,
  start: number,
  end: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): Verdict {
  if (!isValidSubtree(start, end)) return no(`[${start}, ${end}) is not a subtree`);
  if (!isSize(index) || index < start || index >= end) {
    return no(`index ${index} is outside the subtree [${start}, ${end})`);
  }
  return verifyInclusion(index - start, end - start, leafHash, proof, root);
}

/**
 * Checks that the subtree [start, end) with hash `subtreeHash` sits at those positions in the tree of `size`
 * leaves whose root is `root` (the draft's "Verifying a Subtree Consistency Proof"). An empty subtree is
 * consistent with any tree at least that long, with the empty hash and an empty proof.
 */
export function verifySubtreeConsistency(
  start: number,
  end: number,
  size: number,
  proof: readonly Uint8Array[],
  subtreeHash: Uint8Array,
  root: Uint8Array,
): Verdict {
  if (!isValidSubtree(start, end)) return no(`[${start}, ${end}) is not a subtree`);
  if (!isSize(size) || end > size) return no(`the subtree [${start}, ${end}) ends beyond the size ${size}`);
  if (start === end) {
    if (proof.length > 0) return no('an empty subtree needs an empty proof');
    return equal(subtreeHash, EMPTY_ROOT) ? OK : no('an empty subtree hashes to the empty root');
  }
  const problem = proofProblem(proof);
  if (problem !== undefined) return no(problem);
  // fn, sn, tn: the paths to the subtree's first leaf, its last leaf, and the tree's last leaf; moving up
  // a level drops their lowest bit.
  let fn = start;
  let sn = end - 1;
  let tn = size - 1;
  const up = (): void => {
    fn = shiftRight(fn, 1);
    sn = shiftRight(sn, 1);
    tn = shiftRight(tn, 1);
  };
  if (sn === tn) {
    while (fn !== sn) up();
  } else {
    while (fn !== sn && isOdd(sn)) up();
  }
  let rest = proof;
  let fr: Buffer;
  let sr: Buffer;
  if (fn === sn) {
    fr = Buffer.from(subtreeHash);
    sr = Buffer.from(subtreeHash);
  } else {
    const first = proof[0];
    if (first === undefined) return no('an empty proof for a subtree that is not a node of the tree');
    fr = Buffer.from(first);
    sr = Buffer.from(first);
    rest = proof.slice(1);
  }
  for (const sibling of rest) {
    if (tn === 0) return no('the proof is longer than the path to the root');
    if (isOdd(sn) || sn === tn) {
      if (fn < sn) fr = hashChildren(sibling, fr);
      sr = hashChildren(sibling, sr);
      while (!isOdd(sn)) up();
    } else {
      sr = hashChildren(sr, sibling);
    }
    up();
  }
  if (tn !== 0) return no('the proof is shorter than the path to the root');
  if (!equal(fr, subtreeHash)) return no(`the proof does not lead to the subtree hash of [${start}, ${end})`);
  return equal(sr, root) ? OK : no(`the proof does not lead to the root at size ${size}`);
}
