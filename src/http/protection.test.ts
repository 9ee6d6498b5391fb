/**
 * Load and abuse: every answer carries security headers; one client over its rate gets 429 with
 * Retry-After and an OperationOutcome while other clients carry on; an overloaded process answers
 * 503 with Retry-After instead of queueing; no error says how the service is built.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { TestBrowser } from '../../test/browser.ts';
import { admin, buildTestApp, clinician, issueOf, la, pasSystem, type TestApp } from '../../test/helper.ts';

const SEARCH = '/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018';

describe('protection of the service', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('puts security headers on every kind of answer: API, errors, portal pages, assets and the sign-in stand-in', async () => {
    t = await buildTestApp('pglite', { scheduler: false });
    const answers = {
      health: await t.anonymous.get('/healthz'),
      refused: await t.anonymous.get(SEARCH),
      missing: await t.anonymous.get('/no/such/thing'),
      query: await t.as(clinician()).get(SEARCH),
      page: await t.anonymous.get('/'),
      asset: await t.anonymous.get('/assets/portal.css'),
      discovery: await t.anonymous.get('/cis2/.well-known/openid-configuration'),
    };
    for (const [what, res] of Object.entries(answers)) {
      expect(res.headers['x-content-type-options'], what).toBe('nosniff');
      expect(res.headers['content-security-policy'], what).toMatch(
        /frame-ancestors 'none'|default-src 'none'/,
      );
      expect(res.headers['x-frame-options'], what).toBeDefined();
      expect(res.headers['referrer-policy'], what).toBeDefined();
      expect(res.headers['cross-origin-opener-policy'], what).toBe('same-origin');
      expect(res.headers['x-powered-by'], what).toBeUndefined();
    }
    // API answers are data: nothing may be loaded from them, whatever a browser makes of them.
    expect(answers.query.headers['content-security-policy']).toContain("default-src 'none'");
    // The portal keeps its own page policy (scripts by nonce), not the API's.
    expect(answers.page.headers['content-security-policy']).toMatch(/script-src 'self' 'nonce-/);
    // HSTS only where TLS is in front (production); on the demo's plain HTTP it would mean nothing.
    expect(answers.query.headers['strict-transport-security']).toBeUndefined();
  });

  it("refuses a body over its route's limit with 413, and stores nothing", async () => {
    t = await buildTestApp('pglite', { scheduler: false });
    const huge = { familyName: 'X'.repeat(1024 * 1024 + 10), givenNames: ['A'], birthDate: '2015-05-05' };
    const res = await t.as(admin).put('/admin/v1/demographics/9990000190', huge);
    expect(res.statusCode).toBe(413);
    expect(issueOf(res).code).toBe('too-long');
    expect((await t.as(admin).get('/admin/v1/demographics/9990000190')).statusCode).toBe(404);
  });

  it('sends HSTS in production mode', async () => {
    t = await buildTestApp('pglite', { scheduler: false, mode: 'production' });
    const res = await t.anonymous.get('/healthz');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=31536000/);
  });

  it('refuses one client over its rate with 429, Retry-After and an OperationOutcome, while others carry on', async () => {
    t = await buildTestApp('pglite', { scheduler: false, env: { CPIS_RATE_LIMIT_PER_MINUTE: '5' } });
    const pas = t.as(pasSystem());
    const busy = { get: (url: string) => pas.get(url, { 'x-request-id': randomUUID() }) };
    // (No such child here: each search is answered with an empty bundle, and audited, like any other.)
    for (let i = 0; i < 5; i++) expect((await busy.get(SEARCH)).statusCode).toBe(200);
    const over = await busy.get(SEARCH);
    expect(over.statusCode).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(issueOf(over).code).toBe('throttled');
    expect(issueOf(over).text).toMatch(/at most 5 a minute/);

    // The refused search was not carried out, and the trail says so (every FHIR request is audited).
    const searches = await t.service.store.db
      .selectFrom('audit_log')
      .select(['outcome', 'detail'])
      .where('action', '=', 'CareTeam.search')
      .orderBy('seq')
      .execute();
    expect(searches.map((e) => e.outcome)).toEqual([...Array(5).fill('success'), 'refused']);
    expect(searches[5]!.detail).toMatchObject({ http: { status: 429 } });

    // Another trust's user, an LA and the health check are not held up by it.
    expect((await t.as(clinician()).get(SEARCH, { 'x-request-id': randomUUID() })).statusCode).toBe(200);
    expect((await t.as(la('E08000025')).get('/la/v1/mailbox')).statusCode).toBe(200);
    for (let i = 0; i < 8; i++) expect((await t.anonymous.get('/healthz')).statusCode).toBe(200);

    // A forged token is refused before it counts, so it cannot spend a real client's allowance.
    const other = t.as(admin);
    for (let i = 0; i < 10; i++) {
      const forged = await t.anonymous.get('/admin/v1/audit/verify', { authorization: 'Bearer not.a.token' });
      expect(forged.statusCode).toBe(401);
    }
    expect((await other.get('/admin/v1/audit/verify')).statusCode).toBe(200);
  });

  it('shows a portal user who goes over the rate a page that says to wait, not an error', async () => {
    t = await buildTestApp('pglite', {
      scheduler: false,
      demoWorld: true,
      demoPeople: 20,
      env: { CPIS_RATE_LIMIT_PER_MINUTE: '30' },
    });
    const b = new TestBrowser(t.service.http);
    await b.signIn('555000000302');
    let page = await b.request('GET', '/search');
    for (let i = 0; i < 40 && page.status === 200; i++) page = await b.request('GET', '/search');
    expect(page.status).toBe(429);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.html).toContain('Too many requests');
    expect(page.html).toMatch(/Nothing was done\. Wait \d+ seconds/);
    // A colleague at the same address (the same trust proxy) is counted on their own.
    const colleague = new TestBrowser(t.service.http);
    await colleague.signIn('555000000903', 'Midwife');
    expect((await colleague.request('GET', '/search')).status).toBe(200);
  });

  it('answers 503 with Retry-After while the process is over its memory limit, and carries out nothing', async () => {
    // A heap limit no process can be under: the service is "overloaded" from its first sample.
    t = await buildTestApp('pglite', { scheduler: false, env: { CPIS_MAX_HEAP_MB: '1' } });
    const search = () => t!.as(clinician()).get(SEARCH, { 'x-request-id': randomUUID() });
    let res = await search();
    for (let i = 0; i < 40 && res.statusCode !== 503; i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await search();
    }
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(issueOf(res).code).toBe('transient');
    expect(issueOf(res).text).toMatch(/overloaded.*not carried out/);
    const health = await t.anonymous.get('/healthz');
    expect(health.statusCode).toBe(503);
    const count = async () =>
      Number(
        (
          await t!.service.store.db
            .selectFrom('access_event')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    expect((await search()).statusCode).toBe(503);
    expect(await count()).toBe(before);
  });
});
