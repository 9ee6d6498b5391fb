/**
 * What each side is told, and nothing more (hazard log H5 and H6). Health sees the flag and who to
 * call, never the LA's case detail (its team, its own reference for the child). The LA is told who
 * looked, where and when, and nothing else a caller sent with the look-up: whatever a system puts
 * in other headers or parameters (a presenting complaint, a note) goes nowhere.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../test/engines.ts';
import { buildTestApp, la, type TestApp } from '../../test/helper.ts';
import { masonCpp, STAFFORD_NORTH, STAFFORDSHIRE, stokeEdDoctor, uploadAs } from '../../test/storyboard.ts';

const CLINICAL = 'suspected non-accidental injury';
const SYS = 'https://fhir.nhs.uk/Id/nhs-number';

/** The fields INTERFACE §4 lists for an access in a notification; nothing else may be there. */
const ACCESS_FIELDS = [
  'nhsNumber',
  'child',
  'accessedAt',
  'accessedBy',
  'organisation',
  'planTypes',
  // Beyond the contract: the LA's own reference for the child, the look-up's id and its episode,
  // and where a 111 call was from and who leads safeguarding there, as the caller declared them.
  'localId',
  'accessId',
  'episodeId',
  'patientLocation',
  'safeguardingLead',
];

describe.each(engines())('what each side is told on %s', (engine) => {
  let t: TestApp;
  const doctor = stokeEdDoctor('555000000201', 'Dr Ade Okafor');

  beforeAll(async () => {
    t = await buildTestApp(engine, { demoWorld: true, demoPeople: 20 });
    await uploadAs(t, STAFFORDSHIRE, [masonCpp]);
  });
  afterAll(() => t?.close());

  it("shows health the flag and who to call, never the LA's team or its own reference for the child", async () => {
    for (const resource of ['CareTeam', 'Flag', 'AuditEvent']) {
      const res = await t
        .as(doctor)
        .get(`/FHIR/R4/${resource}?patient:identifier=${SYS}|${masonCpp.nhsNumber}`, {
          'x-request-id': randomUUID(),
          isunscheduledaccessevent: 'false',
        });
      expect(res.statusCode, resource).toBe(200);
      expect(res.body, resource).not.toContain(STAFFORD_NORTH);
      expect(res.body, resource).not.toContain(masonCpp.localId);
    }
    const careTeam = await t
      .as(doctor)
      .get(`/FHIR/R4/CareTeam?patient:identifier=${SYS}|${masonCpp.nhsNumber}`, {
        'x-request-id': randomUUID(),
        isunscheduledaccessevent: 'false',
      });
    expect(careTeam.json().total).toBe(1);
  });

  it('tells the LA who looked, where and when, and nothing clinical the caller sent with the look-up', async () => {
    const res = await t
      .as(doctor)
      .get(
        `/FHIR/R4/CareTeam?patient:identifier=${SYS}|${masonCpp.nhsNumber}&_text=${encodeURIComponent(CLINICAL)}`,
        { 'x-request-id': randomUUID(), 'x-presenting-complaint': CLINICAL, 'x-clinical-note': CLINICAL },
      );
    // An unknown search parameter is refused (nothing recorded) or ignored; either way it goes nowhere.
    if (res.statusCode !== 200) {
      expect(res.statusCode).toBe(400);
      const again = await t
        .as(doctor)
        .get(`/FHIR/R4/CareTeam?patient:identifier=${SYS}|${masonCpp.nhsNumber}`, {
          'x-request-id': randomUUID(),
          'x-presenting-complaint': CLINICAL,
        });
      expect(again.statusCode).toBe(200);
    }
    t.clock.set(new Date(t.clock.now().getTime() + 86_400_000));
    await t.service.scheduler.tick();

    const staffs = t.as(la(STAFFORDSHIRE));
    const listed = (await staffs.get('/la/v1/mailbox')).json().messages as { id: string; type: string }[];
    const notices = [];
    for (const m of listed.filter((x) => x.type === 'access-notification'))
      notices.push((await staffs.get(`/la/v1/mailbox/${m.id}`)).json());
    expect(notices.length).toBeGreaterThan(0);
    const accesses = notices.flatMap((n) => n.accesses as Record<string, unknown>[]);
    expect(accesses.map((a) => a.nhsNumber)).toContain(masonCpp.nhsNumber);
    for (const access of accesses) {
      for (const key of Object.keys(access)) expect(ACCESS_FIELDS, key).toContain(key);
    }
    const episodes = (await staffs.get('/la/v1/episodes')).body;
    for (const text of [JSON.stringify(notices), episodes]) {
      expect(text).not.toContain(CLINICAL);
      expect(text).not.toContain('non-accidental');
    }
  });
});
