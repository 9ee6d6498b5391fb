import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, openTestStore } from '../../test/engines.ts';
import type { Store } from './db.ts';
import { maintenanceJob } from './maintenance.ts';

describe.each(engines())('store on %s', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(engine);
    await sql`create table parity_t (id bigint generated always as identity primary key, n int8, d date,
      ts timestamptz, j jsonb, a text[], label text)`.execute(store.db);
  });
  afterAll(() => store?.close());

  it('reads int8, count(*), date, timestamptz, jsonb and text[] the same way on both engines', async () => {
    await sql`insert into parity_t (n, d, ts, j, a, label) values
      (9007199254740991, '2024-02-29', '2026-11-22T09:30:00.123Z', '{"b":1,"a":[true,null]}', '{Lucy,"Mary Ann"}', 'x')`.execute(
      store.db,
    );
    const { rows } = await sql<{
      id: unknown;
      n: unknown;
      d: unknown;
      ts: unknown;
      j: unknown;
      a: unknown;
      c: unknown;
    }>`select id, n, d, ts, j, a, (select count(*) from parity_t) as c from parity_t`.execute(store.db);
    const row = rows[0]!;
    expect(row.id).toBe(1);
    expect(row.n).toBe(9007199254740991);
    expect(row.c).toBe(1);
    expect(row.d).toBe('2024-02-29');
    expect(row.ts).toBeInstanceOf(Date);
    expect((row.ts as Date).toISOString()).toBe('2026-11-22T09:30:00.123Z');
    expect(row.j).toEqual({ a: [true, null], b: 1 });
    expect(row.a).toEqual(['Lucy', 'Mary Ann']);
  });

  it('keeps dates free of time-zone shifts whatever the session zone', async () => {
    const { rows } = await sql<{ d: string; t: string }>`select date '2027-03-28' as d,
      (timestamptz '2027-03-28T00:30:00Z' at time zone 'Europe/London')::date::text as t`.execute(store.db);
    expect(rows[0]).toEqual({ d: '2027-03-28', t: '2027-03-28' });
  });

  it('rolls back a failed transaction even while another transaction runs concurrently', async () => {
    await sql`delete from parity_t`.execute(store.db);
    let t1Inserted!: () => void;
    const t1HasInserted = new Promise<void>((r) => {
      t1Inserted = r;
    });
    const t1 = store.db
      .transaction()
      .execute(async (trx) => {
        await sql`insert into parity_t (label) values ('t1')`.execute(trx);
        t1Inserted();
        // Give T2 every chance to run (and, on a shared session, to commit T1's row) before failing.
        await new Promise((r) => setTimeout(r, 50));
        throw new Error('t1 fails');
      })
      .catch((e: Error) => e.message);
    const t2 = (async () => {
      await t1HasInserted;
      await store.db.transaction().execute(async (trx) => {
        await sql`insert into parity_t (label) values ('t2')`.execute(trx);
      });
    })();
    const [t1Result] = await Promise.all([t1, t2]);
    expect(t1Result).toBe('t1 fails');
    const { rows } = await sql<{ label: string }>`select label from parity_t order by id`.execute(store.db);
    expect(rows.map((r) => r.label)).toEqual(['t2']);
  });

  it('serialises many concurrent transactions without losing or leaking any of them', async () => {
    await sql`delete from parity_t`.execute(store.db);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        store.db.transaction().execute(async (trx) => {
          await sql`insert into parity_t (label) values (${`row${i}`})`.execute(trx);
          if (i % 3 === 0) throw new Error('rollback');
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(14);
    const { rows } = await sql<{ c: number }>`select count(*) as c from parity_t`.execute(store.db);
    expect(rows[0]!.c).toBe(26);
  });

  it('refuses to update, delete or truncate the audit log', async () => {
    await sql`insert into audit_log (seq, recorded_at, category, action, outcome, actor, detail, prev_hash, hash)
      values (1, now(), 'test', 'test', 'success', '{}', '{}', repeat('0', 64), repeat('1', 64))`.execute(
      store.db,
    );
    await expect(sql`update audit_log set outcome = 'failure'`.execute(store.db)).rejects.toThrow(
      /append-only/,
    );
    await expect(sql`delete from audit_log`.execute(store.db)).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_log`.execute(store.db)).rejects.toThrow(/append-only/);
    const { rows } = await sql<{ c: number }>`select count(*) as c from audit_log`.execute(store.db);
    expect(rows[0]!.c).toBe(1);
  });

  it('refuses to update, delete or truncate the access history', async () => {
    await sql`insert into access_event (id, nhs_number, queried_nhs_number, accessed_at, resource, request_id, person_key,
        accessor_kind, accessor_name, job_role_code, job_role_display, user_id, org_code, la_codes, plan_types)
      values (gen_random_uuid(), '9990000018', '9990000018', now(), 'CareTeam', 'r', 'user:1', 'health-user', 'Dr A',
        'R8000', 'Clinical', '1', 'R1H12', '{E08000025}', '{CPP}')`.execute(store.db);
    await expect(sql`update access_event set org_code = 'X'`.execute(store.db)).rejects.toThrow(
      /access_event is append-only/,
    );
    await expect(sql`delete from access_event`.execute(store.db)).rejects.toThrow(/append-only/);
    await expect(sql`truncate access_event cascade`.execute(store.db)).rejects.toThrow(/append-only/);
  });

  it('runs the nightly vacuum once a day after 03:00 on the embedded store, and leaves PostgreSQL to autovacuum', async () => {
    const job = maintenanceJob(store.db, engine);
    expect(await job.run(new Date('2026-11-20T02:59:00Z'))).toBeNull();
    const first = await job.run(new Date('2026-11-20T03:00:00Z'));
    if (engine === 'pglite') {
      expect(first).toMatchObject({ vacuumed: '2026-11-20' });
      expect(await job.run(new Date('2026-11-20T23:00:00Z'))).toBeNull();
      expect(await job.run(new Date('2026-11-21T03:30:00Z'))).toMatchObject({ vacuumed: '2026-11-21' });
    } else {
      expect(first).toBeNull();
    }
  });
});
