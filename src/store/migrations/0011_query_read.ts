/**
 * The health query's two statements (src/query/batch.ts), first written in migration 0003:
 *
 * - `cpis_query_plans(numbers, today)`: each queried number's current number and its visible plans,
 *   with the LA's name and phones, found by index: the plans under the current number and, when it
 *   was superseded, under the number asked about. (0003's `cpis_query_read` joined on
 *   `nhs_number in (cur, queried)`, and the planner read every plan in the store for every subject,
 *   so a query took tens of milliseconds once the store held national numbers of plans.) It takes
 *   no lock: the batch's write checks the audit chain's head itself.
 * - `cpis_query_write(batch)`: moves the audit chain's head first (and fails with 40001 if another
 *   writer moved it since the batch read it), then writes the accesses, notices and audit entries.
 *   One statement, so one transaction: all of a batch's writes or none.
 */
import type { Migration } from '../migrate.ts';

export const queryRead: Migration = {
  name: '0011_query_read',
  up: [
    `drop function cpis_query_read(text[], date)`,
    `create function cpis_query_plans(numbers text[], today date)
      returns table (queried text, current_number text, plan_nhs_number text, la_code text, plan_type text,
                     start_date date, end_date date, la_name text, office_hours_phone text,
                     emergency_duty_phone text)
      language sql stable as $$
        with s as (
          select q.n as queried,
                 case when p.status = 'superseded' then p.superseded_by else q.n end as cur
          from (select distinct unnest(numbers) as n) q
          left join person p on p.nhs_number = q.n
        )
        select s.queried, s.cur, pl.nhs_number, pl.la_code, pl.plan_type, pl.start_date, pl.end_date,
               la.name, la.office_hours_phone, la.emergency_duty_phone
        from s
        left join lateral (
          select p.* from la_plan p where p.nhs_number = s.cur
          union all
          select p.* from la_plan p where p.nhs_number = s.queried and s.queried <> s.cur
        ) pl on pl.start_date <= today
          and (pl.visible_until is null or pl.visible_until >= today)
          and (pl.delete_date is null or pl.delete_date > today)
        left join local_authority la on la.la_code = pl.la_code
    $$`,
    `create or replace function cpis_query_write(batch jsonb) returns void language plpgsql as $$
      begin
        if jsonb_array_length(batch->'entries') > 0 then
          update audit_head set seq = (batch->>'toSeq')::bigint, hash = batch->>'toHash'
            where id = 1 and seq = (batch->>'fromSeq')::bigint and hash = batch->>'fromHash';
          if not found then
            raise exception 'the audit chain head moved during a batch' using errcode = '40001';
          end if;
          insert into audit_log select * from jsonb_populate_recordset(null::audit_log, batch->'entries');
        end if;
        if jsonb_array_length(batch->'accesses') > 0 then
          insert into access_event select * from jsonb_populate_recordset(null::access_event, batch->'accesses');
        end if;
        if jsonb_array_length(batch->'notices') > 0 then
          insert into access_notice select * from jsonb_populate_recordset(null::access_notice, batch->'notices');
        end if;
      end
    $$`,
  ],
};
