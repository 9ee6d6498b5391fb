/**
 * Staged uploads (src/upload/upload.ts): an LA's file is read, checked and traced against
 * demographics in short transactions that write its decisions here, out of sight of every reader;
 * then one transaction applies the staged rows set-based, records the upload and its
 * acknowledgement, and audits it. Health queries interleave with the staging instead of waiting
 * for the whole file.
 *
 * - `upload_staging`: one row per file being staged (for the sweep of files whose process died).
 * - `upload_stage`: one row per decision. `op`: `put` (the record as the LA states it, its plans
 *   with their visibility worked out), `remove` (the LA's record of this subject goes; `clears`
 *   when the LA's rejection of that number should go too), `reject` (the record was rejected:
 *   the worklist row), `named` (a number the file names and nothing else staged names).
 *   Every number staged counts as named by the file (snapshot mode).
 *   Unlogged: nothing here is acknowledged until the apply commits, and a crash that loses it
 *   loses only a file nobody was told about.
 */
import type { Migration } from '../migrate.ts';

export const uploadStaging: Migration = {
  name: '0010_upload_staging',
  up: [
    `create table upload_staging (
      id uuid primary key,
      la_code text not null,
      created_at timestamptz not null
    )`,
    `create unlogged table upload_stage (
      stage_id uuid not null,
      idx integer not null,
      op text not null check (op in ('put','remove','reject','named')),
      nhs_number text not null,
      clears boolean not null default false,
      subject text,
      local_id text,
      team text,
      family_name text,
      given_names text[],
      birth_date date,
      expected_delivery_date date,
      plans jsonb,
      code text,
      detail text,
      field text,
      message text,
      replacement_nhs_number text
    )`,
    `create index upload_stage_idx on upload_stage (stage_id, nhs_number)`,
  ],
};
