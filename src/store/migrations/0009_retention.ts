/**
 * Retention of the LA mailbox and the access history (src/notify/retention.ts):
 *
 * - `access_subject`: every child with access history, and the day the daily retention job first
 *   found them with no plan in the store (null while they have one). Their history goes 12 months
 *   after that day; a plan that comes back clears the day.
 * - `access_event_time_idx`: lets the job find the children looked up since it last ran without
 *   reading the whole history.
 * - The access history stays append-only (no UPDATE, no TRUNCATE, no DELETE) except for a DELETE
 *   inside a transaction that has declared itself the retention purge (`cpis.retention`), which
 *   only the retention job does.
 */
import type { Migration } from '../migrate.ts';

export const retention: Migration = {
  name: '0009_retention',
  up: [
    `create table access_subject (
      nhs_number text primary key,
      plans_gone_on date
    )`,
    `create index access_subject_gone_idx on access_subject (plans_gone_on) where plans_gone_on is not null`,
    `create index access_event_time_idx on access_event (accessed_at)`,
    // Children already looked up are known from the start.
    `insert into access_subject (nhs_number) select distinct nhs_number from access_event`,
    `create function refuse_change_but_retention() returns trigger language plpgsql as $$
      begin
        if tg_op = 'DELETE' and current_setting('cpis.retention', true) = 'on' then
          return old;
        end if;
        raise exception '% is append-only: % refused', tg_table_name, tg_op using errcode = 'insufficient_privilege';
      end
    $$`,
    `drop trigger access_event_append_only on access_event`,
    `create trigger access_event_append_only before update or delete on access_event
      for each row execute function refuse_change_but_retention()`,
    `drop trigger la_episode_event_append_only on la_episode_event`,
    `create trigger la_episode_event_append_only before update or delete on la_episode_event
      for each row execute function refuse_change_but_retention()`,
  ],
};
