/**
 * Telling local authorities: per-LA notification settings (episode gap, optional webhook), one daily
 * batch per LA per day (so no process can deliver a day twice), and webhook deliveries with their
 * retries. Access notices themselves are written with each access (0003).
 */
import type { Migration } from '../migrate.ts';

export const notifications: Migration = {
  name: '0004_notifications',
  up: [
    `alter table local_authority add column episode_gap_hours integer not null default 12
      check (episode_gap_hours between 1 and 168)`,
    `alter table local_authority add column webhook_url text`,
    `alter table local_authority add column webhook_secret text`,
    `alter table local_authority add constraint local_authority_webhook_check
      check ((webhook_url is null) = (webhook_secret is null))`,

    // The daily access-notification message for one LA and one day (Europe/London).
    `create table notification_batch (
      la_code text not null,
      batch_date date not null,
      message_id uuid not null references mailbox_message (id),
      created_at timestamptz not null,
      primary key (la_code, batch_date)
    )`,

    // Push delivery of a mailbox message to the LA's webhook; the message stays in the mailbox either way.
    `create table webhook_delivery (
      message_id uuid primary key references mailbox_message (id),
      la_code text not null,
      attempts integer not null default 0,
      next_attempt_at timestamptz not null,
      delivered_at timestamptz,
      given_up_at timestamptz,
      last_status integer,
      last_error text,
      created_at timestamptz not null
    )`,
    `create index webhook_delivery_due_idx on webhook_delivery (next_attempt_at)
      where delivered_at is null and given_up_at is null`,

    // The access history is a record of what happened, like the audit log: the database refuses to
    // change or delete it (notices, which dispatch marks as delivered, are a separate table).
    `create function refuse_change() returns trigger language plpgsql as $$
      begin
        raise exception '% is append-only: % refused', tg_table_name, tg_op using errcode = 'insufficient_privilege';
      end
    $$`,
    `create trigger access_event_append_only before update or delete on access_event
      for each row execute function refuse_change()`,
    `create trigger access_event_no_truncate before truncate on access_event
      for each statement execute function refuse_change()`,
  ],
};
