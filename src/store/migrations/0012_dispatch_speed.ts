/**
 * The daily dispatch at scale (src/notify/dispatch.ts): an LA's access notification can run to
 * megabytes of JSON, and compressing it with the default pglz costs as much as the rest of writing
 * it. Where the server supports lz4 (PostgreSQL 14+ built with it, as Debian's is) mailbox bodies
 * are compressed with it instead: a storage setting only, for rows written from now on; what is
 * stored and read back is unchanged. Where it is not supported (PGlite) the default stays.
 */
import type { Migration } from '../migrate.ts';

export const dispatchSpeed: Migration = {
  name: '0012_dispatch_speed',
  up: [
    `do $$
      begin
        alter table mailbox_message alter column body set compression lz4;
      exception when feature_not_supported then
        null;
      end
    $$`,
  ],
};
