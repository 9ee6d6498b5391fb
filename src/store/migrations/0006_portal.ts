/**
 * The health portal (web view for staff whose systems are not integrated):
 *
 * - `person.postcode`: the home address's postcode, as PDS holds it, so a demographics search can
 *   narrow by it. Never shown for a restricted (sensitive) record. The birth-date index lets a
 *   search by name and date of birth read only the people born that day.
 * - `web_session`: server-side portal sessions. The cookie carries a random id; only its SHA-256
 *   is stored, so reading this table does not let anyone take a session over. Times here are
 *   real time (security timers, like token lifetimes), not the service clock.
 */
import type { Migration } from '../migrate.ts';

export const portal: Migration = {
  name: '0006_portal',
  up: [
    `alter table person add column postcode text check (postcode is null or postcode ~ '^[A-Z0-9 ]{2,8}$')`,
    `create index person_birth_date_idx on person (birth_date)`,
    `create table web_session (
      id_hash text primary key check (id_hash ~ '^[0-9a-f]{64}$'),
      data jsonb not null,
      user_key text,
      created_at timestamptz not null,
      last_seen_at timestamptz not null,
      expires_at timestamptz not null
    )`,
    `create index web_session_last_seen_idx on web_session (last_seen_at)`,
    `create index web_session_user_idx on web_session (user_key) where user_key is not null`,
  ],
};
