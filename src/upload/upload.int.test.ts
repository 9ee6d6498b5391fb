import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { engines } from '../../test/engines.ts';
import { admin, buildTestApp, la, nhsNumbersFrom, type TestApp } from '../../test/helper.ts';
import { LocalRegister } from '../demographics/register.ts';
import { DemographicsUnavailable } from '../demographics/types.ts';
import { postMessage } from '../notify/mailbox.ts';
import { sweepStaleStages } from './upload.ts';

const BHAM = 'E08000025';
const SANDWELL = 'E08000028';

const johnny = {
  subject: 'child',
  nhsNumber: '9990000018',
  localId: 'C-1042',
  familyName: 'SMITH',
  givenNames: ['Johnny'],
  birthDate: '2021-05-02',
};
const lucy = {
  subject: 'child',
  nhsNumber: '9990000034',
  familyName: 'BROWN',
  givenNames: ['Lucy'],
  birthDate: '2014-07-09',
};
const tracy = {
  subject: 'unborn',
  nhsNumber: '9990000026',
  familyName: 'JONES',
  givenNames: ['Tracy'],
  birthDate: '2007-03-14',
  expectedDeliveryDate: '2027-01-20',
};
const cpp = (startDate = '2026-10-01', endDate: string | null = null) => ({
  type: 'CPP',
  startDate,
  endDate,
});

describe.each(engines())('local authority uploads on %s', (engine) => {
  let t: TestApp;
  const seq: Record<string, number> = {};
  const next = (laCode: string) => {
    seq[laCode] = (seq[laCode] ?? 0) + 1;
    return seq[laCode];
  };
  const upload = (laCode: string, records: unknown[], extra: Record<string, unknown> = {}) =>
    t.as(la(laCode)).post('/la/v1/uploads', { sequence: next(laCode), records, ...extra });
  const uploadCsv = (laCode: string, csv: string, query = '') =>
    t.as(la(laCode)).inject({
      method: 'POST',
      url: `/la/v1/uploads?sequence=${next(laCode)}${query}`,
      payload: csv,
      headers: { 'content-type': 'text/csv' },
    });
  const plansOf = async (nhsNumber: string) =>
    (
      await t.service.store.db
        .selectFrom('la_plan')
        .select(['la_code', 'plan_type', 'start_date', 'end_date', 'visible_until'])
        .where('nhs_number', '=', nhsNumber)
        .orderBy('la_code')
        .orderBy('plan_type')
        .execute()
    ).map((p) => `${p.la_code}:${p.plan_type}:${p.start_date}:${p.end_date ?? '-'}`);
  const storeSnapshot = async () => {
    const { rows } = await sql<{
      r: string;
    }>`select coalesce(string_agg(la_code || nhs_number || plan_type || start_date::text || coalesce(end_date::text, ''), ',' order by la_code, nhs_number, plan_type), '') as r from la_plan`.execute(
      t.service.store.db,
    );
    return rows[0]!.r;
  };

  beforeAll(async () => {
    t = await buildTestApp(engine, { demoWorld: true, demoPeople: 30 });
    await t.as(admin).put('/admin/v1/demographics/9990000158', {
      familyName: 'WOOD',
      givenNames: ['Archie'],
      birthDate: '2016-04-04',
      deathDate: '2026-08-01',
    });
  });
  afterAll(() => t?.close());

  describe('record codes', () => {
    it('accepts good records (CPR06) and says CPF02 when all are accepted', async () => {
      const res = await upload(BHAM, [
        { ...johnny, plans: [cpp()] },
        { ...tracy, plans: [{ type: 'UCPP', startDate: '2026-09-12' }] },
      ]);
      expect(res.statusCode).toBe(200);
      const ack = res.json();
      expect(ack).toMatchObject({
        sequence: seq[BHAM],
        fileCode: 'CPF02',
        received: 2,
        accepted: 2,
        rejected: 0,
      });
      expect(ack.records).toEqual([
        { index: 0, nhsNumber: '9990000018', localId: 'C-1042', code: 'CPR06' },
        { index: 1, nhsNumber: '9990000026', code: 'CPR06' },
      ]);
      expect(await plansOf('9990000018')).toEqual([`${BHAM}:CPP:2026-10-01:-`]);
      expect(await plansOf('9990000026')).toEqual([`${BHAM}:UCPP:2026-09-12:-`]);
    });

    it.each([
      [
        'CPR04',
        'a bad check digit',
        { ...johnny, nhsNumber: '9990000019', plans: [cpp()] },
        'records[0].nhsNumber',
        undefined,
      ],
      [
        'CPR04',
        'letters in the NHS number',
        { ...johnny, nhsNumber: '99900000AB', plans: [cpp()] },
        'records[0].nhsNumber',
        undefined,
      ],
      [
        'CPR04',
        'a check digit of 10',
        { ...johnny, nhsNumber: '9990000140', plans: [cpp()] },
        'records[0].nhsNumber',
        undefined,
      ],
      [
        'CPR01',
        'an unknown NHS number',
        { ...johnny, nhsNumber: '9990000239', plans: [cpp()] },
        'records[0].nhsNumber',
        undefined,
      ],
      [
        'CPR02',
        'a restricted record',
        {
          ...johnny,
          nhsNumber: '9990000077',
          familyName: 'CLARKE',
          givenNames: ['Amelia'],
          birthDate: '2016-01-30',
          plans: [cpp()],
        },
        'records[0].nhsNumber',
        undefined,
      ],
      [
        'CPR03',
        'a date of birth that does not match',
        { ...johnny, birthDate: '2021-05-03', plans: [cpp()] },
        'records[0].birthDate',
        undefined,
      ],
      [
        'CPR03',
        'a family name that does not match',
        { ...johnny, familyName: 'SMYTH', plans: [cpp()] },
        'records[0].familyName',
        undefined,
      ],
      [
        'CPR03',
        'no matching given name',
        { ...johnny, givenNames: ['John'], plans: [cpp()] },
        'records[0].givenNames',
        undefined,
      ],
      [
        'CPR07',
        'an end date before the start date',
        { ...johnny, plans: [cpp('2026-10-01', '2026-09-30')] },
        'records[0].plans[0].endDate',
        'END_BEFORE_START',
      ],
      [
        'CPR07',
        'a start date in the future',
        { ...johnny, plans: [cpp('2026-11-21')] },
        'records[0].plans[0].startDate',
        'START_DATE_IN_FUTURE',
      ],
      [
        'CPR07',
        'a missing family name',
        { ...johnny, familyName: undefined, plans: [cpp()] },
        'records[0].familyName',
        'MISSING_FIELD',
      ],
      [
        'CPR07',
        'a missing start date',
        { ...johnny, plans: [{ type: 'CPP' }] },
        'records[0].plans[0].startDate',
        'MISSING_FIELD',
      ],
      ['CPR07', 'missing plans', { ...johnny }, 'records[0].plans', 'MISSING_FIELD'],
      [
        'CPR07',
        'an impossible date',
        { ...johnny, plans: [cpp('2026-02-30')] },
        'records[0].plans[0].startDate',
        'IMPOSSIBLE_DATE',
      ],
      [
        'CPR07',
        'an unknown plan type',
        { ...johnny, plans: [{ type: 'CIN', startDate: '2026-10-01' }] },
        'records[0].plans[0].type',
        'UNKNOWN_PLAN_TYPE',
      ],
      [
        'CPR07',
        'a UCPP on a child',
        { ...johnny, plans: [{ type: 'UCPP', startDate: '2026-10-01' }] },
        'records[0].plans[0].type',
        'PLAN_TYPE_NOT_FOR_SUBJECT',
      ],
      [
        'CPR07',
        'a CPP on an unborn subject',
        { ...tracy, plans: [cpp()] },
        'records[0].plans[0].type',
        'PLAN_TYPE_NOT_FOR_SUBJECT',
      ],
      [
        'CPR07',
        'an unborn record without an expected delivery date',
        { ...tracy, expectedDeliveryDate: undefined, plans: [{ type: 'UCPP', startDate: '2026-09-12' }] },
        'records[0].expectedDeliveryDate',
        'MISSING_EXPECTED_DELIVERY_DATE',
      ],
      [
        'CPR07',
        'a child already 18 by demographics',
        {
          subject: 'child',
          nhsNumber: '9990000042',
          familyName: 'SMITH',
          givenNames: ['Sharon'],
          birthDate: '1994-02-11',
          plans: [cpp()],
        },
        'records[0].birthDate',
        'SUBJECT_IS_ADULT',
      ],
      [
        'CPR07',
        'a deceased subject',
        {
          subject: 'child',
          nhsNumber: '9990000158',
          familyName: 'WOOD',
          givenNames: ['Archie'],
          birthDate: '2016-04-04',
          plans: [cpp()],
        },
        'records[0].nhsNumber',
        'SUBJECT_DECEASED',
      ],
      [
        'CPR07',
        'a field CP-IS does not accept',
        { ...johnny, address: '1 High Street', plans: [cpp()] },
        'records[0].address',
        'UNKNOWN_FIELD',
      ],
      [
        'CPR07',
        'two plans of one type',
        { ...johnny, plans: [cpp(), cpp('2026-09-01')] },
        'records[0].plans[1].type',
        'DUPLICATE_PLAN_TYPE',
      ],
      [
        'CPR07',
        'a subject of neither kind',
        { ...johnny, subject: 'adult', plans: [cpp()] },
        'records[0].subject',
        'INVALID_VALUE',
      ],
    ])('%s for %s, with the field', async (code, _what, record, field, detail) => {
      const before = await storeSnapshot();
      const res = await upload(SANDWELL, [record]);
      expect(res.statusCode).toBe(200);
      const ack = res.json();
      expect(ack).toMatchObject({ fileCode: 'CPF04', received: 1, accepted: 0, rejected: 1 });
      const r = ack.records[0];
      expect(r.code).toBe(code);
      expect(r.field).toBe(field);
      expect(typeof r.message).toBe('string');
      if (detail) expect(r.detail).toBe(detail);
      else expect(r.detail).toBeUndefined();
      expect(await storeSnapshot()).toBe(before);
    });

    it('CPR05 for a superseded number, with the replacement; and for an invalidated one, with none', async () => {
      const res = await upload(SANDWELL, [
        {
          ...johnny,
          nhsNumber: '9990000085',
          familyName: "O'BRIEN",
          givenNames: ['Oliver'],
          birthDate: '2012-11-05',
          plans: [cpp()],
        },
        {
          ...johnny,
          nhsNumber: '9990000107',
          familyName: 'TAYLOR',
          givenNames: ['Ruby'],
          birthDate: '2019-06-17',
          plans: [cpp()],
        },
      ]);
      const [superseded, invalidated] = res.json().records;
      expect(superseded).toMatchObject({ code: 'CPR05', replacementNhsNumber: '9990000093' });
      expect(invalidated).toMatchObject({ code: 'CPR05', replacementNhsNumber: null });
    });

    it('rejects the same subject twice in one file, applying neither, and says CPF03 for partial success', async () => {
      const res = await upload(SANDWELL, [
        { ...lucy, plans: [{ type: 'LAC', startDate: '2026-09-01' }] },
        { ...johnny, plans: [cpp()] },
        { ...lucy, plans: [] },
      ]);
      const ack = res.json();
      expect(ack).toMatchObject({ fileCode: 'CPF03', received: 3, accepted: 1, rejected: 2 });
      expect(ack.records.map((r: { code: string; detail?: string }) => r.detail ?? r.code)).toEqual([
        'DUPLICATE_SUBJECT',
        'CPR06',
        'DUPLICATE_SUBJECT',
      ]);
      expect((await plansOf('9990000034')).filter((p) => p.startsWith(SANDWELL))).toEqual([]);
    });

    it('never tells the LA what demographics holds about someone who did not match', async () => {
      const res = await upload(SANDWELL, [
        { ...johnny, familyName: 'JONES', givenNames: ['Kevin'], birthDate: '2020-01-01', plans: [cpp()] },
      ]);
      const text = res.body;
      expect(text).not.toContain('SMITH');
      expect(text).not.toContain('Johnny');
      expect(text).not.toContain('2021-05-02');
    });
  });

  describe('what a record means', () => {
    it("replaces the LA's previous statement, lets CPP and LAC coexist, and leaves other LAs alone", async () => {
      await upload(SANDWELL, [{ ...lucy, plans: [{ type: 'LAC', startDate: '2026-06-01' }] }]);
      await upload(BHAM, [{ ...lucy, plans: [cpp('2026-05-01'), { type: 'LAC', startDate: '2026-06-01' }] }]);
      expect(await plansOf('9990000034')).toEqual([
        `${BHAM}:CPP:2026-05-01:-`,
        `${BHAM}:LAC:2026-06-01:-`,
        `${SANDWELL}:LAC:2026-06-01:-`,
      ]);
      // Birmingham's next statement: the CPP ended, the LAC gone.
      await upload(BHAM, [{ ...lucy, plans: [cpp('2026-05-01', '2026-11-01')] }]);
      expect(await plansOf('9990000034')).toEqual([
        `${BHAM}:CPP:2026-05-01:2026-11-01`,
        `${SANDWELL}:LAC:2026-06-01:-`,
      ]);
    });

    it("removes the LA's record with remove: true or a delete date on or before today, and only that LA's", async () => {
      const res = await upload(SANDWELL, [{ subject: 'child', nhsNumber: '9990000034', remove: true }]);
      expect(res.json().records[0].code).toBe('CPR06');
      expect(await plansOf('9990000034')).toEqual([`${BHAM}:CPP:2026-05-01:2026-11-01`]);
      await upload(BHAM, [
        { ...lucy, plans: [{ ...cpp('2026-05-01', '2026-11-01'), deleteDate: '2026-11-20' }] },
      ]);
      expect(await plansOf('9990000034')).toEqual([]);
    });

    it('keeps a plan with a future delete date until that day, then the daily purge removes it', async () => {
      await upload(SANDWELL, [
        { ...lucy, plans: [{ type: 'LAC', startDate: '2026-06-01', deleteDate: '2026-11-25' }] },
      ]);
      expect(await plansOf('9990000034')).toEqual([`${SANDWELL}:LAC:2026-06-01:-`]);
      t.clock.set(new Date('2026-11-25T08:00:00Z'));
      await t.service.scheduler.tick();
      expect(await plansOf('9990000034')).toEqual([]);
      t.clock.set(new Date('2026-11-20T10:00:00Z'));
    });

    it("in snapshot mode ends (from today) the LA's plans for subjects absent from the file", async () => {
      await upload(SANDWELL, [
        { ...lucy, plans: [{ type: 'LAC', startDate: '2026-06-01' }] },
        { ...johnny, plans: [cpp('2026-07-01')] },
      ]);
      const res = await upload(SANDWELL, [{ ...johnny, plans: [cpp('2026-07-01')] }], { mode: 'snapshot' });
      expect(res.json().fileCode).toBe('CPF02');
      expect((await plansOf('9990000034')).filter((p) => p.startsWith(SANDWELL))).toEqual([
        `${SANDWELL}:LAC:2026-06-01:2026-11-20`,
      ]);
      expect((await plansOf('9990000018')).filter((p) => p.startsWith(SANDWELL))).toEqual([
        `${SANDWELL}:CPP:2026-07-01:-`,
      ]);
      // An empty snapshot would end everything: refused as unreadable.
      const empty = await upload(SANDWELL, [], { mode: 'snapshot' });
      expect(empty.statusCode).toBe(400);
      expect(empty.json().fileCode).toBe('CPF01');
    });

    it('audits every record it put, removed or ended, naming each child, and leaves nothing staged', async () => {
      await upload(SANDWELL, [{ ...lucy, plans: [{ type: 'LAC', startDate: '2026-06-01' }] }]);
      const before = await t.service.store.db
        .selectFrom('audit_head')
        .select('seq')
        .executeTakeFirstOrThrow();
      await upload(SANDWELL, [{ ...johnny, plans: [cpp('2026-07-01')] }], { mode: 'snapshot' });
      await upload(SANDWELL, [{ subject: 'child', nhsNumber: '9990000018', remove: true }]);
      const { rows } = await sql<{
        action: string;
        nhs_number: string | null;
        detail: Record<string, unknown>;
      }>`
        select action, nhs_number, detail from audit_log where seq > ${before.seq} and category = 'upload'
        order by seq`.execute(t.service.store.db);
      expect(rows.map((r) => r.action)).toEqual([
        'record.put',
        'record.end',
        'upload',
        'record.remove',
        'upload',
      ]);
      expect(rows[0]!.detail.records).toEqual([
        { nhsNumber: '9990000018', subject: 'child', planTypes: ['CPP'] },
      ]);
      expect(rows[1]!.detail.nhsNumbers).toEqual(['9990000034']);
      expect(rows[1]!.detail.reason).toBe('absent from snapshot');
      expect(rows[3]!.detail.nhsNumbers).toEqual(['9990000018']);
      for (const table of ['upload_stage', 'upload_staging'] as const) {
        const left = await t.service.store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        expect(Number(left.n)).toBe(0);
      }
    });

    it('sweeps files a dead process left staged, a day old or without their header, and keeps fresh ones', async () => {
      const db = t.service.store.db;
      const old = '00000000-0000-4000-8000-00000000000a';
      const fresh = '00000000-0000-4000-8000-00000000000b';
      const orphan = '00000000-0000-4000-8000-00000000000c';
      await db
        .insertInto('upload_staging')
        .values([
          { id: old, la_code: BHAM, created_at: new Date(Date.now() - 2 * 86_400_000) },
          { id: fresh, la_code: BHAM, created_at: new Date() },
        ])
        .execute();
      await sql`insert into upload_stage (stage_id, idx, op, nhs_number)
        select id::uuid, 0, 'named', '9990000018' from unnest(${[old, fresh, orphan]}::text[]) id`.execute(
        db,
      );
      expect(await sweepStaleStages(db)).toBe(2);
      const left = await db.selectFrom('upload_stage').select('stage_id').execute();
      expect(left.map((r) => r.stage_id)).toEqual([fresh]);
      expect((await db.selectFrom('upload_staging').select('id').execute()).map((r) => r.id)).toEqual([
        fresh,
      ]);
      await sql`delete from upload_stage`.execute(db);
      await sql`delete from upload_staging`.execute(db);
    });

    it("clears a large file's staged rows in parts, letting other work in between them", async () => {
      const db = t.service.store.db;
      const stale = '00000000-0000-4000-8000-00000000000d';
      await db
        .insertInto('upload_staging')
        .values({ id: stale, la_code: BHAM, created_at: new Date(Date.now() - 2 * 86_400_000) })
        .execute();
      await sql`insert into upload_stage (stage_id, idx, op, nhs_number)
        select ${stale}::uuid, g, 'named', '9990000018' from generate_series(1, 16000) g`.execute(db);
      // A timer due now stands for a health query's I/O: it must not wait for the whole clearing.
      let timerRan = false;
      let timerRanBeforeTheEnd = false;
      setTimeout(() => {
        timerRan = true;
      }, 0);
      const clearing = sweepStaleStages(db).then((n) => {
        timerRanBeforeTheEnd = timerRan;
        return n;
      });
      expect(await clearing).toBe(1);
      expect(timerRanBeforeTheEnd).toBe(true);
      const left = await db
        .selectFrom('upload_stage')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(left.n)).toBe(0);
    });

    it('moves records to the replacement number when demographics supersedes one', async () => {
      await upload(SANDWELL, [
        {
          ...johnny,
          nhsNumber: '9990000123',
          familyName: 'PATEL',
          givenNames: ['Ava'],
          birthDate: '2020-03-29',
          plans: [cpp('2026-08-01')],
        },
      ]);
      const res = await t
        .as(admin)
        .post('/admin/v1/demographics/9990000123/supersede', { newNhsNumber: '9990000166' });
      expect(res.statusCode).toBe(200);
      expect(await plansOf('9990000123')).toEqual([]);
      expect(await plansOf('9990000166')).toEqual([`${SANDWELL}:CPP:2026-08-01:-`]);
      const again = await upload(SANDWELL, [
        {
          subject: 'child',
          nhsNumber: '9990000123',
          familyName: 'PATEL',
          givenNames: ['Ava'],
          birthDate: '2020-03-29',
          plans: [cpp('2026-08-01')],
        },
      ]);
      expect(again.json().records[0]).toMatchObject({ code: 'CPR05', replacementNhsNumber: '9990000166' });
    });
  });

  describe('file codes, sequences and replays', () => {
    it.each([
      ['bad JSON', 'application/json', '{"sequence": 1, "records": [', /cannot be read/],
      ['a wrong shape', 'application/json', '[{"nhsNumber":"9990000018"}]', /JSON object/],
      [
        'records that are not a list',
        'application/json',
        '{"sequence": 1, "records": {}}',
        /records must be an array/,
      ],
      [
        'an unknown member',
        'application/json',
        '{"sequence": 1, "records": [], "batch": 3}',
        /"batch" is not a member/,
      ],
      ['no sequence', 'application/json', '{"records": []}', /sequence is required/],
      ['a fractional sequence', 'application/json', '{"sequence": 1.5, "records": []}', /whole number/],
      [
        'an unknown mode',
        'application/json',
        '{"sequence": 1, "mode": "full", "records": []}',
        /mode must be delta or snapshot/,
      ],
      ['an empty body', 'application/json', '', /empty/],
      [
        'a CSV with a missing column',
        'text/csv',
        'subject,nhs_number\nchild,9990000018\n',
        /missing CSV column/,
      ],
      [
        'a CSV with a ragged row',
        'text/csv',
        'subject,nhs_number,local_id,family_name,given_names,birth_date,plan_type,start_date,end_date,delete_date,expected_delivery_date\nchild,9990000018\n',
        /line 2/,
      ],
    ])('refuses %s with 400 CPF01 and applies nothing', async (_w, contentType, payload, message) => {
      const before = await storeSnapshot();
      const res = await t.as(la(BHAM)).inject({
        method: 'POST',
        url: contentType === 'text/csv' ? '/la/v1/uploads?sequence=900' : '/la/v1/uploads',
        payload,
        headers: { 'content-type': contentType },
      });
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.fileCode).toBe('CPF01');
      expect(body.resourceType).toBe('OperationOutcome');
      expect(body.issue[0].diagnostics).toMatch(message);
      expect(await storeSnapshot()).toBe(before);
    });

    it('refuses an unsupported content type with 415 CPF01', async () => {
      const res = await t.as(la(BHAM)).inject({
        method: 'POST',
        url: '/la/v1/uploads',
        payload: '<xml/>',
        headers: { 'content-type': 'application/xml' },
      });
      expect(res.statusCode).toBe(415);
      expect(res.json().fileCode).toBe('CPF01');
    });

    it('answers 503 CPF05 and applies nothing while demographics is unavailable; the same sequence works afterwards', async () => {
      const before = await storeSnapshot();
      await t.anonymous.post('/dev/faults', { demographics: 'unavailable' });
      const sequence = next(BHAM);
      const body = { sequence, records: [{ ...johnny, plans: [cpp('2026-09-01')] }] };
      const res = await t.as(la(BHAM)).post('/la/v1/uploads', body);
      await t.anonymous.post('/dev/faults', { demographics: 'available' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ fileCode: 'CPF05', sequence });
      expect(await storeSnapshot()).toBe(before);
      const retry = await t.as(la(BHAM)).post('/la/v1/uploads', body);
      expect(retry.json().fileCode).toBe('CPF02');
    });

    it('holds an upload mid-file while the demo fault is on, and finishes it when the fault is lifted', async () => {
      const hold = await t.anonymous.post('/dev/faults', { uploads: 'hold-mid-file' });
      expect(hold.json()).toMatchObject({ uploads: 'hold-mid-file', uploadsHeld: 0 });
      const sequence = next(BHAM);
      const pending = t.as(la(BHAM)).post('/la/v1/uploads', {
        sequence,
        records: [{ ...johnny, plans: [cpp('2026-09-02')] }],
      });
      let held = 0;
      for (let i = 0; i < 200 && held === 0; i++) {
        await new Promise((r) => setTimeout(r, 25));
        held = (await t.anonymous.get('/dev/faults')).json().uploadsHeld;
      }
      expect(held).toBe(1);
      const lifted = await t.anonymous.post('/dev/faults', { uploads: 'normal' });
      expect(lifted.json()).toMatchObject({ uploads: 'normal', uploadsHeld: 0 });
      const res = await pending;
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ fileCode: 'CPF02', sequence });
      expect((await t.anonymous.post('/dev/faults', {})).statusCode).toBe(400);
    });

    it('returns the stored acknowledgement for an exact replay and applies nothing again', async () => {
      const sequence = next(BHAM);
      const body = JSON.stringify({ sequence, records: [{ ...johnny, plans: [cpp('2026-10-01')] }] });
      const send = () =>
        t.as(la(BHAM)).inject({
          method: 'POST',
          url: '/la/v1/uploads',
          payload: body,
          headers: { 'content-type': 'application/json' },
        });
      const first = await send();
      const messagesBefore = (await t.as(la(BHAM)).get('/la/v1/mailbox')).json().messages.length;
      const auditBefore = await sql<{ n: number }>`select count(*) as n from audit_log`.execute(
        t.service.store.db,
      );
      const replay = await send();
      expect(replay.statusCode).toBe(200);
      expect(replay.json()).toEqual(first.json());
      expect((await t.as(la(BHAM)).get('/la/v1/mailbox')).json().messages.length).toBe(messagesBefore);
      const auditAfter = await sql<{ n: number }>`select count(*) as n from audit_log`.execute(
        t.service.store.db,
      );
      expect(auditAfter.rows[0]!.n).toBe(auditBefore.rows[0]!.n);
    });

    it('refuses a used sequence with a different body, and a lower sequence, with 409', async () => {
      const used = seq[BHAM]!;
      const different = await t
        .as(la(BHAM))
        .post('/la/v1/uploads', { sequence: used, records: [{ ...lucy, plans: [] }] });
      expect(different.statusCode).toBe(409);
      expect(different.json().issue[0].diagnostics).toMatch(/already processed with a different file/);
      const KENT = 'E10000016';
      expect((await t.as(la(KENT)).post('/la/v1/uploads', { sequence: 10, records: [] })).statusCode).toBe(
        200,
      );
      const lower = await t.as(la(KENT)).post('/la/v1/uploads', { sequence: 9, records: [] });
      expect(lower.statusCode).toBe(409);
      expect(lower.json().issue[0].diagnostics).toMatch(/lower than 10/);
      expect((await t.as(la(KENT)).post('/la/v1/uploads', { sequence: 11, records: [] })).statusCode).toBe(
        200,
      );
    });

    it('accepts CSV with one row per plan and given names separated by spaces', async () => {
      const csv = [
        'subject,nhs_number,local_id,family_name,given_names,birth_date,plan_type,start_date,end_date,delete_date,expected_delivery_date',
        'child,9990000069,S-77,HUGHES,Mason James,2018-09-23,CPP,2026-03-01,,,',
        'child,999 000 0131,,SMITH JONES,Noah,2017-08-14,LAC,2026-04-01,,,',
        'child,9990000069,S-77,HUGHES,Mason James,2018-09-23,LAC,2026-05-01,,,',
        'unborn,9990000042,,Smith,Sharon,1994-02-11,UCPP,2026-10-01,,,2027-03-01',
        'child,9990000018,,SMITH,Johnny,2021-05-02,UCPP,2026-10-01,,,',
      ].join('\r\n');
      const res = await uploadCsv(SANDWELL, csv);
      expect(res.statusCode).toBe(200);
      const ack = res.json();
      expect(ack).toMatchObject({ fileCode: 'CPF03', received: 4, accepted: 3, rejected: 1 });
      expect(ack.records[0]).toEqual({
        index: 0,
        nhsNumber: '9990000069',
        localId: 'S-77',
        code: 'CPR06',
        lines: [2, 4],
      });
      expect(ack.records[3]).toMatchObject({
        code: 'CPR07',
        detail: 'PLAN_TYPE_NOT_FOR_SUBJECT',
        lines: [6],
      });
      expect(await plansOf('9990000069')).toEqual([
        `${SANDWELL}:CPP:2026-03-01:-`,
        `${SANDWELL}:LAC:2026-05-01:-`,
      ]);
      expect(await plansOf('9990000042')).toEqual([`${SANDWELL}:UCPP:2026-10-01:-`]);
    });

    it('refuses an upload from anyone but a local authority', async () => {
      expect((await t.as(admin).post('/la/v1/uploads', { sequence: 1, records: [] })).statusCode).toBe(403);
      expect((await t.anonymous.post('/la/v1/uploads', { sequence: 1, records: [] })).statusCode).toBe(401);
    });
  });

  describe('mailbox', () => {
    const LEEDS = 'E08000035';
    beforeEach(async () => {
      // Start each mailbox test with Leeds's mailbox empty.
      for (const m of (await t.as(la(LEEDS)).get('/la/v1/mailbox')).json().messages) {
        await t.as(la(LEEDS)).put(`/la/v1/mailbox/${m.id}/acknowledged`);
      }
    });

    it('holds every acknowledgement, oldest first, until acknowledged', async () => {
      const sent = (await upload(LEEDS, [{ ...johnny, plans: [cpp()] }])).json();
      await t.as(la(LEEDS)).inject({
        method: 'POST',
        url: '/la/v1/uploads',
        payload: '{',
        headers: { 'content-type': 'application/json' },
      });
      const list = (await t.as(la(LEEDS)).get('/la/v1/mailbox')).json().messages;
      expect(list.map((m: { type: string }) => m.type)).toEqual([
        'upload-acknowledgement',
        'upload-acknowledgement',
      ]);
      const first = (await t.as(la(LEEDS)).get(`/la/v1/mailbox/${list[0].id}`)).json();
      expect(first).toMatchObject({
        id: list[0].id,
        type: 'upload-acknowledgement',
        fileCode: 'CPF02',
        sequence: seq[LEEDS],
        accepted: 1,
      });
      // The whole acknowledgement, as the upload's answer gave it.
      expect(first).toEqual({
        ...sent,
        id: list[0].id,
        type: 'upload-acknowledgement',
        createdAt: expect.any(String),
        acknowledgedAt: null,
      });
      const second = (await t.as(la(LEEDS)).get(`/la/v1/mailbox/${list[1].id}`)).json();
      expect(second).toMatchObject({ fileCode: 'CPF01', accepted: 0 });
      expect((await t.as(la(LEEDS)).put(`/la/v1/mailbox/${list[0].id}/acknowledged`)).statusCode).toBe(200);
      expect((await t.as(la(LEEDS)).put(`/la/v1/mailbox/${list[0].id}/acknowledged`)).statusCode).toBe(200);
      const after = (await t.as(la(LEEDS)).get('/la/v1/mailbox')).json().messages;
      expect(after.map((m: { id: string }) => m.id)).toEqual([list[1].id]);
    });

    it('lists 500 messages at most, oldest first, however many are waiting', async () => {
      const YORK = 'E06000014';
      await t.service.store.db.transaction().execute(async (trx) => {
        for (let i = 0; i < 502; i++) {
          await postMessage(trx, new Date(Date.UTC(2026, 10, 1, 0, 0, i)), YORK, 'birth', { n: i });
        }
      });
      const list = (await t.as(la(YORK)).get('/la/v1/mailbox')).json().messages;
      expect(list).toHaveLength(500);
      const first = (await t.as(la(YORK)).get(`/la/v1/mailbox/${list[0].id}`)).json();
      const last = (await t.as(la(YORK)).get(`/la/v1/mailbox/${list[499].id}`)).json();
      expect([first.n, last.n]).toEqual([0, 499]);
    });

    it('lists at most the limit asked for, and never more than 500', async () => {
      for (let i = 0; i < 3; i++) await upload(LEEDS, [{ ...johnny, plans: [cpp()] }]);
      expect((await t.as(la(LEEDS)).get('/la/v1/mailbox?limit=2')).json().messages).toHaveLength(2);
      expect((await t.as(la(LEEDS)).get('/la/v1/mailbox?limit=501')).statusCode).toBe(400);
      expect((await t.as(la(LEEDS)).get('/la/v1/mailbox?limit=0')).statusCode).toBe(400);
    });

    it("never lets an LA list, read or acknowledge another LA's messages (404, not 403)", async () => {
      await upload(LEEDS, [{ ...johnny, plans: [cpp()] }]);
      const [mine] = (await t.as(la(LEEDS)).get('/la/v1/mailbox')).json().messages;
      const theirs = (await t.as(la(BHAM)).get('/la/v1/mailbox'))
        .json()
        .messages.map((m: { id: string }) => m.id);
      expect(theirs).not.toContain(mine.id);
      expect((await t.as(la(BHAM)).get(`/la/v1/mailbox/${mine.id}`)).statusCode).toBe(404);
      expect((await t.as(la(BHAM)).put(`/la/v1/mailbox/${mine.id}/acknowledged`)).statusCode).toBe(404);
      // Both tries are in the audit trail, as refusals by Birmingham.
      const tries = await t.service.store.db
        .selectFrom('audit_log')
        .select(['action', 'actor'])
        .where('category', '=', 'access-denied')
        .where(sql<boolean>`detail->>'messageId' = ${mine.id}`)
        .orderBy('seq')
        .execute();
      expect(tries.map((e) => e.action)).toEqual(['mailbox.read', 'mailbox.acknowledge']);
      expect(tries.every((e) => JSON.stringify(e.actor).includes(BHAM))).toBe(true);
      expect(
        (await t.as(la(LEEDS)).get('/la/v1/mailbox')).json().messages.map((m: { id: string }) => m.id),
      ).toContain(mine.id);
      expect((await t.as(la(LEEDS)).get('/la/v1/mailbox/not-a-uuid')).statusCode).toBe(404);
      expect((await t.as(admin).get('/la/v1/mailbox')).statusCode).toBe(403);
    });
  });

  describe('data quality', () => {
    it('shows the LA its records by plan type, its match rate and its rejected subjects without demographics', async () => {
      const NOTTS = 'E06000018';
      await upload(NOTTS, [
        { ...johnny, plans: [cpp()] },
        { ...lucy, plans: [{ type: 'LAC', startDate: '2026-06-01' }] },
        {
          ...johnny,
          nhsNumber: '9990000131',
          familyName: 'JONES',
          givenNames: ['Noah'],
          birthDate: '2017-08-14',
          plans: [cpp()],
        },
        { ...johnny, nhsNumber: '9990000239', plans: [cpp()] },
      ]);
      const dq = (await t.as(la(NOTTS)).get('/la/v1/data-quality')).json();
      expect(dq.records).toEqual({
        subjects: 2,
        plans: { CPP: 1, LAC: 1, UCPP: 0 },
        visiblePlans: { CPP: 1, LAC: 1, UCPP: 0 },
      });
      expect(dq.uploads[0]).toMatchObject({ received: 4, accepted: 2, rejected: 2, matchRate: 0.5 });
      expect(dq.matchRate).toBe(0.5);
      expect(
        dq.rejected
          .map((r: { nhsNumber: string; code: string; field: string }) => [r.nhsNumber, r.code, r.field])
          .sort(),
      ).toEqual([
        ['9990000131', 'CPR03', 'records[2].familyName'],
        ['9990000239', 'CPR01', 'records[3].nhsNumber'],
      ]);
      expect(JSON.stringify(dq)).not.toContain('SMITH-JONES');
      // Fixing the record clears it from the worklist.
      await upload(NOTTS, [
        {
          ...johnny,
          nhsNumber: '9990000131',
          familyName: 'SMITH-JONES',
          givenNames: ['Noah'],
          birthDate: '2017-08-14',
          plans: [cpp()],
        },
      ]);
      const again = (await t.as(la(NOTTS)).get('/la/v1/data-quality')).json();
      expect(again.rejected.map((r: { nhsNumber: string }) => r.nhsNumber)).toEqual(['9990000239']);
    });
  });

  describe('retention', () => {
    it('purges plans the day after their last visible day and keeps their audit trail', async () => {
      const WIGAN = 'E08000010';
      await upload(WIGAN, [
        {
          subject: 'child',
          nhsNumber: '9990000115',
          familyName: 'EVANS',
          givenNames: ['Leo'],
          birthDate: '2009-12-02',
          plans: [cpp('2025-01-01', '2026-01-10')],
        },
      ]);
      const visible = await t.service.store.db
        .selectFrom('la_plan')
        .select('visible_until')
        .where('la_code', '=', WIGAN)
        .executeTakeFirstOrThrow();
      expect(visible.visible_until).toBe('2027-01-10');
      t.clock.set(new Date('2027-01-10T12:00:00Z'));
      await t.service.scheduler.tick();
      expect((await plansOf('9990000115')).filter((p) => p.startsWith(WIGAN))).toHaveLength(1);
      t.clock.set(new Date('2027-01-11T12:00:00Z'));
      await t.service.scheduler.tick();
      expect((await plansOf('9990000115')).filter((p) => p.startsWith(WIGAN))).toHaveLength(0);
      // The upload's entries name the child in their list of records (one entry per chunk of a file).
      const { rows } = await sql<{ action: string }>`select action from audit_log
        where nhs_number = '9990000115' or detail->'records' @> '[{"nhsNumber":"9990000115"}]'
           or detail->'nhsNumbers' ? '9990000115'
        order by seq`.execute(t.service.store.db);
      expect(rows.map((r) => r.action)).toContain('record.put');
      t.clock.set(new Date('2026-11-20T10:00:00Z'));
    });
  });
});

/** The local register, failing as an outage would on the given trace (one trace per chunk of records). */
class RegisterFailingOn extends LocalRegister {
  calls = 0;
  constructor(private readonly failOn: number) {
    super();
  }
  override async trace(...args: Parameters<LocalRegister['trace']>) {
    if (++this.calls === this.failOn) throw new DemographicsUnavailable();
    return super.trace(...args);
  }
}

describe.each(engines())('a file refused part-way through staging on %s', (engine) => {
  it('leaves nothing staged or applied when demographics fails on a later chunk, while an earlier chunk is being written', async () => {
    const register = new RegisterFailingOn(3);
    const t = await buildTestApp(engine, { demographics: register });
    try {
      const next = nhsNumbersFrom(999_870_000);
      // 2,500 records: three chunks; the third's trace fails while the second's rows are written.
      const records = Array.from({ length: 2_500 }, () => ({
        subject: 'child',
        nhsNumber: next(),
        familyName: 'TESTER',
        givenNames: ['Sam'],
        birthDate: '2020-02-02',
        plans: [cpp('2026-09-01')],
      }));
      const res = await t.as(la(BHAM)).post('/la/v1/uploads', { sequence: 1, records });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ fileCode: 'CPF05', sequence: 1 });
      expect(register.calls).toBe(3);
      const db = t.service.store.db;
      for (const table of ['upload_stage', 'upload_staging', 'la_record', 'upload'] as const) {
        const n = await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        expect(Number(n.n), table).toBe(0);
      }
      // The same file again, demographics answering: every record is traced and, none of them being
      // registered, refused as not found; the file is acknowledged with every record rejected.
      const retry = await t.as(la(BHAM)).post('/la/v1/uploads', { sequence: 1, records });
      expect(retry.statusCode).toBe(200);
      expect(retry.json()).toMatchObject({ fileCode: 'CPF04', sequence: 1, received: 2_500, accepted: 0 });
      expect(register.calls).toBe(6);
    } finally {
      await t.close();
    }
  });
});
