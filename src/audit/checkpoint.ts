/**
 * Signed checkpoints over the audit log (signed tree heads, after RFC 6962 §3.5): a tree size, the
 * Merkle root of the first that many entries (src/audit/merkle.ts), when it was published, and an
 * Ed25519 signature over the three. A monitor that keeps one can later ask for a consistency proof
 * from it to the current checkpoint: entries cut off the end, or any of its entries rewritten
 * (even re-chained with the head moved to match), and the proof cannot be made.
 *
 * Cost. Each checkpoint keeps the tree's right edge (log2 n hashes), so the next one folds in only
 * the entries since: O(new entries + log n). Perfect subtrees of 2^8 leaves and more are stored as
 * they complete, so a proof reads O(log n) of them plus at most a few 256-leaf runs of the log
 * (and, for a tree larger than the latest checkpoint, the entries since it).
 *
 * The signing key: CPIS_CHECKPOINT_KEY_FILE (PEM, PKCS#8 Ed25519) when set; otherwise in demo mode a
 * key kept in the data directory, created on first use; otherwise (production without one) none.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Config } from '../config.ts';
import { invalidValue } from '../domain/outcomes.ts';
import type { Job } from '../scheduler.ts';
import { type Executor, transact } from '../store/db.ts';
import { readOrCreateKeyFile } from '../store/key-file.ts';
import { entryHash, GENESIS_HASH } from './log.ts';
import {
  consistencyProofRanges,
  foldPieces,
  fromHex,
  inclusionProofRanges,
  type LeafRange,
  leafHash,
  MerkleFrontier,
  nodeHash,
  perfectPieces,
} from './merkle.ts';
import { auditPage, rowToEntry } from './verify.ts';

export const CHECKPOINT_ORIGIN = 'open-cpis/audit-log';
/** Perfect subtrees at this level (256 leaves) and above are kept in audit_merkle_node. */
export const STORED_LEVEL = 8;
/** How often the scheduler publishes one, if the log has grown (by the service clock). */
export const CHECKPOINT_INTERVAL_MS = 5 * 60_000;
const PAGE = 2000;
// Serialises publishers (processes sharing one PostgreSQL); an arbitrary constant of this feature.
const PUBLISH_LOCK = 6962_0001;

export interface SignedCheckpoint {
  origin: string;
  treeSize: number;
  /** Merkle root of the first treeSize entries (hex). */
  rootHash: string;
  /** When it was published, by the service clock (ISO 8601). */
  timestamp: string;
  /** SHA-256 of the public key's SubjectPublicKeyInfo (hex). */
  keyId: string;
  /** Ed25519 over `checkpointMessage` (base64). */
  signature: string;
}

export interface CheckpointPublicKey {
  keyId: string;
  algorithm: 'Ed25519';
  jwk: JsonWebKey;
  pem: string;
}

/** The bytes signed: one field a line, so no two checkpoints share a message. */
export function checkpointMessage(cp: Pick<SignedCheckpoint, 'treeSize' | 'rootHash' | 'timestamp'>): Buffer {
  return Buffer.from(`${CHECKPOINT_ORIGIN}\n${cp.treeSize}\n${cp.rootHash}\n${cp.timestamp}\n`, 'utf8');
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** A public key from what `GET /admin/v1/audit/checkpoint/public-key` gives (its JWK or PEM). */
export function importPublicKey(key: { jwk?: JsonWebKey; pem?: string }): KeyObject {
  const k = key.jwk ? createPublicKey({ key: key.jwk, format: 'jwk' }) : createPublicKey(key.pem ?? '');
  if (k.asymmetricKeyType !== 'ed25519') throw new Error('the checkpoint key is not an Ed25519 key');
  return k;
}

/** Is this checkpoint signed by this key, and well formed? Never throws. */
export function verifyCheckpoint(cp: SignedCheckpoint, publicKey: KeyObject): boolean {
  try {
    if (cp.origin !== CHECKPOINT_ORIGIN || cp.keyId !== keyIdOf(publicKey)) return false;
    if (!Number.isSafeInteger(cp.treeSize) || cp.treeSize < 0) return false;
    if (!/^[0-9a-f]{64}$/.test(cp.rootHash) || Number.isNaN(Date.parse(cp.timestamp))) return false;
    return verify(null, checkpointMessage(cp), publicKey, Buffer.from(cp.signature, 'base64'));
  } catch {
    return false;
  }
}

export class CheckpointSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;

  private constructor(private readonly privateKey: KeyObject) {
    if (privateKey.asymmetricKeyType !== 'ed25519') {
      throw new Error('the audit checkpoint key must be an Ed25519 private key');
    }
    this.publicKey = createPublicKey(privateKey);
    this.keyId = keyIdOf(this.publicKey);
  }

  static fromPem(pem: string): CheckpointSigner {
    return new CheckpointSigner(createPrivateKey(pem));
  }

  /** A key that lives only in memory (tests). */
  static ephemeral(): CheckpointSigner {
    return new CheckpointSigner(generateKeyPairSync('ed25519').privateKey);
  }

  /** Demo mode: `<dataDir>/keys/audit-checkpoint-key.pem`, created on first use (owner-only). */
  static openDataDir(dataDir: string): CheckpointSigner {
    return CheckpointSigner.fromPem(
      readOrCreateKeyFile(join(dataDir, 'keys', 'audit-checkpoint-key.pem'), () =>
        generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      ),
    );
  }

  /** The configured key, the demo key, or null (production without CPIS_CHECKPOINT_KEY_FILE). */
  static forConfig(config: Pick<Config, 'mode' | 'dataDir' | 'checkpointKeyFile'>): CheckpointSigner | null {
    if (config.checkpointKeyFile) {
      try {
        return CheckpointSigner.fromPem(readFileSync(config.checkpointKeyFile, 'utf8'));
      } catch (err) {
        throw new Error(`configuration: CPIS_CHECKPOINT_KEY_FILE cannot be used: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    return config.mode === 'demo' ? CheckpointSigner.openDataDir(config.dataDir) : null;
  }

  sign(treeSize: number, rootHash: string, at: Date): SignedCheckpoint {
    const unsigned = { treeSize, rootHash, timestamp: at.toISOString() };
    const signature = sign(null, checkpointMessage(unsigned), this.privateKey).toString('base64');
    return { origin: CHECKPOINT_ORIGIN, ...unsigned, keyId: this.keyId, signature };
  }

  publicKeyInfo(): CheckpointPublicKey {
    return {
      keyId: this.keyId,
      algorithm: 'Ed25519',
      jwk: this.publicKey.export({ format: 'jwk' }),
      pem: this.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    };
  }
}

/** What a checkpoint cannot be built over: the log is not what earlier checkpoints said it was. */
export class AuditLogTamperedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditLogTamperedError';
  }
}

type CheckpointRow = {
  tree_size: number | string;
  root_hash: string;
  published_at: Date;
  key_id: string;
  signature: string;
};

export function rowToCheckpoint(row: CheckpointRow): SignedCheckpoint {
  return {
    origin: CHECKPOINT_ORIGIN,
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    timestamp: row.published_at.toISOString(),
    keyId: row.key_id,
    signature: row.signature,
  };
}

export async function latestCheckpoint(db: Executor): Promise<SignedCheckpoint | null> {
  const row = await db
    .selectFrom('audit_checkpoint')
    .select(['tree_size', 'root_hash', 'published_at', 'key_id', 'signature'])
    .orderBy('tree_size', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? rowToCheckpoint(row) : null;
}

/**
 * Publish a checkpoint over the log as it is now, if it has grown since the latest one (and, with
 * `minIntervalMs`, that one is at least that old). Returns the latest checkpoint either way. The
 * entries folded in are checked against the chain first: a checkpoint never signs a broken log.
 */
export async function publishCheckpoint(
  db: Executor,
  signer: CheckpointSigner,
  now: Date,
  opts: { minIntervalMs?: number } = {},
): Promise<{ checkpoint: SignedCheckpoint; published: boolean }> {
  return transact(db, async (trx) => {
    await sql`select pg_advisory_xact_lock(${PUBLISH_LOCK})`.execute(trx);
    const last = await trx
      .selectFrom('audit_checkpoint')
      .selectAll()
      .orderBy('tree_size', 'desc')
      .limit(1)
      .executeTakeFirst();
    const head = await trx
      .selectFrom('audit_head')
      .select(['seq'])
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    const headSeq = Number(head.seq);
    const from = last ? Number(last.tree_size) : 0;
    if (headSeq < from) {
      throw new AuditLogTamperedError(
        `the audit log's head is entry ${headSeq} but a checkpoint published ${last!.published_at.toISOString()} ` +
          `covers ${from} entries: entries ${headSeq + 1} to ${from} were cut off`,
      );
    }
    const unchanged = (cp: SignedCheckpoint) => ({ checkpoint: cp, published: false });
    if (last && headSeq === from) return unchanged(rowToCheckpoint(last));
    if (last && opts.minIntervalMs && now.getTime() - last.published_at.getTime() < opts.minIntervalMs) {
      return unchanged(rowToCheckpoint(last));
    }

    const frontier = last
      ? new MerkleFrontier(
          from,
          (last.frontier as string[]).map((h) => fromHex(h, 'frontier hash')),
        )
      : new MerkleFrontier();
    if (last && frontier.root().toString('hex') !== last.root_hash) {
      throw new AuditLogTamperedError(`the right edge kept with checkpoint ${from} does not give its root`);
    }
    let prevHash = GENESIS_HASH;
    if (from > 0) {
      const prev = await trx
        .selectFrom('audit_log')
        .select('hash')
        .where('seq', '=', from)
        .executeTakeFirst();
      if (!prev) throw new AuditLogTamperedError(`entry ${from}, the last one checkpointed, is missing`);
      prevHash = prev.hash;
    }
    const nodes: { level: number; idx: number; hash: string }[] = [];
    let expected = from + 1;
    while (expected <= headSeq) {
      const rows = await auditPage(trx, expected, headSeq, PAGE);
      for (const row of rows) {
        const seq = Number(row.seq);
        if (seq !== expected) throw new AuditLogTamperedError(`entry ${expected} is missing`);
        if (row.prev_hash !== prevHash || entryHash(prevHash, rowToEntry(row)) !== row.hash) {
          throw new AuditLogTamperedError(`entry ${seq} does not chain from entry ${seq - 1}`);
        }
        frontier.push(leafHash(row.hash), (level, idx, h) => {
          if (level >= STORED_LEVEL) nodes.push({ level, idx, hash: h.toString('hex') });
        });
        prevHash = row.hash;
        expected++;
      }
      if (rows.length === 0) throw new AuditLogTamperedError(`entries ${expected} to ${headSeq} are missing`);
    }
    if (nodes.length) {
      // Nodes left by a checkpoint since deleted must be what this log gives now.
      const existing = await trx
        .selectFrom('audit_merkle_node')
        .select(['level', 'idx', 'hash'])
        .where(
          sql<boolean>`(level, idx) in (${sql.join(nodes.map((n) => sql`(${n.level}::smallint, ${n.idx}::bigint)`))})`,
        )
        .execute();
      const known = new Map(existing.map((e) => [`${e.level}/${e.idx}`, e.hash]));
      for (const n of nodes) {
        const had = known.get(`${n.level}/${n.idx}`);
        if (had !== undefined && had !== n.hash) {
          throw new AuditLogTamperedError(
            `entries ${n.idx * 2 ** n.level + 1} to ${(n.idx + 1) * 2 ** n.level} no longer hash to the subtree ` +
              'stored for them: they were rewritten',
          );
        }
      }
      const missing = nodes.filter((n) => !known.has(`${n.level}/${n.idx}`));
      if (missing.length) await trx.insertInto('audit_merkle_node').values(missing).execute();
    }
    const cp = signer.sign(headSeq, frontier.root().toString('hex'), now);
    await trx
      .insertInto('audit_checkpoint')
      .values({
        tree_size: cp.treeSize,
        root_hash: cp.rootHash,
        published_at: now,
        key_id: cp.keyId,
        signature: cp.signature,
        frontier: JSON.stringify(frontier.hashes.map((h) => h.toString('hex'))),
      })
      .execute();
    return { checkpoint: cp, published: true };
  });
}

/** The scheduler's job: a checkpoint whenever the log has grown, at most every `intervalMs`. */
export function checkpointJob(
  db: Executor,
  signer: CheckpointSigner,
  intervalMs = CHECKPOINT_INTERVAL_MS,
): Job {
  return {
    name: 'audit-checkpoint',
    async run(now) {
      // Most ticks find nothing new: two plain reads say so without opening a write transaction.
      const head = await db
        .selectFrom('audit_head')
        .select('seq')
        .where('id', '=', 1)
        .executeTakeFirstOrThrow();
      const last = await db
        .selectFrom('audit_checkpoint')
        .select(['tree_size', 'published_at'])
        .orderBy('tree_size', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (Number(head.seq) === Number(last?.tree_size ?? 0)) return null;
      if (last && now.getTime() - last.published_at.getTime() < intervalMs) return null;
      const r = await publishCheckpoint(db, signer, now, { minIntervalMs: intervalMs });
      return r.published ? { treeSize: r.checkpoint.treeSize, rootHash: r.checkpoint.rootHash } : null;
    },
  };
}

/** The hashes of subtrees of the log, from stored nodes where there are some and entries elsewhere. */
class SubtreeReader {
  #memo = new Map<string, Buffer>();
  #blocks = new Map<number, Buffer[]>();

  constructor(
    private readonly db: Executor,
    /** Entries beyond this are never read (the proof's tree size). */
    private readonly size: number,
  ) {}

  async range(range: LeafRange): Promise<Buffer> {
    const pieces: Buffer[] = [];
    for (const p of perfectPieces(range)) pieces.push(await this.perfect(p.level, p.index));
    return foldPieces(pieces);
  }

  async perfect(level: number, index: number): Promise<Buffer> {
    const key = `${level}/${index}`;
    const memo = this.#memo.get(key);
    if (memo) return memo;
    let h: Buffer;
    if (level < STORED_LEVEL) {
      const width = 2 ** level;
      const start = index * width;
      const leaves = await this.block(Math.floor(start / 2 ** STORED_LEVEL));
      const offset = start % 2 ** STORED_LEVEL;
      const slice = leaves.slice(offset, offset + width);
      if (slice.length !== width) throw new Error(`leaves ${start} to ${start + width} are past the tree`);
      h = foldPerfect(slice);
    } else {
      const row = await this.db
        .selectFrom('audit_merkle_node')
        .select('hash')
        .where('level', '=', level)
        .where('idx', '=', index)
        .executeTakeFirst();
      h = row
        ? fromHex(row.hash, 'stored subtree hash')
        : nodeHash(await this.perfect(level - 1, 2 * index), await this.perfect(level - 1, 2 * index + 1));
    }
    this.#memo.set(key, h);
    return h;
  }

  /** The leaf hashes of one run of 256 entries (fewer at the tree's end). */
  private async block(b: number): Promise<Buffer[]> {
    const had = this.#blocks.get(b);
    if (had) return had;
    const first = b * 2 ** STORED_LEVEL + 1;
    const last = Math.min((b + 1) * 2 ** STORED_LEVEL, this.size);
    const rows = await this.db
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .where('seq', '>=', first)
      .where('seq', '<=', last)
      .orderBy('seq')
      .execute();
    rows.forEach((r, i) => {
      if (Number(r.seq) !== first + i) throw new AuditLogTamperedError(`entry ${first + i} is missing`);
    });
    if (rows.length !== last - first + 1)
      throw new AuditLogTamperedError(`entries up to ${last} are missing`);
    const leaves = rows.map((r) => leafHash(r.hash));
    this.#blocks.set(b, leaves);
    return leaves;
  }
}

function foldPerfect(leaves: Buffer[]): Buffer {
  let level = leaves;
  while (level.length > 1) {
    const up: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!));
    level = up;
  }
  return level[0]!;
}

async function logSize(db: Executor): Promise<number> {
  const head = await db.selectFrom('audit_head').select('seq').where('id', '=', 1).executeTakeFirstOrThrow();
  return Number(head.seq);
}

/**
 * Entry `seq`'s hash and audit path in the tree of the first `treeSize` entries, for a monitor.
 * A size beyond the log is a bad request (naming the field); a missing entry is tampering.
 */
export async function proveInclusion(
  db: Executor,
  seq: number,
  treeSize: number,
): Promise<{ seq: number; treeSize: number; leafIndex: number; entryHash: string; proof: string[] }> {
  if (seq > treeSize)
    throw invalidValue('seq', `seq must be within the tree: at most treeSize (${treeSize})`);
  const size = await logSize(db);
  if (treeSize > size)
    throw invalidValue('treeSize', `treeSize must be at most the log's size (${size} entries)`);
  const entry = await db.selectFrom('audit_log').select('hash').where('seq', '=', seq).executeTakeFirst();
  if (!entry) throw new AuditLogTamperedError(`entry ${seq} is missing`);
  const proof = await inclusionProofFor(db, seq, treeSize);
  return { seq, treeSize, leafIndex: seq - 1, entryHash: entry.hash, proof };
}

/** The proof that the first `from` entries' tree is a prefix of the first `to` entries', for a monitor. */
export async function proveConsistency(
  db: Executor,
  from: number,
  to: number,
): Promise<{ from: number; to: number; proof: string[] }> {
  if (from > to) throw invalidValue('from', `from must be at most to (${to})`);
  const size = await logSize(db);
  if (to > size) throw invalidValue('to', `to must be at most the log's size (${size} entries)`);
  return { from, to, proof: await consistencyProofFor(db, from, to) };
}

/** The audit path for entry `seq` in the tree of the first `treeSize` entries (hex, bottom up). */
export async function inclusionProofFor(db: Executor, seq: number, treeSize: number): Promise<string[]> {
  const reader = new SubtreeReader(db, treeSize);
  const out: string[] = [];
  for (const r of inclusionProofRanges(seq - 1, treeSize)) out.push((await reader.range(r)).toString('hex'));
  return out;
}

/** The proof that the first `from` entries' tree is a prefix of the first `to` entries' (hex). */
export async function consistencyProofFor(db: Executor, from: number, to: number): Promise<string[]> {
  const reader = new SubtreeReader(db, to);
  const out: string[] = [];
  for (const r of consistencyProofRanges(from, to)) out.push((await reader.range(r)).toString('hex'));
  return out;
}
