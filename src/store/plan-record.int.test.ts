import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { engines, openTestStore } from '../../test/engines.ts';
import type { Store } from './db.ts';

/**
 * A plan always belongs to its LA's record of the child (migration 0014): what the foreign key
 * promised, now checked once per statement.
 */
describe.each(engines())('plans and their records on %s', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(engine);
  });
  afterAll(() => store?.close());
  beforeEach(async () => {
    await sql`delete from la_plan`.execute(store.db);
    await sql`delete from la_record`.execute(store.db);
  });

  const record = (la: string, n: string) =>
    sql`insert into la_record (la_code, nhs_number, subject, family_name, given_names, birth_date, upload_id,
        created_at, updated_at)
      values (${la}, ${n}, 'child', 'Test', '{Kit}', '2020-01-01', 1, now(), now())`.execute(store.db);
  const plan = (la: string, n: string, type = 'CPP') =>
    sql`insert into la_plan (la_code, nhs_number, plan_type, start_date) values (${la}, ${n}, ${type}, '2026-01-01')`;
  const plans = async () =>
    (
      await sql<{ la_code: string; nhs_number: string; plan_type: string }>`
        select la_code, nhs_number, plan_type from la_plan order by la_code, nhs_number, plan_type`.execute(
        store.db,
      )
    ).rows.map((r) => `${r.la_code}/${r.nhs_number}/${r.plan_type}`);

  it('refuses a plan with no record of the child from that LA, and writes none of the statement', async () => {
    await record('LA1', '9990000018');
    const both = sql`insert into la_plan (la_code, nhs_number, plan_type, start_date)
      values ('LA1', '9990000018', 'CPP', '2026-01-01'), ('LA2', '9990000018', 'LAC', '2026-01-01')`;
    await expect(both.execute(store.db)).rejects.toMatchObject({ code: '23503' });
    await expect(both.execute(store.db)).rejects.toThrow(/9990000018 has no record of it from LA2/);
    expect(await plans()).toEqual([]);
    await plan('LA1', '9990000018').execute(store.db);
    expect(await plans()).toEqual(['LA1/9990000018/CPP']);
  });

  it('deletes a record’s plans with it, and only that LA’s', async () => {
    await record('LA1', '9990000018');
    await record('LA1', '9990000026');
    await record('LA2', '9990000018');
    await plan('LA1', '9990000018').execute(store.db);
    await plan('LA1', '9990000018', 'LAC').execute(store.db);
    await plan('LA1', '9990000026').execute(store.db);
    await plan('LA2', '9990000018').execute(store.db);
    await sql`delete from la_record where la_code = 'LA1' and nhs_number = '9990000018'`.execute(store.db);
    expect(await plans()).toEqual(['LA1/9990000026/CPP', 'LA2/9990000018/CPP']);
  });

  it('refuses to move a plan to a child the LA has no record of, but lets a plan be ended', async () => {
    await record('LA1', '9990000018');
    await plan('LA1', '9990000018').execute(store.db);
    await expect(
      sql`update la_plan set nhs_number = '9990000026' where la_code = 'LA1'`.execute(store.db),
    ).rejects.toMatchObject({ code: '23503' });
    await sql`update la_plan set end_date = '2026-02-01' where la_code = 'LA1'`.execute(store.db);
    await record('LA1', '9990000026');
    await sql`update la_plan set nhs_number = '9990000026' where la_code = 'LA1'`.execute(store.db);
    expect(await plans()).toEqual(['LA1/9990000026/CPP']);
  });

  it('refuses to re-key a record that still has plans, and re-keys one that has none', async () => {
    await record('LA1', '9990000018');
    await record('LA1', '9990000026');
    await plan('LA1', '9990000018').execute(store.db);
    await expect(
      sql`update la_record set nhs_number = '9990000034' where nhs_number = '9990000018'`.execute(store.db),
    ).rejects.toMatchObject({ code: '23503' });
    await sql`update la_record set nhs_number = '9990000034' where nhs_number = '9990000026'`.execute(
      store.db,
    );
    const { rows } = await sql<{ n: string }>`select nhs_number as n from la_record order by 1`.execute(
      store.db,
    );
    expect(rows.map((r) => r.n)).toEqual(['9990000018', '9990000034']);
  });

  // Two transactions at once need PostgreSQL (the embedded store has one connection).
  if (engine === 'postgres')
    it('does not let a record be deleted while another transaction is adding a plan to it', async () => {
      await record('LA1', '9990000018');
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let added!: () => void;
      const planAdded = new Promise<void>((r) => {
        added = r;
      });
      const adding = store.db.transaction().execute(async (trx) => {
        await plan('LA1', '9990000018').execute(trx);
        added();
        await held;
      });
      await planAdded;
      let deleted = false;
      const deleting = sql`delete from la_record where la_code = 'LA1'`.execute(store.db).then(() => {
        deleted = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(deleted).toBe(false); // waits for the plan's transaction, as it waited on the foreign key's lock
      release();
      await adding;
      await deleting;
      expect(await plans()).toEqual([]);
    });
});
