import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, buildTestApp, issueOf, T0, type TestApp } from '../../test/helper.ts';

describe('demo-mode helpers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp('pglite');
  });
  afterAll(() => t?.close());

  it('reports health with the store engine', async () => {
    const res = await t.anonymous.get('/healthz');
    expect(res.json()).toEqual({ status: 'ok', store: 'pglite' });
  });

  it('issues persona tokens verifiable with the published JWKS, and refuses bad personas naming the field', async () => {
    const res = await t.anonymous.post('/dev/token', {
      kind: 'health-user',
      sdsUserId: '555000000101',
      name: 'Dr Priya Shah',
      jobRole: { code: 'R8000', display: 'Clinical Practitioner Access Role' },
      organisation: { odsCode: 'ZZZ99' },
      activities: ['B0107'],
    });
    expect(res.statusCode).toBe(200);
    const { access_token, token_type } = res.json();
    expect(token_type).toBe('Bearer');
    const jwks = (await t.anonymous.get('/.well-known/jwks.json')).json();
    expect(jwks.keys[0].d).toBeUndefined(); // never the private half
    const { payload } = await jwtVerify(access_token, createLocalJWKSet(jwks));
    expect(payload.nhsid_useruid).toBe('555000000101');

    for (const [body, field] of [
      [
        {
          kind: 'health-user',
          sdsUserId: '1',
          name: 'x',
          jobRole: { code: 'R1', display: 'y' },
          activities: [],
        },
        'organisation',
      ],
      [{ kind: 'health-system', asid: 'abc', organisation: { odsCode: 'RJE01' }, activities: [] }, 'asid'],
      [{ kind: 'local-authority' }, 'laCode'],
      [{ kind: 'admin', role: 'root' }, 'role'],
      [{ kind: 'wizard' }, 'kind'],
      [
        {
          kind: 'health-user',
          sdsUserId: '1',
          name: 'x',
          jobRole: { code: 'R1', display: 'y' },
          organisation: { odsCode: 'R1H' },
          activities: ['view'],
        },
        'activities[0]',
      ],
    ] as const) {
      const bad = await t.anonymous.post('/dev/token', body);
      expect(bad.statusCode).toBe(400);
      expect(issueOf(bad).field).toBe(field);
    }
  });

  it('sets, reads and releases the service clock', async () => {
    expect((await t.anonymous.get('/dev/clock')).json().now).toBe(T0.toISOString());
    const set = await t.anonymous.post('/dev/clock', { now: '2027-01-05T09:00:00Z' });
    expect(set.json().now).toBe('2027-01-05T09:00:00.000Z');
    expect(t.clock.now().toISOString()).toBe('2027-01-05T09:00:00.000Z');
    const bad = await t.anonymous.post('/dev/clock', { now: '5 January' });
    expect(bad.statusCode).toBe(400);
    expect(issueOf(bad).field).toBe('now');
    const released = await t.anonymous.post('/dev/clock', { now: null });
    expect(Math.abs(Date.parse(released.json().now) - Date.now())).toBeLessThan(5000);
    t.clock.set(T0);
  });

  it('switches demographics off and on', async () => {
    expect((await t.anonymous.post('/dev/faults', { demographics: 'unavailable' })).statusCode).toBe(200);
    expect(t.service.deps.demographics.available).toBe(false);
    expect((await t.anonymous.post('/dev/faults', { demographics: 'sometimes' })).statusCode).toBe(400);
    await t.anonymous.post('/dev/faults', { demographics: 'available' });
    expect(t.service.deps.demographics.available).toBe(true);
  });

  it("runs the embedded store's nightly vacuum from the service's scheduler", async () => {
    await t.service.scheduler.tick();
    const state = await t.service.store.db
      .selectFrom('service_state')
      .select('value')
      .where('key', '=', 'maintenance.last-vacuum')
      .executeTakeFirst();
    // (On the date of whichever clock setting first ran it: earlier tests move the clock.)
    expect(state?.value).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('answers unknown paths with a 404 OperationOutcome', async () => {
    const res = await t.as(admin).get('/nowhere');
    expect(res.statusCode).toBe(404);
    expect(issueOf(res).code).toBe('not-found');
  });
});

describe('production mode', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp('pglite', { mode: 'production' });
  });
  afterAll(() => t?.close());

  it('has no /dev/ helpers, publishes no signing key, and refuses demo tokens', async () => {
    for (const [method, url] of [
      ['POST', '/dev/token'],
      ['GET', '/dev/clock'],
      ['POST', '/dev/clock'],
      ['POST', '/dev/faults'],
    ] as const) {
      expect((await t.anonymous.inject({ method, url, payload: {} })).statusCode).toBe(404);
    }
    expect((await t.anonymous.get('/.well-known/jwks.json')).json()).toEqual({ keys: [] });
    const res = await t.as(admin).get('/admin/v1/local-authorities');
    expect(res.statusCode).toBe(401);
  });
});
