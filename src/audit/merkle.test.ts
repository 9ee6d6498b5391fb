/**
 * The Merkle tree against RFC 6962's definitions written out naively here (array slices and
 * recursion, straight from §2.1), the published 8-leaf known answers, and properties: every proof
 * the module makes verifies, and any change to a leaf, a proof step, an index or a size does not.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_ROOT,
  foldPieces,
  inclusionProof,
  leafHash,
  MerkleFrontier,
  nodeHash,
  perfectPieces,
  rangeHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

// RFC 6962 §2.1, word for word as recursion over slices.
function naiveMth(d: Buffer[]): Buffer {
  if (d.length === 0) return sha();
  if (d.length === 1) return d[0]!;
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return sha(Buffer.from([1]), naiveMth(d.slice(0, k)), naiveMth(d.slice(k)));
}
function naivePath(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m < k
    ? [...naivePath(m, d.slice(0, k)), naiveMth(d.slice(k))]
    : [...naivePath(m - k, d.slice(k)), naiveMth(d.slice(0, k))];
}
function naiveSubproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [naiveMth(d)];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m <= k
    ? [...naiveSubproof(m, d.slice(0, k), b), naiveMth(d.slice(k))]
    : [...naiveSubproof(m - k, d.slice(k), false), naiveMth(d.slice(0, k))];
}

/** n distinct leaves, as audit entries' hashes would give them. */
function leavesOf(n: number, salt = 'x'): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    leafHash(createHash('sha256').update(`${salt}${i}`).digest('hex')),
  );
}

const hex = (b: Buffer) => b.toString('hex');
const flip = (b: Uint8Array, bit = 0) => {
  const c = Buffer.from(b);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

describe('Merkle tree hash', () => {
  it('matches the published RFC 6962 known answers for the 8-leaf test tree', () => {
    const data = [
      '',
      '00',
      '10',
      '2021',
      '3031',
      '40414243',
      '5051525354555657',
      '606162636465666768696a6b6c6d6e6f',
    ];
    const leaves = data.map((d) => sha(Buffer.from([0]), Buffer.from(d, 'hex')));
    expect(hex(rootOf([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(rootOf(leaves.slice(0, 1)))).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(hex(rootOf(leaves.slice(0, 4)))).toBe(
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    );
    expect(hex(rootOf(leaves))).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  });

  it('a leaf is its entry hash behind a 0x00 byte, a node its children behind 0x01', () => {
    const entry = 'ab'.repeat(32);
    expect(leafHash(entry)).toEqual(sha(Buffer.from([0]), Buffer.from(entry, 'hex')));
    const [a, b] = leavesOf(2);
    expect(nodeHash(a!, b!)).toEqual(sha(Buffer.from([1]), a!, b!));
    expect(() => leafHash('not hex')).toThrow(/64 lower-case hex/);
  });

  it('roots, paths and consistency proofs equal the naive definitions for every size up to 40', () => {
    for (let n = 0; n <= 40; n++) {
      const d = leavesOf(n);
      expect(hex(rootOf(d))).toBe(hex(naiveMth(d)));
      for (let m = 0; m < n; m++) expect(inclusionProof(d, m, n).map(hex)).toEqual(naivePath(m, d).map(hex));
      for (let m = 1; m < n; m++) {
        expect(consistencyProof(d, m, n).map(hex)).toEqual(naiveSubproof(m, d, true).map(hex));
      }
    }
  });

  it('the frontier gives the same root as the whole tree, and reports each perfect subtree once', () => {
    const d = leavesOf(70);
    const f = new MerkleFrontier();
    const nodes = new Map<string, string>();
    for (const [i, leaf] of d.entries()) {
      f.push(leaf, (level, index, h) => {
        expect(nodes.has(`${level}/${index}`)).toBe(false);
        nodes.set(`${level}/${index}`, hex(h));
      });
      expect(hex(f.root())).toBe(hex(naiveMth(d.slice(0, i + 1))));
      // Restored from its hashes, a frontier carries on the same.
      const copy = new MerkleFrontier(f.size, f.hashes);
      expect(hex(copy.root())).toBe(hex(f.root()));
    }
    expect(nodes.get('6/0')).toBe(hex(naiveMth(d.slice(0, 64))));
    expect(nodes.get('2/15')).toBe(hex(naiveMth(d.slice(60, 64))));
    // Any range a proof names is the fold of its aligned perfect pieces.
    expect(
      hex(
        foldPieces(
          perfectPieces([64, 70]).map((p) =>
            rangeHash(d, [p.index * 2 ** p.level, (p.index + 1) * 2 ** p.level]),
          ),
        ),
      ),
    ).toBe(hex(naiveMth(d.slice(64, 70))));
    expect(() => new MerkleFrontier(5, [d[0]!])).toThrow(/holds 2 hashes/);
  });

  it('the empty tree is a prefix of every tree', () => {
    const d = leavesOf(5);
    expect(verifyConsistency(0, 5, EMPTY_ROOT, rootOf(d), [])).toBe(true);
    expect(verifyConsistency(0, 5, rootOf(d), rootOf(d), [])).toBe(false);
  });
});

describe('Merkle proofs (properties)', () => {
  const sizeAndLeaf = fc
    .integer({ min: 1, max: 200 })
    .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));

  it('every inclusion proof verifies, for every leaf of every size', () => {
    for (let n = 1; n <= 64; n++) {
      const d = leavesOf(n);
      const root = rootOf(d);
      for (let m = 0; m < n; m++)
        expect(verifyInclusion(d[m]!, m, n, inclusionProof(d, m, n), root)).toBe(true);
    }
    fc.assert(
      fc.property(sizeAndLeaf, ([n, m]) => {
        const d = leavesOf(n, 'p');
        return verifyInclusion(d[m]!, m, n, inclusionProof(d, m, n), rootOf(d));
      }),
    );
  });

  it('an altered leaf, proof step, index or size makes an inclusion proof fail', () => {
    fc.assert(
      fc.property(sizeAndLeaf, fc.nat(), fc.integer({ min: 0, max: 255 }), ([n, m], pick, bit) => {
        const d = leavesOf(n, 'q');
        const root = rootOf(d);
        const proof = inclusionProof(d, m, n);
        expect(verifyInclusion(flip(d[m]!, bit), m, n, proof, root)).toBe(false);
        expect(verifyInclusion(d[m]!, m, n, proof, flip(root, bit))).toBe(false);
        if (proof.length > 0) {
          const i = pick % proof.length;
          const bad = proof.map((p, j) => (j === i ? flip(p, bit) : p));
          expect(verifyInclusion(d[m]!, m, n, bad, root)).toBe(false);
          expect(verifyInclusion(d[m]!, m, n, proof.slice(0, -1), root)).toBe(false);
        }
        expect(verifyInclusion(d[m]!, m, n, [...proof, d[0]!], root)).toBe(false);
        // The same leaf claimed at another place, or in a tree too small to hold it. (A size whose
        // path has the same shape cannot be told apart here: checkpoints bind size and root together.)
        if (n > 1) expect(verifyInclusion(d[m]!, (m + 1 + (pick % (n - 1))) % n, n, proof, root)).toBe(false);
        expect(verifyInclusion(d[m]!, m, m, proof, root)).toBe(false);
      }),
    );
  });

  it('consistency proofs verify for every m <= n', () => {
    for (let n = 1; n <= 48; n++) {
      const d = leavesOf(n);
      for (let m = 0; m <= n; m++) {
        const proof = consistencyProof(d, m, n);
        expect(verifyConsistency(m, n, rootOf(d.slice(0, m)), rootOf(d), proof)).toBe(true);
      }
    }
  });

  it('a rewritten prefix, an altered proof step, or a wrong size makes a consistency proof fail', () => {
    const sizes = fc
      .integer({ min: 2, max: 300 })
      .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n)));
    fc.assert(
      fc.property(sizes, fc.nat(), fc.integer({ min: 0, max: 255 }), ([m, n], pick, bit) => {
        const d = leavesOf(n, 'r');
        const oldRoot = rootOf(d.slice(0, m));
        const newRoot = rootOf(d);
        const proof = consistencyProof(d, m, n);
        expect(verifyConsistency(m, n, oldRoot, newRoot, proof)).toBe(true);
        // Any one of the first m leaves rewritten: the new tree no longer extends the old one.
        const rewritten = d.map((l, i) => (i === pick % m ? flip(l, bit) : l));
        expect(verifyConsistency(m, n, oldRoot, rootOf(rewritten), consistencyProof(rewritten, m, n))).toBe(
          false,
        );
        expect(verifyConsistency(m, n, flip(oldRoot, bit), newRoot, proof)).toBe(false);
        expect(verifyConsistency(m, n, oldRoot, flip(newRoot, bit), proof)).toBe(false);
        if (proof.length > 0) {
          const i = pick % proof.length;
          expect(
            verifyConsistency(
              m,
              n,
              oldRoot,
              newRoot,
              proof.map((p, j) => (j === i ? flip(p, bit) : p)),
            ),
          ).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, newRoot, proof.slice(1))).toBe(false);
        }
        if (m > 1) expect(verifyConsistency(m - 1, n, oldRoot, newRoot, proof)).toBe(false);
        expect(verifyConsistency(n, m, newRoot, oldRoot, proof)).toBe(false);
      }),
    );
  });
});
