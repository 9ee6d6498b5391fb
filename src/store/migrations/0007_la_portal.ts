/**
 * The LA portal (the CP-IS notification module a social care team works in):
 *
 * - `la_record.team`: an LA's own team for the child, from its uploads. LA-private routing: never
 *   shown to health, never in FHIR.
 * - `local_authority.routing`: the LA's office hours, whether episodes that begin out of hours go
 *   to its emergency duty team too, and the names of its screening and EDT queues (null: defaults).
 * - `la_episode`: one incident for one child as one LA's social care team sees it — the look-ups
 *   close together in time (CPIS.md §8), the queue it was routed to, the state the team has put it
 *   in, and a version that every change must name (a stale form changes nothing).
 * - `la_episode_event`: everything that happened to an episode (routed, look-ups added, state
 *   changes, assignments), who and when; append-only.
 * - `access_notice.episode_id`: the episode each notified look-up belongs to, set once.
 *
 * No foreign keys to la_episode: episodes and their look-ups are written together by one function
 * (src/inbox/episodes.ts), and a foreign-key check is a query planned once per connection — planned
 * while la_episode is still empty it scans the table, and assigning a day's look-ups then grows with
 * the square of the episodes (measured: most of a 100,000-look-up dispatch).
 */
import type { Migration } from '../migrate.ts';

export const laPortal: Migration = {
  name: '0007_la_portal',
  up: [
    `alter table la_record add column team text check (team is null or length(team) between 1 and 60)`,
    `alter table local_authority add column routing jsonb`,
    `create table la_episode (
      id uuid primary key,
      la_code text not null,
      nhs_number text not null check (nhs_number ~ '^[0-9]{10}$'),
      started_at timestamptz not null,
      last_at timestamptz not null,
      access_count integer not null check (access_count > 0),
      team text not null,
      edt boolean not null,
      out_of_hours boolean not null,
      state text not null check (state in ('new', 'reviewed', 'follow-up-recorded', 'no-action-needed')),
      state_reason text,
      worker jsonb,
      concerns jsonb not null,
      version integer not null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      check (started_at <= last_at)
    )`,
    `create index la_episode_inbox_idx on la_episode (la_code, started_at desc, id)`,
    `create index la_episode_child_idx on la_episode (la_code, nhs_number, last_at desc)`,
    `create table la_episode_event (
      episode_id uuid not null,
      seq integer not null,
      at timestamptz not null,
      actor jsonb not null,
      action text not null,
      detail jsonb not null,
      primary key (episode_id, seq)
    )`,
    `create trigger la_episode_event_append_only before update or delete on la_episode_event
      for each row execute function refuse_change()`,
    `alter table access_notice add column episode_id uuid`,
    // Look-ups an LA was already sent by message before the inbox existed are not made into new
    // episodes (an upgrade must not flood every inbox with history): they carry the nil id, which
    // names no episode. Look-ups still waiting to be sent become episodes as usual.
    `update access_notice set episode_id = '00000000-0000-0000-0000-000000000000' where message_id is not null`,
    `create index access_notice_unassigned_idx on access_notice (la_code) where episode_id is null`,
    `create index access_notice_episode_idx on access_notice (episode_id) where episode_id is not null`,
  ],
};
