/**
 * Health queries: the access history (every unscheduled look-up of a subject with a visible plan)
 * and, beside each access, one pending notice per LA that held a visible record at that moment.
 * Both are written in the same transaction as the query's read and its audit entry, so a notice
 * exists for every answered access even if the process dies right after answering; the
 * notification capability later turns pending notices into mailbox messages (setting message_id).
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

    // One pending notification per LA per access; message_id is set when it is delivered.
    `create table access_notice (
      access_id uuid not null references access_event (id),
      la_code text not null,
      created_at timestamptz not null,
      message_id uuid,
      primary key (access_id, la_code)
    )`,
    `create index access_notice_pending_idx on access_notice (la_code, created_at) where message_id is null`,
  ],
};
