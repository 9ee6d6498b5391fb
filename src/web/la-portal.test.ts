/**
 * The LA portal, driven as a browser drives it through the stand-in for NHS CIS2: the server's side
 * of each rule (who sees what, what a change records, what is refused). e2e/la-portal.test.ts plays
 * the same stories in Chromium.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findForm, TestBrowser, textOf } from '../../test/browser.ts';
import { buildTestApp, type TestApp } from '../../test/helper.ts';
import {
  BIRMINGHAM,
  lookUp,
  masonCpp,
  playFlood,
  STAFFORD_NORTH,
  STAFFORDSHIRE,
  stokeEdDoctor,
  tracyUcpp,
  uploadAs,
} from '../../test/storyboard.ts';

const ADMIN = '555000000910'; // Priya Shah, Staffordshire safeguarding admin
const WORKER = '555000000911'; // Tom Baker, social worker, Stafford North
const MANAGER = '555000000912'; // Angela Reid, team manager, Stafford North
const EDT_WORKER = '555000000913'; // Dev Kumar, Staffordshire EDT
const BHAM_ADMIN = '555000000914'; // Mark Ellis, Birmingham safeguarding admin
const CLERK = '555000000302'; // Sam Patel, A&E registration clerk (an NHS role)

describe('LA portal', () => {
  let t: TestApp;
  let floodEpisode: string;
  const browser = () => new TestBrowser(t.service.http);
  const signedIn = async (who: string) => {
    const b = browser();
    const page = await b.signIn(who);
    return { b, page };
  };
  const episodeLinks = (html: string) =>
    [...html.matchAll(/href="\/la\/episodes\/([0-9a-f-]{36})"/g)].map((m) => m[1]!);

  /** Send a CSV file through the uploads page's form (multipart, as a browser sends it). */
  const postFile = (b: TestBrowser, csrf: string, csv: string, fields: Record<string, string> = {}) => {
    const boundary = '----cpis-test-boundary';
    const part = (name: string, value: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    return t.service.http.inject({
      method: 'POST',
      url: '/la/uploads',
      headers: {
        host: '127.0.0.1:8080',
        cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      payload: [
        part('_csrf', csrf),
        ...Object.entries({ mode: 'delta', ...fields }).map(([k, v]) => part(k, v)),
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="records.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n`,
        `--${boundary}--\r\n`,
      ].join(''),
    });
  };
  const count = async (table: 'la_record' | 'upload' | 'access_notice' | 'la_episode') =>
    Number(
      (
        await t.service.store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    t = await buildTestApp('pglite', { demoWorld: true, demoPeople: 20 });
    await uploadAs(t, STAFFORDSHIRE, [masonCpp]);
    await uploadAs(t, BIRMINGHAM, [tracyUcpp]);
    // Thursday 19 November 2026, 09:10 to 14:40 London: all in office hours.
    await playFlood(t, masonCpp.nhsNumber, new Date('2026-11-19T09:10:00Z'));
  });
  afterAll(() => t?.close());

  it('shows the flood as one episode in the team’s inbox, with names and phone numbers, and the worker records a follow-up the manager then sees', async () => {
    const { b, page } = await signedIn(WORKER);
    expect(page.url).toMatch(/\/la\/inbox$/); // LA staff land on their inbox, not the flag search
    const inbox = textOf(page.html);
    expect(inbox).toContain('1 episode.');
    expect(inbox).toContain('Mason HUGHES');
    expect(inbox).toContain(STAFFORD_NORTH);
    expect(inbox).not.toMatch(/\bRYA\b|\bRJE01\b/); // names, never bare codes
    const ids = episodeLinks(page.html);
    expect(ids).toHaveLength(1);
    floodEpisode = ids[0]!;

    const episode = await b.get(`/la/episodes/${floodEpisode}`);
    expect(episode.status).toBe(200);
    const text = textOf(episode.html);
    expect(text).toContain('What happened: 5 look-ups');
    expect(episode.html).toMatch(/href="tel:[0-9]+"/);
    expect(text).toMatch(/Routed to Stafford North Child Protection; 5 look-ups/);

    const missing = await b.submit(episode, `/la/episodes/${floodEpisode}`, {
      state: 'follow-up-recorded',
      reason: '',
    });
    expect(missing.status).toBe(400);
    expect(textOf(missing.html)).toContain('Say what follow-up was recorded');

    const done = await b.submit(episode, `/la/episodes/${floodEpisode}`, {
      state: 'follow-up-recorded',
      reason: 'Rang the ward; discharge planning meeting booked',
    });
    expect(done.status).toBe(200);
    expect(textOf(done.html)).toContain('Saved.');
    expect(textOf(done.html)).toContain(
      'Tom Baker, Social worker New → Follow-up recorded: Rang the ward; discharge planning meeting booked',
    );

    const manager = await signedIn(MANAGER);
    const list = await manager.b.get('/la/inbox?state=follow-up-recorded');
    expect(episodeLinks(list.html)).toEqual([floodEpisode]);
    expect(textOf(list.html)).toContain('Follow-up recorded');

    const audit = await sql<{ actor: { name: string }; detail: { to: string } }>`
      select actor, detail from audit_log where action = 'episode.change' order by seq`.execute(
      t.service.store.db,
    );
    expect(audit.rows.map((r) => [r.actor.name, r.detail.to])).toEqual([['Tom Baker', 'follow-up-recorded']]);
  });

  it('refuses a stale form with a conflict and overwrites nothing', async () => {
    const worker = await signedIn(WORKER);
    const manager = await signedIn(MANAGER);
    const stale = await worker.b.get(`/la/episodes/${floodEpisode}`);
    const fresh = await manager.b.get(`/la/episodes/${floodEpisode}`);
    await manager.b.submit(fresh, `/la/episodes/${floodEpisode}`, {
      state: 'reviewed',
      reason: 'Checked by manager',
    });
    const res = await worker.b.submit(stale, `/la/episodes/${floodEpisode}`, {
      state: 'no-action-needed',
      reason: 'Seen before',
    });
    expect(res.status).toBe(409);
    expect(textOf(res.html)).toContain('This episode changed after you opened it (it is now “Reviewed”)');
    const now = await worker.b.get(`/la/episodes/${floodEpisode}`);
    expect(textOf(now.html)).toContain('Reviewed Checked by manager');
  });

  it('keeps each LA to its own episodes, and each team to its own queue, when tried by URL', async () => {
    const other = await signedIn(BHAM_ADMIN);
    expect((await other.b.get('/la/inbox')).html).not.toContain(floodEpisode);
    const read = await other.b.get(`/la/episodes/${floodEpisode}`);
    expect(read.status).toBe(404);
    expect((await other.b.get(`/la/episodes/${floodEpisode}/child`)).status).toBe(404);
    // A well-formed change from Birmingham's own session, aimed at Staffordshire's episode.
    const own = await other.b.get('/la/settings');
    const form = findForm(own.html, '/la/settings');
    const change = await other.b.go('POST', `/la/episodes/${floodEpisode}`, {
      _csrf: form.hidden._csrf!,
      action: 'state',
      state: 'no-action-needed',
      reason: 'not ours',
      version: '99',
    });
    expect(change.status).toBe(404);
    const refused = await sql<{ action: string; actor: { laCode: string } }>`
      select action, actor from audit_log where category = 'access-denied' and detail->>'episodeId' = ${floodEpisode}
      order by seq`.execute(t.service.store.db);
    expect(refused.rows.map((r) => [r.action, r.actor.laCode])).toEqual([
      ['episode.read', BIRMINGHAM],
      ['child.read', BIRMINGHAM],
      ['episode.change', BIRMINGHAM],
    ]);
    const edt = await signedIn(EDT_WORKER); // Staffordshire, but another team; the flood was in hours
    expect((await edt.b.get(`/la/episodes/${floodEpisode}`)).status).toBe(404);
    const nhs = await signedIn(CLERK);
    const denied = await nhs.b.get('/la/inbox');
    expect(denied.status).toBe(403);
    expect(textOf(denied.html)).toContain('These pages are for local authority staff');
  });

  it('routes a child with no team to screening, and an out-of-hours episode to the EDT too', async () => {
    await uploadAs(t, STAFFORDSHIRE, [tracyUcpp]); // no team: a closed case
    // Saturday 21 November 2026, 23:15 London: out of hours.
    await lookUp(
      t,
      stokeEdDoctor('555000000891', 'Dr Sol Park'),
      tracyUcpp.nhsNumber,
      new Date('2026-11-21T23:15:00Z'),
    );
    const admin = await signedIn(ADMIN);
    const screening = await admin.b.get('/la/inbox?queue=Screening');
    expect(textOf(screening.html)).toContain('Tracy JONES');
    const edt = await signedIn(EDT_WORKER);
    const queue = await edt.b.get('/la/inbox');
    expect(textOf(queue.html)).toContain('Tracy JONES');
    expect(textOf(queue.html)).toContain('Also EDT');
    expect(textOf(queue.html)).not.toContain('Mason HUGHES');
  });

  it('lets only admins change settings, and names the field that is wrong', async () => {
    const worker = await signedIn(WORKER);
    expect((await worker.b.get('/la/settings')).status).toBe(403);
    expect((await worker.b.get('/la/uploads')).status).toBe(403);
    const admin = await signedIn(ADMIN);
    const page = await admin.b.get('/la/settings');
    const bad = await admin.b.submit(page, '/la/settings', {
      days: '1',
      open: '09:00',
      close: '08:00',
      outOfHoursToEdt: 'yes',
      screeningTeam: 'Screening',
      edtTeam: 'Emergency Duty Team',
      episodeGapHours: '12',
      episodes: '3',
      episodeDays: '183',
      areas: '3',
      areaDays: '7',
    });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('href="#close"');
    const before = await t.service.store.db
      .selectFrom('local_authority')
      .select('routing')
      .where('la_code', '=', STAFFORDSHIRE)
      .executeTakeFirstOrThrow();
    expect(before.routing).toBeNull(); // nothing half-applied
  });

  it('uploads a CSV from the page with the same acknowledgement as the API, and lists the CPR03 with its field', async () => {
    const admin = await signedIn(ADMIN);
    const page = await admin.b.get('/la/uploads');
    const csrf = findForm(page.html, '/la/uploads').hidden._csrf!;
    const csv = [
      'subject,nhs_number,local_id,family_name,given_names,birth_date,plan_type,start_date,end_date,delete_date,expected_delivery_date,team',
      `child,${masonCpp.nhsNumber},S-MH,HUGHES,Mason,2018-09-23,CPP,2026-09-01,,,,${STAFFORD_NORTH}`,
      `child,9990000018,S-JS,SMITH,Johnny,2020-01-01,CPP,2026-09-01,,,,`,
    ].join('\n');
    const res = await postFile(admin.b, csrf, csv);
    expect(res.statusCode).toBe(200);
    const text = textOf(res.body);
    expect(text).toMatch(/CPF03 – Some records rejected/);
    expect(text).toContain('records[1].birthDate');
    expect(text).toMatch(/Worklist: records to correct.*999 000 0018.*CPR03/s);
    expect(text).toMatch(/of records in your last 10 files were accepted/);
    expect(res.body).toContain('<svg');

    // The same form without its CSRF token applies nothing.
    const before = await t.service.store.db.selectFrom('upload').select('sequence').execute();
    const forged = await postFile(admin.b, 'forged', csv);
    expect(forged.statusCode).toBe(403);
    expect(await t.service.store.db.selectFrom('upload').select('sequence').execute()).toEqual(before);
  });

  it('shows a worker only their queue’s episodes of a child, and counts the rest; an admin moves an episode only to a known team', async () => {
    // A second incident for Mason three days later; then the admin moves the flood to screening.
    await lookUp(
      t,
      stokeEdDoctor('555000000892', 'Dr Ivy Hart'),
      masonCpp.nhsNumber,
      new Date('2026-11-23T11:00:00Z'),
    );
    const admin = await signedIn(ADMIN);
    const flood = await admin.b.get(`/la/episodes/${floodEpisode}`);
    const nowhere = await admin.b.submit(flood, /\/la\/episodes\/[^"]+$/, {
      action: 'team',
      team: 'Nowhere',
    });
    expect(nowhere.status).toBe(400);
    expect(textOf(nowhere.html)).toContain('choose one of the local authority’s teams');
    const moved = await admin.b.submit(
      await admin.b.get(`/la/episodes/${floodEpisode}`),
      /\/la\/episodes\/[^"]+$/,
      {
        action: 'team',
        team: 'Screening',
      },
    );
    expect(moved.status).toBe(200);
    expect(textOf(moved.html)).toContain('Moved from Stafford North Child Protection to Screening');

    const worker = await signedIn(WORKER);
    const inbox = await worker.b.get('/la/inbox');
    const ids = episodeLinks(inbox.html);
    expect(ids).not.toContain(floodEpisode);
    expect(ids).toHaveLength(1);
    const child = await worker.b.get(`/la/episodes/${ids[0]}/child`);
    expect(child.status).toBe(200);
    expect(textOf(child.html)).toContain('1 more episode for Mason HUGHES is in other teams');
    expect(child.html).not.toContain(floodEpisode);
    expect(textOf(child.html)).toMatch(/Nov 2026 2 6/); // both incidents counted: 2 attendances, 6 look-ups
  });

  it('answers the episode API with an empty page past the end, and copes with any date', async () => {
    const caller = t.as({ kind: 'local-authority', laCode: STAFFORDSHIRE });
    const past = await caller.get('/la/v1/episodes?page=99');
    expect(past.statusCode).toBe(200);
    expect(past.json()).toMatchObject({ episodes: [], page: 99 });
    expect((await caller.get('/la/v1/episodes?to=2199-12-31')).statusCode).toBe(200);
    const far = await caller.get('/la/v1/episodes?to=9999-12-31');
    expect(far.statusCode).toBe(400);
    expect(far.json().issue[0].expression).toEqual(['to']);
    // A team routes episodes, so it is tidied (spaces) and a blank one is refused, naming the field.
    const ack = (
      await caller.post('/la/v1/uploads', {
        sequence: 1000,
        records: [
          { ...masonCpp, team: `  ${STAFFORD_NORTH}  ` },
          { ...tracyUcpp, team: '   ' },
        ],
      })
    ).json();
    expect(ack.records.map((r: { code: string; field?: string }) => [r.code, r.field ?? null])).toEqual([
      ['CPR06', null],
      ['CPR07', 'records[1].team'],
    ]);
    const stored = await t.service.store.db
      .selectFrom('la_record')
      .select('team')
      .where('la_code', '=', STAFFORDSHIRE)
      .where('nhs_number', '=', masonCpp.nhsNumber)
      .executeTakeFirstOrThrow();
    expect(stored.team).toBe(STAFFORD_NORTH);
  });

  it('takes a file from the page as changes only, applies nothing of a bad one, and puts each acknowledgement in the mailbox', async () => {
    const admin = await signedIn(ADMIN);
    const csrf = findForm((await admin.b.get('/la/uploads')).html, '/la/uploads').hidden._csrf!;
    const header =
      'subject,nhs_number,local_id,family_name,given_names,birth_date,plan_type,start_date,end_date,delete_date,expected_delivery_date,team';
    const acks = async () =>
      (
        (await t.as({ kind: 'local-authority', laCode: STAFFORDSHIRE }).get('/la/v1/mailbox')).json()
          .messages as {
          type: string;
        }[]
      ).filter((m) => m.type === 'upload-acknowledgement').length;
    const records = await count('la_record');
    const mailed = await acks();
    // Asked for a snapshot holding Mason alone: every other record would end. The page never does it.
    const onlyMason = `${header}\nchild,${masonCpp.nhsNumber},S-MH,HUGHES,Mason,2018-09-23,CPP,2026-09-01,,,,${STAFFORD_NORTH}`;
    const res = await postFile(admin.b, csrf, onlyMason, { mode: 'snapshot' });
    expect(res.statusCode).toBe(200);
    expect(textOf(res.body)).toMatch(/CPF02 – All records accepted/);
    const latest = await t.service.store.db
      .selectFrom('upload')
      .select(['mode', 'sequence'])
      .where('la_code', '=', STAFFORDSHIRE)
      .orderBy('sequence', 'desc')
      .executeTakeFirstOrThrow();
    expect(latest.mode).toBe('delta');
    expect(await count('la_record')).toBe(records);
    expect(await acks()).toBe(mailed + 1);

    // A file the service cannot read: its errors on the page, nothing applied, still acknowledged.
    const uploads = await count('upload');
    const bad = await postFile(admin.b, csrf, `${header},colour\nchild,${masonCpp.nhsNumber},,,,,,,,,,,blue`);
    expect(bad.statusCode).toBe(400);
    expect(textOf(bad.body)).toContain('unknown CSV column(s): colour');
    expect(textOf(bad.body)).toContain('Nothing has changed');
    expect(await count('la_record')).toBe(records);
    expect(await count('upload')).toBe(uploads);
    expect(await acks()).toBe(mailed + 2);
  });

  it('puts nothing in the inbox for a silent read', async () => {
    const notices = await count('access_notice');
    const episodes = await count('la_episode');
    const caller = (activities: string[]) => t.as(stokeEdDoctor('555000000893', 'Dr Lee Ward', activities));
    const url = `/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|${masonCpp.nhsNumber}`;
    for (const [activities, headers] of [
      [['B0170'], {}],
      [['B0107'], { isunscheduledaccessevent: 'false' }],
    ] as [string[], Record<string, string>][]) {
      const res = await caller(activities).get(url, { 'x-request-id': randomUUID(), ...headers });
      expect(res.statusCode).toBe(200);
      expect(res.json().total).toBe(1);
    }
    const worker = await signedIn(WORKER);
    await worker.b.get('/la/inbox');
    expect(await count('access_notice')).toBe(notices);
    expect(await count('la_episode')).toBe(episodes);
  });

  it('refuses an episode or settings form without its CSRF token, changing nothing; the episode API is never cached', async () => {
    const admin = await signedIn(ADMIN);
    const before = await t
      .as({ kind: 'local-authority', laCode: STAFFORDSHIRE })
      .get(`/la/v1/episodes/${floodEpisode}`);
    expect(before.headers['cache-control']).toBe('no-store');
    const version = String(before.json().version);
    const change = await admin.b.go('POST', `/la/episodes/${floodEpisode}`, {
      action: 'state',
      state: 'no-action-needed',
      reason: 'forged',
      version,
    });
    expect(change.status).toBe(403);
    const settings = await admin.b.go('POST', '/la/settings', { open: '08:00', close: '18:00', days: '1' });
    expect(settings.status).toBe(403);
    const after = (
      await t.as({ kind: 'local-authority', laCode: STAFFORDSHIRE }).get(`/la/v1/episodes/${floodEpisode}`)
    ).json();
    expect(after.version).toBe(before.json().version);
    expect(after.stateReason).not.toBe('forged');
  });
});
