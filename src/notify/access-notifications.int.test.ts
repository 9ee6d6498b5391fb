import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../test/engines.ts';
import { admin, buildTestApp, clinician, la, pasSystem, T0, type TestApp } from '../../test/helper.ts';
import type { Persona } from '../auth/claims.ts';

const BHAM = 'E08000025'; // daily
const SANDWELL = 'E08000028'; // daily
const STAFFS = 'E10000028'; // immediate in the demo world

const johnny = {
  subject: 'child',
  nhsNumber: '9990000018',
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
const mason = {
  subject: 'child',
  nhsNumber: '9990000069',
  localId: 'S-MH',
  familyName: 'HUGHES',
  givenNames: ['Mason'],
  birthDate: '2018-09-23',
};

interface Message {
  id: string;
  type: string;
  heartbeat: boolean;
  batchDate?: string;
  delivery: string;
  accesses: {
    accessId: string;
    nhsNumber: string;
    child: Record<string, unknown>;
    accessedAt: string;
    accessedBy: Record<string, unknown>;
    organisation: Record<string, unknown>;
    patientLocation?: Record<string, unknown>;
    safeguardingLead?: Record<string, unknown>;
    planTypes: string[];
    episodeId: string;
  }[];
  episodes: {
    id: string;
    nhsNumber: string;
    accessCount: number;
    newAccessCount: number;
    organisations: { odsCode: string; name: string; setting: string }[];
    start: string;
    end: string;
  }[];
  unknownOrganisations: string[];
  summary: string;
  children: {
    nhsNumber: string;
    episodes: { count: number; withinDays: number };
    areas: { names: string[]; withinDays: number };
    concerns: { code: string; text: string }[];
  }[];
}

describe.each(engines())('access notifications on %s', (engine) => {
  let t: TestApp;
  let seq = 0;
  const upload = async (laCode: string, records: unknown[]) => {
    const res = await t.as(la(laCode)).post('/la/v1/uploads', { sequence: ++seq, records });
    expect(res.json().fileCode).toBe('CPF02');
  };
  const query = async (who: Persona, nhsNumber: string, headers: Record<string, string> = {}) => {
    const res = await t
      .as(who)
      .get(`/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|${nhsNumber}`, {
        'x-request-id': randomUUID(),
        ...headers,
      });
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  /** The LA's unacknowledged access notifications, read and then acknowledged. */
  const take = async (laCode: string): Promise<Message[]> => {
    const out: Message[] = [];
    for (const m of (await t.as(la(laCode)).get('/la/v1/mailbox')).json().messages) {
      if (m.type === 'access-notification')
        out.push((await t.as(la(laCode)).get(`/la/v1/mailbox/${m.id}`)).json());
      await t.as(la(laCode)).put(`/la/v1/mailbox/${m.id}/acknowledged`);
    }
    return out;
  };
  const at = async (iso: string) => {
    t.clock.set(new Date(iso));
    await t.service.scheduler.tick();
  };

  beforeAll(async () => {
    t = await buildTestApp(engine, { demoWorld: true, demoPeople: 10 });
    await upload(BHAM, [
      { ...johnny, plans: [{ type: 'CPP', startDate: '2026-10-01' }] },
      { ...lucy, plans: [{ type: 'LAC', startDate: '2026-06-01' }] },
    ]);
    await upload(SANDWELL, [{ ...lucy, plans: [{ type: 'CPP', startDate: '2026-05-01' }] }]);
    await upload(STAFFS, [{ ...mason, plans: [{ type: 'CPP', startDate: '2026-03-01' }] }]);
    for (const code of [BHAM, SANDWELL, STAFFS]) await take(code);
  });
  afterAll(() => t?.close());
  afterEach(async () => {
    t.clock.set(T0);
  });

  it("delivers a daily LA's accesses once, the next morning from 06:00, and a heartbeat on a quiet day", async () => {
    // Friday 20 November, 10:00: Johnny is looked up in A&E at the Royal London.
    await at('2026-11-20T10:00:00Z');
    await query(clinician({ organisation: { odsCode: 'R1H12' } }), '9990000018');
    await at('2026-11-21T05:59:00Z');
    expect(await take(BHAM)).toEqual([]);
    await at('2026-11-21T06:00:00Z');
    const [friday, ...more] = await take(BHAM);
    expect(more).toEqual([]);
    expect(friday).toMatchObject({
      type: 'access-notification',
      delivery: 'daily',
      batchDate: '2026-11-20',
      heartbeat: false,
    });
    expect(friday!.accesses).toHaveLength(1);
    const access = friday!.accesses[0]!;
    expect(access).toMatchObject({
      nhsNumber: '9990000018',
      child: { familyName: 'SMITH', givenNames: ['Johnny'], birthDate: '2021-05-02' },
      accessedAt: '2026-11-20T10:00:00.000Z',
      accessedBy: {
        kind: 'user',
        name: 'Dr Priya Shah',
        jobRole: { code: 'R8000', display: 'Clinical Practitioner Access Role' },
      },
      organisation: {
        odsCode: 'R1H12',
        name: 'The Royal London Hospital Emergency Department',
        setting: 'emergency-department',
        parentName: 'Barts Health NHS Trust',
        town: 'London',
        phone: '020 7946 0101',
        known: true,
      },
      planTypes: ['CPP'],
    });
    // Saturday nobody looks: Sunday morning brings a heartbeat, so silence is never ambiguous.
    await at('2026-11-22T06:30:00Z');
    const [saturday] = await take(BHAM);
    expect(saturday).toMatchObject({ batchDate: '2026-11-21', heartbeat: true, accesses: [], episodes: [] });
    // Dispatching again, by hand or by the clock, delivers nothing twice.
    expect((await t.as(admin).post('/admin/v1/notifications/dispatch')).json()).toMatchObject({
      messages: 0,
    });
    await at('2026-11-22T09:00:00Z');
    expect(await take(BHAM)).toEqual([]);
  });

  it('tells both LAs holding a visible record for the child, each in its own mailbox', async () => {
    await at('2026-11-20T11:00:00Z');
    await Promise.all([take(BHAM), take(SANDWELL)]);
    await query(
      clinician({ organisation: { odsCode: 'RRK15' }, name: 'Nurse Ade Okafor', sdsUserId: '555000000777' }),
      '9990000034',
    );
    const res = await t.as(admin).post('/admin/v1/notifications/dispatch', { force: true });
    expect(res.statusCode).toBe(200);
    const [b] = await take(BHAM);
    const [s] = await take(SANDWELL);
    expect(b!.accesses.map((a) => [a.nhsNumber, a.planTypes])).toEqual([['9990000034', ['LAC']]]);
    expect(s!.accesses.map((a) => [a.nhsNumber, a.planTypes])).toEqual([['9990000034', ['CPP']]]);
    expect(b!.accesses[0]!.accessId).toBe(s!.accesses[0]!.accessId);
    expect(b!.accesses[0]!.organisation).toMatchObject({
      name: 'Queen Elizabeth Hospital Birmingham Emergency Department',
      parentName: 'University Hospitals Birmingham NHS Foundation Trust',
    });
  });

  it('makes nothing of a silent read', async () => {
    await at('2026-11-20T12:00:00Z');
    await t.as(admin).post('/admin/v1/notifications/dispatch', { force: true });
    await take(BHAM);
    const notices = async () =>
      (await sql<{ n: number }>`select count(*) as n from access_notice`.execute(t.service.store.db)).rows[0]!
        .n;
    const before = await notices();
    await query(clinician({ activities: ['B0170'] }), '9990000018');
    await query(clinician(), '9990000018', { isunscheduledaccessevent: 'false' });
    expect(await notices()).toBe(before);
    await t.as(admin).post('/admin/v1/notifications/dispatch', { force: true });
    expect(await take(BHAM)).toEqual([]);
  });

  it('groups the flood (111, ambulance, crew, A&E, ward) into one episode with a readable timeline', async () => {
    // Staffordshire is immediate in the demo world; make it daily here so the flood arrives in one message.
    await t.as(admin).put(`/admin/v1/local-authorities/${STAFFS}`, {
      name: 'Staffordshire County Council',
      officeHoursPhone: '01632 960 540',
      emergencyDutyPhone: '07700 900 107',
      notificationCadence: 'daily',
    });
    await at('2026-11-20T21:39:00Z');
    await take(STAFFS); // Thursday's heartbeat
    const lead = {
      'nhsd-patient-location': 'RJE01',
      'nhsd-safeguarding-lead': 'Jo Bright',
      'nhsd-safeguarding-lead-role': 'Named nurse for safeguarding',
      'nhsd-safeguarding-lead-phone': '01632 960 999',
    };
    t.clock.set(new Date('2026-11-20T21:40:00Z'));
    await query(pasSystem({ asid: '200000000111', organisation: { odsCode: 'NNJ' } }), '9990000069', lead);
    t.clock.set(new Date('2026-11-20T21:52:00Z'));
    await query(
      pasSystem({
        asid: '200000000999',
        organisation: { odsCode: 'RYA' },
        responsiblePerson: {
          name: 'EOC dispatcher',
          jobRole: { code: 'R9001', display: 'Emergency call handler' },
        },
      }),
      '9990000069',
    );
    t.clock.set(new Date('2026-11-20T22:05:00Z'));
    await query(
      clinician({ organisation: { odsCode: 'RYA' }, name: 'Paramedic Lee Cole', sdsUserId: '555000000888' }),
      '9990000069',
    );
    t.clock.set(new Date('2026-11-20T22:48:00Z'));
    await query(
      clinician({ organisation: { odsCode: 'RJE01' }, name: 'Dr Ann Roe', sdsUserId: '555000000889' }),
      '9990000069',
    );
    t.clock.set(new Date('2026-11-21T03:10:00Z'));
    await query(
      clinician({ organisation: { odsCode: 'RTG02' }, name: 'Nurse Kim Fry', sdsUserId: '555000000890' }),
      '9990000069',
    );
    await t.service.scheduler.tick();
    // (Friday's daily batch comes at 06:00 Saturday; the test takes it now.)
    await t.as(admin).post('/admin/v1/notifications/dispatch', { force: true });
    const [message, ...more] = await take(STAFFS);
    expect(more).toEqual([]);
    expect(message).toMatchObject({ delivery: 'forced', heartbeat: false });
    expect(message!.accesses).toHaveLength(5);
    expect(message!.episodes).toHaveLength(1);
    const episode = message!.episodes[0]!;
    expect(episode).toMatchObject({
      nhsNumber: '9990000069',
      accessCount: 5,
      newAccessCount: 5,
      start: '2026-11-20T21:40:00.000Z',
      end: '2026-11-21T03:10:00.000Z',
    });
    expect(episode.organisations.map((o) => o.setting)).toEqual([
      'nhs-111',
      'ambulance-service',
      'emergency-department',
      'paediatric-ward',
    ]);
    expect(new Set(message!.accesses.map((a) => a.episodeId))).toEqual(new Set([episode.id]));
    const call = message!.accesses[0]!;
    expect(call.accessedBy).toMatchObject({
      kind: 'system',
      asid: '200000000111',
      responsiblePerson: { name: 'Sam Reed' },
    });
    expect(call.patientLocation).toMatchObject({
      odsCode: 'RJE01',
      name: 'Royal Stoke University Hospital Emergency Department',
      town: 'Stoke-on-Trent',
    });
    // Each place is named with its trust; where the patient was names the trust but not its code.
    const trust = 'University Hospitals of North Midlands NHS Trust';
    expect(call.patientLocation).toMatchObject({ parentName: trust, phone: '01632 960 111', known: true });
    expect(call.patientLocation).not.toHaveProperty('parentOdsCode');
    const ed = message!.accesses.find((a) => a.organisation.odsCode === 'RJE01');
    expect(ed?.organisation).toMatchObject({
      parentOdsCode: 'RJE',
      parentName: trust,
      town: 'Stoke-on-Trent',
    });
    expect(call.safeguardingLead).toMatchObject({
      name: 'Jo Bright',
      role: 'Named nurse for safeguarding',
      phone: '01632 960 999',
    });
    expect(call.child).toMatchObject({ familyName: 'HUGHES' });

    // Three hours later the child is seen again: the same episode continues in the next message.
    await at('2026-11-21T06:10:00Z');
    await take(STAFFS); // Friday's daily batch: nothing left in it but a heartbeat
    await query(clinician({ organisation: { odsCode: 'RJE01' } }), '9990000069');
    await t.as(admin).post('/admin/v1/notifications/dispatch', { force: true });
    const [next] = await take(STAFFS);
    expect(next!.episodes).toEqual([
      expect.objectContaining({ id: episode.id, accessCount: 6, newAccessCount: 1 }),
    ]);
    // Thirteen hours of quiet: a new episode.
    await at('2026-11-21T19:20:00Z');
    await query(clinician({ organisation: { odsCode: 'RJE01' } }), '9990000069');
    await t.as(admin).post('/admin/v1/notifications/dispatch', { force: true });
    const [later] = await take(STAFFS);
    expect(later!.episodes).toEqual([expect.objectContaining({ accessCount: 1 })]);
    expect(later!.episodes[0]!.id).not.toBe(episode.id);
  });

  it('marks an organisation the directory does not know, and reports it', async () => {
    await at('2026-11-20T13:00:00Z');
    await take(STAFFS);
    await query(clinician({ organisation: { odsCode: 'ZZZ99' } }), '9990000069');
    await t.as(admin).post('/admin/v1/notifications/dispatch', { force: true });
    const [m] = await take(STAFFS);
    expect(m!.accesses[0]!.organisation).toEqual({
      odsCode: 'ZZZ99',
      name: 'Unknown organisation (ODS code ZZZ99)',
      setting: 'other',
      settingLabel: 'Not in the organisation directory',
      known: false,
    });
    expect(m!.unknownOrganisations).toEqual(['ZZZ99']);
    const report = (await t.as(admin).get('/admin/v1/reports/unknown-organisations')).json();
    expect(report.organisations.map((o: { odsCode: string }) => o.odsCode)).toContain('ZZZ99');
    expect((await t.as(la(STAFFS)).get('/admin/v1/reports/unknown-organisations')).statusCode).toBe(403);
  });

  it("flags a child's pattern across messages: repeated episodes, then several areas by the LA's own thresholds", async () => {
    const kai = {
      subject: 'child',
      nhsNumber: '9990000247',
      familyName: 'PRICE',
      givenNames: ['Kai'],
      birthDate: '2019-02-14',
    };
    await t.as(admin).put(`/admin/v1/demographics/${kai.nhsNumber}`, {
      familyName: kai.familyName,
      givenNames: kai.givenNames,
      birthDate: kai.birthDate,
    });
    await upload(BHAM, [{ ...kai, plans: [{ type: 'CPP', startDate: '2026-10-01' }] }]);
    const seenAt = async (iso: string, odsCode: string) => {
      await at(iso);
      await take(BHAM);
      await query(clinician({ organisation: { odsCode } }), kai.nhsNumber);
      await t.as(admin).post('/admin/v1/notifications/dispatch', { force: true });
      const [m, ...more] = await take(BHAM);
      expect(more).toEqual([]);
      return { summary: m!.summary, kai: m!.children.find((c) => c.nhsNumber === kai.nhsNumber)! };
    };

    // Three visits, weeks apart, each in its own message: the third is flagged.
    const first = await seenAt('2026-11-01T10:00:00Z', 'R1H12');
    expect(first.kai).toMatchObject({ episodes: { count: 1, withinDays: 183 }, concerns: [] });
    const second = await seenAt('2026-11-15T10:00:00Z', 'RRK15');
    expect(second.kai.concerns).toEqual([]);
    const third = await seenAt('2026-11-19T09:00:00Z', 'RJE01');
    expect(third.kai).toMatchObject({
      episodes: { count: 3 },
      areas: { names: ['Birmingham', 'Stoke-on-Trent'], withinDays: 7 },
      concerns: [{ code: 'REPEAT_EPISODES', text: '3 separate episodes in the last 183 days' }],
    });
    expect(third.summary).toMatch(/1 child with a pattern of concern/);

    // Birmingham decides two areas within ten days is already a concern.
    const base = {
      name: 'Birmingham City Council',
      officeHoursPhone: '0121 496 0500',
      emergencyDutyPhone: '07700 900 100',
    };
    const bad = await t.as(admin).put(`/admin/v1/local-authorities/${BHAM}`, {
      ...base,
      patternThresholds: { areas: 1 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issue[0].expression).toEqual(['patternThresholds.areas']);
    const put = await t.as(admin).put(`/admin/v1/local-authorities/${BHAM}`, {
      ...base,
      patternThresholds: { areas: 2, areaDays: 10 },
    });
    expect(put.json().patternThresholds).toEqual({ episodes: 3, episodeDays: 183, areas: 2, areaDays: 10 });
    try {
      const fourth = await seenAt('2026-11-20T09:00:00Z', 'RJE01');
      expect(fourth.kai.concerns.map((c) => c.text)).toEqual([
        '4 separate episodes in the last 183 days',
        'seen in 2 areas within 10 days: Birmingham, Stoke-on-Trent',
      ]);
    } finally {
      await t.as(admin).put(`/admin/v1/local-authorities/${BHAM}`, base);
    }
    expect((await t.as(admin).get(`/admin/v1/local-authorities/${BHAM}`)).json().patternThresholds).toEqual({
      episodes: 3,
      episodeDays: 183,
      areas: 3,
      areaDays: 7,
    });
  });

  it('lets only admins dispatch', async () => {
    expect((await t.as(la(BHAM)).post('/admin/v1/notifications/dispatch')).statusCode).toBe(403);
    expect((await t.as(admin).post('/admin/v1/notifications/dispatch', { force: 'yes' })).statusCode).toBe(
      400,
    );
  });
});
