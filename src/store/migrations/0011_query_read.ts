/**
 * The read of a health query batch (`cpis_query_read`, first written in migration 0003), with the
 * same answer, found by index: the plans under a subject's current number and, when it was
 * superseded, under the number asked about. Written as one join on `nhs_number in (cur, queried)`,
 * the planner read every plan in the store for every subject, so a query took tens of
 * milliseconds once the store held national numbers of plans.
 */
import type { Migration } from '../migrate.ts';

export const queryRead: Migration = {
  name: '0011_query_read',
  up: [
    `create or replace function cpis_query_read(numbers text[], today date)
      returns table (queried text, current_number text, plan_nhs_number text, la_code text, plan_type text,
                     start_date date, end_date date, la_name text, office_hours_phone text,
                     emergency_duty_phone text, head_seq bigint, head_hash text)
      language plpgsql as $$
      declare
        h record;
      begin
        select a.seq, a.hash into strict h from audit_head a where a.id = 1 for update;
        return query select null::text, null::text, null::text, null::text, null::text, null::date, null::date,
          null::text, null::text, null::text, h.seq, h.hash;
        return query
          with s as (
            select q.n as queried,
                   case when p.status = 'superseded' then p.superseded_by else q.n end as cur
            from (select distinct unnest(numbers) as n) q
            left join person p on p.nhs_number = q.n
          )
          select s.queried, s.cur, pl.nhs_number, pl.la_code, pl.plan_type, pl.start_date, pl.end_date,
                 la.name, la.office_hours_phone, la.emergency_duty_phone, null::bigint, null::text
          from s
          left join lateral (
            select p.* from la_plan p where p.nhs_number = s.cur
            union all
            select p.* from la_plan p where p.nhs_number = s.queried and s.queried <> s.cur
          ) pl on pl.start_date <= today
            and (pl.visible_until is null or pl.visible_until >= today)
            and (pl.delete_date is null or pl.delete_date > today)
          left join local_authority la on la.la_code = pl.la_code;
      end
    $$`,
  ],
};
