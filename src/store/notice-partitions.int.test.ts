import { randomUUID } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { engines, openTestStore } from '../../test/engines.ts';
import type { Store } from './db.ts';
import { migrateToLatest, migrationProvider } from './migrate.ts';

interface Notice {
  access_id: string;
  la_code: string;
  plan_types: string[];
  created_at: Date;
  message_id: string | null;
  episode_id: string | null;
}

const notices = (store: Store) =>
  sql<Notice>`select access_id, la_code, plan_types, created_at, message_id, episode_id from access_notice
    order by la_code, access_id`
    .execute(store.db)
    .then((r) => r.rows);

describe.each(engines())('access notices partitioned by LA (migration 0016) on %s', (engine) => {
  const opened: Store[] = [];
  afterAll(async () => {
    for (const s of opened) await s.close();
  });

  it('keeps every notice a store already held, whole, and goes on checking its keys', async () => {
    const store = await openTestStore(engine, { blank: true });
    opened.push(store);
    const migrator = new Migrator({ db: store.db, provider: migrationProvider });
    const before = await migrator.migrateTo('0015_mailbox_json');
    expect(before.error).toBeUndefined();

    // Look-ups delivered, filed into an episode, and still pending, for three LAs.
    const las = ['E08000025', 'E09000033', 'E10000028'];
    const at = new Date('2026-11-20T10:00:00Z');
    const message = randomUUID();
    const episode = randomUUID();
    for (let i = 0; i < 12; i++) {
      const id = randomUUID();
      await sql`insert into access_event (id, nhs_number, queried_nhs_number, accessed_at, resource, request_id,
          person_key, accessor_kind, accessor_name, job_role_code, job_role_display, user_id, org_code, la_codes, plan_types)
        values (${id}, '9990000018', '9990000018', ${at}, 'CareTeam', ${id}, 'user:1', 'health-user', 'Dr A', 'R8000',
          'Clinical', '1', 'R1H12', ${las}::text[], '{CPP}')`.execute(store.db);
      for (const la of las.slice(0, 1 + (i % 3)))
        await sql`insert into access_notice (access_id, la_code, plan_types, created_at, message_id, episode_id)
          values (${id}, ${la}, '{CPP,LAC}', ${at}, ${i % 2 ? message : null}, ${i % 4 ? episode : null})`.execute(
          store.db,
        );
    }
    const held = await notices(store);
    expect(held).toHaveLength(24);

    expect((await migrateToLatest(store.db)).applied).toEqual(['0016_notice_partitions']);
    expect(await notices(store)).toEqual(held);

    // Each LA's notices sit together in one partition.
    const { rows: placed } = await sql<{ la_code: string; partitions: number }>`
      select la_code, count(distinct tableoid)::int as partitions from access_notice group by la_code`.execute(
      store.db,
    );
    expect(placed).toHaveLength(3);
    expect(placed.every((p) => p.partitions === 1)).toBe(true);
    const { rows: parts } = await sql<{ n: number }>`
      select count(*)::int as n from pg_inherits where inhparent = 'access_notice'::regclass`.execute(
      store.db,
    );
    expect(parts[0]!.n).toBe(16);

    // The keys still hold: one notice per access per LA, and only for a recorded access.
    const one = held[0]!;
    await expect(
      sql`insert into access_notice (access_id, la_code, plan_types, created_at)
        values (${one.access_id}, ${one.la_code}, '{CPP}', now())`.execute(store.db),
    ).rejects.toThrow(/duplicate key|unique/i);
    await expect(
      sql`insert into access_notice (access_id, la_code, plan_types, created_at)
        values (${randomUUID()}, 'E08000025', '{CPP}', now())`.execute(store.db),
    ).rejects.toThrow(/foreign key/i);
    // And the pending ones are found as before.
    const { rows: pending } = await sql<{ n: number }>`
      select count(*)::int as n from access_notice where la_code = 'E08000025' and message_id is null`.execute(
      store.db,
    );
    expect(pending[0]!.n).toBe(held.filter((n) => n.la_code === 'E08000025' && !n.message_id).length);
  });
});
