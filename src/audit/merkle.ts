/**
 * A Merkle tree over the audit log, in the manner of RFC 6962 §2.1 (pure: no I/O). Leaf i is the
 * hash stored with audit entry seq = i + 1 (its 32 bytes); leaves are hashed with a 0x00 prefix and
 * interior nodes with 0x01, so a leaf can never pass for a node. A tree of n leaves splits at the
 * largest power of two below n, so every left subtree is perfect and aligned.
 *
 * Proofs are described first as the leaf ranges whose subtree hashes they carry (`…Ranges`), so a
 * caller holding the leaves somewhere slow (the store) can compute each range's hash as it likes;
 * `…Proof` functions do it over an in-memory hash function.
 */
import { createHash } from 'node:crypto';

export const HASH_BYTES = 32;

/** [start, end): leaf indexes, 0-based. */
export type LeafRange = readonly [number, number];

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = sha256();

/** A leaf's hash from an audit entry's stored hash (64 hex digits). */
export function leafHash(entryHashHex: string): Buffer {
  return sha256(LEAF_PREFIX, fromHex(entryHashHex, 'leaf'));
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(NODE_PREFIX, left, right);
}

export function fromHex(hex: string, what = 'hash'): Buffer {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${what} must be 64 lower-case hex digits`);
  return Buffer.from(hex, 'hex');
}

/** The largest power of two strictly below n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * The aligned perfect subtrees (level = log2 of their leaf count, index among that level's
 * subtrees) whose hashes, folded from the right, give the hash of `range` in the RFC's shape. Every
 * range a proof names starts on a multiple of its largest piece, so this is exact for them.
 */
export function perfectPieces(range: LeafRange): { level: number; index: number }[] {
  const pieces: { level: number; index: number }[] = [];
  let [start] = range;
  const [, end] = range;
  while (start < end) {
    const n = end - start;
    const size = isPowerOfTwo(n) ? n : splitPoint(n);
    if (start % size !== 0) throw new Error(`range [${range[0]}, ${end}) is not aligned`);
    pieces.push({ level: Math.log2(size), index: start / size });
    start += size;
  }
  return pieces;
}

/** Fold piece hashes (left to right, as `perfectPieces` gives them) into the range's hash. */
export function foldPieces(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return EMPTY_ROOT;
  let acc: Buffer = Buffer.from(hashes[hashes.length - 1]!);
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

/** The audit path for leaf `index` in the tree of the first `size` leaves (RFC 6962 PATH). */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  checkSize(size);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  }
  const out: LeafRange[] = [];
  // Walk down from the root, noting the sibling at each level; the path lists them bottom-up.
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo += k;
    }
  }
  return out.reverse();
}

/**
 * The proof that the tree of the first `from` leaves is a prefix of the tree of the first `to`
 * (RFC 6962 SUBPROOF). Empty when from is 0 or equals to: there is nothing to show.
 */
export function consistencyProofRanges(from: number, to: number): LeafRange[] {
  checkSize(from);
  checkSize(to);
  if (from > to) throw new RangeError(`a tree of ${from} cannot be a prefix of one of ${to}`);
  if (from === 0 || from === to) return [];
  const out: LeafRange[] = [];
  let lo = 0;
  let hi = to;
  let m = from;
  // `whole`: the subtree being split is exactly the old tree's (its hash is known to the verifier).
  let whole = true;
  while (m !== hi - lo) {
    const k = splitPoint(hi - lo);
    if (m <= k) {
      out.push([lo + k, hi]);
      hi = lo + k;
    } else {
      out.push([lo, lo + k]);
      lo += k;
      m -= k;
      whole = false;
    }
  }
  if (!whole) out.push([lo, hi]);
  return out.reverse();
}

function checkSize(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`tree size ${n} is not a whole number`);
}

/** A proof over leaves held in memory (`leaves` are leaf hashes, already prefixed). */
export function rangeHash(leaves: readonly Uint8Array[], range: LeafRange): Buffer {
  const [start, end] = range;
  if (end - start === 0) return EMPTY_ROOT;
  if (end - start === 1) return Buffer.from(leaves[start]!);
  const k = splitPoint(end - start);
  return nodeHash(rangeHash(leaves, [start, start + k]), rangeHash(leaves, [start + k, end]));
}

export function rootOf(leaves: readonly Uint8Array[]): Buffer {
  return rangeHash(leaves, [0, leaves.length]);
}

export function inclusionProof(leaves: readonly Uint8Array[], index: number, size: number): Buffer[] {
  return inclusionProofRanges(index, size).map((r) => rangeHash(leaves, r));
}

export function consistencyProof(leaves: readonly Uint8Array[], from: number, to: number): Buffer[] {
  return consistencyProofRanges(from, to).map((r) => rangeHash(leaves, r));
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
const half = (x: number) => Math.floor(x / 2);
const odd = (x: number) => x % 2 === 1;

/** Does `proof` show leaf `leaf` (already prefixed) at `index` in the tree of `size` with `root`? */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  // fn: the node's index at the current level; sn: the last index at that level.
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false; // more proof than there are levels
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      // A right-edge node with no sibling at this level moves up without hashing.
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && same(r, root);
}

/** Does `proof` show that the tree (`from`, `fromRoot`) is a prefix of (`to`, `toRoot`)? */
export function verifyConsistency(
  from: number,
  to: number,
  fromRoot: Uint8Array,
  toRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) return false;
  if (from === to) return proof.length === 0 && same(fromRoot, toRoot);
  if (from === 0) return proof.length === 0 && same(fromRoot, EMPTY_ROOT);
  // When the old tree is a perfect left subtree of the new one, its root is the proof's first step.
  const path = isPowerOfTwo(from) ? [fromRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = from - 1;
  let sn = to - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && same(fr, fromRoot) && same(sr, toRoot);
}

/**
 * The right edge of a growing tree: the hashes of its perfect subtrees, largest first (one per set
 * bit of the size). Adding a leaf costs O(log n) amortised O(1); the root costs O(log n). `onNode`
 * hears of every perfect subtree completed above the leaves, so a caller can keep them for proofs.
 */
export class MerkleFrontier {
  #size: number;
  #hashes: Buffer[];

  constructor(size = 0, hashes: readonly Uint8Array[] = []) {
    checkSize(size);
    const expected = size.toString(2).replace(/0/g, '').length;
    if (hashes.length !== (size === 0 ? 0 : expected)) {
      throw new Error(`a frontier of a tree of ${size} holds ${expected} hashes, not ${hashes.length}`);
    }
    this.#size = size;
    this.#hashes = hashes.map((h) => Buffer.from(h));
  }

  get size(): number {
    return this.#size;
  }

  /** The subtree hashes, largest (leftmost) first. */
  get hashes(): readonly Buffer[] {
    return this.#hashes;
  }

  push(leaf: Uint8Array, onNode?: (level: number, index: number, hash: Buffer) => void): void {
    let h: Buffer = Buffer.from(leaf);
    let level = 0;
    let index = this.#size;
    // Each trailing 1 bit of the old size is a perfect subtree the new leaf completes a partner for.
    let n = this.#size;
    while (odd(n)) {
      h = nodeHash(this.#hashes.pop()!, h);
      level++;
      index = half(index);
      onNode?.(level, index, h);
      n = half(n);
    }
    this.#hashes.push(h);
    this.#size++;
  }

  root(): Buffer {
    return foldPieces(this.#hashes);
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.#size, this.#hashes);
  }
}
