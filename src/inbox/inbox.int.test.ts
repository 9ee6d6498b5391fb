/**
 * The LA's inbox of episodes through the LA API (GET/PUT /la/v1/episodes): look-ups grouped into
 * episodes, routed to the child's team or the screening queue (and the EDT queue out of hours),
 * worked through their states with versions, filtered, and kept inside the LA that owns them. The
 * store is read directly only for what the API cannot show (the audit of a refused attempt).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { engines } from '../../test/engines.ts';
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

const STAFFS = 'E10000028';
const BHAM = 'E08000025';
const NORTH = 'Stafford North Child Protection';

/** A fresh valid NHS number from the test range for each child, so tests never share one. */
const nhs = nhsNumbersFrom(999_070_000);

const FAMILY_NAMES = [
  'ASHWORTH',
  'BARLOW',
  'CARTWRIGHT',
  'DAWSON',
  'ELLIS',
  'FLETCHER',
  'GRAINGER',
  'HOLDEN',
  'IRWIN',
  'JACKSON',
  'KEMP',
  'LOWE',
  'MARSDEN',
  'NORRIS',
  'OAKLEY',
  'PARKER',
  'QUINN',
  'RAWLINS',
  'SUTTON',
  'TURNER',
];

interface Child {
  subject: 'child';
  nhsNumber: string;
  familyName: string;
  givenNames: string[];
  birthDate: string;
  team?: string;
}

let made = 0;
function child(team?: string): Child {
  const n = made++;
  return {
    subject: 'child',
    nhsNumber: nhs(),
    familyName: FAMILY_NAMES[n % FAMILY_NAMES.length]!,
    givenNames: ['Sam'],
    birthDate: `2016-03-${String(n + 1).padStart(2, '0')}`,
    ...(team ? { team } : {}),
  };
}

// Staffordshire's children, uploaded once (JSON); the CSV test uploads its own.
const flood = child(NORTH);
const screened = child();
const saturday = child();
const evening = child();
const christmas = child();
const boxingDaySubstitute = child();
const weekdayMorning = child();
const summerMorning = child();
const worked = child(NORTH);
const reopened = child();
const gapped = child();
const reviewedInHours = child();
const weekendNorth = child(NORTH);
const repeated = child();
const intoTheEvening = child(NORTH);
const STAFFS_CHILDREN = [
  flood,
  screened,
  saturday,
  evening,
  christmas,
  boxingDaySubstitute,
  weekdayMorning,
  summerMorning,
  worked,
  reopened,
  gapped,
  reviewedInHours,
  weekendNorth,
  repeated,
  intoTheEvening,
];

interface Organisation {
  odsCode: string;
  name: string;
  town: string | null;
  setting: string;
}
interface Episode {
  id: string;
  nhsNumber: string;
  child: { familyName: string | null; givenNames: string[]; birthDate: string | null };
  start: string;
  end: string;
  accessCount: number;
  team: string;
  edt: boolean;
  outOfHours: boolean;
  state: string;
  stateReason: string | null;
  concerns: { code: string; text: string }[];
  version: number;
  organisations: Organisation[];
}
interface EpisodeDetail extends Episode {
  timeline: {
    at: string;
    organisation: {
      odsCode: string;
      name: string;
      setting: string;
      parentName: string | null;
      town: string | null;
      phone: string | null;
      known: boolean;
    };
    patientLocation: { name: string; town: string | null; phone: string | null } | null;
    who: string;
    role: string;
    system: boolean;
    safeguardingLead: Record<string, string> | null;
  }[];
  events: {
    seq: number;
    at: string;
    actor: Record<string, unknown>;
    action: string;
    detail: Record<string, unknown>;
  }[];
}

const ae = (over: Record<string, unknown> = {}) => clinician({ organisation: { odsCode: 'RJE01' }, ...over });

describe.each(engines())('LA inbox of episodes on %s', (engine) => {
  let t: TestApp;
  let seq = 0;
  const staffs = () => t.as(la(STAFFS));

  const register = async (c: Child) => {
    const res = await t.as(admin).put(`/admin/v1/demographics/${c.nhsNumber}`, {
      familyName: c.familyName,
      givenNames: c.givenNames,
      birthDate: c.birthDate,
    });
    expect(res.statusCode).toBeLessThan(300);
  };
  /** Move the service clock (POST /dev/clock, as a tester would). */
  const setClock = async (iso: string) => {
    const res = await t.anonymous.post('/dev/clock', { now: iso });
    expect(res.json()).toMatchObject({ now: new Date(iso).toISOString(), fixed: true });
  };
  /** A health look-up of the child at this instant (the service clock is moved there first). */
  const lookUp = async (iso: string, who: Persona, c: Child, headers: Record<string, string> = {}) => {
    await setClock(iso);
    const res = await t
      .as(who)
      .get(`/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|${c.nhsNumber}`, {
        'x-request-id': randomUUID(),
        ...headers,
      });
    expect(res.statusCode).toBe(200);
    expect(res.json().total).toBeGreaterThan(0);
  };
  const list = async (query = '', laCode = STAFFS): Promise<Episode[]> => {
    const res = await t.as(la(laCode)).get(`/la/v1/episodes?pageSize=500${query ? `&${query}` : ''}`);
    expect(res.statusCode).toBe(200);
    return res.json().episodes;
  };
  const episodesOf = async (c: Child) => (await list()).filter((e) => e.nhsNumber === c.nhsNumber);
  const onlyEpisodeOf = async (c: Child) => {
    const mine = await episodesOf(c);
    expect(mine).toHaveLength(1);
    return mine[0]!;
  };
  const read = async (id: string): Promise<EpisodeDetail> => {
    const res = await staffs().get(`/la/v1/episodes/${id}`);
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  /** The LA's unacknowledged access notifications, read and then acknowledged (with everything else). */
  const take = async (laCode: string) => {
    const out: {
      episodes: { id: string; nhsNumber: string; accessCount: number }[];
      accesses: { episodeId: string }[];
    }[] = [];
    for (const m of (await t.as(la(laCode)).get('/la/v1/mailbox')).json().messages) {
      if (m.type === 'access-notification')
        out.push((await t.as(la(laCode)).get(`/la/v1/mailbox/${m.id}`)).json());
      await t.as(la(laCode)).put(`/la/v1/mailbox/${m.id}/acknowledged`);
    }
    return out;
  };

  beforeAll(async () => {
    t = await buildTestApp(engine, { demoWorld: true, demoPeople: 10 });
    for (const c of STAFFS_CHILDREN) await register(c);
    const res = await staffs().post('/la/v1/uploads', {
      sequence: ++seq,
      records: STAFFS_CHILDREN.map((c) => ({ ...c, plans: [{ type: 'CPP', startDate: '2026-01-15' }] })),
    });
    expect(res.json()).toMatchObject({ fileCode: 'CPF02', accepted: STAFFS_CHILDREN.length });
    await take(STAFFS);
  });
  afterAll(() => t?.close());
  afterEach(() => {
    t.clock.set(T0);
  });

  it("groups the Staffordshire flood (111, ambulance, crew, A&E, ward) into one episode in the child's team, as the messages do", async () => {
    await lookUp(
      '2026-11-20T21:40:00Z',
      pasSystem({ asid: '200000000111', organisation: { odsCode: 'NNJ' } }),
      flood,
      {
        'nhsd-patient-location': 'RJE01',
        'nhsd-safeguarding-lead': 'Jo Bright',
        'nhsd-safeguarding-lead-role': 'Named nurse for safeguarding',
        'nhsd-safeguarding-lead-phone': '01632 960 999',
      },
    );
    await lookUp(
      '2026-11-20T21:52:00Z',
      pasSystem({
        asid: '200000000999',
        organisation: { odsCode: 'RYA' },
        responsiblePerson: {
          name: 'EOC dispatcher',
          jobRole: { code: 'R9001', display: 'Emergency call handler' },
        },
      }),
      flood,
    );
    await lookUp(
      '2026-11-20T22:05:00Z',
      clinician({ organisation: { odsCode: 'RYA' }, name: 'Paramedic Lee Cole', sdsUserId: '555000000888' }),
      flood,
    );
    await lookUp('2026-11-20T22:48:00Z', ae({ name: 'Dr Ann Roe', sdsUserId: '555000000889' }), flood);
    await lookUp(
      '2026-11-21T03:10:00Z',
      clinician({ organisation: { odsCode: 'RTG02' }, name: 'Nurse Kim Fry', sdsUserId: '555000000890' }),
      flood,
    );
    await setClock('2026-11-21T08:00:00Z');

    const episode = await onlyEpisodeOf(flood);
    expect(episode).toMatchObject({
      nhsNumber: flood.nhsNumber,
      child: { familyName: flood.familyName, givenNames: flood.givenNames, birthDate: flood.birthDate },
      start: '2026-11-20T21:40:00.000Z',
      end: '2026-11-21T03:10:00.000Z',
      accessCount: 5,
      team: NORTH,
      // Friday 21:40 is out of hours: the EDT sees it too.
      edt: true,
      outOfHours: true,
      state: 'new',
      version: 1,
    });
    expect(episode.organisations.map((o) => [o.odsCode, o.name, o.setting])).toEqual([
      ['NNJ', 'DHU Health Care C.I.C', 'NHS 111'],
      ['RYA', 'West Midlands Ambulance Service University NHS Foundation Trust', 'Ambulance service'],
      ['RJE01', 'Royal Stoke University Hospital Emergency Department', 'Emergency department'],
      ['RTG02', "Queen's Hospital Burton Paediatric Ward", 'Paediatric ward'],
    ]);

    const detail = await read(episode.id);
    expect(detail.timeline.map((e) => e.at)).toEqual([
      '2026-11-20T21:40:00.000Z',
      '2026-11-20T21:52:00.000Z',
      '2026-11-20T22:05:00.000Z',
      '2026-11-20T22:48:00.000Z',
      '2026-11-21T03:10:00.000Z',
    ]);
    expect(detail.timeline.map((e) => [e.organisation.name, e.organisation.phone, e.who])).toEqual([
      ['DHU Health Care C.I.C', '01632 960 310', 'Sam Reed'],
      ['West Midlands Ambulance Service University NHS Foundation Trust', '01632 960 300', 'EOC dispatcher'],
      [
        'West Midlands Ambulance Service University NHS Foundation Trust',
        '01632 960 300',
        'Paramedic Lee Cole',
      ],
      ['Royal Stoke University Hospital Emergency Department', '01632 960 111', 'Dr Ann Roe'],
      ["Queen's Hospital Burton Paediatric Ward", '01632 960 121', 'Nurse Kim Fry'],
    ]);
    expect(detail.timeline.every((e) => e.organisation.known)).toBe(true);
    expect(detail.timeline[0]).toMatchObject({
      system: true,
      patientLocation: {
        name: 'Royal Stoke University Hospital Emergency Department',
        town: 'Stoke-on-Trent',
        phone: '01632 960 111',
      },
      safeguardingLead: { name: 'Jo Bright', role: 'Named nurse for safeguarding', phone: '01632 960 999' },
    });
    expect(detail.timeline[3]!.organisation).toMatchObject({
      parentName: 'University Hospitals of North Midlands NHS Trust',
      town: 'Stoke-on-Trent',
      setting: 'Emergency department',
    });
    expect(detail.events[0]).toMatchObject({
      seq: 1,
      action: 'routed',
      actor: { kind: 'system' },
      detail: { team: NORTH, edt: true, outOfHours: true, lookUps: 5 },
    });
    expect(detail.events).toHaveLength(1);

    // The message names the same episode as the API: the portal and the messages agree.
    expect((await t.as(admin).post('/admin/v1/notifications/dispatch', { force: true })).statusCode).toBe(
      200,
    );
    const [message, ...more] = await take(STAFFS);
    expect(more).toEqual([]);
    expect(message!.episodes).toHaveLength(1);
    expect(message!.episodes[0]).toMatchObject({
      id: episode.id,
      nhsNumber: flood.nhsNumber,
      accessCount: 5,
    });
    expect(new Set(message!.accesses.map((a) => a.episodeId))).toEqual(new Set([episode.id]));
    // Reading again changes nothing.
    expect(await onlyEpisodeOf(flood)).toMatchObject({ id: episode.id, accessCount: 5, version: 1 });
  });

  it('routes a child with no team in the LA record to the screening queue', async () => {
    await lookUp('2026-11-23T11:15:00Z', ae(), screened);
    const episode = await onlyEpisodeOf(screened);
    expect(episode).toMatchObject({ team: 'Screening', edt: false, outOfHours: false, state: 'new' });
    expect((await read(episode.id)).events[0]).toMatchObject({
      action: 'routed',
      detail: { team: 'Screening', edt: false, outOfHours: false, lookUps: 1 },
    });
  });

  it("routes episodes that begin out of the LA's office hours (London time) to the EDT as well", async () => {
    const cases: [Child, string, boolean][] = [
      [saturday, '2026-11-21T11:00:00Z', true], // Saturday
      [evening, '2026-11-23T20:00:00Z', true], // Monday 20:00 GMT
      [christmas, '2026-12-25T11:00:00Z', true], // Christmas Day, a Friday
      [boxingDaySubstitute, '2026-12-28T11:00:00Z', true], // Monday: Boxing Day falls on a Saturday
      [weekdayMorning, '2026-11-24T10:00:00Z', false], // Tuesday 10:00 GMT
      [summerMorning, '2027-06-15T08:30:00Z', false], // Tuesday 09:30 BST (08:30 UTC)
    ];
    for (const [c, at] of cases) await lookUp(at, ae(), c);
    await setClock('2027-06-15T12:00:00Z');
    const all = await list();
    for (const [c, at, out] of cases) {
      const mine = all.filter((e) => e.nhsNumber === c.nhsNumber);
      expect(mine, at).toHaveLength(1);
      expect(mine[0], at).toMatchObject({ start: new Date(at).toISOString(), edt: out, outOfHours: out });
      expect(mine[0]!.team, at).toBe('Screening');
    }
    const edt = (await list('queue=edt')).map((e) => e.nhsNumber);
    expect(edt).toEqual(
      expect.arrayContaining([saturday, evening, christmas, boxingDaySubstitute].map((c) => c.nhsNumber)),
    );
    expect(edt).not.toContain(weekdayMorning.nhsNumber);
    expect(edt).not.toContain(summerMorning.nhsNumber);
  });

  it('sends an episode under way to the EDT as well when the child is looked up again out of hours', async () => {
    await lookUp('2026-11-27T16:30:00Z', ae(), intoTheEvening); // Friday 16:30 GMT: in hours
    const first = await onlyEpisodeOf(intoTheEvening);
    expect(first).toMatchObject({ team: NORTH, edt: false, outOfHours: false });
    await lookUp('2026-11-27T23:30:00Z', ae(), intoTheEvening); // the same night, within the gap
    const later = await onlyEpisodeOf(intoTheEvening);
    expect(later).toMatchObject({ id: first.id, accessCount: 2, team: NORTH, edt: true, outOfHours: false });
    expect((await read(first.id)).events.at(-1)).toMatchObject({
      action: 'look-ups-added',
      detail: { lookUps: 1, toEdt: true },
    });
    expect((await list('queue=edt')).map((e) => e.id)).toContain(first.id);
  });

  it("changes state only at the version read, asks why for no action, and hides one LA's episodes from another", async () => {
    await lookUp('2026-11-23T10:00:00Z', ae(), worked);
    await setClock('2026-11-23T11:00:00Z');
    const episode = await onlyEpisodeOf(worked);
    expect(episode).toMatchObject({ state: 'new', version: 1, team: NORTH });
    const url = `/la/v1/episodes/${episode.id}`;

    const reviewed = await staffs().put(url, { version: 1, state: 'reviewed' });
    expect(reviewed.statusCode).toBe(200);
    expect(reviewed.json()).toMatchObject({ id: episode.id, state: 'reviewed', version: 2, accessCount: 1 });
    const afterReview = await read(episode.id);
    expect(afterReview).toMatchObject({ state: 'reviewed', version: 2 });
    expect(afterReview.events.map((e) => e.action)).toEqual(['routed', 'state']);
    expect(afterReview.events[1]).toMatchObject({
      seq: 2,
      at: '2026-11-23T11:00:00.000Z',
      actor: { kind: 'system', name: `${STAFFS} case management system` },
      detail: { from: 'new', to: 'reviewed' },
    });

    for (const body of [
      { version: 2, state: 'no-action-needed' },
      { version: 2, state: 'no-action-needed', reason: '   ' },
    ]) {
      const noReason = await staffs().put(url, body);
      expect(noReason.statusCode).toBe(400);
      expect(issueOf(noReason).field).toBe('reason');
    }

    const stale = await staffs().put(url, {
      version: 1,
      state: 'no-action-needed',
      reason: 'Seen and discharged',
    });
    expect(stale.statusCode).toBe(409);
    expect(issueOf(stale)).toMatchObject({ code: 'conflict', field: 'version' });
    const unchanged = await read(episode.id);
    expect(unchanged).toMatchObject({ state: 'reviewed', stateReason: null, version: 2 });
    expect(unchanged.events).toHaveLength(2);

    // Birmingham cannot see, change or even learn of Staffordshire's episode; each attempt is audited.
    const { rows: head } = await sql<{ seq: number | null }>`select max(seq) as seq from audit_log`.execute(
      t.service.store.db,
    );
    const before = Number(head[0]!.seq ?? 0);
    const bham = t.as(la(BHAM));
    expect((await bham.get(url)).statusCode).toBe(404);
    const put = await bham.put(url, { version: 2, state: 'no-action-needed', reason: 'Not ours' });
    expect(put.statusCode).toBe(404);
    expect(issueOf(put).code).toBe('not-found');
    expect((await list('', BHAM)).map((e) => e.id)).not.toContain(episode.id);
    const { rows: refusals } = await sql<{
      action: string;
      outcome: string;
      actor: Record<string, unknown>;
      detail: Record<string, unknown>;
    }>`select action, outcome, actor, detail from audit_log
        where category = 'access-denied' and seq > ${before} order by seq`.execute(t.service.store.db);
    expect(refusals).toEqual([
      expect.objectContaining({
        action: 'episode.read',
        outcome: 'refused',
        actor: expect.objectContaining({ kind: 'local-authority', laCode: BHAM }),
        detail: expect.objectContaining({ laCode: BHAM, episodeId: episode.id }),
      }),
      expect.objectContaining({
        action: 'episode.change',
        outcome: 'refused',
        actor: expect.objectContaining({ kind: 'local-authority', laCode: BHAM }),
        detail: expect.objectContaining({ laCode: BHAM, episodeId: episode.id }),
      }),
    ]);
    expect(await read(episode.id)).toMatchObject({ state: 'reviewed', version: 2 });
    // An id that is not an episode id at all is simply not found.
    expect((await staffs().get('/la/v1/episodes/not-an-episode')).statusCode).toBe(404);
  });

  it('sends an episode marked no action needed back to new when a look-up joins it', async () => {
    await lookUp('2026-11-24T09:30:00Z', ae(), reopened);
    await setClock('2026-11-24T10:00:00Z');
    const episode = await onlyEpisodeOf(reopened);
    const done = await staffs().put(`/la/v1/episodes/${episode.id}`, {
      version: episode.version,
      state: 'no-action-needed',
      reason: 'Minor injury, consistent account; GP informed',
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({
      state: 'no-action-needed',
      stateReason: 'Minor injury, consistent account; GP informed',
      version: episode.version + 1,
    });

    await lookUp('2026-11-24T14:00:00Z', clinician({ organisation: { odsCode: 'RTG02' } }), reopened);
    await setClock('2026-11-24T14:30:00Z');
    const again = await onlyEpisodeOf(reopened);
    expect(again).toMatchObject({
      id: episode.id,
      accessCount: 2,
      state: 'new',
      stateReason: null,
      version: episode.version + 2,
      end: '2026-11-24T14:00:00.000Z',
    });
    const detail = await read(episode.id);
    expect(detail.events.map((e) => e.action)).toEqual(['routed', 'state', 'look-ups-added']);
    expect(detail.events[2]!.detail).toMatchObject({ lookUps: 1, reopenedFrom: 'no-action-needed' });
    expect((await list('state=new')).map((e) => e.id)).toContain(episode.id);
    expect((await list('state=no-action-needed')).map((e) => e.id)).not.toContain(episode.id);
  });

  it('starts a new episode for a look-up more than 12 hours after the last one', async () => {
    await lookUp('2026-11-25T08:00:00Z', ae(), gapped);
    await lookUp('2026-11-25T19:59:00Z', ae(), gapped); // 11h59m later: the same episode
    const first = await onlyEpisodeOf(gapped);
    expect(first).toMatchObject({
      accessCount: 2,
      start: '2026-11-25T08:00:00.000Z',
      end: '2026-11-25T19:59:00.000Z',
    });

    await lookUp('2026-11-26T08:00:00Z', ae(), gapped); // 12h01m after the last: a new one
    const [newer, older, ...more] = await episodesOf(gapped);
    expect(more).toEqual([]);
    expect(older).toMatchObject({ id: first.id, accessCount: 2, end: '2026-11-25T19:59:00.000Z' });
    expect(newer).toMatchObject({ accessCount: 1, start: '2026-11-26T08:00:00.000Z', state: 'new' });
    expect(newer!.id).not.toBe(first.id);
    expect((await read(newer!.id)).events.map((e) => e.action)).toEqual(['routed']);
  });

  it('filters by state, queue, pattern and dates, and names the field of a bad filter', async () => {
    await lookUp('2026-11-26T11:00:00Z', ae(), reviewedInHours); // Thursday, in hours
    await lookUp('2026-11-28T12:00:00Z', ae(), weekendNorth); // Saturday
    for (const at of ['2026-11-30T10:00:00Z', '2026-12-02T10:00:00Z', '2026-12-04T10:00:00Z'])
      await lookUp(at, ae(), repeated);
    await setClock('2026-12-04T12:00:00Z');
    const r = await onlyEpisodeOf(reviewedInHours);
    expect(
      (await staffs().put(`/la/v1/episodes/${r.id}`, { version: r.version, state: 'reviewed' })).statusCode,
    ).toBe(200);
    const w = await onlyEpisodeOf(weekendNorth);
    expect(w).toMatchObject({ team: NORTH, edt: true });
    const reps = await episodesOf(repeated);
    expect(reps.map((e) => e.start)).toEqual([
      '2026-12-04T10:00:00.000Z',
      '2026-12-02T10:00:00.000Z',
      '2026-11-30T10:00:00.000Z',
    ]);
    const [third, , first] = reps;
    expect(third!.concerns).toEqual([
      { code: 'REPEAT_EPISODES', text: '3 separate episodes in the last 183 days' },
    ]);
    expect(first!.concerns).toEqual([]);

    const ids = async (query: string, check: (e: Episode) => boolean) => {
      const found = await list(query);
      for (const e of found) expect(check(e), `${query}: ${e.id}`).toBe(true);
      return found.map((e) => e.id);
    };
    const isNew = await ids('state=new', (e) => e.state === 'new');
    expect(isNew).toEqual(expect.arrayContaining([w.id, third!.id]));
    expect(isNew).not.toContain(r.id);
    expect(await ids('state=reviewed', (e) => e.state === 'reviewed')).toContain(r.id);

    const screening = await ids('queue=Screening', (e) => e.team === 'Screening');
    expect(screening).toEqual(expect.arrayContaining([r.id, third!.id]));
    expect(screening).not.toContain(w.id);
    const north = await ids(`queue=${encodeURIComponent(NORTH)}`, (e) => e.team === NORTH);
    expect(north).toContain(w.id);
    expect(north).not.toContain(r.id);
    const edt = await ids('queue=edt', (e) => e.edt);
    expect(edt).toContain(w.id);
    expect(edt).not.toContain(r.id);
    expect(await ids('state=new&queue=edt', (e) => e.edt && e.state === 'new')).toContain(w.id);

    const patterned = await ids('pattern=any', (e) => e.concerns.length > 0);
    expect(patterned).toContain(third!.id);
    expect(patterned).not.toContain(first!.id);
    expect(patterned).not.toContain(r.id);
    expect(
      await ids('pattern=REPEAT_EPISODES', (e) => e.concerns.some((c) => c.code === 'REPEAT_EPISODES')),
    ).toContain(third!.id);

    const dated = await ids('from=2026-12-04&to=2026-12-04', (e) => e.start.startsWith('2026-12-04'));
    expect(dated).toContain(third!.id);
    expect(dated).not.toContain(first!.id);

    for (const [query, field] of [
      ['state=nonsense', 'state'],
      ['pattern=sometimes', 'pattern'],
      [`queue=${'x'.repeat(61)}`, 'queue'],
      ['from=2026-02-30', 'from'],
      ['from=2026-12-05&to=2026-12-01', 'to'],
      ['colour=red', 'colour'],
      ['page=0', 'page'],
      ['pageSize=501', 'pageSize'],
    ] as const) {
      const res = await staffs().get(`/la/v1/episodes?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(issueOf(res).field, query).toBe(field);
    }
  });

  it('accepts a CSV upload with the optional team column and routes by it', async () => {
    const burton = { ...child('Burton Child Protection'), givenNames: ['Lily', 'Mae'] };
    const unallocated = child();
    for (const c of [burton, unallocated]) await register(c);
    const csv = [
      'subject,nhs_number,local_id,family_name,given_names,birth_date,plan_type,start_date,end_date,delete_date,expected_delivery_date,team',
      `child,${burton.nhsNumber},S-C1,${burton.familyName},Lily Mae,${burton.birthDate},CPP,2026-06-01,,,,Burton Child Protection`,
      `child,${unallocated.nhsNumber},S-C2,${unallocated.familyName},Sam,${unallocated.birthDate},CPP,2026-06-01,,,,`,
      '',
    ].join('\n');
    const res = await staffs().inject({
      method: 'POST',
      url: `/la/v1/uploads?sequence=${++seq}`,
      payload: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ fileCode: 'CPF02', accepted: 2, rejected: 0 });

    await lookUp('2026-11-27T11:00:00Z', ae(), burton);
    await lookUp('2026-11-27T11:05:00Z', ae(), unallocated);
    await setClock('2026-11-27T12:00:00Z');
    expect(await onlyEpisodeOf(burton)).toMatchObject({
      team: 'Burton Child Protection',
      child: { familyName: burton.familyName, givenNames: ['Lily', 'Mae'] },
    });
    expect(await onlyEpisodeOf(unallocated)).toMatchObject({ team: 'Screening' });
    expect(
      (await list(`queue=${encodeURIComponent('Burton Child Protection')}`)).map((e) => e.nhsNumber),
    ).toEqual([burton.nhsNumber]);
  });
});
