/**
 * The LA portal in a real browser (Debian's Chromium, driven by playwright-core): the stories of
 * src/web/la-portal.test.ts played as local authority staff would, with axe-core checking every
 * page against WCAG 2.2 A/AA. The service listens on loopback; sign-in goes through the demo's
 * stand-in for NHS CIS2.
 *
 * `CPIS_UPDATE_SCREENSHOTS=1 npx vitest run e2e/la-portal.test.ts` also refreshes the README's
 * screenshots of the LA portal (docs/img/la-*.png).
 */
import { mkdirSync } from 'node:fs';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, wcagViolations } from '../test/chromium.ts';
import { buildTestApp, type TestApp } from '../test/helper.ts';
import {
  johnnyCpp,
  lookUp,
  masonCpp,
  playFlood,
  STAFFORD_NORTH,
  STAFFORDSHIRE,
  stokeEdDoctor,
  tracyUcpp,
  uploadAs,
} from '../test/storyboard.ts';

const SCREENSHOTS = process.env.CPIS_UPDATE_SCREENSHOTS === '1';

const people = {
  admin: 'Priya Shah', // Staffordshire safeguarding admin
  worker: 'Tom Baker', // social worker, Stafford North Child Protection
  manager: 'Angela Reid', // team manager, Stafford North Child Protection
  edt: 'Dev Kumar', // social worker, Staffordshire's Emergency Duty Team
  otherLa: 'Mark Ellis', // Birmingham safeguarding admin
};

/** The names the demo directory gives the flood's places (never their bare ODS codes). */
const FLOOD_PLACES = [
  'DHU Health Care C.I.C', // NHS 111 (NNJ)
  'West Midlands Ambulance Service University NHS Foundation Trust', // dispatcher and crew (RYA)
  'Royal Stoke University Hospital Emergency Department', // A&E (RJE01)
  "Queen's Hospital Burton Paediatric Ward", // the ward (RTG02)
];

// Each story visits many pages, and axe-core takes about 2 s a page on two busy cores.
describe('LA portal in Chromium', { timeout: 120_000 }, () => {
  let t: TestApp;
  let browser: Browser;
  /** Each person's workstation (a browser profile: cookies are per context), kept across the stories. */
  const workstations = new Map<string, { context: BrowserContext; page: Page }>();
  let context: BrowserContext;
  let page: Page;
  let masonEpisode = '';
  const visited: string[] = [];

  /** axe-core on the page as it is now (or on `on`): no WCAG 2.2 A or AA violation. */
  const accessible = async (what: string, on: Page = page) => {
    const found = await wcagViolations(on);
    expect(found, `accessibility of ${what}`).toEqual([]);
    visited.push(what);
  };
  const shot = async (name: string) => {
    if (!SCREENSHOTS) return;
    mkdirSync('docs/img', { recursive: true });
    await page.screenshot({ path: `docs/img/${name}.png`, fullPage: true });
  };

  /**
   * Sign in through the stand-in as this person. The sign-in pages are the health portal's too
   * (e2e/portal.test.ts checks them on every visit); here axe runs on them the first time only.
   */
  const signIn = async (person: string) => {
    await page.goto(`${t.service.url}/`);
    if (!visited.includes('sign-in page')) await accessible('sign-in page');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Sign in to the demo' }).waitFor();
    if (!visited.includes('stand-in CIS2 persona picker')) await accessible('stand-in CIS2 persona picker');
    await page.getByLabel(person).check();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: /^Inbox/ }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Account' }).textContent()).toContain(person);
  };
  /** Wait until the page's main content shows this text. */
  const see = (text: string | RegExp, on: Page = page) =>
    on.locator('main').getByText(text).first().waitFor({ timeout: 10_000 });
  /** An element's text, its white space collapsed. */
  const textOf = async (element: Locator) =>
    ((await element.textContent()) ?? '').replace(/\s+/g, ' ').trim();
  /** A table row's cells, one space apart. */
  const cellsOf = async (row: Locator) =>
    (await row.locator('td').allTextContents()).map((c) => c.replace(/\s+/g, ' ').trim()).join(' ');
  const main = (on: Page = page) => textOf(on.locator('main'));
  /** The inbox's rows, as the episode ids their links go to. */
  const inboxEpisodes = async () =>
    (await page
      .locator('table.cpis-inbox tbody a[href^="/la/episodes/"]')
      .evaluateAll((as) => as.map((a) => a.getAttribute('href')!.replace('/la/episodes/', '')))) as string[];
  /** Save what has been done on the episode open in `on`. */
  const record = async (on: Page, state: string, reason: string) => {
    await on.getByLabel(state, { exact: true }).check();
    await on.getByLabel('What was done, or why no action is needed').fill(reason);
    await on.getByRole('button', { name: 'Save', exact: true }).click();
  };

  beforeAll(async () => {
    t = await buildTestApp('pglite', { demoWorld: true, demoPeople: 20, listen: true });
    t.clock.set(new Date('2026-11-19T09:00:00Z')); // Staffordshire's morning file
    await uploadAs(t, STAFFORDSHIRE, [masonCpp]);
    // Thursday 19 November 2026, 09:10 to 14:40 London: all in office hours. Five look-ups over five and a half hours.
    await playFlood(t, masonCpp.nhsNumber, new Date('2026-11-19T09:10:00Z'));
    t.clock.set(new Date('2026-11-19T20:00:00Z')); // the team looks that evening
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    for (const { context } of workstations.values()) await context.close();
    await browser?.close();
    await t?.close();
  });
  /**
   * Sit down at this person's workstation: a browser profile of their own, signed in the first
   * time, and on their inbox. A later story of the same person carries on where they were signed in.
   */
  const at = async (person: string) => {
    const seat = workstations.get(person);
    if (seat) {
      ({ context, page } = seat);
      await page.goto(`${t.service.url}/la/inbox`);
      await page.getByRole('heading', { name: /^Inbox/ }).waitFor();
      return;
    }
    context = await browser.newContext({
      viewport: { width: 1024, height: 900 },
      locale: 'en-GB', // (headless Chromium still draws date inputs as mm/dd/yyyy: the screenshot shows that)
      timezoneId: 'Europe/London',
    });
    page = await context.newPage();
    workstations.set(person, { context, page });
    await signIn(person);
  };

  it('the Staffordshire flood: one episode in the team’s inbox with names and phone numbers; the worker records a follow-up, signs out, and the manager sees it', async () => {
    await at(people.worker);
    expect(page.url()).toMatch(/\/la\/inbox$/); // LA staff land on their inbox, not the flag search
    await see('1 episode.');
    const ids = await inboxEpisodes();
    expect(ids).toHaveLength(1);
    masonEpisode = ids[0]!;
    const row = page.locator('table.cpis-inbox tbody tr');
    const rowText = await cellsOf(row);
    expect(rowText).toContain('Mason HUGHES');
    expect(rowText).toContain('999 000 0069');
    expect(rowText).toContain(STAFFORD_NORTH);
    expect(await textOf(row.locator('td[data-label="Look-ups"]'))).toBe('5');
    for (const place of FLOOD_PLACES) expect(rowText).toContain(place);
    expect(rowText).not.toMatch(/\bRYA\b|\bRJE01\b|\bRTG02\b|\bNNJ\b/); // names, never bare codes
    await accessible('LA inbox');
    await shot('la-inbox');

    await page.getByRole('link', { name: 'Mason HUGHES' }).click();
    await page.getByRole('heading', { name: 'Mason HUGHES', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'What happened: 5 look-ups' }).waitFor();
    const timeline = page.locator('ol.cpis-timeline > li');
    expect(await timeline.count()).toBe(5);
    const places = (await timeline.locator('h3').allTextContents()).map((p) => p.trim());
    expect(places).toHaveLength(5);
    expect(new Set(places)).toEqual(new Set(FLOOD_PLACES));
    expect(await page.locator('main a[href^="tel:"]').count()).toBeGreaterThan(0);
    await see(/Routed to Stafford North Child Protection; 5 look-ups/);
    await accessible('LA episode');
    await shot('la-episode');

    await record(page, 'Follow-up recorded', 'Rang the ward; discharge planning meeting booked');
    await see('Saved.');
    const change = page.locator('#history + ol > li', {
      hasText: 'New → Follow-up recorded: Rang the ward; discharge planning meeting booked',
    });
    expect(await change.count()).toBe(1);
    expect(await textOf(change)).toContain('Tom Baker, Social worker');
    expect(await textOf(page.locator('#current-state'))).toContain('Follow-up recorded');
    await accessible('LA episode, saved');

    // Everything CP-IS has told the LA about Mason.
    await page.getByRole('link', { name: 'Everything CP-IS has told you about Mason HUGHES' }).click();
    await page.getByRole('heading', { name: 'Mason HUGHES', level: 1 }).waitFor();
    await see('Attendances per month, last 2 years');
    expect(await page.locator('figure.cpis-chart svg').count()).toBe(1);
    expect(await main()).toMatch(/5 look-ups: /);
    await accessible('LA child');
    await shot('la-child');

    // Tom signs out of the portal and of the stand-in; Angela signs in at the same workstation.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign out' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await see('You have signed out');
    await signIn(people.manager);
    workstations.delete(people.worker); // Tom's workstation is Angela's now
    workstations.set(people.manager, { context, page });
    expect(await page.getByRole('navigation', { name: 'Account' }).textContent()).not.toContain('Tom Baker');
    await page.getByText('Filter episodes').click();
    await page.getByLabel('State').selectOption('follow-up-recorded');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await see('1 episode match these filters.');
    expect(await inboxEpisodes()).toEqual([masonEpisode]);
    expect(await textOf(page.locator('table.cpis-inbox tbody td[data-label="State"]'))).toBe(
      'Follow-up recorded',
    );
    await accessible('LA inbox, filtered');
  });

  it('a closed-case child lands in screening, and a Saturday-night look-up reaches the EDT too', async () => {
    await uploadAs(t, STAFFORDSHIRE, [tracyUcpp]); // no team: a closed case
    // Saturday 21 November 2026, 23:15 London: out of hours.
    await lookUp(
      t,
      stokeEdDoctor('555000000891', 'Dr Sol Park'),
      tracyUcpp.nhsNumber,
      new Date('2026-11-21T23:15:00Z'),
    );
    t.clock.set(new Date('2026-11-22T08:30:00Z')); // Sunday morning

    await at(people.admin);
    await page.getByText('Filter episodes').click();
    await page.getByLabel('Queue').selectOption('Screening');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/queue=Screening/);
    await see('Tracy JONES');
    expect(await main()).not.toContain('Mason HUGHES');
    await accessible('LA inbox, screening queue');

    await at(people.edt);
    await see('Tracy JONES');
    const row = page.locator('table.cpis-inbox tbody tr', { hasText: 'Tracy JONES' });
    expect(await textOf(row.locator('td[data-label="Queue"]'))).toContain('Also EDT');
    expect(await textOf(row.locator('td[data-label="Started"]'))).toContain('Out of hours');
    expect(await main()).not.toContain('Mason HUGHES'); // the flood was in office hours
    await accessible('LA inbox, EDT');
  });

  it('one LA can never see another’s: Birmingham’s admin, by URL, gets “Episode not found”', async () => {
    expect(masonEpisode).toMatch(/^[0-9a-f-]{36}$/);
    await at(people.otherLa);
    expect(await inboxEpisodes()).not.toContain(masonEpisode);
    expect(await main()).not.toContain('Mason HUGHES');
    const res = await page.goto(`${t.service.url}/la/episodes/${masonEpisode}`);
    expect(res?.status()).toBe(404);
    await page.getByRole('heading', { name: 'Episode not found' }).waitFor();
    expect(await main()).not.toContain('Mason');
    await accessible('episode not found');
    const child = await page.goto(`${t.service.url}/la/episodes/${masonEpisode}/child`);
    expect(child?.status()).toBe(404);
  });

  it('uploads a CSV through the page: the acknowledgement and the worklist name the field, and the match rate is charted beside its numbers', async () => {
    await at(people.admin);
    await page.getByRole('link', { name: 'Uploads and data quality' }).click();
    await page.getByRole('heading', { name: /^Uploads and data quality/ }).waitFor();
    await accessible('LA uploads');
    const csv = [
      'subject,nhs_number,local_id,family_name,given_names,birth_date,plan_type,start_date,end_date,delete_date,expected_delivery_date,team',
      `child,${masonCpp.nhsNumber},S-MH,HUGHES,Mason,${masonCpp.birthDate},CPP,2026-09-01,,,,${STAFFORD_NORTH}`,
      `child,${johnnyCpp.nhsNumber},S-JS,SMITH,Johnny,2020-01-01,CPP,2026-09-01,,,,`, // born 2021-05-02
    ].join('\n');
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'records.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Upload', exact: true }).click();

    const ack = page.locator('#acknowledgement');
    await ack.waitFor();
    const ackText = await textOf(ack);
    expect(ackText).toMatch(/CPF03 – Some records rejected/);
    expect(ackText).toContain('2 records received, 1 accepted, 1 rejected');
    const problem = ack.locator('tbody tr');
    expect(await problem.count()).toBe(1);
    expect(await cellsOf(problem)).toMatch(/ 999 000 0018 CPR03 records\[1\]\.birthDate /);

    const worklist = page.locator('table.cpis-worklist tbody tr', { hasText: '999 000 0018' });
    const worklistRow = await cellsOf(worklist);
    expect(worklistRow).toContain('CPR03');
    expect(worklistRow).toContain('records[1].birthDate');

    expect(await textOf(page.locator('#match-rate'))).toMatch(
      /^\d+(\.\d+)?% of records in your last 10 files were accepted/,
    );
    const chart = page.locator('.cpis-chart-with-table');
    await chart.locator('figure.cpis-chart svg').waitFor();
    const numbers = chart.locator('table.cpis-numbers');
    expect(await numbers.locator('tbody tr').count()).toBeGreaterThan(0);
    const last = numbers.locator('tbody tr').last(); // the page's file: one of two accepted
    expect(await cellsOf(last)).toMatch(/^No\. 3 22 November 2026, 08:30 50(\.0)?%$/);
    await accessible('LA uploads, acknowledgement');
    await shot('la-uploads');
  });

  it('a stale form: saved in one tab, refused in the other with a conflict, and nothing overwritten', async () => {
    expect(masonEpisode).toMatch(/^[0-9a-f-]{36}$/);
    await at(people.manager); // Angela, at the workstation Tom signed out of
    const first = page;
    const second = await context.newPage();
    for (const tab of [first, second]) {
      await tab.goto(`${t.service.url}/la/episodes/${masonEpisode}`);
      await tab.getByRole('heading', { name: 'Mason HUGHES', level: 1 }).waitFor();
    }
    await record(first, 'Reviewed', 'Checked the plan with the ward');
    await see('Saved.', first);
    expect(await textOf(first.locator('#current-state'))).toContain('Reviewed');

    await record(second, 'No action needed', 'Seen before');
    const summary = second.locator('.nhsuk-error-summary');
    await summary.waitFor();
    expect(await textOf(summary)).toContain('This episode changed after you opened it (it is now “Reviewed”');
    expect(await textOf(second.locator('#current-state'))).toContain('Reviewed');
    expect(await textOf(second.locator('#current-state'))).not.toContain('No action needed');
    await accessible('LA episode, conflict', second);
    const history = await textOf(second.locator('#history + ol'));
    expect(history).not.toContain('Seen before');
    await second.close();
  });

  it('settings as the admin: a close time before the open time is named in the error summary, which links to the field', async () => {
    await at(people.admin);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: /^Settings/ }).waitFor();
    await accessible('LA settings');
    await page.getByLabel('Office opens').fill('09:00');
    await page.getByLabel('Office closes').fill('08:00');
    await page.getByRole('button', { name: 'Save settings' }).click();
    const summary = page.locator('.nhsuk-error-summary');
    await summary.waitFor();
    const link = summary.locator('a[href="#close"]');
    expect(await link.count()).toBe(1);
    expect(await page.locator('#close-error').count()).toBe(1);
    expect(await page.getByLabel('Office closes').inputValue()).toBe('08:00'); // what was typed stays
    await accessible('LA settings, error summary');
    await link.click();
    expect(await page.getByLabel('Office closes').evaluate((el) => el.matches(':focus'))).toBe(true);
  });

  it('checked every kind of LA page for accessibility', () => {
    for (const what of [
      'LA inbox',
      'LA episode',
      'LA episode, saved',
      'LA child',
      'LA inbox, filtered',
      'LA inbox, screening queue',
      'LA inbox, EDT',
      'episode not found',
      'LA uploads',
      'LA uploads, acknowledgement',
      'LA episode, conflict',
      'LA settings',
      'LA settings, error summary',
    ]) {
      expect(visited).toContain(what);
    }
  });
});
