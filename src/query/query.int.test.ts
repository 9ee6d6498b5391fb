/**
 * The health query API (INTERFACE §5) through HTTP, on both engines: what a clinician or a PAS sees,
 * what is refused and why, what is recorded as an access and notified, and that every request lands
 * in the audit trail. Every FHIR body that comes back is checked against the R4 definitions.
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { AuditEvent, Bundle, CareTeam, Flag, PractitionerRole } from 'fhir/r4.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../test/engines.ts';
import { expectValidFhir } from '../../test/fhir.ts';
import {
  admin,
  buildTestApp,
  clinician,
  issueOf,
  la,
  nhsNumbersFrom,
  pasSystem,
  T0,
  type TestApp,
} from '../../test/helper.ts';
import type { Persona } from '../auth/claims.ts';
import type { PlanType } from '../domain/plans.ts';
import { transact } from '../store/db.ts';
import { putRecord } from '../upload/records.ts';

const SYS = 'https://fhir.nhs.uk/Id/nhs-number';
const BIRMINGHAM = 'E08000025';
const STAFFORDSHIRE = 'E10000028';
const TOWER_HAMLETS = 'E09000030';
const UNKNOWN_LA = 'E06000999';

/** A fresh valid NHS number from the test range for each subject, so tests never share a child. */
const nhs = nhsNumbersFrom(999_060_000);

interface PlanSpec {
  type: PlanType;
  startDate: string;
  endDate?: string | null;
  deleteDate?: string | null;
}

describe.each(engines())('health query API on %s', (engine) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp(engine);
    for (const [code, name, office, edt] of [
      [BIRMINGHAM, 'Birmingham City Council', '0121 496 0500', '07700 900 100'],
      [STAFFORDSHIRE, 'Staffordshire County Council', '01632 960 500', '07700 900 110'],
      [TOWER_HAMLETS, 'London Borough of Tower Hamlets', '020 7946 0500', '07700 900 120'],
    ]) {
      const r = await t.as(admin).put(`/admin/v1/local-authorities/${code}`, {
        name,
        officeHoursPhone: office,
        emergencyDutyPhone: edt,
      });
      expect(r.statusCode).toBe(201);
    }
    const org = await t.as(admin).put('/admin/v1/organisations/R1H12', {
      name: 'The Royal London Hospital Emergency Department',
      setting: 'emergency-department',
    });
    expect(org.statusCode).toBe(201);
  });
  afterAll(() => t?.close());
  afterEach(() => t.clock.set(T0));

  async function plans(
    laCode: string,
    nhsNumber: string,
    specs: PlanSpec[],
    subject: { birthDate?: string; unborn?: { expectedDeliveryDate: string } } = {},
  ): Promise<void> {
    await transact(t.service.store.db, (trx) =>
      putRecord(trx, t.clock.now(), 0, {
        laCode,
        nhsNumber,
        subject: subject.unborn ? 'unborn' : 'child',
        localId: 'LOCAL-CASE-77',
        familyName: 'SECRETFAMILY',
        givenNames: ['Hidden'],
        birthDate: subject.birthDate ?? '2019-04-01',
        expectedDeliveryDate: subject.unborn?.expectedDeliveryDate ?? null,
        plans: specs.map((p) => ({
          type: p.type,
          startDate: p.startDate,
          endDate: p.endDate ?? null,
          deleteDate: p.deleteDate ?? null,
        })),
      }),
    );
  }

  /** A FHIR search as `persona`; every body that comes back must be valid FHIR R4. */
  async function search(
    persona: Persona,
    resource: 'CareTeam' | 'AuditEvent' | 'Flag',
    nhsNumber: string,
    headers: Record<string, string> = {},
    extra = '',
  ): Promise<LightMyRequestResponse> {
    const res = await t
      .as(persona)
      .get(`/FHIR/R4/${resource}?patient:identifier=${SYS}|${nhsNumber}${extra}`, {
        'x-request-id': randomUUID(),
        ...headers,
      });
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expectValidFhir(res.json());
    return res;
  }

  function bundle(res: LightMyRequestResponse): Bundle {
    expect(res.statusCode).toBe(200);
    const b = res.json() as Bundle;
    expect(b).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
    return b;
  }

  function careTeams(res: LightMyRequestResponse): CareTeam[] {
    return (bundle(res).entry ?? []).map((e) => e.resource as CareTeam);
  }

  async function accessesOf(nhsNumber: string) {
    return t.service.store.db
      .selectFrom('access_event')
      .selectAll()
      .where('nhs_number', '=', nhsNumber)
      .orderBy('accessed_at')
      .execute();
  }

  async function noticesOf(accessId: string) {
    return t.service.store.db
      .selectFrom('access_notice')
      .selectAll()
      .where('access_id', '=', accessId)
      .orderBy('la_code')
      .execute();
  }

  /** Audit entries since `seq`, leaving out what the scheduler writes meanwhile (notification deliveries). */
  async function auditSince(seq: number) {
    return t.service.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', seq)
      .where('category', '<>', 'system')
      .orderBy('seq')
      .execute();
  }

  async function headSeq(): Promise<number> {
    const h = await t.service.store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
    return Number(h.seq);
  }

  describe('refusals: each with its code, each audited', () => {
    const child = nhs();
    const url = `/FHIR/R4/CareTeam?patient:identifier=${SYS}|${child}`;

    it('no token: 401 ACCESS_DENIED', async () => {
      const before = await headSeq();
      const res = await t.anonymous.get(url, { 'x-request-id': randomUUID() });
      expect(res.statusCode).toBe(401);
      expectValidFhir(res.json());
      expect(issueOf(res)).toMatchObject({ code: 'login', spineCode: 'ACCESS_DENIED' });
      const [entry] = await auditSince(before);
      expect(entry).toMatchObject({
        category: 'access-denied',
        action: 'CareTeam.search',
        outcome: 'refused',
        nhs_number: child,
      });
      expect(entry!.actor).toEqual({ kind: 'anonymous' });
      expect(entry!.detail).toMatchObject({
        code: 'ACCESS_DENIED',
        http: { status: 401, url: `/FHIR/R4/CareTeam?patient:identifier=${SYS}|${child}` },
      });
    });

    it('a token that is not valid: 401 ACCESS_DENIED', async () => {
      const res = await t.anonymous.get(url, {
        'x-request-id': randomUUID(),
        authorization: 'Bearer not.a.jwt',
      });
      expect(res.statusCode).toBe(401);
      expect(issueOf(res).spineCode).toBe('ACCESS_DENIED');
    });

    it.each([
      ['a local authority', la(BIRMINGHAM)],
      ['an administrator', admin],
    ])('%s: 403 ACCESS_DENIED on every search', async (_who, persona) => {
      for (const resource of ['CareTeam', 'AuditEvent', 'Flag'] as const) {
        const before = await headSeq();
        const res = await search(persona, resource, child);
        expect(res.statusCode).toBe(403);
        expect(issueOf(res)).toMatchObject({ code: 'forbidden', spineCode: 'ACCESS_DENIED' });
        const [entry] = await auditSince(before);
        expect(entry).toMatchObject({
          category: 'access-denied',
          action: `${resource}.search`,
          outcome: 'refused',
        });
      }
    });

    it('no X-Request-ID: 400 PRECONDITION_FAILED; one that is not a UUID likewise', async () => {
      const before = await headSeq();
      const missing = await t.as(clinician()).get(url);
      expect(missing.statusCode).toBe(400);
      expectValidFhir(missing.json());
      expect(issueOf(missing)).toMatchObject({ spineCode: 'PRECONDITION_FAILED', field: 'X-Request-ID' });
      const bad = await t.as(clinician()).get(url, { 'x-request-id': 'request-1' });
      expect(bad.statusCode).toBe(400);
      expect(issueOf(bad)).toMatchObject({ spineCode: 'PRECONDITION_FAILED', field: 'X-Request-ID' });
      const entries = await auditSince(before);
      expect(entries.map((e) => [e.category, e.outcome, (e.detail as { code: string }).code])).toEqual([
        ['query', 'refused', 'PRECONDITION_FAILED'],
        ['query', 'refused', 'PRECONDITION_FAILED'],
      ]);
    });

    it('IsUnscheduledAccessEvent other than true or false: 400 PRECONDITION_FAILED', async () => {
      const res = await search(clinician(), 'CareTeam', child, { isunscheduledaccessevent: 'maybe' });
      expect(res.statusCode).toBe(400);
      expect(issueOf(res)).toMatchObject({
        spineCode: 'PRECONDITION_FAILED',
        field: 'IsUnscheduledAccessEvent',
      });
    });

    it('no CP-IS activity: 403 ACCESS_DENIED', async () => {
      const before = await headSeq();
      const res = await search(clinician({ activities: ['B0360'] }), 'CareTeam', child);
      expect(res.statusCode).toBe(403);
      expect(issueOf(res)).toMatchObject({ code: 'forbidden', spineCode: 'ACCESS_DENIED' });
      expect(issueOf(res).text).toMatch(/B0107.*B0170/);
      const [entry] = await auditSince(before);
      expect(entry).toMatchObject({ category: 'access-denied', outcome: 'refused', nhs_number: child });
      expect(entry!.actor).toMatchObject({ kind: 'health-user', sdsUserId: '555000000101' });
    });

    it.each([
      ['no parameter', '', /patient:identifier search parameter is required/],
      ['no system', `?patient:identifier=${child}`, /must name the NHS number system/],
      ['another system', `?patient:identifier=https://example.org/patients|${child}`, /system must be/],
      ['a bad check digit', `?patient:identifier=${SYS}|9990000019`, /Modulus 11/],
      ['letters', `?patient:identifier=${SYS}|999ABC0018`, /only digits/],
      [
        'two numbers',
        `?patient:identifier=${SYS}|${child}&patient:identifier=${SYS}|9990000018`,
        /given once/,
      ],
    ])('%s: 400 INVALID_SEARCH_DATA saying what was wrong', async (_name, qs, why) => {
      const before = await headSeq();
      const res = await t.as(clinician()).get(`/FHIR/R4/CareTeam${qs}`, { 'x-request-id': randomUUID() });
      expect(res.statusCode).toBe(400);
      expectValidFhir(res.json());
      const issue = issueOf(res);
      expect(issue).toMatchObject({
        code: 'invalid',
        spineCode: 'INVALID_SEARCH_DATA',
        field: 'patient:identifier',
      });
      expect(issue.text).toMatch(why);
      const [entry] = await auditSince(before);
      expect(entry).toMatchObject({ category: 'query', outcome: 'refused' });
      expect(entry!.detail).toMatchObject({ code: 'INVALID_SEARCH_DATA', http: { status: 400 } });
    });

    it('checks in order: token, then X-Request-ID, then activity, then parameters', async () => {
      const noToken = await t.anonymous.get('/FHIR/R4/CareTeam?patient:identifier=garbage');
      expect(noToken.statusCode).toBe(401);
      const noActivity = clinician({ activities: [] });
      const noRequestId = await t.as(noActivity).get('/FHIR/R4/CareTeam?patient:identifier=garbage');
      expect(issueOf(noRequestId).spineCode).toBe('PRECONDITION_FAILED');
      const badNumber = await search(noActivity, 'CareTeam', '123');
      expect(badNumber.statusCode).toBe(403);
      const allowed = await search(clinician(), 'CareTeam', '123');
      expect(issueOf(allowed).spineCode).toBe('INVALID_SEARCH_DATA');
    });

    it('an unknown FHIR interaction: 404 OperationOutcome, audited', async () => {
      const before = await headSeq();
      const res = await t.as(clinician()).get(`/FHIR/R4/Patient?identifier=${SYS}|${child}`);
      expect(res.statusCode).toBe(404);
      expectValidFhir(res.json());
      const [entry] = await auditSince(before);
      expect(entry).toMatchObject({ category: 'query', action: 'Patient.search', outcome: 'refused' });
    });

    it('echoes X-Request-ID on answers and refusals', async () => {
      const id = randomUUID();
      const ok = await t.as(clinician()).get(url, { 'x-request-id': id });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['x-request-id']).toBe(id);
      const refused = await t.as(clinician({ activities: [] })).get(url, { 'x-request-id': id });
      expect(refused.headers['x-request-id']).toBe(id);
    });
  });

  describe('what a CareTeam search answers', () => {
    it('one CareTeam per visible plan: plan type, LA name and code, office-hours and EDT phones, period, subject', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      const res = await t
        .as(clinician())
        .get(`/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C${child}`, {
          'x-request-id': randomUUID(),
        });
      expectValidFhir(res.json());
      const b = bundle(res);
      expect(b.total).toBe(1);
      expect(b.entry![0]!.search).toEqual({ mode: 'match' });
      const team = b.entry![0]!.resource as CareTeam;
      expect(team).toEqual({
        resourceType: 'CareTeam',
        id: `cpp-${BIRMINGHAM}-${child}`,
        status: 'active',
        category: [
          {
            coding: [
              {
                system: 'http://snomed.info/sct',
                code: '342191000000101',
                display: 'Subject to child protection plan',
              },
            ],
          },
        ],
        name: 'Birmingham City Council',
        subject: { identifier: { system: SYS, value: child } },
        period: { start: '2026-10-01' },
        managingOrganization: [
          {
            identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: BIRMINGHAM },
            display: 'Birmingham City Council',
          },
        ],
        telecom: [
          { system: 'phone', value: '0121 496 0500', use: 'work' },
          { system: 'phone', value: '07700 900 100', use: 'mobile' },
        ],
      });
      // Nothing else about the plan or the child.
      expect(res.body).not.toMatch(/SECRETFAMILY|Hidden|LOCAL-CASE-77|2019-04-01/);
    });

    it('no plan: a searchset with total 0', async () => {
      const res = await search(clinician(), 'CareTeam', nhs());
      const b = bundle(res);
      expect(b.total).toBe(0);
      expect(b.entry ?? []).toEqual([]);
    });

    it('two LAs on one child: a CareTeam from each', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2025-06-01', endDate: '2026-08-31' }]);
      await plans(STAFFORDSHIRE, child, [{ type: 'CPP', startDate: '2026-09-01' }]);
      const teams = careTeams(await search(clinician(), 'CareTeam', child));
      expect(
        teams.map((c) => [c.managingOrganization![0]!.identifier!.value, c.name, c.status, c.period]),
      ).toEqual([
        [BIRMINGHAM, 'Birmingham City Council', 'inactive', { start: '2025-06-01', end: '2026-08-31' }],
        [STAFFORDSHIRE, 'Staffordshire County Council', 'active', { start: '2026-09-01' }],
      ]);
    });

    it('a CPP and a LAC together', async () => {
      const child = nhs();
      await plans(TOWER_HAMLETS, child, [
        { type: 'LAC', startDate: '2026-03-01' },
        { type: 'CPP', startDate: '2026-02-01' },
      ]);
      const teams = careTeams(await search(clinician(), 'CareTeam', child));
      expect(teams.map((c) => c.category![0]!.coding![0]!.code)).toEqual([
        '342191000000101',
        '764841000000100',
      ]);
      expect(teams.every((c) => c.name === 'London Borough of Tower Hamlets')).toBe(true);
    });

    it('an unborn child protection plan on an adult mother', async () => {
      const mother = nhs();
      await plans(BIRMINGHAM, mother, [{ type: 'UCPP', startDate: '2026-09-12' }], {
        birthDate: '1994-02-11',
        unborn: { expectedDeliveryDate: '2027-01-20' },
      });
      const [team, ...rest] = careTeams(await search(clinician(), 'CareTeam', mother));
      expect(rest).toEqual([]);
      expect(team!.category![0]!.coding![0]).toEqual({
        system: 'http://snomed.info/sct',
        code: '818901000000100',
        display: 'Unborn child subject to child protection plan',
      });
      expect(team!.subject!.identifier!.value).toBe(mother);
    });

    it('an LA the directory does not know: shown, as unknown, with no phone numbers', async () => {
      const child = nhs();
      await plans(UNKNOWN_LA, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      const [team] = careTeams(await search(clinician(), 'CareTeam', child));
      expect(team!.name).toBe(`Unknown local authority (code ${UNKNOWN_LA})`);
      expect(team!.managingOrganization![0]!.identifier!.value).toBe(UNKNOWN_LA);
      expect(team!.telecom).toBeUndefined();
    });
  });

  describe('retention, as the API shows it (service clock, Europe/London days)', () => {
    async function visible(nhsNumber: string, at: string): Promise<number> {
      t.clock.set(new Date(at));
      return bundle(await search(clinician({ activities: ['B0170'] }), 'CareTeam', nhsNumber)).total!;
    }

    it('an ended plan stays visible for 365 days after its end date, then goes', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2025-01-05', endDate: '2026-01-10' }]);
      expect(await visible(child, '2027-01-10T23:59:00Z')).toBe(1);
      expect(await visible(child, '2027-01-11T00:00:00Z')).toBe(0);
    });

    it('a plan is visible from its start date, by the London calendar (BST)', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'LAC', startDate: '2027-07-01' }]);
      expect(await visible(child, '2027-06-30T22:59:00Z')).toBe(0); // 23:59 BST on 30 June
      expect(await visible(child, '2027-06-30T23:00:00Z')).toBe(1); // 00:00 BST on 1 July
    });

    it('a plan with no end date stops being visible when the child turns 18', async () => {
      const child = nhs();
      await plans(STAFFORDSHIRE, child, [{ type: 'CPP', startDate: '2026-01-01' }], {
        birthDate: '2009-12-02',
      });
      expect(await visible(child, '2027-12-01T12:00:00Z')).toBe(1);
      expect(await visible(child, '2027-12-02T00:00:00Z')).toBe(0);
    });

    it('an unborn plan stays visible until 28 days after the expected delivery date', async () => {
      const mother = nhs();
      await plans(TOWER_HAMLETS, mother, [{ type: 'UCPP', startDate: '2026-09-12' }], {
        birthDate: '2007-03-14',
        unborn: { expectedDeliveryDate: '2027-01-20' },
      });
      expect(await visible(mother, '2027-02-17T12:00:00Z')).toBe(1);
      expect(await visible(mother, '2027-02-18T00:00:00Z')).toBe(0);
    });

    it('a plan whose delete date has come is gone at once, before any purge', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2026-10-01', deleteDate: '2026-12-01' }]);
      expect(await visible(child, '2026-11-30T23:59:00Z')).toBe(1);
      expect(await visible(child, '2026-12-01T00:00:00Z')).toBe(0);
    });
  });

  describe('a superseded NHS number', () => {
    it('is followed to the current number, and the access is recorded against it', async () => {
      const oldNumber = nhs();
      const newNumber = nhs();
      const put = await t.as(admin).put(`/admin/v1/demographics/${oldNumber}`, {
        familyName: 'OBRIEN',
        givenNames: ['Oliver'],
        birthDate: '2012-11-05',
      });
      expect(put.statusCode).toBe(201);
      const merged = await t
        .as(admin)
        .post(`/admin/v1/demographics/${oldNumber}/supersede`, { newNhsNumber: newNumber });
      expect(merged.statusCode).toBe(200);
      // The records live under the current number (moved there at supersede time).
      await plans(BIRMINGHAM, newNumber, [{ type: 'CPP', startDate: '2026-06-01' }], {
        birthDate: '2012-11-05',
      });
      const teams = careTeams(await search(clinician(), 'CareTeam', oldNumber));
      expect(teams).toHaveLength(1);
      expect(teams[0]!.subject!.identifier!.value).toBe(newNumber);
      const [access] = await accessesOf(newNumber);
      expect(access).toMatchObject({ nhs_number: newNumber, queried_nhs_number: oldNumber });
      // Either number shows the same history.
      for (const n of [oldNumber, newNumber]) {
        const events = bundle(await search(clinician(), 'AuditEvent', n)).entry!;
        expect(events.map((e) => e.resource!.id)).toEqual([access!.id]);
      }
    });

    it('a plan left under the old number is still shown, under the current one', async () => {
      const oldNumber = nhs();
      const newNumber = nhs();
      await t.as(admin).put(`/admin/v1/demographics/${oldNumber}`, {
        familyName: 'KAUR',
        givenNames: ['Amrit'],
        birthDate: '2015-02-02',
      });
      await t.as(admin).post(`/admin/v1/demographics/${oldNumber}/supersede`, { newNhsNumber: newNumber });
      await plans(STAFFORDSHIRE, oldNumber, [{ type: 'LAC', startDate: '2026-06-01' }], {
        birthDate: '2015-02-02',
      });
      const teams = careTeams(await search(clinician(), 'CareTeam', oldNumber));
      expect(
        teams.map((c) => [c.subject!.identifier!.value, c.managingOrganization![0]!.identifier!.value]),
      ).toEqual([[newNumber, STAFFORDSHIRE]]);
    });
  });

  describe('RBAC and what is recorded', () => {
    it('B0107: an unscheduled access, recorded with one pending notice per LA, in the audit entry too', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      await plans(TOWER_HAMLETS, child, [{ type: 'LAC', startDate: '2026-10-02' }]);
      const before = await headSeq();
      const requestId = randomUUID();
      const res = await search(clinician(), 'CareTeam', child, { 'x-request-id': requestId });
      expect(bundle(res).total).toBe(2);
      // Committed before the answer left: the notices are there for the notification capability.
      const [access, ...more] = await accessesOf(child);
      expect(more).toEqual([]);
      expect(access).toMatchObject({
        resource: 'CareTeam',
        request_id: requestId,
        accessor_kind: 'health-user',
        accessor_name: 'Dr Priya Shah',
        job_role_code: 'R8000',
        job_role_display: 'Clinical Practitioner Access Role',
        user_id: '555000000101',
        org_code: 'R1H12',
        asid: null,
        person_key: 'user:555000000101',
        la_codes: [BIRMINGHAM, TOWER_HAMLETS],
        plan_types: ['CPP', 'LAC'],
      });
      expect(access!.accessed_at.toISOString()).toBe(T0.toISOString());
      const notices = await noticesOf(access!.id);
      expect(notices.map((n) => [n.la_code, n.message_id])).toEqual([
        [BIRMINGHAM, null],
        [TOWER_HAMLETS, null],
      ]);
      const [entry, ...others] = await auditSince(before);
      expect(others).toEqual([]);
      expect(entry).toMatchObject({
        category: 'query',
        action: 'CareTeam.search',
        outcome: 'success',
        nhs_number: child,
      });
      expect(entry!.detail).toMatchObject({
        mode: 'unscheduled',
        activity: 'B0107',
        requestId,
        accessId: access!.id,
        visiblePlans: 2,
        laCodes: [BIRMINGHAM, TOWER_HAMLETS],
      });
    });

    it.each([
      ['B0170', clinician({ sdsUserId: '555000000170', activities: ['B0170'] }), {}, 'B0170'],
      [
        'B0170 even when saying unscheduled',
        clinician({ activities: ['B0170'] }),
        { isunscheduledaccessevent: 'true' },
        'B0170',
      ],
      ['B0107 asking for a silent read', clinician(), { isunscheduledaccessevent: 'false' }, 'B0107'],
    ])(
      '%s: a silent read, audited but not recorded as an access',
      async (_name, persona, headers, activity) => {
        const child = nhs();
        await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
        const before = await headSeq();
        expect(bundle(await search(persona, 'CareTeam', child, headers)).total).toBe(1);
        expect(await accessesOf(child)).toEqual([]);
        const [entry] = await auditSince(before);
        expect(entry).toMatchObject({ action: 'CareTeam.search', outcome: 'success' });
        expect(entry!.detail).toMatchObject({ mode: 'silent', activity, accessId: null });
      },
    );

    it('both activities and no header: unscheduled', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      await search(clinician({ activities: ['B0170', 'B0107'] }), 'CareTeam', child);
      expect(await accessesOf(child)).toHaveLength(1);
    });

    it('no visible plan: nothing to record or notify, but the search is audited', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2027-03-01' }]);
      const before = await headSeq();
      expect(bundle(await search(clinician(), 'CareTeam', child)).total).toBe(0);
      expect(await accessesOf(child)).toEqual([]);
      const [entry] = await auditSince(before);
      expect(entry!.detail).toMatchObject({ mode: 'unscheduled', visiblePlans: 0, accessId: null });
    });

    it('a health system names its responsible person (token, or headers that override it), location and safeguarding lead', async () => {
      const child = nhs();
      await plans(STAFFORDSHIRE, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      await search(pasSystem(), 'CareTeam', child, {
        'nhsd-patient-location': 'RJE01',
        'nhsd-safeguarding-lead': 'Jo Bloggs',
        'nhsd-safeguarding-lead-role': 'Named nurse for safeguarding children',
        'nhsd-safeguarding-lead-phone': '01632 960 999',
      });
      t.clock.set(new Date(T0.getTime() + 60_000));
      await search(pasSystem(), 'CareTeam', child, {
        'nhsd-responsible-person': 'Si%C3%A2n Evans',
        'nhsd-responsible-person-role': 'R8001|Nurse Access Role',
      });
      const [fromToken, fromHeaders] = await accessesOf(child);
      expect(fromToken).toMatchObject({
        accessor_kind: 'health-system',
        accessor_name: 'Sam Reed',
        job_role_code: 'R8003',
        asid: '200000001234',
        user_id: null,
        org_code: 'RJE01',
        person_key: 'system:200000001234:sam reed',
        patient_location: 'RJE01',
        safeguarding_lead: {
          name: 'Jo Bloggs',
          role: 'Named nurse for safeguarding children',
          phone: '01632 960 999',
        },
      });
      expect(fromHeaders).toMatchObject({
        accessor_name: 'Siân Evans',
        job_role_code: 'R8001',
        job_role_display: 'Nurse Access Role',
        person_key: 'system:200000001234:siân evans',
        patient_location: null,
        safeguarding_lead: null,
      });
    });

    it('a health system that names nobody, or says something unreadable, is refused naming the header', async () => {
      const child = nhs();
      const anonymousSystem: Persona = {
        kind: 'health-system',
        asid: '200000009999',
        organisation: { odsCode: 'RJE01' },
        activities: ['B0107'],
      };
      const nobody = await search(anonymousSystem, 'CareTeam', child);
      expect(nobody.statusCode).toBe(400);
      expect(issueOf(nobody)).toMatchObject({
        spineCode: 'PRECONDITION_FAILED',
        field: 'NHSD-Responsible-Person',
      });
      const badLocation = await search(pasSystem(), 'CareTeam', child, { 'nhsd-patient-location': 'Ward 7' });
      expect(issueOf(badLocation)).toMatchObject({
        spineCode: 'PRECONDITION_FAILED',
        field: 'NHSD-Patient-Location',
      });
    });
  });

  describe('Flag search (Patient Flags API shape)', () => {
    it('one CP-IS flag with the CareTeams as its detail; an unscheduled one is an access', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      await plans(STAFFORDSHIRE, child, [{ type: 'LAC', startDate: '2026-09-01', endDate: '2026-10-15' }]);
      const b = bundle(await search(clinician(), 'Flag', child));
      expect(b.total).toBe(1);
      const [flagEntry, ...included] = b.entry!;
      expect(flagEntry!.search).toEqual({ mode: 'match' });
      const flag = flagEntry!.resource as Flag;
      expect(flag).toMatchObject({
        resourceType: 'Flag',
        status: 'active',
        code: {
          coding: [
            {
              system: 'https://fhir.nhs.uk/England/CodeSystem/England-FlagCategoryPatient',
              code: 'child-protection-information-system-flag',
            },
          ],
        },
        subject: { identifier: { system: SYS, value: child } },
        period: { start: '2026-09-01' },
      });
      expect(included.map((e) => [e.search!.mode, (e.resource as CareTeam).name])).toEqual([
        ['include', 'Birmingham City Council'],
        ['include', 'Staffordshire County Council'],
      ]);
      const details = flag.extension!.filter(
        (x) => x.url === 'http://hl7.org/fhir/StructureDefinition/flag-detail',
      );
      expect(details.map((d) => d.valueReference!.reference)).toEqual(included.map((e) => e.fullUrl));
      const [access] = await accessesOf(child);
      expect(access).toMatchObject({ resource: 'Flag', la_codes: [BIRMINGHAM, STAFFORDSHIRE] });
      expect(await noticesOf(access!.id)).toHaveLength(2);
    });

    it('no plan: total 0', async () => {
      expect(bundle(await search(clinician(), 'Flag', nhs())).total).toBe(0);
    });
  });

  describe('access history (AuditEvent search)', () => {
    function events(res: LightMyRequestResponse): AuditEvent[] {
      return (bundle(res).entry ?? [])
        .filter((e) => e.search?.mode === 'match')
        .map((e) => e.resource as AuditEvent);
    }

    it('includes the current access, naming who, their role and their organisation', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      await search(clinician(), 'CareTeam', child);
      const before = await headSeq();
      const [event, ...rest] = events(await search(clinician(), 'AuditEvent', child));
      expect(rest).toEqual([]);
      expect(event!.recorded).toBe(T0.toISOString());
      const [person, org] = event!.agent;
      expect(person).toMatchObject({
        who: { identifier: { value: '555000000101' }, display: 'Dr Priya Shah' },
        role: [{ coding: [{ code: 'R8000', display: 'Clinical Practitioner Access Role' }] }],
        requestor: true,
      });
      expect(org).toMatchObject({
        who: {
          identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'R1H12' },
          display: 'The Royal London Hospital Emergency Department',
        },
      });
      expect(event!.entity![0]!.what!.identifier).toEqual({ system: SYS, value: child });
      // Looking at the history is audited, but is not itself an access.
      expect(await accessesOf(child)).toHaveLength(1);
      const [entry] = await auditSince(before);
      expect(entry).toMatchObject({ action: 'AuditEvent.search', outcome: 'success', nhs_number: child });
    });

    it('the 25 most recent, newest first', async () => {
      const child = nhs();
      await plans(STAFFORDSHIRE, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      for (let i = 0; i < 30; i++) {
        t.clock.set(new Date(T0.getTime() + i * 60_000));
        await search(clinician({ sdsUserId: `5550000${String(i).padStart(5, '0')}` }), 'CareTeam', child);
      }
      const shown = events(await search(clinician({ activities: ['B0170'] }), 'AuditEvent', child));
      expect(shown).toHaveLength(25);
      expect(shown[0]!.recorded).toBe(new Date(T0.getTime() + 29 * 60_000).toISOString());
      expect(shown[24]!.recorded).toBe(new Date(T0.getTime() + 5 * 60_000).toISOString());
      const times = shown.map((e) => e.recorded);
      expect([...times].sort().reverse()).toEqual(times);
    });

    it('the same person within 24 hours shown once (the newest); again after more than 24 hours', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);
      for (const hours of [0, 2, 5]) {
        t.clock.set(at(hours));
        await search(clinician(), 'CareTeam', child);
      }
      t.clock.set(at(6));
      await search(clinician({ sdsUserId: '555000000202', name: 'Nurse Amy Lee' }), 'Flag', child);
      let shown = events(await search(clinician(), 'AuditEvent', child));
      expect(shown.map((e) => [e.agent[0]!.who!.display, e.recorded])).toEqual([
        ['Nurse Amy Lee', at(6).toISOString()],
        ['Dr Priya Shah', at(5).toISOString()],
      ]);
      t.clock.set(at(30));
      await search(clinician(), 'CareTeam', child);
      shown = events(await search(clinician(), 'AuditEvent', child));
      expect(shown.map((e) => e.recorded)).toEqual([at(30), at(6), at(5)].map((d) => d.toISOString()));
    });

    it('a system is the same person only with the same responsible person', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      await search(pasSystem(), 'CareTeam', child);
      t.clock.set(new Date(T0.getTime() + 60_000));
      await search(pasSystem(), 'CareTeam', child);
      t.clock.set(new Date(T0.getTime() + 120_000));
      await search(pasSystem(), 'CareTeam', child, {
        'nhsd-responsible-person': 'Alex Khan',
        'nhsd-responsible-person-role': 'R8001|Nurse Access Role',
      });
      const shown = events(await search(pasSystem(), 'AuditEvent', child));
      expect(shown.map((e) => e.agent[0]!.who!.display)).toEqual(['Alex Khan', 'Sam Reed']);
      expect(shown[1]!.recorded).toBe(new Date(T0.getTime() + 60_000).toISOString());
      // The system itself is an agent too.
      expect(shown[1]!.agent[2]!.who!.identifier).toEqual({
        system: 'https://fhir.nhs.uk/Id/nhsSpineASID',
        value: '200000001234',
      });
    });

    it('silent reads are not in the history', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      await search(clinician({ activities: ['B0170'] }), 'CareTeam', child);
      await search(clinician(), 'CareTeam', child, { isunscheduledaccessevent: 'false' });
      expect(bundle(await search(clinician(), 'AuditEvent', child)).total).toBe(0);
    });

    it('once no plan is visible, the history is not shown either', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2025-01-01', endDate: '2025-12-31' }]);
      await search(clinician(), 'CareTeam', child);
      expect(bundle(await search(clinician(), 'AuditEvent', child)).total).toBe(1);
      t.clock.set(new Date('2027-01-01T09:00:00Z'));
      expect(bundle(await search(clinician(), 'AuditEvent', child)).total).toBe(0);
    });

    it('with _include=AuditEvent:… (as NHS consumers send it), the PractitionerRoles come too', async () => {
      const child = nhs();
      await plans(BIRMINGHAM, child, [{ type: 'CPP', startDate: '2026-10-01' }]);
      await search(clinician(), 'CareTeam', child);
      const b = bundle(
        await search(
          clinician(),
          'AuditEvent',
          child,
          {},
          '&_include=AuditEvent:entity-type=http://terminology.hl7.org/CodeSystem/v3-RoleClass|ASSIGNED',
        ),
      );
      expect(b.total).toBe(1);
      const roles = b.entry!.filter((e) => e.search?.mode === 'include');
      expect(roles).toHaveLength(1);
      const role = roles[0]!.resource as PractitionerRole;
      expect(role).toMatchObject({
        resourceType: 'PractitionerRole',
        practitioner: { display: 'Dr Priya Shah' },
        organization: { display: 'The Royal London Hospital Emergency Department' },
        code: [{ coding: [{ display: 'Clinical Practitioner Access Role' }] }],
      });
      const event = b.entry![0]!.resource as AuditEvent;
      expect(event.agent[0]!.who!.reference).toBe(roles[0]!.fullUrl);
    });
  });

  describe('metadata', () => {
    it('is public, audited, and says what is served', async () => {
      const before = await headSeq();
      const res = await t.anonymous.get('/FHIR/R4/metadata');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
      const cs = res.json();
      expectValidFhir(cs);
      expect(cs).toMatchObject({
        resourceType: 'CapabilityStatement',
        fhirVersion: '4.0.1',
        kind: 'instance',
      });
      const resources = cs.rest[0].resource as { type: string; interaction: { code: string }[] }[];
      expect(resources.map((r) => [r.type, r.interaction.map((i) => i.code)])).toEqual([
        ['CareTeam', ['search-type']],
        ['AuditEvent', ['search-type']],
        ['Flag', ['search-type']],
      ]);
      const [entry] = await auditSince(before);
      expect(entry).toMatchObject({ action: 'CapabilityStatement.read', outcome: 'success' });
    });
  });

  describe('many queries at once', () => {
    it('all answered, each access and audit entry recorded once, the chain intact', async () => {
      const withPlans = [nhs(), nhs()];
      for (const n of withPlans) await plans(BIRMINGHAM, n, [{ type: 'CPP', startDate: '2026-10-01' }]);
      const without = Array.from({ length: 38 }, () => nhs());
      const before = await headSeq();
      const all = [...withPlans, ...without];
      const answers = await Promise.all(
        all.map((n, i) =>
          t
            .as(clinician({ sdsUserId: `5551${String(i).padStart(8, '0')}` }))
            .get(`/FHIR/R4/CareTeam?patient:identifier=${SYS}|${n}`, { 'x-request-id': randomUUID() }),
        ),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(all.map(() => 200));
      expect(answers.map((a) => a.json().total)).toEqual(all.map((n) => (withPlans.includes(n) ? 1 : 0)));
      for (const n of withPlans) expect(await accessesOf(n)).toHaveLength(1);
      const entries = await auditSince(before);
      expect(entries).toHaveLength(all.length);
      expect(new Set(entries.map((e) => e.nhs_number))).toEqual(new Set(all));
      const verify = await t.as(admin).get('/admin/v1/audit/verify');
      expect(verify.json()).toMatchObject({ ok: true });
    });
  });
});
