/**
 * Several service processes on one PostgreSQL: dispatching at the same moment, they never deliver
 * an access twice, and each LA gets one daily message per day.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabaseUrl, engines } from '../../test/engines.ts';
import { clinician, T0 } from '../../test/helper.ts';
import { type Service, startService } from '../app.ts';
import { DemoTokenService } from '../auth/tokens.ts';
import { loadConfig } from '../config.ts';
import { loadDemoWorld } from '../demo/world.ts';
import { SettableClock } from '../domain/clock.ts';
import { bringEpisodesUpToDate, lockEpisodes } from '../inbox/episodes.ts';
import { openStore, transact } from '../store/db.ts';
import { putRecord } from '../upload/records.ts';
import { dispatchNotifications } from './dispatch.ts';

// All daily in the demo world (Tower Hamlets and Staffordshire are immediate).
const LAS = ['E08000025', 'E08000028', 'E08000029', 'E08000031', 'E09000012', 'E06000032'];
const CHILDREN = ['9990000018', '9990000034', '9990000069', '9990000131', '9990000115', '9990000123'];

describe.runIf(engines().includes('postgres'))('two service processes on one PostgreSQL', () => {
  const services: Service[] = [];
  const dirs: string[] = [];
  const clock = new SettableClock(T0);

  beforeAll(async () => {
    const url = await createTestDatabaseUrl();
    const tokens = await DemoTokenService.ephemeral();
    for (let i = 0; i < 2; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'cpis-multi-'));
      dirs.push(dir);
      services.push(
        await startService({
          config: loadConfig({ CPIS_MODE: 'demo', CPIS_LOG_LEVEL: 'silent', CPIS_DATA_DIR: dir }),
          store: await openStore({ engine: 'postgres', url, poolSize: 4 }),
          clock,
          demoTokens: tokens,
          listen: false,
          demoWorld: false,
          schedulerIntervalMs: 3_600_000,
        }),
      );
    }
    const db = services[0]!.store.db;
    await loadDemoWorld(db, T0, { people: 0, seed: 1 });
    // Every LA holds a plan for every child: each access makes six notices.
    for (const la of LAS) {
      for (const n of CHILDREN) {
        const p = await db
          .selectFrom('person')
          .selectAll()
          .where('nhs_number', '=', n)
          .executeTakeFirstOrThrow();
        await transact(db, (trx) =>
          putRecord(trx, T0, 0, {
            laCode: la,
            nhsNumber: n,
            subject: 'child',
            localId: null,
            familyName: p.family_name,
            givenNames: p.given_names,
            birthDate: p.birth_date,
            expectedDeliveryDate: null,
            plans: [{ type: 'CPP', startDate: '2026-01-01', endDate: null, deleteDate: null }],
          }),
        );
      }
    }
  });
  afterAll(async () => {
    for (const s of services) await s.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('never delivers an access twice, however the processes race', async () => {
    const token = (await services[0]!.deps.demoTokens!.issue(clinician())).access_token;
    // Both processes answer queries.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        services[i % 2]!.http.inject({
          method: 'GET',
          url: `/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|${CHILDREN[i % CHILDREN.length]}`,
          headers: { authorization: `Bearer ${token}`, 'x-request-id': randomUUID() },
        }),
      ),
    );
    const db = services[0]!.store.db;
    const notices = (await sql<{ n: number }>`select count(*) as n from access_notice`.execute(db)).rows[0]!
      .n;
    expect(notices).toBe(40 * LAS.length);
    // Both dispatch at once, several times over, forced and by the clock.
    const next = new Date('2026-11-21T06:05:00Z');
    await Promise.all([
      dispatchNotifications(services[0]!.store.db, T0, { force: true }),
      dispatchNotifications(services[1]!.store.db, T0, { force: true }),
      dispatchNotifications(services[0]!.store.db, next),
      dispatchNotifications(services[1]!.store.db, next),
    ]);
    await Promise.all([
      dispatchNotifications(services[0]!.store.db, next),
      dispatchNotifications(services[1]!.store.db, next),
    ]);

    const pending = (
      await sql<{ n: number }>`select count(*) as n from access_notice where message_id is null`.execute(db)
    ).rows[0]!.n;
    expect(pending).toBe(0);
    // Each access appears in exactly one message per LA.
    const { rows } = await sql<{ la_code: string; access_id: string; n: number }>`
      select m.la_code, a->>'accessId' as access_id, count(*) as n
        from mailbox_message m, json_array_elements(m.body->'accesses') a
       where m.type = 'access-notification'
       group by m.la_code, a->>'accessId'`.execute(db);
    expect(rows).toHaveLength(40 * LAS.length);
    expect(rows.every((r) => r.n === 1)).toBe(true);
    // One daily message per LA for the 20th, however many processes tried.
    const batches = await sql<{ la_code: string; n: number }>`
      select la_code, count(*) as n from notification_batch where batch_date = '2026-11-20' group by la_code`.execute(
      db,
    );
    expect(batches.rows.every((b) => b.n === 1)).toBe(true);
    expect(batches.rows.map((b) => b.la_code)).toEqual(expect.arrayContaining(LAS));
  });

  it('files look-ups into episodes while another process dispatches the same LA, neither waiting on the other in a circle', async () => {
    const token = (await services[0]!.deps.demoTokens!.issue(clinician())).access_token;
    for (let i = 0; i < 3; i++)
      await services[0]!.http.inject({
        method: 'GET',
        url: `/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|${CHILDREN[0]}`,
        headers: { authorization: `Bearer ${token}`, 'x-request-id': randomUUID() },
      });
    const la = LAS[0]!;
    const unfiled = () =>
      sql<{
        n: number;
      }>`select count(*)::int as n from access_notice where la_code = ${la} and episode_id is null`
        .execute(services[0]!.store.db)
        .then((r) => r.rows[0]!.n);
    expect(await unfiled()).toBe(3);
    // One process holds the LA's episodes and is about to file the look-ups (as the scheduler or an
    // inbox read does) when the other starts dispatching. The filer gives up rather than wait long:
    // a dispatch that had claimed the notices first would hold rows the filer needs while waiting
    // for the episodes the filer holds.
    let dispatched: Promise<unknown> | null = null;
    await services[1]!.store.db.transaction().execute(async (trx) => {
      await sql`set local lock_timeout = '500ms'`.execute(trx);
      await lockEpisodes(trx, la);
      dispatched = dispatchNotifications(services[0]!.store.db, T0, { force: true });
      await new Promise((r) => setTimeout(r, 300));
      expect(await bringEpisodesUpToDate(trx, la, T0)).toBe(3);
    });
    await dispatched;
    expect(await unfiled()).toBe(0);
    const { rows } = await sql<{ n: number; episodes: number }>`
      select count(*)::int as n, count(distinct episode_id)::int as episodes from access_notice
       where la_code = ${la} and episode_id is not null and message_id is null`.execute(
      services[0]!.store.db,
    );
    expect(rows[0]).toEqual({ n: 0, episodes: 0 });
    const { rows: sent } = await sql<{ n: number }>`
      select count(*)::int as n from mailbox_message m, json_array_elements(m.body->'accesses') a
       where m.la_code = ${la} and a->>'episodeId' is not null and (a->>'accessedAt')::timestamptz = ${T0}`.execute(
      services[0]!.store.db,
    );
    expect(sent[0]!.n).toBeGreaterThanOrEqual(3);
  });
});
