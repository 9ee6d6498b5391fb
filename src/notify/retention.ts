/**
 * How long what was looked up, and what LAs were told, is kept (run by the daily retention job,
 * in its transaction, from the service clock):
 *
 * - **LA mailbox:** a message is kept until the LA acknowledges it, and for 90 days after that;
 *   then it goes, with its webhook delivery record. Unacknowledged messages are never purged.
 * - **Access history** (the look-ups of a child, what each LA was told of them, and the LA's
 *   episodes and their history): kept while any LA holds a plan for the child in the store — so for
 *   as long as a plan is visible, and until its delete date or removal — and for 12 months after the
 *   day the job first finds no plan left. A plan that comes back in those 12 months keeps it all.
 * - **Audit trail:** kept; never purged here.
 */
import { sql } from 'kysely';
import { addYears, type IsoDate } from '../domain/dates.ts';
import type { Tx } from '../store/db.ts';

export const MAILBOX_KEEP_DAYS = 90;

export interface HistoryPurged {
  messages: number;
  accesses: number;
  episodes: number;
  children: number;
}

export async function purgeHistory(trx: Tx, now: Date, today: IsoDate, since: Date): Promise<HistoryPurged> {
  const messages = await purgeAcknowledgedMessages(trx, now);
  const history = await purgeAccessHistory(trx, today, since);
  return { messages, ...history };
}

async function purgeAcknowledgedMessages(trx: Tx, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - MAILBOX_KEEP_DAYS * 86_400_000);
  const old = trx
    .selectFrom('mailbox_message')
    .select('id')
    .where('acknowledged_at', 'is not', null)
    .where('acknowledged_at', '<', cutoff);
  await trx.deleteFrom('webhook_delivery').where('message_id', 'in', old).execute();
  await trx.deleteFrom('notification_batch').where('message_id', 'in', old).execute();
  const gone = await trx
    .deleteFrom('mailbox_message')
    .where('acknowledged_at', 'is not', null)
    .where('acknowledged_at', '<', cutoff)
    .executeTakeFirst();
  return Number(gone.numDeletedRows);
}

async function purgeAccessHistory(
  trx: Tx,
  today: IsoDate,
  since: Date,
): Promise<{ accesses: number; episodes: number; children: number }> {
  // Children looked up since the last run (a day's overlap: a look-up committed late is not missed).
  await sql`insert into access_subject (nhs_number)
    select distinct nhs_number from access_event where accessed_at >= ${new Date(since.getTime() - 86_400_000)}
    on conflict (nhs_number) do nothing`.execute(trx);
  // The day their plans were first found gone; cleared if a plan is back.
  await sql`update access_subject s set plans_gone_on = ${today}::date
    where s.plans_gone_on is null and not exists (select 1 from la_plan p where p.nhs_number = s.nhs_number)`.execute(
    trx,
  );
  await sql`update access_subject s set plans_gone_on = null
    where s.plans_gone_on is not null and exists (select 1 from la_plan p where p.nhs_number = s.nhs_number)`.execute(
    trx,
  );
  const lastKept = addYears(today, -1);
  const due = await trx
    .selectFrom('access_subject')
    .select('nhs_number')
    .where('plans_gone_on', '<', lastKept)
    .execute();
  if (due.length === 0) return { accesses: 0, episodes: 0, children: 0 };
  const children = due.map((r) => r.nhs_number);
  // The history is append-only; this transaction says it is the retention purge (src/store/migrations/0009).
  await sql`select set_config('cpis.retention', 'on', true)`.execute(trx);
  const accessIds = trx.selectFrom('access_event').select('id').where('nhs_number', 'in', children);
  await trx.deleteFrom('access_notice').where('access_id', 'in', accessIds).execute();
  const accesses = await trx
    .deleteFrom('access_event')
    .where('nhs_number', 'in', children)
    .executeTakeFirst();
  const episodeIds = trx.selectFrom('la_episode').select('id').where('nhs_number', 'in', children);
  await trx.deleteFrom('la_episode_event').where('episode_id', 'in', episodeIds).execute();
  const episodes = await trx.deleteFrom('la_episode').where('nhs_number', 'in', children).executeTakeFirst();
  await trx.deleteFrom('access_subject').where('nhs_number', 'in', children).execute();
  await sql`select set_config('cpis.retention', 'off', true)`.execute(trx);
  return {
    accesses: Number(accesses.numDeletedRows),
    episodes: Number(episodes.numDeletedRows),
    children: children.length,
  };
}
