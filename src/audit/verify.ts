/**
 * Checking the audit trail: re-walk the hash chain from the first entry to the head and report the
 * first entry that was altered, removed or put out of order — or that all is well, with the count
 * and the head hash (which an operator can note down elsewhere: a chain proves nothing was changed
 * in the middle, and a head hash recorded outside the database also proves nothing was cut off the
 * end). PGlite cannot stream a result, so entries are read a page at a time with a keyset on seq;
 * other requests run between pages.
 */
import { type AuditEntry, appendAudit, entryHash, GENESIS_HASH } from '../audit/log.ts';
import { auditActor, type Principal } from '../auth/principal.ts';
import type { Clock } from '../domain/clock.ts';
import { type Executor, transact } from '../store/db.ts';
import type { AuditLogTable } from '../store/schema.ts';

export type ChainProblem = 'altered' | 'missing' | 'broken-link' | 'head-mismatch';

export type VerifyResult =
  | { ok: true; entries: number; headSeq: number; headHash: string }
  | {
      ok: false;
      /** The first entry at fault. */
      seq: number;
      problem: ChainProblem;
      message: string;
      /** Entries found intact before it. */
      entriesChecked: number;
      headSeq: number;
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

export async function verifyAuditChain(
  db: Executor,
  opts: { pageSize?: number } = {},
): Promise<VerifyResult> {
  const pageSize = opts.pageSize ?? 2000;
  // Entries up to the head as it is now; anything appended while we walk is left for next time.
  const head = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  const headSeq = Number(head.seq);
  let prevHash = GENESIS_HASH;
  let expected = 1;
  let checked = 0;
  const fail = (seq: number, problem: ChainProblem, message: string): VerifyResult => ({
    ok: false,
    seq,
    problem,
    message,
    entriesChecked: checked,
    headSeq,
  });
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', expected)
      .where('seq', '<=', headSeq)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
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
  return { ok: true, entries: checked, headSeq, headHash: head.hash };
}

/** Record in the trail itself that someone verified or exported it. */
export async function auditTrailAccess(
  db: Executor,
  clock: Clock,
  who: Principal,
  action: 'audit.verify' | 'audit.export',
  detail: Record<string, unknown>,
): Promise<void> {
  const now = clock.now();
  await transact(db, (trx) =>
    appendAudit(trx, now, [
      { category: 'admin', action, outcome: 'success', actor: auditActor(who), detail },
    ]),
  );
}
