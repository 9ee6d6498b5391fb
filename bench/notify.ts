/**
 * The daily dispatch at national scale and beyond: 1,000,000 recorded accesses over a day, across
 * 153 local authorities (every English LA), delivered by one dispatch run at 06:05 the next
 * morning, on each engine. Accesses are written straight into the store (the query path has its
 * own benchmark); what is timed is the dispatch: claiming, describing and writing one message per
 * LA. Filing the look-ups into the LAs' episodes, which the scheduler does through the day, is timed
 * separately before it. The process's peak resident memory during the dispatch is sampled too: it
 * should stay flat as the day grows, not follow the number of accesses.
 */
import { sql } from 'kysely';
import { generatePopulation, prng } from '../src/demo/population.ts';
import { loadDemoWorld } from '../src/demo/world.ts';
import { DEMO_LOCAL_AUTHORITIES, DEMO_ORGANISATIONS } from '../src/demo/world-directory.ts';
import { putLocalAuthority } from '../src/directory/directory.ts';
import { episodesJob } from '../src/inbox/episodes.ts';
import { dispatchNotifications } from '../src/notify/dispatch.ts';
import { insertRows } from '../src/store/bulk.ts';
import { type Engine, type Executor, transact } from '../src/store/db.ts';
import { putRecords, type RecordInput } from '../src/upload/records.ts';
import { ACCESS_TYPES, benchLookUp, benchStore, NOTICE_TYPES } from './engines.ts';

const LA_COUNT = 153;
const SEED = 20261122;
/** The demo world's population the children are drawn from. */
const DEFAULT_PEOPLE = 60_000;
const DAY_START = Date.parse('2026-11-20T00:00:00Z'); // a Friday in GMT
export const DISPATCH_AT = new Date('2026-11-21T06:05:00Z');

export interface NotifyFigures {
  seconds: number;
  accesses: number;
  messages: number;
  /** Growth of the resident set during the dispatch, sampled every 100 ms, in MB. */
  peakRssMb: number;
}

export async function benchNotify(
  engines: Engine[],
  accesses: number,
  opts: { people?: number } = {},
): Promise<Record<string, NotifyFigures>> {
  const out: Record<string, NotifyFigures> = {};
  for (const engine of engines) {
    const { store, cleanup } = await benchStore(engine);
    try {
      const db = store.db;
      const setupStarted = performance.now();
      const { laCodes, children } = await seedNotifyDay(db, accesses, opts.people ?? DEFAULT_PEOPLE);
      const setup = (performance.now() - setupStarted) / 1000;
      const notices = (await sql<{ n: number }>`select count(*) as n from access_notice`.execute(db)).rows[0]!
        .n;

      // During the day the scheduler files each look-up into its LA's episodes within a tick; here
      // the day's look-ups were written at once, so that filing is done (and timed) first, apart.
      const filingStarted = performance.now();
      await episodesJob(db).run(DISPATCH_AT);
      const filing = (performance.now() - filingStarted) / 1000;
      // (Filing updates every notice once; through a day autovacuum would tidy up after it.)
      await sql`vacuum analyze access_notice`.execute(db);

      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 100);
      const started = performance.now();
      const summary = await dispatchNotifications(db, DISPATCH_AT);
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      const pending = (
        await sql<{ n: number }>`select count(*) as n from access_notice where message_id is null`.execute(db)
      ).rows[0]!.n;
      if (pending !== 0 || summary.accesses !== notices)
        throw new Error(`dispatch left ${pending} pending, delivered ${summary.accesses} of ${notices}`);
      const peakRssMb = (peak - rssBefore) / 1048576;
      out[engine] = { seconds, accesses: summary.accesses, messages: summary.messages, peakRssMb };
      console.log(
        `notify ${engine.padEnd(8)} ${accesses.toLocaleString('en-GB')} accesses (${notices.toLocaleString('en-GB')} LA notices, ` +
          `${children.toLocaleString('en-GB')} children) over ${laCodes.length} LAs: daily dispatch ${seconds.toFixed(1)} s ` +
          `(${((seconds * 100_000) / accesses).toFixed(2)} s per 100k accesses), ` +
          `${summary.messages} messages, ${Math.round(notices / seconds).toLocaleString('en-GB')} notices/s, ` +
          `peak RSS +${peakRssMb.toFixed(0)} MB (from ${(rssBefore / 1048576).toFixed(0)} MB; setup ${setup.toFixed(0)} s; ` +
          `filing the day's look-ups into episodes beforehand ${filing.toFixed(1)} s)`,
      );
    } finally {
      await cleanup();
    }
  }
  return out;
}

/**
 * The demo world, 153 daily LAs with records for the children drawn from `people`, and `accesses`
 * look-ups of those children over one day, each with a pending notice per LA holding the child.
 */
export async function seedNotifyDay(
  db: Executor,
  accesses: number,
  people = DEFAULT_PEOPLE,
): Promise<{ laCodes: string[]; children: number }> {
  await loadDemoWorld(db, new Date(DAY_START), { people, seed: SEED });
  // 153 LAs: the demo world's real ones, then synthetic ones to make up England's number.
  const laCodes = DEMO_LOCAL_AUTHORITIES.map((l) => l.laCode);
  await transact(db, async (trx) => {
    for (let i = laCodes.length; i < LA_COUNT; i++) {
      const code = `E99${String(i).padStart(6, '0')}`;
      laCodes.push(code);
      await putLocalAuthority(trx, new Date(DAY_START), {
        laCode: code,
        name: `Synthetic Council ${i}`,
        officeHoursPhone: '01632 960 999',
        emergencyDutyPhone: '07700 900 999',
        notificationCadence: 'daily',
      });
    }
    // Every LA daily here, so one dispatch run delivers the whole day.
    await sql`update local_authority set notification_cadence = 'daily'`.execute(trx);
  });
  // Children with records: each with one LA, one in ten with a second.
  const rand = prng(SEED);
  const children: { nhs: string; las: string[] }[] = [];
  const byLa = new Map<string, RecordInput[]>();
  for (const p of generatePopulation(people, SEED)) {
    if (p.status !== 'active' || p.sensitive || p.birth_date < '2009-06-01') continue;
    const las = [laCodes[Math.floor(rand() * laCodes.length)]!];
    if (rand() < 0.1) las.push(laCodes[Math.floor(rand() * laCodes.length)]!);
    const unique = [...new Set(las)];
    children.push({ nhs: p.nhs_number, las: unique });
    for (const la of unique) {
      const list = byLa.get(la) ?? [];
      list.push({
        laCode: la,
        nhsNumber: p.nhs_number,
        subject: 'child',
        localId: null,
        familyName: p.family_name,
        givenNames: p.given_names,
        birthDate: p.birth_date,
        expectedDeliveryDate: null,
        plans: [{ type: 'CPP', startDate: '2026-01-01', endDate: null, deleteDate: null }],
      });
      byLa.set(la, list);
    }
  }
  await transact(db, async (trx) => {
    for (const [la, recs] of byLa)
      for (let i = 0; i < recs.length; i += 2000)
        await putRecords(trx, new Date(DAY_START), 0, la, recs.slice(i, i + 2000));
  });
  // The day's accesses, spread over 24 hours at real places.
  const places = DEMO_ORGANISATIONS.filter((o) => o.setting !== 'trust').map((o) => o.odsCode);
  let written = 0;
  while (written < accesses) {
    const n = Math.min(10_000, accesses - written);
    const events: Record<string, unknown>[] = [];
    const notices: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const child = children[Math.floor(rand() * children.length)]!;
      const at = new Date(DAY_START + Math.floor(rand() * 86_400_000));
      const user = Math.floor(rand() * 5000);
      const look = benchLookUp(child.nhs, at, places[Math.floor(rand() * places.length)]!, user, child.las);
      events.push(look.event);
      notices.push(...look.notices);
    }
    await transact(db, async (trx) => {
      await insertRows(trx, 'access_event', ACCESS_TYPES, events as never[]);
      await insertRows(trx, 'access_notice', NOTICE_TYPES, notices as never[]);
    });
    written += n;
  }
  await sql`analyze`.execute(db);
  return { laCodes, children: children.length };
}
