/**
 * Checking the audit trail: re-walk the hash chain from the first entry to the head and report the
 * first entry that was altered, removed or put out of order — or that all is well, with the count
 * and the head hash (which an operator can note down elsewhere: a chain proves nothing was changed
 * in the middle, and a head hash recorded outside the database also proves nothing was cut off the
 * end). PGlite cannot stream a result, so entries are read a page at a time with a keyset on seq;
 * other requests run between pages.
 *
 * The same walk rebuilds the Merkle tree over the entries and checks it against every published
 * checkpoint (src/audit/checkpoint.ts): a log cut below a checkpoint's size (head rewritten to
 * match), or whose first N entries no longer give checkpoint N's root (rewritten and re-chained),
 * or a checkpoint whose signature fails, is reported too. That needs the checkpoint table to
 * survive; a monitor's saved checkpoint (`cpis audit verify --checkpoint`) does not.
 */
import type { KeyObject } from 'node:crypto';
import { type AuditEntry, appendAudit, entryHash, GENESIS_HASH } from '../audit/log.ts';
import { auditActor, type Principal } from '../auth/principal.ts';
import type { Clock } from '../domain/clock.ts';
import { type Executor, transact } from '../store/db.ts';
import type { AuditLogTable } from '../store/schema.ts';
import { rowToCheckpoint, type SignedCheckpoint, verifyCheckpoint } from './checkpoint.ts';
import { leafHash, MerkleFrontier } from './merkle.ts';

export type ChainProblem =
  | 'altered'
  | 'missing'
  | 'broken-link'
  | 'head-mismatch'
  /** The log ends before a published checkpoint's size. */
  | 'truncated'
  /** The first N entries no longer give published checkpoint N's root. */
  | 'rewritten'
  /** A stored checkpoint's signature does not verify under the service's key. */
  | 'bad-signature';

export interface CheckpointsChecked {
  /** Published checkpoints found, all matching the log. */
  checked: number;
  /** Whether their signatures were checked (not when the service has no checkpoint key). */
  signaturesChecked: boolean;
  latest: { treeSize: number; rootHash: string; timestamp: string } | null;
}

export type VerifyResult =
  | { ok: true; entries: number; headSeq: number; headHash: string; checkpoints: CheckpointsChecked }
  | {
      ok: false;
      /** The first entry at fault. */
      seq: number;
      problem: ChainProblem;
      message: string;
      /** Entries found intact before it. */
      entriesChecked: number;
      headSeq: number;
      /** The published checkpoint the log disagrees with, for the checkpoint problems. */
      checkpoint?: { treeSize: number; timestamp: string };
    };

export function rowToEntry(row: AuditLogTable): AuditEntry {
  return {
    seq: Number(row.seq),
    recordedAt: row.recorded_at,
    category: row.category,
    action: row.action,
    outcome: row.outcome,
    actor: row.actor,
    nhsNumber: row.nhs_number,
    detail: row.detail,
  };
}

/** Up to `limit` entries from `from` to `to` (by seq), in order: a page of a walk along the chain. */
export function auditPage(db: Executor, from: number, to: number, limit: number): Promise<AuditLogTable[]> {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('seq', '>=', from)
    .where('seq', '<=', to)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

export async function verifyAuditChain(
  db: Executor,
  opts: { pageSize?: number; checkpointKey?: KeyObject | null } = {},
): Promise<VerifyResult> {
  const pageSize = opts.pageSize ?? 2000;
  const key = opts.checkpointKey ?? null;
  // The latest checkpoint, read before the head: one published since cannot pass for a cut.
  const latestRow = await db
    .selectFrom('audit_checkpoint')
    .select(['tree_size', 'root_hash', 'published_at', 'key_id', 'signature'])
    .orderBy('tree_size', 'desc')
    .limit(1)
    .executeTakeFirst();
  const latest = latestRow ? rowToCheckpoint(latestRow) : null;
  // Entries up to the head as it is now; anything appended while we walk is left for next time.
  const head = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  const headSeq = Number(head.seq);
  // Checkpoints up to the head, a page at a time in size order, as the walk reaches their sizes.
  let cpPage: SignedCheckpoint[] = [];
  let cpAt = 0;
  let cpAfter = -1;
  let cpCount = 0;
  let cpExhausted = false;
  let forged: SignedCheckpoint | null = null;
  const peekCheckpoint = async (): Promise<SignedCheckpoint | null> => {
    if (cpAt < cpPage.length) return cpPage[cpAt]!;
    if (cpExhausted) return null;
    const rows = await db
      .selectFrom('audit_checkpoint')
      .select(['tree_size', 'root_hash', 'published_at', 'key_id', 'signature'])
      .where('tree_size', '>', cpAfter)
      .where('tree_size', '<=', headSeq)
      .orderBy('tree_size')
      .limit(pageSize)
      .execute();
    cpPage = rows.map(rowToCheckpoint);
    cpAt = 0;
    cpExhausted = rows.length < pageSize;
    if (cpPage.length === 0) return null;
    cpAfter = cpPage.at(-1)!.treeSize;
    return cpPage[0]!;
  };
  let prevHash = GENESIS_HASH;
  let expected = 1;
  let checked = 0;
  const fail = (
    seq: number,
    problem: ChainProblem,
    message: string,
    cp?: { treeSize: number; timestamp: string },
  ): VerifyResult => ({
    ok: false,
    seq,
    problem,
    message,
    entriesChecked: checked,
    headSeq,
    ...(cp ? { checkpoint: { treeSize: cp.treeSize, timestamp: cp.timestamp } } : {}),
  });
  const tree = new MerkleFrontier();
  let lastMatched = 0;
  // Compare the tree so far with each checkpoint of this size; the first that differs is reported.
  const checkCheckpoints = async (): Promise<VerifyResult | null> => {
    for (let cp = await peekCheckpoint(); cp && cp.treeSize === tree.size; cp = await peekCheckpoint()) {
      cpAt++;
      cpCount++;
      if (tree.root().toString('hex') !== cp.rootHash) {
        return fail(
          lastMatched + 1,
          'rewritten',
          `entries ${lastMatched + 1} to ${cp.treeSize} were rewritten: the first ${cp.treeSize} entries no longer ` +
            `give the root of the checkpoint published ${cp.timestamp}, though they still chain`,
          cp,
        );
      }
      if (key && !forged && !verifyCheckpoint(cp, key)) forged = cp;
      lastMatched = cp.treeSize;
    }
    return null;
  };
  const atStart = await checkCheckpoints();
  if (atStart) return atStart;
  for (;;) {
    const rows = await auditPage(db, expected, headSeq, pageSize);
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expected) {
        const gap = seq - expected === 1 ? `entry ${expected} is` : `entries ${expected} to ${seq - 1} are`;
        return fail(
          expected,
          'missing',
          `${gap} missing: the chain goes from entry ${expected - 1} to entry ${seq}`,
        );
      }
      if (row.prev_hash !== prevHash) {
        return fail(
          seq,
          'broken-link',
          `entry ${seq} does not follow entry ${seq - 1}: its prev_hash is not that entry's hash ` +
            '(entries were reordered or replaced, or the one before was altered and re-hashed)',
        );
      }
      if (entryHash(prevHash, rowToEntry(row)) !== row.hash) {
        return fail(seq, 'altered', `entry ${seq} was altered: its content no longer matches its hash`);
      }
      prevHash = row.hash;
      expected++;
      checked++;
      tree.push(leafHash(row.hash));
      const mismatch = await checkCheckpoints();
      if (mismatch) return mismatch;
    }
    if (rows.length < pageSize) break;
  }
  if (expected - 1 !== headSeq) {
    return fail(
      expected,
      'missing',
      `entries ${expected} to ${headSeq} are missing: the chain ends at entry ${expected - 1} but its head is ${headSeq}`,
    );
  }
  if (prevHash !== head.hash) {
    return fail(headSeq, 'head-mismatch', `the chain head's hash does not match entry ${headSeq}`);
  }
  // The largest checkpoint says how much was cut.
  if (latest && latest.treeSize > headSeq) {
    return fail(
      headSeq + 1,
      'truncated',
      `entries ${headSeq + 1} to ${latest.treeSize} were cut off: the log ends at entry ${headSeq} but the ` +
        `checkpoint published ${latest.timestamp} covers ${latest.treeSize} entries`,
      latest,
    );
  }
  if (forged) {
    const cp: SignedCheckpoint = forged;
    return fail(
      cp.treeSize,
      'bad-signature',
      `the checkpoint of ${cp.treeSize} entries published ${cp.timestamp} is not signed by the service's ` +
        'checkpoint key',
      cp,
    );
  }
  return {
    ok: true,
    entries: checked,
    headSeq,
    headHash: head.hash,
    checkpoints: {
      checked: cpCount,
      signaturesChecked: key !== null,
      latest: latest
        ? { treeSize: latest.treeSize, rootHash: latest.rootHash, timestamp: latest.timestamp }
        : null,
    },
  };
}

/** Record in the trail itself that someone verified or exported it. */
export async function auditTrailAccess(
  db: Executor,
  clock: Clock,
  who: Principal,
  action: 'audit.verify' | 'audit.export' | 'audit.checkpoint' | 'audit.proof',
  detail: Record<string, unknown>,
): Promise<void> {
  const now = clock.now();
  await transact(db, (trx) =>
    appendAudit(trx, now, [
      { category: 'admin', action, outcome: 'success', actor: auditActor(who), detail },
    ]),
  );
}
