/**
 * The health portal in a real browser (Debian's Chromium, driven by playwright-core): the stories
 * of the issue, played as staff would, with axe-core checking every page against WCAG 2.2 A/AA.
 * The service listens on loopback; sign-in goes through the demo's stand-in for NHS CIS2.
 *
 * `CPIS_UPDATE_SCREENSHOTS=1 npx vitest run e2e/portal.test.ts` also refreshes the README's
 * screenshots (docs/img).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { sql } from 'kysely';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, wcagViolations } from '../test/chromium.ts';
import { buildTestApp, type TestApp } from '../test/helper.ts';
import {
  accessCount,
  BIRMINGHAM,
  johnnyCpp,
  notifiedAccesses,
  TOWER_HAMLETS,
  tracyUcpp,
  uploadAs,
} from '../test/storyboard.ts';

const SCREENSHOTS = process.env.CPIS_UPDATE_SCREENSHOTS === '1';

const people = {
  midwife: 'Grace Adeyemi',
  clerk: 'Sam Patel',
  gp: 'Dr Helen Marsh',
  noAccess: 'Chris Doyle',
};

describe('health portal in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const visited: string[] = [];

  /** axe-core on the page as it is now: no WCAG 2.2 A or AA violation. */
  let scripts = true;
  const accessible = async (what: string) => {
    if (!scripts) return; // axe-core runs as a script in the page: checked in the runs with scripts on
    const found = await wcagViolations(page);
    expect(found, `accessibility of ${what}`).toEqual([]);
    visited.push(what);
  };
  const shot = async (name: string) => {
    if (!SCREENSHOTS) return;
    mkdirSync('docs/img', { recursive: true });
    await page.screenshot({ path: `docs/img/${name}.png`, fullPage: true });
  };
  const accesses = (nhsNumber: string) => accessCount(t, nhsNumber);

  /** Sign in through the stand-in as this person; choose the role whose label starts with `role` if asked. */
  const signIn = async (person: string, role?: string) => {
    await page.goto(`${t.service.url}/`);
    await accessible('sign-in page');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sign in to the demo' }).waitFor();
    await accessible('stand-in CIS2 persona picker');
    await page.getByLabel(person).check();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    if (role) {
      await page.getByRole('heading', { name: 'Choose the role you are working in' }).waitFor();
      await accessible('role choice');
      await page.getByLabel(role).check();
      await page.getByRole('button', { name: 'Continue' }).click();
    }
  };
  /** Wait until the page's main content shows this text. */
  const see = (text: string) => page.locator('main').getByText(text).first().waitFor({ timeout: 10_000 });
  const findByNumber = async (nhsNumber: string) => {
    await page.getByLabel('Search by NHS number').fill(nhsNumber);
    await page.getByRole('button', { name: 'Search by NHS number' }).click();
  };

  beforeAll(async () => {
    t = await buildTestApp('pglite', { demoWorld: true, demoPeople: 20, listen: true });
    await uploadAs(t, BIRMINGHAM, [tracyUcpp]);
    await uploadAs(t, TOWER_HAMLETS, [johnnyCpp]);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });
  // Each story is a new browser profile: a new person at a new workstation.
  const fresh = async (javaScriptEnabled = true) => {
    await context?.close();
    scripts = javaScriptEnabled;
    context = await browser.newContext({ viewport: { width: 1024, height: 900 }, javaScriptEnabled });
    page = await context.newPage();
  };
  afterEach(async () => {
    await context?.close();
  });

  it("Tracy's storyboard: the midwife finds Tracy by name and date of birth, sees the unborn plan and Birmingham's EDT, and Birmingham's next message names her and Whipps Cross", async () => {
    await fresh();
    await signIn(people.midwife, 'Midwife, Whipps Cross University Hospital Maternity Unit');
    await page.getByRole('heading', { name: 'Find a patient' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Account' }).textContent()).toContain('Grace Adeyemi');
    await accessible('search');
    await shot('portal-search');

    await page.getByLabel('Family name').fill('Jones');
    await page.getByLabel('Given name').fill('Tracy');
    await page.getByLabel('Day').fill('14');
    await page.getByLabel('Month').fill('3');
    await page.getByLabel('Year').fill('2007');
    await page.getByRole('button', { name: 'Search by details' }).click();
    await page.getByRole('heading', { name: 'Check this is the right person' }).waitFor();
    await see('JONES, Tracy');
    await see('local authority that holds a plan is told');
    expect(page.url()).not.toContain('9990000026');
    await accessible('check the person');

    const before = await accesses('9990000026');
    await page.getByLabel('Yes: record this look-up and tell the local authority').check();
    await page.getByRole('button', { name: 'View CP-IS information' }).click();
    await see("Unborn child – child protection plan (held on the mother's record)");
    await see('Birmingham City Council');
    await page.getByRole('link', { name: '07700 900 100' }).waitFor(); // EDT, as a phone link
    await page.getByRole('link', { name: '0121 496 0500' }).waitFor();
    await see('This look-up was recorded and Birmingham City Council has been told');
    await accessible('flag page');
    await shot('portal-flag');
    expect(await accesses('9990000026')).toBe(before + 1);

    // Printed into the notes: the page's chrome goes, the plan stays.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header.nhsuk-header').isHidden()).toBe(true);
    await page.getByText('07700 900 100').waitFor();
    await page.emulateMedia({ media: 'screen' });

    // Birmingham (daily cadence) gets its message the next morning.
    t.clock.set(new Date('2026-11-21T07:00:00Z'));
    await t.service.scheduler.tick();
    const access = (await notifiedAccesses(t, BIRMINGHAM)).find((a) => a.nhsNumber === '9990000026');
    expect(JSON.stringify(access?.accessedBy)).toContain('Grace Adeyemi');
    expect(JSON.stringify(access?.organisation)).toContain('Whipps Cross University Hospital Maternity Unit');
  });

  it('Johnny by NHS number, typed with spaces; with a long history the page still prints on one page', async () => {
    // Thirty clinicians at A&E have looked already, through their systems.
    for (let i = 0; i < 30; i++) {
      const res = await t
        .as({
          kind: 'health-user',
          sdsUserId: `55590000${String(i).padStart(4, '0')}`,
          name: `Dr Clinician ${i}`,
          jobRole: { code: 'R8000', display: 'Emergency department doctor' },
          organisation: { odsCode: i % 2 ? 'R1H12' : 'R1HNH' },
          activities: ['B0107'],
        })
        .get('/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|9990000018', {
          'x-request-id': randomUUID(),
        });
      expect(res.statusCode).toBe(200);
    }
    t.clock.set(new Date(t.clock.now().getTime() + 60_000)); // the clerk looks a minute later
    await fresh();
    await signIn(people.clerk);
    await findByNumber('999 000 0018');
    await see('SMITH, Johnny');
    await page.getByLabel('Yes: record this look-up and tell the local authority').check();
    await page.getByRole('button', { name: 'View CP-IS information' }).click();
    await see('Child protection plan');
    await see('London Borough of Tower Hamlets');
    const history = await page.getByRole('table').textContent();
    expect(history).toContain('Sam Patel');
    expect(history).toContain('Newham General Hospital Emergency Department');
    expect(await page.locator('tbody tr').count()).toBe(25);
    await see('25 look-ups in the last 30 days, at 2 places');
    // Staff print it into the notes: on A4, one page.
    await page.emulateMedia({ media: 'print' });
    const pdf = (await page.pdf({ format: 'A4' })).toString('latin1');
    expect(pdf.match(/\/Type\s*\/Page\b(?!s)/g)?.length).toBe(1);
    await page.emulateMedia({ media: 'screen' });
  });

  it('works without JavaScript: sign in, choose a role, find, look', async () => {
    await fresh(false);
    await signIn(people.midwife, 'Midwife, Whipps Cross University Hospital Maternity Unit');
    await findByNumber('9990000018');
    await see('SMITH, Johnny');
    await page.getByLabel('Yes: record this look-up and tell the local authority').check();
    await page.getByRole('button', { name: 'View CP-IS information' }).click();
    await see('London Borough of Tower Hamlets');
    expect(await page.getByRole('link', { name: '07700 900 109' }).count()).toBe(1);
  });

  it('a silent read: the GP looks without notifying, the page says so, and no access is recorded', async () => {
    await fresh();
    await signIn(people.gp);
    await see('the local authority is not told');
    await findByNumber('9990000018');
    expect(await page.getByRole('group', { name: 'Is this unscheduled care?' }).count()).toBe(0);
    const before = await accesses('9990000018');
    await page.getByRole('button', { name: 'View CP-IS information' }).click();
    await see('You looked without notifying');
    await accessible('flag page, silent');
    expect(await accesses('9990000018')).toBe(before);
  });

  it('two people with the same details: "refine", never a list', async () => {
    await fresh();
    await signIn(people.clerk);
    await page.getByLabel('Family name').fill('Williams');
    await page.getByLabel('Given name').fill('Jack');
    await page.getByLabel('Day').fill('4');
    await page.getByLabel('Month').fill('4');
    await page.getByLabel('Year').fill('2019');
    await page.getByRole('button', { name: 'Search by details' }).click();
    await see('More than one person matches');
    expect(await page.locator('main').textContent()).not.toContain('999 000 02');
    await accessible('search, refine');
    await page.getByLabel('Postcode (optional)').fill('LS9 7HE');
    await page.getByRole('button', { name: 'Search by details' }).click();
    await see('999 000 0220');
  });

  it('bad input: the error summary names the field, takes focus, and nothing is looked up', async () => {
    await fresh();
    await signIn(people.clerk);
    await findByNumber('999 000 0019');
    const summary = page.locator('.nhsuk-error-summary');
    await summary.waitFor();
    expect(await summary.evaluate((el) => el.matches(':focus'))).toBe(true);
    expect(await summary.textContent()).toContain('Enter a valid NHS number');
    await accessible('search, error summary');
    await summary.getByRole('link').first().click();
    expect(await page.getByLabel('Search by NHS number').evaluate((el) => el.matches(':focus'))).toBe(true);
    await page.getByLabel('Family name').fill('Jones');
    await page.getByLabel('Day').fill('31');
    await page.getByLabel('Month').fill('2');
    await page.getByLabel('Year').fill('2020');
    await page.getByRole('button', { name: 'Search by details' }).click();
    await summary.getByText('Enter the given name').waitFor();
    expect(await summary.textContent()).toContain('Date of birth must be a real date');
  });

  it('the idle timeout signs out, and signing in again goes back to the page asked for', async () => {
    await fresh();
    await signIn(people.clerk);
    // Twenty minutes pass without a request (sessions run on real time: the store is moved back).
    await sql`update web_session set last_seen_at = last_seen_at - interval '20 minutes'`.execute(
      t.service.store.db,
    );
    await page.goto(`${t.service.url}/search?from=timeout`);
    await see('You were signed out');
    await accessible('sign-in page, timed out');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel(people.clerk).check();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/search\?from=timeout$/);
  });

  it('signs out of the portal and then of the stand-in, and says so', async () => {
    await fresh();
    await signIn(people.gp);
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The portal's session has ended; the stand-in asks to end its own sign-in too.
    await page.getByRole('heading', { name: 'Sign out' }).waitFor();
    await accessible('stand-in sign-out');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await see('You have signed out');
    await accessible('signed out');
    await page.goto(`${t.service.url}/search`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  });

  it('a form whose CSRF token is not the session’s is refused, and nothing happens', async () => {
    await fresh();
    await signIn(people.clerk);
    await page
      .locator('form[action="/search"] input[name="_csrf"]')
      .first()
      .evaluate((el) => el.setAttribute('value', 'forged'));
    const before = await accesses('9990000018');
    await findByNumber('9990000018');
    await page.getByRole('heading', { name: 'This form cannot be used' }).waitFor();
    await accessible('form refused');
    expect(await accesses('9990000018')).toBe(before);
  });

  it('no access without a CP-IS activity, and the attempt is audited', async () => {
    await fresh();
    await signIn(people.noAccess);
    await page.getByRole('heading', { name: 'You do not have access' }).waitFor();
    await accessible('no access');
    const denied = await sql<{
      n: string;
    }>`select count(*) as n from audit_log where action = 'portal.access' and outcome = 'refused'`.execute(
      t.service.store.db,
    );
    expect(Number(denied.rows[0]!.n)).toBeGreaterThan(0);
  });

  it('checked every kind of page for accessibility', () => {
    for (const what of [
      'sign-in page',
      'stand-in CIS2 persona picker',
      'role choice',
      'search',
      'check the person',
      'flag page',
      'search, refine',
      'search, error summary',
      'sign-in page, timed out',
      'form refused',
      'no access',
      'flag page, silent',
      'stand-in sign-out',
      'signed out',
    ]) {
      expect(visited).toContain(what);
    }
  });
});
