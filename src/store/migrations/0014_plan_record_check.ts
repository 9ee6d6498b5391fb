/**
 * A plan belongs to its LA's record of the child: the same rule as the foreign key
 * `la_plan (la_code, nhs_number) references la_record on delete cascade`, checked once per
 * statement instead of once per row.
 *
 * The foreign key ran a lookup and a row lock per plan. A 250,000-record upload spent 3 s of its
 * 4.5 s plan insert there, and replacing the records' plans spent as long again on the cascade.
 * These triggers do the same work set-based, from the statement's transition tables:
 * - Plans inserted or re-keyed must have their record. The records are locked `FOR KEY SHARE`, as
 *   the foreign key locked them, so a record cannot be deleted under a plan being added to it until
 *   that transaction ends. Records this transaction inserted itself are not locked: nobody else
 *   can see them, let alone delete them.
 * - Deleting records deletes their plans, in the same statement (as `on delete cascade`).
 * - Re-keying a record that still has plans is refused (as the foreign key's `no action`).
 * A missing record is refused with the foreign key's SQLSTATE, 23503.
 *
 * Every statement over a transition table is run with EXECUTE, so it is planned each time for the
 * rows at hand. PL/pgSQL otherwise plans a statement once per session and keeps the plan: the
 * embedded store (no autovacuum, so nothing invalidates it) kept a plan made when both tables were
 * nearly empty, and replacing a 20,000-record file took 154 s instead of half a second.
 */
import type { Migration } from '../migrate.ts';

export const planRecordCheck: Migration = {
  name: '0014_plan_record_check',
  up: [
    `alter table la_plan drop constraint la_plan_la_code_nhs_number_fkey`,
    // An update checks only the plans whose key it changed (an ended plan keeps its record).
    `create function cpis_plan_record_check() returns trigger language plpgsql as $$
      declare
        keys text := case when tg_op = 'UPDATE'
          then '(select la_code, nhs_number from new_plans except select la_code, nhs_number from old_plans)'
          else '(select distinct la_code, nhs_number from new_plans)' end;
        orphan_la text;
        orphan_nhs text;
      begin
        execute format('select 1 from la_record r join %s p on r.la_code = p.la_code and r.nhs_number = p.nhs_number
          where r.xmin::text::bigint <> txid_current() %% 4294967296
            for key share of r', keys);
        execute format('select p.la_code, p.nhs_number from %s p
          where not exists (select 1 from la_record r where r.la_code = p.la_code and r.nhs_number = p.nhs_number)
          limit 1', keys) into orphan_la, orphan_nhs;
        if orphan_nhs is not null then
          raise exception 'a plan for % has no record of it from %', orphan_nhs, orphan_la
            using errcode = 'foreign_key_violation', table = 'la_plan';
        end if;
        return null;
      end
    $$`,
    `create trigger la_plan_record_check_insert after insert on la_plan
      referencing new table as new_plans for each statement execute function cpis_plan_record_check()`,
    `create trigger la_plan_record_check_update after update on la_plan
      referencing old table as old_plans new table as new_plans
      for each statement execute function cpis_plan_record_check()`,
    `create function cpis_record_delete_plans() returns trigger language plpgsql as $$
      begin
        execute 'delete from la_plan p using gone_records g
          where p.la_code = g.la_code and p.nhs_number = g.nhs_number';
        return null;
      end
    $$`,
    `create trigger la_record_delete_plans after delete on la_record
      referencing old table as gone_records for each statement execute function cpis_record_delete_plans()`,
    `create function cpis_record_rekey_check() returns trigger language plpgsql as $$
      declare
        orphan_la text;
        orphan_nhs text;
      begin
        execute 'select p.la_code, p.nhs_number
          from la_plan p
          join (select la_code, nhs_number from old_records
                except select la_code, nhs_number from new_records) k
            on p.la_code = k.la_code and p.nhs_number = k.nhs_number
         where not exists (select 1 from la_record r where r.la_code = p.la_code and r.nhs_number = p.nhs_number)
         limit 1' into orphan_la, orphan_nhs;
        if orphan_nhs is not null then
          raise exception 'the record of % from % still has plans', orphan_nhs, orphan_la
            using errcode = 'foreign_key_violation', table = 'la_record';
        end if;
        return null;
      end
    $$`,
    `create trigger la_record_rekey_check after update on la_record
      referencing old table as old_records new table as new_records
      for each statement execute function cpis_record_rekey_check()`,
  ],
};
