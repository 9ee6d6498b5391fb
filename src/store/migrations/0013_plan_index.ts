/**
 * The health query's in-memory index of plans (src/query/plan-index.ts), kept exact by the store.
 *
 * - `plan_change`: one row per transaction that wrote what a health query reads — plans
 *   (`la_plan`), superseded numbers (`person`), local authorities' names and phones
 *   (`local_authority`) — written by triggers on those tables, whoever the writer is (an upload,
 *   the retention purge, the demographics register, an admin, another process).
 * - The index is loaded in one statement with the snapshot it was read under
 *   (`pg_current_snapshot()`). A query batch answered from the index hands that snapshot to
 *   `cpis_query_write`, which refuses the batch (SQLSTATE `CPIS1`) if any transaction that wrote
 *   those tables has committed since that snapshot, so no answer from an out-of-date index is ever
 *   committed: the batch is read again from the tables and the index is reloaded.
 *   A transaction still running when the index was read is not in its snapshot, so its commit is
 *   seen as a change too. Only transactions from the snapshot's xmin on are looked at (by index).
 * - Rows older than a day are pruned by the daily retention run; an index older than an hour is
 *   reloaded anyway, so it never relies on a pruned row.
 */
import type { Migration } from '../migrate.ts';

export const planIndex: Migration = {
  name: '0013_plan_index',
  up: [
    `create table plan_change (
      xid xid8 primary key,
      changed_at timestamptz not null default now()
    )`,
    `create function cpis_plan_changed() returns trigger language plpgsql as $$
      begin
        insert into plan_change (xid) values (pg_current_xact_id()) on conflict do nothing;
        return null;
      end
    $$`,
    // Only what the index reads: so a demographics edit, a birth or an LA's inbox settings do not
    // make every process reload it. (UPDATE OF fires when the column is set, changed or not.)
    `create trigger la_plan_plan_change after insert or update or delete or truncate on la_plan
      for each statement execute function cpis_plan_changed()`,
    `create trigger person_plan_change after update of nhs_number, superseded_by or delete or truncate on person
      for each statement execute function cpis_plan_changed()`,
    `create trigger person_superseded_plan_change after insert on person
      for each row when (new.superseded_by is not null) execute function cpis_plan_changed()`,
    `create trigger local_authority_plan_change
      after insert or update of la_code, name, office_hours_phone, emergency_duty_phone or delete or truncate
      on local_authority for each statement execute function cpis_plan_changed()`,
    `create or replace function cpis_query_write(batch jsonb) returns void language plpgsql as $$
      declare
        snap pg_snapshot;
      begin
        if batch ? 'planSnapshot' then
          snap := (batch->>'planSnapshot')::pg_snapshot;
          if exists (select 1 from plan_change c
                      where c.xid >= pg_snapshot_xmin(snap) and not pg_visible_in_snapshot(c.xid, snap)) then
            raise exception 'the plans changed since the batch read them' using errcode = 'CPIS1';
          end if;
        end if;
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
