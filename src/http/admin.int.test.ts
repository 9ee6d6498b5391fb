import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../test/engines.ts';
import { admin, buildTestApp, clinician, issueOf, la, type TestApp } from '../../test/helper.ts';

const JOHNNY = { familyName: 'SMITH', givenNames: ['Johnny'], birthDate: '2021-05-02', gender: 'male' };

describe.each(engines())('administration over HTTP on %s', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(engine);
  });
  afterAll(() => t?.close());

  async function auditActions(): Promise<string[]> {
    const { rows } = await sql<{ action: string }>`select action from audit_log order by seq`.execute(
      t.service.store.db,
    );
    return rows.map((r) => r.action);
  }
  async function count(table: 'person' | 'organisation' | 'local_authority'): Promise<number> {
    const { rows } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(
      t.service.store.db,
    );
    return rows[0]!.n;
  }

  describe('PUT /admin/v1/demographics/{nhsNumber}', () => {
    it('creates a person (201), then updates them (200), and audits both', async () => {
      const before = (await auditActions()).length;
      const created = await t.as(admin).put('/admin/v1/demographics/9990000018', JOHNNY);
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        nhsNumber: '9990000018',
        familyName: 'SMITH',
        status: 'active',
        sensitive: false,
      });
      const updated = await t
        .as(admin)
        .put('/admin/v1/demographics/999 000 0018', { ...JOHNNY, sensitive: true });
      expect(updated.statusCode).toBe(200);
      expect(updated.json().sensitive).toBe(true);
      const got = await t.as(admin).get('/admin/v1/demographics/9990000018');
      expect(got.json()).toMatchObject({ nhsNumber: '9990000018', sensitive: true, givenNames: ['Johnny'] });
      expect((await auditActions()).slice(before)).toEqual(['demographics.create', 'demographics.update']);
    });

    it.each([
      ['an NHS number with a wrong check digit', '9990000019', JOHNNY, 'nhsNumber', /Modulus 11/],
      [
        'an NHS number whose check digit would be 10',
        '9990000140',
        JOHNNY,
        'nhsNumber',
        /check digit would be 10/,
      ],
      ['letters in the NHS number', '99900A0018', JOHNNY, 'nhsNumber', /only digits/],
      [
        'an impossible date',
        '9990000026',
        { ...JOHNNY, birthDate: '2027-02-30' },
        'birthDate',
        /not a real calendar date/,
      ],
      [
        'a date of birth in the future',
        '9990000026',
        { ...JOHNNY, birthDate: '2026-12-25' },
        'birthDate',
        /in the future/,
      ],
      [
        'a badly written date',
        '9990000026',
        { ...JOHNNY, birthDate: '02/05/2021' },
        'birthDate',
        /YYYY-MM-DD/,
      ],
      ['a wrong type', '9990000026', { ...JOHNNY, givenNames: 'Johnny' }, 'givenNames', /must be array/],
      [
        'a missing field',
        '9990000026',
        { givenNames: ['A'], birthDate: '2020-01-01' },
        'familyName',
        /required/,
      ],
      [
        'an unknown field',
        '9990000026',
        { ...JOHNNY, address: '1 High St' },
        'address',
        /not a recognised field/,
      ],
      ['an unknown gender', '9990000026', { ...JOHNNY, gender: 'M' }, 'gender', /must be one of/],
      ['no given names', '9990000026', { ...JOHNNY, givenNames: [] }, 'givenNames', /at least one/],
    ])('refuses %s with 400 naming the field, and writes nothing', async (_what, nhs, body, field, text) => {
      const people = await count('person');
      const res = await t.as(admin).put(`/admin/v1/demographics/${nhs}`, body);
      expect(res.statusCode).toBe(400);
      const issue = issueOf(res);
      expect(issue.field).toBe(field);
      expect(issue.text).toMatch(text);
      expect(await count('person')).toBe(people);
    });

    it('refuses malformed JSON with 400 and an OperationOutcome', async () => {
      const res = await t.as(admin).inject({
        method: 'PUT',
        url: '/admin/v1/demographics/9990000026',
        payload: '{"familyName": "JONES",',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode).toBe(400);
      expect(issueOf(res).text).toMatch(/not valid JSON/);
    });

    it('answers 404 for a number not in the register', async () => {
      const res = await t.as(admin).get('/admin/v1/demographics/9990000301');
      expect(res.statusCode).toBe(404);
    });
  });

  describe('supersede and invalidate', () => {
    it('supersedes a number: the old one becomes inactive and the new one takes the demographics', async () => {
      await t.as(admin).put('/admin/v1/demographics/9990000085', {
        familyName: "O'BRIEN",
        givenNames: ['Oliver'],
        birthDate: '2012-11-05',
      });
      const res = await t
        .as(admin)
        .post('/admin/v1/demographics/9990000085/supersede', { newNhsNumber: '9990000093' });
      expect(res.statusCode).toBe(200);
      expect(res.json().old).toMatchObject({
        nhsNumber: '9990000085',
        status: 'superseded',
        supersededBy: '9990000093',
      });
      expect(res.json().replacement).toMatchObject({
        nhsNumber: '9990000093',
        familyName: "O'BRIEN",
        status: 'active',
      });
      // The old number can no longer be updated, and cannot be superseded again.
      const put = await t.as(admin).put('/admin/v1/demographics/9990000085', JOHNNY);
      expect(put.statusCode).toBe(409);
      expect(issueOf(put).text).toMatch(/superseded by 9990000093/);
      const again = await t
        .as(admin)
        .post('/admin/v1/demographics/9990000085/supersede', { newNhsNumber: '9990000107' });
      expect(again.statusCode).toBe(409);
    });

    it('refuses a supersede to an invalid or identical number, or of an unknown one', async () => {
      const bad = await t
        .as(admin)
        .post('/admin/v1/demographics/9990000093/supersede', { newNhsNumber: '1234567890' });
      expect(bad.statusCode).toBe(400);
      expect(issueOf(bad).field).toBe('newNhsNumber');
      const same = await t
        .as(admin)
        .post('/admin/v1/demographics/9990000093/supersede', { newNhsNumber: '9990000093' });
      expect(same.statusCode).toBe(400);
      const unknown = await t
        .as(admin)
        .post('/admin/v1/demographics/9990000239/supersede', { newNhsNumber: '9990000247' });
      expect(unknown.statusCode).toBe(404);
      const missing = await t.as(admin).post('/admin/v1/demographics/9990000093/supersede', {});
      expect(missing.statusCode).toBe(400);
      expect(issueOf(missing).field).toBe('newNhsNumber');
    });

    it('invalidates a number with no replacement, once', async () => {
      await t.as(admin).put('/admin/v1/demographics/9990000107', {
        familyName: 'TAYLOR',
        givenNames: ['Ruby'],
        birthDate: '2019-06-17',
      });
      const res = await t.as(admin).post('/admin/v1/demographics/9990000107/invalidate');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ status: 'invalidated', supersededBy: null });
      const again = await t.as(admin).post('/admin/v1/demographics/9990000107/invalidate');
      expect(again.statusCode).toBe(409);
      const unknown = await t.as(admin).post('/admin/v1/demographics/9990000255/invalidate');
      expect(unknown.statusCode).toBe(404);
    });
  });

  describe('POST /admin/v1/births', () => {
    const birth = {
      motherNhsNumber: '9990000026',
      nhsNumber: '9990000050',
      familyName: 'JONES',
      givenNames: ['Kyle'],
      birthDate: '2026-11-19',
      gender: 'male',
    };

    it('registers a baby linked to the mother', async () => {
      await t.as(admin).put('/admin/v1/demographics/9990000026', {
        familyName: 'JONES',
        givenNames: ['Tracy'],
        birthDate: '2007-03-14',
        gender: 'female',
      });
      const res = await t.as(admin).post('/admin/v1/births', birth);
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({
        motherNhsNumber: '9990000026',
        baby: { nhsNumber: '9990000050', motherNhsNumber: '9990000026' },
      });
      const again = await t.as(admin).post('/admin/v1/births', birth);
      expect(again.statusCode).toBe(409);
    });

    it.each([
      [
        'an unknown mother',
        { ...birth, motherNhsNumber: '9990000263', nhsNumber: '9990000271' },
        404,
        undefined,
      ],
      [
        'a birth in the future',
        { ...birth, nhsNumber: '9990000271', birthDate: '2026-11-21' },
        400,
        'birthDate',
      ],
      ['an invalid baby number', { ...birth, nhsNumber: '9990000272' }, 400, 'nhsNumber'],
      ['the mother as her own baby', { ...birth, nhsNumber: '9990000026' }, 400, 'nhsNumber'],
      [
        'a missing family name',
        { ...birth, nhsNumber: '9990000271', familyName: undefined },
        400,
        'familyName',
      ],
    ])('refuses %s', async (_what, body, status, field) => {
      const res = await t.as(admin).post('/admin/v1/births', body);
      expect(res.statusCode).toBe(status);
      if (field) expect(issueOf(res).field).toBe(field);
    });
  });

  describe('organisations', () => {
    const ed = {
      name: 'The Royal London Hospital Emergency Department',
      setting: 'emergency-department',
      parentOdsCode: 'R1H',
      town: 'London',
      phone: '020 7946 0101',
    };

    it('creates (201) and replaces (200) an organisation, and reads it back', async () => {
      const created = await t.as(admin).put('/admin/v1/organisations/R1H12', ed);
      expect(created.statusCode).toBe(201);
      const updated = await t
        .as(admin)
        .put('/admin/v1/organisations/r1h12', { ...ed, phone: '020 7946 0102' });
      expect(updated.statusCode).toBe(200);
      const got = await t.as(admin).get('/admin/v1/organisations/R1H12');
      expect(got.json()).toMatchObject({
        odsCode: 'R1H12',
        setting: 'emergency-department',
        parentOdsCode: 'R1H',
        phone: '020 7946 0102',
      });
      const listed = await t.as(admin).get('/admin/v1/organisations?setting=emergency-department');
      expect(listed.json().organisations.map((o: { odsCode: string }) => o.odsCode)).toContain('R1H12');
    });

    it.each([
      ['an unknown setting', 'R1H12', { ...ed, setting: 'casualty' }, 'setting'],
      ['a bad code', 'R1H-12', ed, 'odsCode'],
      ['a bad phone', 'R1H12', { ...ed, phone: 'call us' }, 'phone'],
      ['its own parent', 'R1H', { ...ed, parentOdsCode: 'R1H' }, 'parentOdsCode'],
      ['a missing name', 'R1H13', { setting: 'trust' }, 'name'],
    ])('refuses %s with 400 naming the field', async (_w, code, body, field) => {
      const res = await t.as(admin).put(`/admin/v1/organisations/${code}`, body);
      expect(res.statusCode).toBe(400);
      expect(issueOf(res).field).toBe(field);
    });

    it('imports many organisations at once, or none when one is bad', async () => {
      const before = await count('organisation');
      const bad = await t.as(admin).post('/admin/v1/organisations/import', {
        organisations: [
          { odsCode: 'RJE', name: 'University Hospitals of North Midlands NHS Trust', setting: 'trust' },
          { odsCode: 'RJE01', name: 'Royal Stoke', setting: 'nowhere' },
        ],
      });
      expect(bad.statusCode).toBe(400);
      expect(issueOf(bad).field).toBe('organisations[1].setting');
      expect(await count('organisation')).toBe(before);
      const good = await t.as(admin).post('/admin/v1/organisations/import', {
        organisations: [
          { odsCode: 'RJE', name: 'University Hospitals of North Midlands NHS Trust', setting: 'trust' },
          {
            odsCode: 'RJE01',
            name: 'Royal Stoke University Hospital',
            setting: 'emergency-department',
            parentOdsCode: 'RJE',
          },
        ],
      });
      expect(good.json()).toEqual({ received: 2, created: 2, updated: 0 });
      expect(await count('organisation')).toBe(before + 2);
    });
  });

  describe('local authorities', () => {
    const bham = {
      name: 'Birmingham City Council',
      officeHoursPhone: '0121 496 0500',
      emergencyDutyPhone: '07700 900100',
    };

    it('creates with the daily cadence by default, then updates the cadence', async () => {
      const created = await t.as(admin).put('/admin/v1/local-authorities/E08000025', bham);
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ laCode: 'E08000025', notificationCadence: 'daily' });
      const updated = await t
        .as(admin)
        .put('/admin/v1/local-authorities/E08000025', { ...bham, notificationCadence: 'immediate' });
      expect(updated.statusCode).toBe(200);
      expect(
        (await t.as(admin).get('/admin/v1/local-authorities/E08000025')).json().notificationCadence,
      ).toBe('immediate');
      expect((await t.as(admin).get('/admin/v1/local-authorities')).json().localAuthorities).toHaveLength(1);
    });

    it.each([
      ['an unknown cadence', { ...bham, notificationCadence: 'weekly' }, 'notificationCadence'],
      ['a missing EDT phone', { name: 'X', officeHoursPhone: '0121 496 0500' }, 'emergencyDutyPhone'],
      ['a bad phone', { ...bham, officeHoursPhone: 'none' }, 'officeHoursPhone'],
    ])('refuses %s', async (_w, body, field) => {
      const res = await t.as(admin).put('/admin/v1/local-authorities/E08000026', body);
      expect(res.statusCode).toBe(400);
      expect(issueOf(res).field).toBe(field);
      expect((await t.as(admin).get('/admin/v1/local-authorities/E08000026')).statusCode).toBe(404);
    });
  });

  describe('authorisation', () => {
    it('answers 401 without a token and 403 for the wrong kind of caller, as OperationOutcomes', async () => {
      const anon = await t.anonymous.put('/admin/v1/demographics/9990000018', JOHNNY);
      expect(anon.statusCode).toBe(401);
      expect(issueOf(anon).spineCode).toBe('ACCESS_DENIED');
      const garbage = await t.anonymous.get('/admin/v1/local-authorities', {
        authorization: 'Bearer not.a.jwt',
      });
      expect(garbage.statusCode).toBe(401);
      for (const who of [clinician(), la('E08000025')]) {
        const res = await t.as(who).put('/admin/v1/demographics/9990000018', JOHNNY);
        expect(res.statusCode).toBe(403);
        expect(issueOf(res).spineCode).toBe('ACCESS_DENIED');
      }
    });
  });
});
