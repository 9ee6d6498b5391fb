/**
 * Foundation: demographics register, organisation directory, local authorities, service state and
 * the tamper-evident audit log. SQL stays within PostgreSQL 15 (PGlite is 18; CI runs both).
 * Timestamps are written by the application from the service clock, never by `now()`, so tests and
 * the demo can move time.
 */
import type { Migration } from '../migrate.ts';

export const foundation: Migration = {
  name: '0001_foundation',
  up: [
    `create table person (
      nhs_number text primary key check (nhs_number ~ '^[0-9]{10}$'),
      family_name text not null check (length(family_name) between 1 and 100),
      given_names text[] not null,
      birth_date date not null,
      gender text not null check (gender in ('male','female','other','unknown')),
      sensitive boolean not null default false,
      death_date date,
      mother_nhs_number text references person (nhs_number),
      status text not null default 'active' check (status in ('active','superseded','invalidated')),
      superseded_by text references person (nhs_number),
      inactive_since timestamptz,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      check ((status = 'superseded') = (superseded_by is not null)),
      check ((status = 'active') = (inactive_since is null)),
      check (superseded_by is null or superseded_by <> nhs_number)
    )`,
    `create index person_mother_idx on person (mother_nhs_number) where mother_nhs_number is not null`,
    `create index person_superseded_by_idx on person (superseded_by) where superseded_by is not null`,

    `create table organisation (
      ods_code text primary key check (ods_code ~ '^[A-Z0-9]{3,10}$'),
      name text not null,
      setting text not null check (setting in ('emergency-department','urgent-treatment-centre','walk-in-centre',
        'minor-injuries-unit','out-of-hours-gp','nhs-111','ambulance-service','maternity-unit','paediatric-ward',
        'gp-practice','trust','other')),
      parent_ods_code text,
      town text,
      phone text,
      postcode text,
      updated_at timestamptz not null
    )`,
    `create index organisation_parent_idx on organisation (parent_ods_code) where parent_ods_code is not null`,

    `create table local_authority (
      la_code text primary key check (la_code ~ '^[A-Z0-9]{3,10}$'),
      name text not null,
      office_hours_phone text not null,
      emergency_duty_phone text not null,
      notification_cadence text not null default 'daily' check (notification_cadence in ('daily','immediate')),
      updated_at timestamptz not null
    )`,

    // Small facts about the service itself (e.g. that the demo world was loaded, and with which seed).
    `create table service_state (
      key text primary key,
      value jsonb not null,
      updated_at timestamptz not null
    )`,

    // The audit trail: append-only, each entry chained to the previous one by SHA-256.
    `create table audit_log (
      seq bigint primary key check (seq > 0),
      recorded_at timestamptz not null,
      category text not null,
      action text not null,
      outcome text not null,
      actor jsonb not null,
      nhs_number text,
      detail jsonb not null,
      prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
      hash text not null check (hash ~ '^[0-9a-f]{64}$')
    )`,
    `create index audit_log_nhs_number_idx on audit_log (nhs_number, seq) where nhs_number is not null`,
    `create index audit_log_recorded_at_idx on audit_log (recorded_at)`,
    // The head of the chain: one row, locked by every append so entries chain in commit order.
    `create table audit_head (
      id smallint primary key check (id = 1),
      seq bigint not null,
      hash text not null
    )`,
    `insert into audit_head (id, seq, hash) values (1, 0, repeat('0', 64))`,
    `create function audit_log_refuse_change() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_log is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
      end
    $$`,
    `create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function audit_log_refuse_change()`,
    `create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function audit_log_refuse_change()`,
  ],
};
