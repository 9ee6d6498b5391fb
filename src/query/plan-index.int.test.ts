/**
 * The in-memory plan index (plan-index.ts) against the tables, on both engines: while plans are
 * uploaded, removed, superseded, dated out and purged, and an LA's phone numbers change, every
 * answer the query path commits must equal a fresh read of the tables. On PostgreSQL the changes
 * are made through a second connection pool, as another process would make them.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabaseUrl, engines, openTestStore } from '../../test/engines.ts';
import { nhsNumbersFrom, T0 } from '../../test/helper.ts';
import { supersedePerson } from '../demographics/register.ts';
import { putLocalAuthority } from '../directory/directory.ts';
import { SettableClock } from '../domain/clock.ts';
import { addDays, addYears, type IsoDate, londonDateOf } from '../domain/dates.ts';
import type { NhsNumber } from '../domain/nhs-number.ts';
import type { PlanType } from '../domain/plans.ts';
import { openStore, type Store, transact } from '../store/db.ts';
import { purgeExpired, putRecord, type RecordInput } from '../upload/records.ts';
import { GroupCommitter } from './batch.ts';
import { readPlans, type Subject } from './lookup.ts';
import { PlanIndex } from './plan-index.ts';

const LAS = ['E08000025', 'E10000028', 'E09000030'];
const nhs = nhsNumbersFrom(999_070_000);

/** An LA's record of a child, without its plans. */
function child(
  laCode: string,
  nhsNumber: string,
  birthDate: IsoDate = '2020-01-01',
): Omit<RecordInput, 'plans'> {
  return {
    laCode,
    nhsNumber,
    subject: 'child',
    localId: null,
    familyName: 'Test',
    givenNames: ['Child'],
    birthDate,
    expectedDeliveryDate: null,
  };
}

/** A small seeded generator, so a failure replays. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.each(engines())('plan index on %s', (engine) => {
  let store: Store;
  /** Where changes are made: another pool on PostgreSQL (another process, in effect). */
  let writer: Store;
  const clock = new SettableClock(T0);
  const children: string[] = Array.from({ length: 24 }, () => nhs());

  beforeAll(async () => {
    if (engine === 'postgres') {
      const url = await createTestDatabaseUrl();
      store = await openStore({ engine: 'postgres', url, poolSize: 4 });
      writer = await openStore({ engine: 'postgres', url, poolSize: 2 });
    } else {
      store = await openTestStore(engine);
      writer = store;
    }
    await transact(writer.db, async (trx) => {
      for (const [i, code] of LAS.entries())
        await putLocalAuthority(trx, T0, {
          laCode: code,
          name: `Council ${i}`,
          officeHoursPhone: `0121 496 050${i}`,
          emergencyDutyPhone: `07700 900 10${i}`,
        });
    });
  });
  afterAll(async () => {
    if (writer !== store) await writer.close();
    await store.close();
  });

  it('answers every batch as a fresh read of the tables would, whatever changes meanwhile', async () => {
    const index = new PlanIndex(store.db);
    const committer = new GroupCommitter(store.db, clock, { plans: index });
    const everyone = new Set(children);
    const ask = (numbers: string[]) =>
      committer.submit({
        numbers,
        run: (ctx) => numbers.map((n) => ctx.subjects.get(n) ?? null),
      });
    const fresh = async (numbers: string[]): Promise<(Subject | null)[]> => {
      const s = await readPlans(store.db, numbers, londonDateOf(clock.now()));
      return numbers.map((n) => s.get(n) ?? null);
    };

    const random = prng(20261207);
    /** Plans whose last visible day had passed when midnight came (before the purge removed them). */
    let agedOut = 0;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const dateAround = (days: number): IsoDate => addDays(londonDateOf(clock.now()), days);
    const ops: Record<string, () => Promise<void>> = {
      put: () =>
        transact(writer.db, async (trx) => {
          const types: PlanType[] = random() < 0.3 ? ['CPP', 'LAC'] : [pick(['CPP', 'LAC', 'UCPP'] as const)];
          // Some children turn 18 within the run: their plans stop being shown on the day.
          const birthDate =
            random() < 0.3
              ? addDays(addYears(dateAround(0), -18), 1 + Math.floor(random() * 3))
              : '2020-01-01';
          await putRecord(trx, clock.now(), 0, {
            ...child(pick(LAS), pick([...everyone]), birthDate),
            plans: types.map((type) => {
              const startDate = dateAround(Math.floor(random() * 6) - 3);
              return {
                type,
                startDate,
                endDate: random() < 0.3 ? addDays(startDate, Math.floor(random() * 3)) : null,
                deleteDate: random() < 0.15 ? dateAround(1 + Math.floor(random() * 2)) : null,
              };
            }),
          });
        }),
      // As an upload's apply step removes an LA's record (its plans go with it).
      remove: async () => {
        const n = pick([...everyone]);
        await sql`delete from la_record where la_code = ${pick(LAS)} and nhs_number = ${n}`.execute(
          writer.db,
        );
      },
      supersede: () =>
        transact(writer.db, async (trx) => {
          const active = await trx
            .selectFrom('person')
            .select('nhs_number')
            .where('status', '=', 'active')
            .where('nhs_number', 'in', [...everyone])
            .execute();
          if (active.length === 0) return;
          const old = pick(active).nhs_number as NhsNumber;
          const replacement = nhs() as NhsNumber;
          everyone.add(replacement);
          // The replacement sometimes holds a plan of its own already.
          await supersedePerson(trx, clock.now(), old, replacement);
        }),
      phone: () =>
        transact(writer.db, async (trx) => {
          const code = pick(LAS);
          await putLocalAuthority(trx, clock.now(), {
            laCode: code,
            name: `Council ${code}`,
            officeHoursPhone: `0121 496 0${Math.floor(100 + random() * 899)}`,
            emergencyDutyPhone: '07700 900 199',
          });
        }),
      // Midnight passes (plans end, delete dates come) and the daily purge runs.
      day: async () => {
        clock.set(new Date(clock.now().getTime() + 86_400_000));
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from la_plan
          where visible_until < ${londonDateOf(clock.now())}::date`.execute(writer.db);
        agedOut += rows[0]!.n;
        await transact(writer.db, (trx) =>
          purgeExpired(trx, londonDateOf(clock.now())).then(() => undefined),
        );
      },
    };
    // Every child is in the register, so it can be superseded.
    await transact(writer.db, async (trx) => {
      for (const n of children)
        await sql`insert into person (nhs_number, family_name, given_names, birth_date, gender, created_at, updated_at)
                  values (${n}, 'Test', ${['Child']}, '2020-01-01', 'unknown', ${T0}, ${T0})`.execute(trx);
    });

    // Queries run all along, in the background as well as between changes.
    let changing = false;
    let version = 0;
    let backgroundChecked = 0;
    let stop = false;
    const background = (async () => {
      while (!stop) {
        const numbers = [...everyone];
        const before = version;
        const calm = !changing;
        const got = await ask(numbers);
        // Compared only when nothing changed while it ran: then one state of the tables is the answer.
        if (calm && !changing && version === before) {
          const want = await fresh(numbers);
          if (!changing && version === before) {
            expect(got).toEqual(want);
            backgroundChecked++;
          }
        }
        await new Promise((r) => setTimeout(r, 1));
      }
    })();

    const names = Object.keys(ops);
    try {
      for (let step = 0; step < 120; step++) {
        const op = step % 15 === 14 ? 'day' : pick(names.filter((n) => n !== 'day'));
        changing = true;
        await ops[op]!();
        version++;
        changing = false;
        const numbers = [...everyone];
        expect(await ask(numbers), `after step ${step} (${op})`).toEqual(await fresh(numbers));
        if (step % 10 === 9) {
          // A calm moment, so the background queries are compared too (not only while things change).
          const seen = backgroundChecked;
          for (let waited = 0; backgroundChecked === seen && waited < 10_000; waited += 5)
            await new Promise((r) => setTimeout(r, 5));
        }
      }
    } finally {
      stop = true;
      await background;
    }
    await committer.close();
    await index.close();

    // Both ways were taken: answers from the index, and batches it answered refused after a change.
    expect(index.stats.loads).toBeGreaterThan(1);
    expect(index.stats.answered).toBeGreaterThan(index.stats.refused);
    expect(index.stats.refused).toBeGreaterThan(0);
    expect(backgroundChecked).toBeGreaterThanOrEqual(12);
    // And the world had plans to show, under old numbers as well as current ones.
    const shown = await fresh([...everyone]);
    expect(shown.some((s) => s && s.plans.length > 0)).toBe(true);
    expect(shown.some((s) => s && s.current !== s.queried)).toBe(true);
    expect(agedOut).toBeGreaterThan(0);
  });

  it('never commits an answer from an index read before a change', async () => {
    const index = new PlanIndex(store.db);
    const committer = new GroupCommitter(store.db, clock, { plans: index });
    const subject = nhs();
    const ask = () =>
      committer.submit({ numbers: [subject], run: (ctx) => ctx.subjects.get(subject)?.plans.length ?? -1 });
    expect(await ask()).toBe(0);
    // Wait for the index to load, then answer from it.
    for (let i = 0; i < 100 && index.stats.loads === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(index.stats.loads).toBe(1);
    expect(await ask()).toBe(0);
    const answered = index.stats.answered;
    await transact(writer.db, (trx) =>
      putRecord(trx, clock.now(), 0, {
        ...child(LAS[0]!, subject),
        plans: [{ type: 'CPP', startDate: '2026-01-01', endDate: null, deleteDate: null }],
      }),
    );
    // The index still says no plan; the store refuses that answer and the batch is read again.
    expect(await ask()).toBe(1);
    expect(index.stats.answered).toBe(answered + 1);
    expect(index.stats.refused).toBe(1);
    // What the index does not read leaves it current: a demographics edit, an LA's inbox settings.
    for (let i = 0; i < 100 && index.stats.loads < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(index.stats.loads).toBe(2);
    await sql`update person set postcode = 'B15 2TT' where nhs_number = ${children[0]!}`.execute(writer.db);
    await sql`update local_authority set episode_gap_hours = 6 where la_code = ${LAS[1]!}`.execute(writer.db);
    expect(await ask()).toBe(1);
    expect(index.stats.refused).toBe(1);
    // A phone number is read: changing it is a change.
    await sql`update local_authority set office_hours_phone = '0121 496 0999' where la_code = ${LAS[1]!}`.execute(
      writer.db,
    );
    expect(await ask()).toBe(1);
    expect(index.stats.refused).toBe(2);
    await committer.close();
    await index.close();
  });
});
