/**
 * What local authorities share, and what they are told: LA records and their plans, processed
 * uploads (for sequence checks and exact replay), the subjects currently rejected (the LA's data
 * quality worklist), and each LA's mailbox.
 */
import type { Migration } from '../migrate.ts';

export const records: Migration = {
  name: '0002_records',
  up: [
    // One LA's current statement about one subject (a child, or for an unborn child the mother).
    // No foreign key to local_authority: an LA may upload before the directory knows it.
    `create table la_record (
      la_code text not null,
      nhs_number text not null check (nhs_number ~ '^[0-9]{10}$'),
      subject text not null check (subject in ('child','unborn')),
      local_id text,
      family_name text not null,
      given_names text[] not null,
      birth_date date not null,
      expected_delivery_date date,
      upload_id bigint not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      primary key (la_code, nhs_number),
      check ((subject = 'unborn') = (expected_delivery_date is not null))
    )`,
    `create index la_record_nhs_number_idx on la_record (nhs_number)`,

    // visible_until: the last day health may see the plan (src/domain/plans.ts), null if unlimited.
    // delete_date: a future date on which the LA asked for the plan to be removed (created in error).
    `create table la_plan (
      la_code text not null,
      nhs_number text not null,
      plan_type text not null check (plan_type in ('CPP','LAC','UCPP')),
      start_date date not null,
      end_date date,
      visible_until date,
      delete_date date,
      primary key (la_code, nhs_number, plan_type),
      foreign key (la_code, nhs_number) references la_record (la_code, nhs_number) on delete cascade,
      check (end_date is null or end_date >= start_date)
    )`,
    `create index la_plan_nhs_number_idx on la_plan (nhs_number)`,
    `create index la_plan_visible_until_idx on la_plan (visible_until) where visible_until is not null`,

    // Processed uploads, one per (LA, sequence). Uploads refused as unreadable (CPF01) or for a
    // demographics outage (CPF05) are not here: their sequence stays free for the resubmission.
    `create table upload (
      id bigint generated always as identity primary key,
      la_code text not null,
      sequence bigint not null check (sequence >= 0),
      body_sha256 text not null,
      mode text not null check (mode in ('delta','snapshot')),
      received_at timestamptz not null,
      file_code text not null,
      received integer not null,
      accepted integer not null,
      rejected integer not null,
      acknowledgement jsonb not null,
      unique (la_code, sequence)
    )`,

    // The subjects an LA tried to send that are currently rejected, with the rule and field.
    `create table record_rejection (
      la_code text not null,
      nhs_number text not null,
      local_id text,
      code text not null,
      detail text,
      field text,
      message text not null,
      replacement_nhs_number text,
      upload_id bigint not null,
      sequence bigint not null,
      rejected_at timestamptz not null,
      primary key (la_code, nhs_number)
    )`,

    // Each LA's mailbox: at-least-once, oldest first, kept until the LA acknowledges.
    `create table mailbox_message (
      id uuid primary key,
      seq bigint generated always as identity unique,
      la_code text not null,
      type text not null check (type in ('upload-acknowledgement','access-notification','inactive-nhs-number','birth')),
      created_at timestamptz not null,
      body jsonb not null,
      acknowledged_at timestamptz
    )`,
    `create index mailbox_message_pending_idx on mailbox_message (la_code, seq) where acknowledged_at is null`,
  ],
};
