/**
 * Input found by fuzzing (src/http/fuzz.test.ts) that crashed a route (500), was stored altered,
 * went unaudited, or was refused without naming the field. Each is now a 400 naming it, writing nothing.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../test/engines.ts';
import { admin, buildTestApp, clinician, issueOf, la, type TestApp } from '../../test/helper.ts';
import { johnnyCpp } from '../../test/storyboard.ts';

const BHAM = 'E08000025';
const Q = 'patient:identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018';

describe.each(engines())('hostile input over HTTP on %s', (engine) => {
  let t: TestApp;
  let episode: { id: string; version: number };
  beforeAll(async () => {
    t = await buildTestApp(engine, { scheduler: false });
    const a = t.as(admin);
    await a.put(`/admin/v1/local-authorities/${BHAM}`, {
      name: 'Birmingham City Council',
      officeHoursPhone: '0121 496 0000',
      emergencyDutyPhone: '0121 496 0999',
    });
    await a.put('/admin/v1/demographics/9990000018', {
      familyName: 'SMITH',
      givenNames: ['Johnny'],
      birthDate: '2021-05-02',
    });
    await t.as(la(BHAM)).post('/la/v1/uploads', {
      sequence: 1,
      records: [johnnyCpp],
    });
    await t.as(clinician()).get(`/FHIR/R4/CareTeam?${Q}`, { 'x-request-id': crypto.randomUUID() });
    episode = (await t.as(la(BHAM)).get('/la/v1/episodes')).json().episodes[0];
  });
  afterAll(() => t?.close());

  const audited = async () =>
    (await sql<{ n: number }>`select count(*)::int as n from audit_log`.execute(t.service.store.db)).rows[0]!
      .n;

  it('refuses a webhook secret with NUL in it (a text column cannot hold NUL)', async () => {
    const res = await t.as(admin).put('/admin/v1/local-authorities/E09000001', {
      name: 'City of London',
      officeHoursPhone: '020 7946 0000',
      emergencyDutyPhone: '020 7946 0999',
      webhook: { url: 'https://la.example.org/cpis', secret: `${'s'.repeat(40)}\u0000` },
    });
    expect(res.statusCode).toBe(400);
    expect(issueOf(res).field).toBe('webhook.secret');
    expect((await t.as(admin).get('/admin/v1/local-authorities/E09000001')).statusCode).toBe(404);
  });

  it('refuses a name with an unpaired surrogate instead of storing it as U+FFFD', async () => {
    const res = await t.as(admin).put('/admin/v1/demographics/9990000026', {
      familyName: 'JO\ud800NES',
      givenNames: ['Tracy'],
      birthDate: '2007-03-14',
    });
    expect(res.statusCode).toBe(400);
    expect(issueOf(res).field).toBe('familyName');
  });

  it('refuses NUL in a query parameter that reaches the store, naming it', async () => {
    const orgs = await t.as(admin).get('/admin/v1/organisations?after=R%00');
    expect(orgs.statusCode).toBe(400);
    expect(issueOf(orgs).field).toBe('after');
    const eps = await t.as(la(BHAM)).get('/la/v1/episodes?queue=a%00b');
    expect(eps.statusCode).toBe(400);
    expect(issueOf(eps).field).toBe('queue');
  });

  it('refuses a repeated episode filter instead of silently dropping it (which widened the listing)', async () => {
    const res = await t.as(la(BHAM)).get('/la/v1/episodes?state=new&state=reviewed');
    expect(res.statusCode).toBe(400);
    expect(issueOf(res).field).toBe('state');
  });

  it('names an empty parameter or member instead of refusing with no field', async () => {
    const list = await t.as(la(BHAM)).get('/la/v1/episodes?=x');
    expect(issueOf(list).field).toBe('[""]');
    const dispatch = await t.as(admin).post('/admin/v1/notifications/dispatch', { '': true });
    expect(dispatch.statusCode).toBe(400);
    expect(issueOf(dispatch).field).toBe('[""]');
    const person = await t.as(admin).put('/admin/v1/demographics/9990000026', '[]', {
      'content-type': 'application/json',
    });
    expect(issueOf(person).field).toBe('body');
  });

  it('answers an episode id with NUL in it with a 400 naming it (was 500: the refusal could not be audited)', async () => {
    const read = await t.as(la(BHAM)).get('/la/v1/episodes/a%00b');
    expect(read.statusCode).toBe(400);
    expect(issueOf(read).field).toBe('id');
  });

  it('refuses an episode change whose reason cannot be stored, and leaves the episode as it was', async () => {
    const res = await t.as(la(BHAM)).put(`/la/v1/episodes/${episode.id}`, {
      version: episode.version,
      state: 'reviewed',
      reason: 'seen\u0000',
    });
    expect(res.statusCode).toBe(400);
    expect(issueOf(res).field).toBe('reason');
    const now = (await t.as(la(BHAM)).get(`/la/v1/episodes/${episode.id}`)).json();
    expect(now).toMatchObject({ state: 'new', version: episode.version });
  });

  it('audits a FHIR request whose X-Request-ID decodes to NUL (its audit entry used to fail, unseen)', async () => {
    const before = await audited();
    const res = await t.as(clinician()).get(`/FHIR/R4/CareTeam?${Q}`, { 'x-request-id': 'abc%00' });
    expect(res.statusCode).toBe(400);
    expect(issueOf(res).field).toBe('X-Request-ID');
    expect(await audited()).toBe(before + 1);
  });
});
