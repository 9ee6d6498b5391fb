/**
 * The daily retention job (CPIS.md §5): once a day by the service clock (Europe/London), plans past
 * their last visible day or their delete date are purged from the live store, with records left
 * empty; then acknowledged mailbox messages and access history past their keeping time
 * (src/notify/retention.ts). The audit trail keeps what happened.
 */
import { sql } from 'kysely';
import { appendAudit } from '../audit/log.ts';
import { londonDateOf, londonMidnight } from '../domain/dates.ts';
import { purgeHistory } from '../notify/retention.ts';
import { prunePlanChanges } from '../query/plan-index.ts';
import type { Job } from '../scheduler.ts';
import { type Executor, transact } from '../store/db.ts';
import { purgeExpired } from './records.ts';
import { sweepStaleStages } from './upload.ts';

const STATE_KEY = 'retention.last-purge';

export function retentionJob(db: Executor): Job {
  return {
    name: 'retention',
    async run(now) {
      const today = londonDateOf(now);
      // Most ticks find today done: a plain read says so without opening a write transaction.
      const done = await db
        .selectFrom('service_state')
        .select('value')
        .where('key', '=', STATE_KEY)
        .executeTakeFirst();
      if (done?.value === today) return null;
      // Once a day too: upload files a dead process left staged, and the plan index's old change marks.
      await sweepStaleStages(db);
      await prunePlanChanges(db);
      return transact(db, async (trx) => {
        // The state row is locked, so two processes never purge the same day twice.
        await sql`insert into service_state (key, value, updated_at) values (${STATE_KEY}, '"1970-01-01"', ${now})
          on conflict (key) do nothing`.execute(trx);
        const last = await trx
          .selectFrom('service_state')
          .select('value')
          .where('key', '=', STATE_KEY)
          .forUpdate()
          .executeTakeFirstOrThrow();
        // Once per London day; a date that differs either way (a demo clock moved back) runs it again.
        if ((last.value as string) === today) return null;
        const lastDay = last.value as string;
        // Look-ups since the last run (all of them the first time; a clock moved back: since now).
        const since =
          lastDay === '1970-01-01'
            ? new Date(0)
            : new Date(Math.min(londonMidnight(lastDay).getTime(), now.getTime()));
        const purged = {
          ...(await purgeExpired(trx, today)),
          ...(await purgeHistory(trx, now, today, since)),
        };
        await trx
          .updateTable('service_state')
          .set({ value: JSON.stringify(today), updated_at: now })
          .where('key', '=', STATE_KEY)
          .execute();
        if (Object.values(purged).every((n) => n === 0)) return null;
        await appendAudit(trx, now, [
          {
            category: 'system',
            action: 'retention.purge',
            outcome: 'success',
            actor: { kind: 'system' },
            detail: { date: today, ...purged },
          },
        ]);
        return { date: today, ...purged };
      });
    },
  };
}
