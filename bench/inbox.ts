/**
 * The LA portal's inbox at a busy LA: 10,000 episodes for one LA (Staffordshire) over two years,
 * about 2.5 look-ups each at real places, its children split over six teams and screening. Look-ups
 * are written straight into the store (the query path has its own benchmark); what is timed is
 * bringing the episodes up to date from them once, and then the pages a social care team opens,
 * rendered through the whole portal (session, capability, audit entry, template) by `inject`:
 * the admin's inbox (first page, a deep page, filtered), a team's inbox, an episode and a child.
 */
import { sql } from 'kysely';
import { DemoTokenService } from '../src/auth/tokens.ts';
import { generatePopulation, prng } from '../src/demo/population.ts';
import { loadDemoWorld } from '../src/demo/world.ts';
import { DEMO_ORGANISATIONS } from '../src/demo/world-directory.ts';
import { SettableClock } from '../src/domain/clock.ts';
import { bringEpisodesUpToDate } from '../src/inbox/episodes.ts';
import { insertRows } from '../src/store/bulk.ts';
import { type Engine, transact } from '../src/store/db.ts';
import { putRecords, type RecordInput } from '../src/upload/records.ts';
import { TestBrowser } from '../test/browser.ts';
import { ACCESS_TYPES, benchLookUp, benchService, benchStore, NOTICE_TYPES } from './engines.ts';

const LA = 'E10000028';
const SEED = 20261204;
const NOW = new Date('2026-12-03T10:00:00Z');
const TWO_YEARS_MS = 730 * 86_400_000;
const TEAMS = [
  'Stafford North Child Protection',
  'Stafford South',
  'Cannock',
  'Lichfield',
  'Tamworth',
  'Leek',
];
const ADMIN = '555000000910';
const WORKER = '555000000911';

export interface InboxFigures {
  episodes: number;
  assignSeconds: number;
  pages: Record<string, { p50: number; p99: number }>;
}

export async function benchInbox(
  engines: Engine[],
  episodes: number,
  repeat = 40,
): Promise<Record<string, InboxFigures>> {
  const out: Record<string, InboxFigures> = {};
  for (const engine of engines) {
    const { store, dataDir, cleanup } = await benchStore(engine);
    let service: Awaited<ReturnType<typeof benchService>> | null = null;
    try {
      const db = store.db;
      await loadDemoWorld(db, new Date(NOW.getTime() - TWO_YEARS_MS), { people: 40_000, seed: SEED });
      const rand = prng(SEED);
      // The LA's children: one in three has no team (screening).
      const children: string[] = [];
      const records: RecordInput[] = [];
      for (const p of generatePopulation(40_000, SEED)) {
        if (p.status !== 'active' || p.sensitive || p.birth_date < '2009-01-01') continue;
        if (children.length >= Math.ceil(episodes / 2.5)) break;
        children.push(p.nhs_number);
        records.push({
          laCode: LA,
          nhsNumber: p.nhs_number,
          subject: 'child',
          localId: `S-${children.length}`,
          team: rand() < 0.33 ? null : (TEAMS[Math.floor(rand() * TEAMS.length)] ?? null),
          familyName: p.family_name,
          givenNames: p.given_names,
          birthDate: p.birth_date,
          expectedDeliveryDate: null,
          plans: [{ type: 'CPP', startDate: '2024-06-01', endDate: null, deleteDate: null }],
        });
      }
      await transact(db, async (trx) => {
        for (let i = 0; i < records.length; i += 2000)
          await putRecords(trx, NOW, 0, LA, records.slice(i, i + 2000));
      });
      // Each episode: 1–4 look-ups within a few hours, at places of one area; episodes days apart.
      const places = DEMO_ORGANISATIONS.filter((o) => o.setting !== 'trust').map((o) => o.odsCode);
      const events: Record<string, unknown>[] = [];
      const notices: Record<string, unknown>[] = [];
      for (let e = 0; e < episodes; e++) {
        const child = children[e % children.length]!;
        const start = NOW.getTime() - Math.floor(rand() * TWO_YEARS_MS);
        const looks = 1 + Math.floor(rand() * 4);
        for (let k = 0; k < looks; k++) {
          const at = new Date(start + k * Math.floor(rand() * 90) * 60_000);
          const org = places[Math.floor(rand() * places.length)]!;
          const look = benchLookUp(child, at, org, Math.floor(rand() * 5000), [LA]);
          events.push(look.event);
          notices.push(...look.notices);
        }
      }
      await transact(db, async (trx) => {
        for (let i = 0; i < events.length; i += 10_000) {
          await insertRows(trx, 'access_event', ACCESS_TYPES, events.slice(i, i + 10_000) as never[]);
          await insertRows(trx, 'access_notice', NOTICE_TYPES, notices.slice(i, i + 10_000) as never[]);
        }
      });
      await sql`analyze`.execute(db);
      const started = performance.now();
      await transact(db, (trx) => bringEpisodesUpToDate(trx, LA, NOW));
      const assignSeconds = (performance.now() - started) / 1000;
      await sql`analyze`.execute(db);
      const made = (
        await sql<{ n: number }>`select count(*)::int8 as n from la_episode where la_code = ${LA}`.execute(db)
      ).rows[0]!.n;

      const tokens = await DemoTokenService.ephemeral();
      service = await benchService(store, dataDir, tokens, {
        scheduler: false,
        clock: new SettableClock(NOW),
      });
      const admin = new TestBrowser(service.http, service.url!);
      await admin.signIn(ADMIN);
      const worker = new TestBrowser(service.http, service.url!);
      await worker.signIn(WORKER);
      const firstPage = await admin.get('/la/inbox');
      const someEpisode = /href="\/la\/episodes\/([0-9a-f-]{36})"/.exec(firstPage.html)?.[1];
      if (!someEpisode) throw new Error('the inbox showed no episode');
      const pages: Record<string, [TestBrowser, string]> = {
        'inbox, admin, page 1': [admin, '/la/inbox'],
        'inbox, admin, page 200': [admin, '/la/inbox?page=200'],
        'inbox, admin, new with a pattern': [admin, '/la/inbox?state=new&pattern=any'],
        'inbox, one team': [worker, '/la/inbox'],
        episode: [admin, `/la/episodes/${someEpisode}`],
        child: [admin, `/la/episodes/${someEpisode}/child`],
      };
      const figures: InboxFigures['pages'] = {};
      for (const [name, [b, url]] of Object.entries(pages)) {
        for (let i = 0; i < 3; i++) await b.get(url); // warm-up
        const times: number[] = [];
        for (let i = 0; i < repeat; i++) {
          const t0 = performance.now();
          const page = await b.get(url);
          times.push(performance.now() - t0);
          if (page.status !== 200) throw new Error(`${name}: HTTP ${page.status}`);
        }
        times.sort((a, b2) => a - b2);
        figures[name] = {
          p50: times[Math.floor(times.length * 0.5)]!,
          p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]!,
        };
      }
      out[engine] = { episodes: made, assignSeconds, pages: figures };
      console.log(
        `inbox ${engine.padEnd(8)} ${made.toLocaleString('en-GB')} episodes from ${events.length.toLocaleString('en-GB')} look-ups ` +
          `for one LA: brought up to date in ${assignSeconds.toFixed(1)} s`,
      );
      for (const [name, f] of Object.entries(figures))
        console.log(
          `  ${name.padEnd(34)} p50 ${f.p50.toFixed(1)} ms  p99 ${f.p99.toFixed(1)} ms  (${repeat} renders)`,
        );
    } finally {
      await service?.stop();
      await cleanup();
    }
  }
  return out;
}
