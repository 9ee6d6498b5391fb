/**
 * Each LA's mailbox (INTERFACE §4): messages are posted inside the transaction that causes them,
 * listed oldest first (at most 500 at a time, as MESH allows), and stay until the LA acknowledges
 * them (at-least-once; the LA de-duplicates by id). An LA only ever sees its own messages: another
 * LA's message id is "not found", never "forbidden", so ids reveal nothing.
 */
import { randomUUID } from 'node:crypto';
import { type Expression, isExpression, sql } from 'kysely';
import { type AuditEntryInput, appendAudit } from '../audit/log.ts';
import type { Executor, Tx } from '../store/db.ts';
import type { MailboxMessageTable } from '../store/schema.ts';

export type MessageType = MailboxMessageTable['type'];
export const MAX_LISTING = 500;

export interface MailboxMessage {
  id: string;
  type: MessageType;
  createdAt: string;
  [field: string]: unknown;
}

export interface MessageSummary {
  id: string;
  type: MessageType;
  createdAt: string;
}

/**
 * Post a message; its body's fields appear beside id, type and createdAt when read. The id may be
 * chosen beforehand (a dispatch marks the notices it delivers with it in the same transaction).
 */
export async function postMessage(
  trx: Tx,
  now: Date,
  laCode: string,
  type: MessageType,
  /**
   * The body; or its JSON already serialised; or an expression reading it from the store (a large
   * acknowledgement is copied from its upload's row, not sent and parsed a second time).
   */
  body: Record<string, unknown> | string | Expression<unknown>,
  id: string = randomUUID(),
): Promise<string> {
  const json = typeof body === 'string' || isExpression(body) ? body : JSON.stringify(body);
  await trx
    .insertInto('mailbox_message')
    .values({ id, la_code: laCode, type, created_at: now, body: json, acknowledged_at: null })
    .execute();
  // An LA with a webhook also gets every message pushed (src/notify/webhook.ts); due at once.
  await sql`insert into webhook_delivery (message_id, la_code, next_attempt_at, created_at)
    select ${id}, la_code, ${now}, ${now} from local_authority where la_code = ${laCode} and webhook_url is not null`.execute(
    trx,
  );
  return id;
}

export async function listMessages(
  db: Executor,
  laCode: string,
  limit = MAX_LISTING,
): Promise<MessageSummary[]> {
  const rows = await db
    .selectFrom('mailbox_message')
    .select(['id', 'type', 'created_at'])
    .where('la_code', '=', laCode)
    .where('acknowledged_at', 'is', null)
    .orderBy('seq')
    .limit(Math.max(1, Math.min(limit, MAX_LISTING)))
    .execute();
  return rows.map((r) => ({ id: r.id, type: r.type, createdAt: r.created_at.toISOString() }));
}

export async function readMessage(db: Executor, laCode: string, id: string): Promise<MailboxMessage | null> {
  if (!isUuid(id)) return null;
  const row = await db
    .selectFrom('mailbox_message')
    .select(['id', 'type', 'created_at', 'body', 'acknowledged_at'])
    .where('id', '=', id)
    .where('la_code', '=', laCode)
    .executeTakeFirst();
  if (!row) return null;
  return {
    ...(row.body as Record<string, unknown>),
    id: row.id,
    type: row.type,
    createdAt: row.created_at.toISOString(),
    acknowledgedAt: row.acknowledged_at?.toISOString() ?? null,
  };
}

/** Acknowledge a message (repeating it is fine). False if the LA has no such message. */
export async function acknowledgeMessage(trx: Tx, now: Date, laCode: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const row = await trx
    .updateTable('mailbox_message')
    .set({ acknowledged_at: now })
    .where('id', '=', id)
    .where('la_code', '=', laCode)
    .where('acknowledged_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (row) return true;
  const exists = await trx
    .selectFrom('mailbox_message')
    .select('id')
    .where('id', '=', id)
    .where('la_code', '=', laCode)
    .executeTakeFirst();
  return !!exists;
}

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}

/** An LA reading one of its messages, audited (messages carry children's details). */
export async function laReadMessage(
  deps: { db: Executor; clock: { now(): Date } },
  laCode: string,
  actor: Record<string, unknown>,
  id: string,
): Promise<MailboxMessage | null> {
  const message = await readMessage(deps.db, laCode, id);
  const now = deps.clock.now();
  // Audited either way: a read of a message not in this LA's mailbox may be a try at another LA's.
  await deps.db.transaction().execute((trx) =>
    appendAudit(trx, now, [
      message
        ? {
            category: 'mailbox',
            action: 'mailbox.read',
            outcome: 'success',
            actor,
            detail: { laCode, messageId: id, type: message.type },
          }
        : notInMailbox('mailbox.read', actor, laCode, id),
    ]),
  );
  return message;
}

function notInMailbox(
  action: string,
  actor: Record<string, unknown>,
  laCode: string,
  id: string,
): AuditEntryInput {
  return {
    category: 'access-denied',
    action,
    outcome: 'refused',
    actor,
    detail: { laCode, messageId: id, reason: "not a message in this local authority's mailbox" },
  };
}

/** An LA acknowledging one of its messages, audited (and a try at one not in its mailbox). */
export async function laAcknowledgeMessage(
  deps: { db: Executor; clock: { now(): Date } },
  laCode: string,
  actor: Record<string, unknown>,
  id: string,
): Promise<boolean> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (trx) => {
    const ok = await acknowledgeMessage(trx, now, laCode, id);
    await appendAudit(trx, now, [
      ok
        ? {
            category: 'mailbox',
            action: 'mailbox.acknowledge',
            outcome: 'success',
            actor,
            detail: { laCode, messageId: id },
          }
        : notInMailbox('mailbox.acknowledge', actor, laCode, id),
    ]);
    return ok;
  });
}
