/**
 * Health queries: the access history (every unscheduled look-up of a subject with a visible plan)
 * and, beside each access, one pending notice per LA that held a visible record at that moment.
 * Both are written in the same transaction as the query's read and its audit entry, so a notice
 * exists for every answered access even if the process dies right after answering; the
 * notification capability later turns pending notices into mailbox messages (setting message_id).
 *
 * Two functions carry a batch of health queries (src/query/batch.ts) in two statements: one read
 * (every NHS number's current number and visible plans, and the audit chain head, locked) and one
 * write (accesses, notices, audit entries and the new chain head, from one JSON document). In
 * plpgsql their plans are prepared once per session instead of at every call, which on PGlite
 * (PostgreSQL in WebAssembly) costs more than running them.
 */
import type { Migration } from '../migrate.ts';

export const accessAudit: Migration = {
  name: '0003_access_audit',
  up: [
    // Who looked, as whom, from where, at which subject, and what was visible to them.
    // person_key groups "the same person" for the history's 24-hour collapse:
    // `user:<SDS user id>` or `system:<ASID>:<responsible person, lower case>`.
    `create table access_event (
      id uuid primary key,
      nhs_number text not null check (nhs_number ~ '^[0-9]{10}$'),
      queried_nhs_number text not null check (queried_nhs_number ~ '^[0-9]{10}$'),
      accessed_at timestamptz not null,
      resource text not null check (resource in ('CareTeam','Flag')),
      request_id text not null,
      person_key text not null,
      accessor_kind text not null check (accessor_kind in ('health-user','health-system')),
      accessor_name text not null,
      job_role_code text not null,
      job_role_display text not null,
      user_id text,
      role_profile_id text,
      asid text,
      org_code text not null,
      patient_location text,
      safeguarding_lead jsonb,
      la_codes text[] not null,
      plan_types text[] not null,
      check ((accessor_kind = 'health-user') = (user_id is not null)),
      check ((accessor_kind = 'health-system') = (asid is not null))
    )`,
    `create index access_event_subject_idx on access_event (nhs_number, accessed_at desc)`,

    // One pending notification per LA per access, with the plan types that LA held visible at that
    // moment (an LA learns of its own plans, not another LA's); message_id is set when delivered.
    `create table access_notice (
      access_id uuid not null references access_event (id),
      la_code text not null,
      plan_types text[] not null,
      created_at timestamptz not null,
      message_id uuid,
      primary key (access_id, la_code)
    )`,
    `create index access_notice_pending_idx on access_notice (la_code, created_at) where message_id is null`,

    // The read of a batch. The first row carries the locked chain head (queried is null); then one
    // row per queried number and visible plan (plan columns null when it has none). A superseded
    // number is followed to its replacement; plans are looked for under both numbers.
    `create function cpis_query_read(numbers text[], today date)
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
          left join la_plan pl on pl.nhs_number in (s.cur, s.queried)
            and pl.start_date <= today
            and (pl.visible_until is null or pl.visible_until >= today)
            and (pl.delete_date is null or pl.delete_date > today)
          left join local_authority la on la.la_code = pl.la_code;
      end
    $$`,

    // The write of a batch: {"accesses":[…], "notices":[…], "entries":[…], "fromSeq", "toSeq", "toHash"},
    // rows shaped like the tables. The head must still be where the read found it.
    `create function cpis_query_write(batch jsonb) returns void language plpgsql as $$
      begin
        if jsonb_array_length(batch->'accesses') > 0 then
          insert into access_event select * from jsonb_populate_recordset(null::access_event, batch->'accesses');
        end if;
        if jsonb_array_length(batch->'notices') > 0 then
          insert into access_notice select * from jsonb_populate_recordset(null::access_notice, batch->'notices');
        end if;
        if jsonb_array_length(batch->'entries') > 0 then
          insert into audit_log select * from jsonb_populate_recordset(null::audit_log, batch->'entries');
          update audit_head set seq = (batch->>'toSeq')::bigint, hash = batch->>'toHash'
            where id = 1 and seq = (batch->>'fromSeq')::bigint;
          if not found then
            raise exception 'the audit chain head moved during a batch' using errcode = '40001';
          end if;
        end if;
      end
    $$`,
  ],
};
