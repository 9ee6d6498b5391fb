/**
 * How long the LA mailbox and the access history are kept, played over two years of the service
 * clock: an acknowledged message goes 90 days after it was acknowledged, an unacknowledged one
 * never; a child's look-ups, what LAs were told and the LA's episodes go 12 months after the last
 * plan left the store, and not while a plan is held; the audit trail is kept.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../test/engines.ts';
import { admin, buildTestApp, clinician, la, type TestApp } from '../../test/helper.ts';
import { lookUp } from '../../test/storyboard.ts';
import { verifyAuditChain } from '../audit/verify.ts';

const WIGAN = 'E08000010';
const ENDED = '9990000115'; // plan ended 2026-01-10: visible until 2027-01-10
const OPEN = '9990000123'; // plan still open
const BACK = '9990000131'; // plan ended, then a new one within the year

const day = (iso: string) => new Date(`${iso}T12:00:00Z`);

describe.each(engines())('retention of the mailbox and the access history on %s', (engine) => {
  let t: TestApp;
  let seq = 0;
  const upload = (records: unknown[]) => t.as(la(WIGAN)).post('/la/v1/uploads', { sequence: ++seq, records });
  const child = (nhsNumber: string, givenName: string, plans: unknown[]) => ({
    subject: 'child',
    nhsNumber,
    familyName: 'EVANS',
    givenNames: [givenName],
    birthDate: '2012-03-04',
    plans,
  });
  const count = async (table: 'access_event' | 'la_episode', nhsNumber: string) =>
    Number(
      (
        await t.service.store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('nhs_number', '=', nhsNumber)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const noticesOf = async (nhsNumber: string) =>
    Number(
      (
        await sql<{ n: string }>`select count(*) as n from access_notice n
          join access_event a on a.id = n.access_id where a.nhs_number = ${nhsNumber}`.execute(
          t.service.store.db,
        )
      ).rows[0]!.n,
    );
  const at = async (iso: string) => {
    t.clock.set(day(iso));
    await t.service.scheduler.tick();
  };
  const mailbox = async () =>
    (await t.as(la(WIGAN)).get('/la/v1/mailbox')).json().messages as { id: string; type: string }[];
  const kept = async (id: string) => (await t.as(la(WIGAN)).get(`/la/v1/mailbox/${id}`)).statusCode === 200;

  beforeAll(async () => {
    t = await buildTestApp(engine, { scheduler: true });
    await t.as(admin).put(`/admin/v1/local-authorities/${WIGAN}`, {
      name: 'Wigan Council',
      officeHoursPhone: '01942 489 000',
      emergencyDutyPhone: '07700 900200',
    });
    for (const [n, name] of [
      [ENDED, 'Leo'],
      [OPEN, 'Mia'],
      [BACK, 'Noah'],
    ] as const) {
      await t.as(admin).put(`/admin/v1/demographics/${n}`, {
        familyName: 'EVANS',
        givenNames: [name],
        birthDate: '2012-03-04',
      });
    }
    t.clock.set(day('2026-11-20'));
    const res = await upload([
      child(ENDED, 'Leo', [{ type: 'CPP', startDate: '2025-01-01', endDate: '2026-01-10' }]),
      child(OPEN, 'Mia', [{ type: 'CPP', startDate: '2026-01-01' }]),
      child(BACK, 'Noah', [{ type: 'CPP', startDate: '2025-01-01', endDate: '2026-01-10' }]),
    ]);
    expect(res.json().fileCode).toBe('CPF02');
    for (const n of [ENDED, OPEN, BACK]) await lookUp(t, clinician(), n, day('2026-11-20'));
    await at('2026-11-21'); // yesterday's look-ups go out in the daily message
  });
  afterAll(() => t?.close());

  it('keeps an acknowledged message 90 days after it was acknowledged and an unacknowledged one for good', async () => {
    const before = await mailbox();
    const notification = before.find((m) => m.type === 'access-notification')!;
    const acknowledgement = before.find((m) => m.type === 'upload-acknowledgement')!;
    expect(notification && acknowledgement).toBeTruthy();
    // The acknowledgement of the upload is acknowledged on 21 November; the notification is not.
    expect((await t.as(la(WIGAN)).put(`/la/v1/mailbox/${acknowledgement.id}/acknowledged`)).statusCode).toBe(
      200,
    );
    // (On the way, Leo's and Noah's plans leave the store after their last visible day, 10 January.)
    await at('2027-01-11');
    expect(await count('access_event', ENDED)).toBe(1);
    await at('2027-02-18'); // 89 days later
    expect(await kept(acknowledgement.id)).toBe(true);
    await at('2027-02-20'); // 91 days later
    expect(await kept(acknowledgement.id)).toBe(false);
    expect(await kept(notification.id)).toBe(true);
    expect((await mailbox()).map((m) => m.id)).toContain(notification.id);
  });

  // Follows on from the test before, on the same clock.
  it("keeps a child's look-ups while a plan is held and for 12 months after the last one went, then purges them", async () => {
    // Leo's and Noah's plans were found gone on 11 January 2027 (the test before).
    // Noah's LA starts a new plan before the year is out: his history is kept.
    t.clock.set(day('2027-06-01'));
    expect(
      (await upload([child(BACK, 'Noah', [{ type: 'CPP', startDate: '2027-06-01' }])])).json().fileCode,
    ).toBe('CPF02');
    await at('2028-01-10'); // 12 months after the day Leo's plan was found gone: still kept
    expect(await count('access_event', ENDED)).toBe(1);
    expect(await count('la_episode', ENDED)).toBe(1);
    expect(await noticesOf(ENDED)).toBe(1);
    await at('2028-01-13');
    expect(await count('access_event', ENDED)).toBe(0);
    expect(await count('la_episode', ENDED)).toBe(0);
    expect(await noticesOf(ENDED)).toBe(0);
    // Not a child with a plan still open, nor one whose plan came back.
    expect(await count('access_event', OPEN)).toBe(1);
    expect(await count('access_event', BACK)).toBe(1);
    expect(await count('la_episode', BACK)).toBe(1);

    // The audit trail keeps the look-up and says what the purge removed; the chain is whole.
    const audit = await sql<{ action: string; detail: Record<string, number> }>`
      select action, detail from audit_log where action in ('CareTeam.search', 'retention.purge') order by seq`.execute(
      t.service.store.db,
    );
    expect(audit.rows.filter((r) => r.action === 'CareTeam.search')).toHaveLength(3);
    const purges = audit.rows.filter((r) => r.action === 'retention.purge').map((r) => r.detail);
    expect(purges).toContainEqual(expect.objectContaining({ accesses: 1, children: 1, episodes: 1 }));
    expect((await verifyAuditChain(t.service.store.db)).ok).toBe(true);
  });

  it('still refuses any other change to the access history', async () => {
    await expect(
      sql`delete from access_event where nhs_number = ${OPEN}`.execute(t.service.store.db),
    ).rejects.toThrow(/append-only/);
    await expect(
      sql`update access_event set org_code = 'X' where nhs_number = ${OPEN}`.execute(t.service.store.db),
    ).rejects.toThrow(/append-only/);
    await expect(
      t.service.store.db.transaction().execute(async (trx) => {
        await sql`select set_config('cpis.retention', 'on', true)`.execute(trx);
        await sql`update access_event set org_code = 'X' where nhs_number = ${OPEN}`.execute(trx);
      }),
    ).rejects.toThrow(/append-only/);
  });
});
