/**
 * The health portal, driven as a browser drives it (cookies, redirects, forms) through the
 * stand-in for NHS CIS2. The browser tests in e2e/ play the same stories in Chromium; these check
 * the server's side of each rule: what is recorded, who is told, what is refused.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleValue, TestBrowser, textOf } from '../../test/browser.ts';
import { buildTestApp, type TestApp } from '../../test/helper.ts';
import {
  accessCount,
  BIRMINGHAM,
  johnnyCpp,
  notifiedAccesses,
  TOWER_HAMLETS,
  tracyUcpp,
  uploadAs,
} from '../../test/storyboard.ts';

const MIDWIFE = '555000000903'; // Grace Adeyemi: maternity (B0107) and safeguarding (B0170) roles
const CLERK = '555000000302'; // Sam Patel, A&E registration clerk (B0107)
const GP = '555000000303'; // Dr Helen Marsh, GP (B0170 only)
const NO_ACCESS = '555000000304'; // Chris Doyle: no CP-IS activity

describe('health portal', () => {
  let t: TestApp;
  const browser = () => new TestBrowser(t.service.http);
  const auditActions = async (action: string) =>
    (
      await sql<{ outcome: string; detail: Record<string, unknown>; nhs_number: string | null }>`
        select outcome, detail, nhs_number from audit_log where action = ${action} order by seq`.execute(
        t.service.store.db,
      )
    ).rows;

  beforeAll(async () => {
    t = await buildTestApp('pglite', { demoWorld: true, demoPeople: 20 });
    await uploadAs(t, BIRMINGHAM, [tracyUcpp]);
    await uploadAs(t, TOWER_HAMLETS, [johnnyCpp]);
  });
  afterAll(() => t?.close());

  it('serves the sign-in page at / with strict security headers, and nothing else without signing in', async () => {
    const b = browser();
    const home = await b.get('/');
    expect(home.status).toBe(200);
    expect(textOf(home.html)).toContain('Child protection information');
    expect(home.headers['cache-control']).toBe('no-store');
    expect(String(home.headers['content-security-policy'])).toMatch(/script-src 'self' 'nonce-[0-9a-f]+'/);
    // The page's own script carries this answer's nonce, and the next answer has another.
    const nonce = /'nonce-([0-9a-f]{32})'/.exec(String(home.headers['content-security-policy']))?.[1];
    expect(home.html).toContain(`nonce="${nonce}"`);
    const again = await b.get('/');
    expect(String(again.headers['content-security-policy'])).not.toContain(nonce);
    expect(String(again.headers['x-frame-options'])).toBe('SAMEORIGIN');
    const search = await b.request('GET', '/search');
    expect(search.status).toBe(303);
    expect(search.headers.location).toBe('/sign-in?timedOut=0&returnTo=%2Fsearch');
    const css = await b.request('GET', '/assets/nhsuk-frontend.min.css');
    expect(css.status).toBe(200);
    expect(css.headers['cache-control']).toContain('max-age');
  });

  it("plays Tracy's storyboard: the midwife chooses the maternity role, finds Tracy by details, sees the unborn plan and Birmingham's EDT, and Birmingham is told", async () => {
    const b = browser();
    const roles = await b.signIn(MIDWIFE);
    expect(roles.url).toContain('/select-role');
    expect(textOf(roles.html)).toContain('Midwife, Whipps Cross University Hospital Maternity Unit');
    expect(textOf(roles.html)).toContain('Named midwife for safeguarding, Barts Health NHS Trust');
    const search = await b.submit(roles, '/select-role', {
      roleId: roleValue(roles.html, 'Midwife, Whipps Cross'),
    });
    expect(search.url).toMatch(/\/search$/);
    expect(textOf(search.html)).toContain('Grace Adeyemi');

    const found = await b.submit(search, '/search', {
      by: 'details',
      familyName: 'jones',
      givenName: 'Tracy',
      day: '14',
      month: '3',
      year: '2007',
    });
    expect(found.url).toMatch(/\/patient\/[A-Za-z0-9_-]+$/);
    expect(found.url).not.toContain('9990000026'); // NHS numbers stay out of URLs
    const confirm = textOf(found.html);
    expect(confirm).toContain('999 000 0026');
    expect(confirm).toContain('JONES, Tracy');
    expect(confirm).toContain('14 March 2007');
    expect(confirm).toContain('local authority that holds a plan is told your name, role and organisation');

    const before = await accessCount(t, '9990000026');
    const flag = await b.submit(found, /\/view$/, { notify: 'yes' });
    expect(flag.status).toBe(200);
    expect(flag.headers['cache-control']).toBe('no-store');
    const text = textOf(flag.html);
    expect(text).toContain("Unborn child – child protection plan (held on the mother's record)");
    expect(text).toContain('Birmingham City Council');
    expect(text).toContain('07700 900 100'); // EDT
    expect(text).toContain('0121 496 0500'); // office hours
    expect(text).toContain('1 October 2026');
    expect(text).toContain('This look-up was recorded and Birmingham City Council has been told');
    expect(await accessCount(t, '9990000026')).toBe(before + 1);

    // The same capability as the API: the same audit entry, marked as the portal's.
    const entries = await auditActions('CareTeam.search');
    const last = entries.at(-1)!;
    expect(last.nhs_number).toBe('9990000026');
    expect(last.detail).toMatchObject({ mode: 'unscheduled', channel: 'portal', laCodes: [BIRMINGHAM] });

    // Birmingham's next message names the midwife and Whipps Cross.
    t.clock.set(new Date('2026-11-21T07:00:00Z'));
    await t.service.scheduler.tick();
    const access = (await notifiedAccesses(t, BIRMINGHAM)).find((a) => a.nhsNumber === '9990000026');
    expect(access).toBeDefined();
    expect(JSON.stringify(access?.accessedBy)).toContain('Grace Adeyemi');
    expect(JSON.stringify(access?.organisation)).toContain('Whipps Cross University Hospital Maternity Unit');
  });

  it('finds Johnny by NHS number typed with spaces, and shows his plan with who looked before', async () => {
    const b = browser();
    const search = await b.signIn(CLERK);
    expect(search.url).toMatch(/\/search$/); // one role: no role choice
    const confirm = await b.submit(search, '/search', { by: 'nhs-number', nhsNumber: ' 999 000 0018 ' });
    expect(textOf(confirm.html)).toContain('SMITH, Johnny');
    const flag = await b.submit(confirm, /\/view$/, { notify: 'yes' });
    expect(textOf(flag.html)).toContain('Child protection plan');
    expect(textOf(flag.html)).toContain('London Borough of Tower Hamlets');
    // The GP, looking later, sees the clerk's look-up by name, role and organisation.
    const gp = browser();
    const gpSearch = await gp.signIn(GP);
    const gpConfirm = await gp.submit(gpSearch, '/search', { by: 'nhs-number', nhsNumber: '9990000018' });
    const history = textOf((await gp.submit(gpConfirm, /\/view$/)).html);
    expect(history).toContain('Recent unscheduled care');
    expect(history).toMatch(/Sam Patel Registration clerk The Royal London Hospital Emergency Department/);
  });

  it('lets a notifying role look silently with a reason: audited with the reason, no access recorded, nobody told', async () => {
    const b = browser();
    const search = await b.signIn(CLERK);
    const confirm = await b.submit(search, '/search', { by: 'nhs-number', nhsNumber: '9990000018' });
    const refused = await b.submit(confirm, /\/view$/, { notify: 'no' });
    expect(refused.status).toBe(400);
    expect(textOf(refused.html)).toContain('Choose why you are looking without notifying');
    const before = await accessCount(t, '9990000018');
    const flag = await b.submit(confirm, /\/view$/, { notify: 'no', silentReason: 'records-review' });
    expect(textOf(flag.html)).toContain('You looked without notifying');
    expect(textOf(flag.html)).toContain('Child protection plan');
    expect(await accessCount(t, '9990000018')).toBe(before);
    const last = (await auditActions('CareTeam.search')).at(-1)!;
    expect(last.detail).toMatchObject({
      mode: 'silent',
      activity: 'B0107',
      silentReason: 'records-review',
      accessId: null,
    });
  });

  it('gives a B0170-only role a silent read, and says so before and after', async () => {
    const b = browser();
    const search = await b.signIn(GP);
    expect(textOf(search.html)).toContain('the local authority is not told');
    const confirm = await b.submit(search, '/search', { by: 'nhs-number', nhsNumber: '9990000018' });
    expect(confirm.html).not.toContain('name="notify"');
    const before = await accessCount(t, '9990000018');
    const flag = await b.submit(confirm, /\/view$/);
    expect(textOf(flag.html)).toContain('You looked without notifying');
    expect(await accessCount(t, '9990000018')).toBe(before);
  });

  it('asks to refine when two people share the details, and finds one with the postcode', async () => {
    const b = browser();
    const search = await b.signIn(CLERK);
    const details = {
      by: 'details',
      familyName: 'Williams',
      givenName: 'Jack',
      day: '4',
      month: '4',
      year: '2019',
    };
    const several = await b.submit(search, '/search', details);
    expect(several.url).toMatch(/\/search$/);
    expect(textOf(several.html)).toContain('More than one person matches');
    expect(several.html).not.toContain('999 000 0220');
    expect(several.html).not.toContain('999 000 0298');
    const one = await b.submit(several, '/search', { ...details, postcode: 'bs2 8jq' });
    expect(textOf(one.html)).toContain('999 000 0298');
    const searches = await auditActions('portal.find-by-details');
    expect(searches.map((s) => s.detail.result)).toEqual(expect.arrayContaining(['several', 'found']));
  });

  it('names the field in an error summary and looks nothing up for bad input', async () => {
    const b = browser();
    const search = await b.signIn(CLERK);
    const audited = (await auditActions('portal.find-by-nhs-number')).length;
    const bad = await b.submit(search, '/search', { by: 'nhs-number', nhsNumber: '999 000 0019' });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('nhsuk-error-summary');
    expect(bad.html).toContain('href="#nhsNumber"');
    expect(textOf(bad.html)).toContain('Enter a valid NHS number');
    expect(bad.html).toContain('value="999 000 0019"');
    const future = await b.submit(search, '/search', {
      by: 'details',
      familyName: 'Jones',
      givenName: '',
      day: '1',
      month: '1',
      year: '2099',
    });
    expect(future.status).toBe(400);
    expect(future.html).toContain('href="#givenName"');
    expect(future.html).toMatch(/href="#birthDate-(day|year)"/);
    expect(textOf(future.html)).toMatch(/Date of birth must be (today or )?in the past/);
    const empty = await b.submit(search, '/search', { by: 'details' });
    expect(empty.status).toBe(400);
    expect(empty.html).toContain('href="#familyName"');
    expect((await auditActions('portal.find-by-nhs-number')).length).toBe(audited);
  });

  it('refuses a form without its CSRF token, doing nothing', async () => {
    const b = browser();
    await b.signIn(CLERK);
    const audited = (await auditActions('portal.find-by-nhs-number')).length;
    const forged = await b.go('POST', '/search', { by: 'nhs-number', nhsNumber: '9990000018' });
    expect(forged.status).toBe(403);
    expect(textOf(forged.html)).toContain('This form cannot be used');
    const wrong = await b.go('POST', '/search', {
      _csrf: 'forged-token',
      by: 'nhs-number',
      nhsNumber: '9990000018',
    });
    expect(wrong.status).toBe(403);
    expect((await auditActions('portal.find-by-nhs-number')).length).toBe(audited);
  });

  it('shows "you do not have access" to a role without a CP-IS activity, and audits the attempt', async () => {
    const b = browser();
    const page = await b.signIn(NO_ACCESS);
    expect(page.status).toBe(403);
    expect(textOf(page.html)).toContain('You do not have access');
    const denied = (await auditActions('portal.access')).at(-1)!;
    expect(denied.outcome).toBe('refused');
  });

  it('signs out after the idle time, then returns to the page asked for after signing in again', async () => {
    const b = browser();
    await b.signIn(CLERK);
    // Twenty minutes pass without a request (sessions run on real time, so the store is moved back).
    await sql`update web_session set last_seen_at = last_seen_at - interval '20 minutes'`.execute(
      t.service.store.db,
    );
    const page = await b.request('GET', '/search?from=bookmark');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/sign-in?timedOut=1&returnTo=%2Fsearch%3Ffrom%3Dbookmark');
    const signIn = await b.get(String(page.headers.location));
    expect(textOf(signIn.html)).toContain('You were signed out');
    const back = await b.signIn(CLERK, undefined, '/search?from=bookmark');
    expect(back.url).toMatch(/\/search\?from=bookmark$/);
  });

  it('removes sessions that ended by time from the store when the scheduler runs', async () => {
    const b = browser();
    await b.signIn(GP);
    const cookie = b.cookies.get('__Host-cpis-session')!;
    const idHash = createHash('sha256').update(cookie).digest('hex');
    const rows = () =>
      t.service.store.db.selectFrom('web_session').select('id_hash').where('id_hash', '=', idHash).execute();
    expect(await rows()).toHaveLength(1);
    await t.service.scheduler.tick();
    expect(await rows()).toHaveLength(1); // still in use
    await sql`update web_session set last_seen_at = last_seen_at - interval '16 minutes' where id_hash = ${idHash}`.execute(
      t.service.store.db,
    );
    await t.service.scheduler.tick();
    expect(await rows()).toHaveLength(0);
  });

  it('ends the session at once on sign-out: the old cookie opens nothing', async () => {
    const b = browser();
    const search = await b.signIn(CLERK);
    const cookie = b.cookies.get('__Host-cpis-session');
    expect(cookie).toBeDefined();
    await b.submit(search, '/sign-out');
    const replay = new TestBrowser(t.service.http);
    replay.cookies.set('__Host-cpis-session', cookie!);
    const page = await replay.request('GET', '/search');
    expect(page.status).toBe(303);
    expect(String(page.headers.location)).toContain('/sign-in');
  });

  it('never shows address-like detail of a restricted record, and says the look-up found no CP-IS information', async () => {
    const b = browser();
    const search = await b.signIn(CLERK);
    const confirm = await b.submit(search, '/search', { by: 'nhs-number', nhsNumber: '9990000077' });
    const text = textOf(confirm.html);
    expect(text).toContain('CLARKE, Amelia');
    expect(text).toContain('Restricted record: no address is shown');
    expect(confirm.html).not.toContain('LS6');
    const flag = await b.submit(confirm, /\/view$/, { notify: 'yes' });
    expect(textOf(flag.html)).toContain('No CP-IS information');
    expect(flag.html).not.toContain('LS6');
    expect(textOf(flag.html)).not.toContain('Recent unscheduled care');
  });

  it('follows a merged NHS number to the number now in use, and says so', async () => {
    const b = browser();
    const search = await b.signIn(CLERK);
    const confirm = await b.submit(search, '/search', { by: 'nhs-number', nhsNumber: '999 000 0085' });
    const text = textOf(confirm.html);
    expect(text).toContain('NHS number 999 000 0085 was merged into 999 000 0093');
    expect(text).toContain('999 000 0093');
    expect(text).toContain("O'BRIEN, Oliver");
  });

  it('asks whether the care is unscheduled rather than assuming it', async () => {
    const b = browser();
    const search = await b.signIn(CLERK);
    const confirm = await b.submit(search, '/search', { by: 'nhs-number', nhsNumber: '9990000018' });
    expect(confirm.html).not.toMatch(/name="notify"[^>]*checked/);
    const before = await accessCount(t, '9990000018');
    const page = await b.submit(confirm, /\/view$/);
    expect(page.status).toBe(400);
    expect(textOf(page.html)).toContain('Choose whether this is unscheduled care');
    expect(await accessCount(t, '9990000018')).toBe(before);
  });

  it('keeps a patient link to the session it was made in: after signing out and in again it opens nothing', async () => {
    const b = browser();
    const search = await b.signIn(CLERK);
    const confirm = await b.submit(search, '/search', { by: 'nhs-number', nhsNumber: '9990000018' });
    const shown = (await auditActions('portal.show-person')).at(-1)!;
    expect(shown.nhs_number).toBe('9990000018');
    await b.submit(confirm, '/sign-out');
    await b.signIn(CLERK);
    const again = await b.get(new URL(confirm.url).pathname);
    expect(again.status).toBe(404);
  });

  it('signs out even from a page kept from before the last sign-in (a fresh button, not a dead end)', async () => {
    const b = browser();
    const old = await b.signIn(CLERK);
    await b.submit(old, '/sign-out');
    await b.signIn(CLERK);
    const stale = await b.submit(old, '/sign-out');
    expect(stale.status).toBe(403);
    expect(textOf(stale.html)).toContain('You are still signed in');
    await b.submit(stale, '/sign-out');
    const after = await b.request('GET', '/search');
    expect(after.status).toBe(303);
    expect(String(after.headers.location)).toContain('/sign-in');
  });

  it('sends a browser that came by another name for this machine to the one address sign-in returns to', async () => {
    const b = new TestBrowser(t.service.http, 'http://localhost:8080');
    const page = await b.request('GET', '/search?x=1');
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe('http://127.0.0.1:8080/search?x=1');
  });

  it('stores nothing for a visitor who has not started signing in', async () => {
    const count = async () =>
      Number(
        (await sql<{ n: string }>`select count(*) as n from web_session`.execute(t.service.store.db)).rows[0]!
          .n,
      );
    const before = await count();
    for (const url of ['/', '/sign-in', '/signed-out', '/search', '/sign-in/callback?code=x&state=y']) {
      await browser().request('GET', url);
    }
    expect(await count()).toBe(before);
  });

  it('sends nobody to another site after signing in, however the return address is written', async () => {
    for (const evil of [
      '//evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      '/%09/evil.example',
      'https://evil.example/',
    ]) {
      const b = browser();
      await b.signIn(CLERK);
      const page = await b.request('GET', `/sign-in?returnTo=${encodeURIComponent(evil)}`);
      expect(page.status).toBe(302);
      // Resolved as a browser resolves a Location (WHATWG URL: tabs dropped, backslashes as slashes).
      expect(new URL(String(page.headers.location), 'http://127.0.0.1:8080').origin).toBe(
        'http://127.0.0.1:8080',
      );
    }
  });

  it('still looks up a plan by NHS number when demographics is down, saying the identity is unconfirmed; a search by details says it cannot answer', async () => {
    const b = browser();
    const search = await b.signIn(CLERK);
    expect((await t.anonymous.post('/dev/faults', { demographics: 'unavailable' })).statusCode).toBe(200);
    try {
      const confirm = await b.submit(search, '/search', { by: 'nhs-number', nhsNumber: '9990000018' });
      expect(textOf(confirm.html)).toContain('Identity not confirmed');
      const flag = await b.submit(confirm, /\/view$/, { notify: 'yes' });
      expect(textOf(flag.html)).toContain('Child protection plan');
      expect(textOf(flag.html)).toContain('London Borough of Tower Hamlets');
      const details = await b.submit(search, '/search', {
        by: 'details',
        familyName: 'Smith',
        givenName: 'Johnny',
        day: '2',
        month: '5',
        year: '2021',
      });
      expect(textOf(details.html)).toContain('Search by details is not working');
    } finally {
      await t.anonymous.post('/dev/faults', { demographics: 'available' });
    }
  });

  it('opens a patient link only for the person who searched', async () => {
    const a = browser();
    const search = await a.signIn(CLERK);
    const confirm = await a.submit(search, '/search', { by: 'nhs-number', nhsNumber: '9990000018' });
    const other = browser();
    await other.signIn(GP);
    const page = await other.get(new URL(confirm.url).pathname);
    expect(page.status).toBe(404);
    expect(textOf(page.html)).toContain('This page is no longer available');
  });
});
