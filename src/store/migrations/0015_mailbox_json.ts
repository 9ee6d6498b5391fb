/**
 * Mailbox bodies stored as `json` (their text, checked to be JSON) rather than `jsonb`.
 *
 * An LA's daily access notification runs to megabytes: on the 1,000,000-access bench the 153
 * messages come to 1.2 GB. Building jsonb from that text took three times as long as storing it
 * (about 210 ms against 70 ms for a 10 MB message on PostgreSQL 15), for a body that is only ever
 * read back whole; nothing in the service looks inside a stored message. As text, a message also
 * reads back with its fields in the order they were posted. lz4 compression (0012) is set again
 * where the server supports it, so the rewritten column keeps it.
 */
import type { Migration } from '../migrate.ts';

export const mailboxJson: Migration = {
  name: '0015_mailbox_json',
  up: [
    `alter table mailbox_message alter column body type json using body::json`,
    `do $$
      begin
        alter table mailbox_message alter column body set compression lz4;
      exception when feature_not_supported then
        null;
      end
    $$`,
  ],
};
