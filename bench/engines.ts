import { randomUUID } from 'node:crypto';
/**
 * Fresh stores for benchmarks: PGlite in a temporary data directory, and a PostgreSQL 15 started on
 * loopback with fsync on (benchmarks should pay for durability as production does).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Service, startService } from '../src/app.ts';
import type { DemoTokenService } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config.ts';
import type { SettableClock } from '../src/domain/clock.ts';
import { addYears, type IsoDate } from '../src/domain/dates.ts';
import { type Engine, type Executor, openStore, type Store } from '../src/store/db.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { freePort, type PgServer, startPgServer } from '../tools/pg-server.ts';

let server: PgServer | null = null;

export async function benchStore(
  engine: Engine,
): Promise<{ store: Store; url: string | null; dataDir: string; cleanup: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cpis-bench-'));
  if (engine === 'pglite') {
    const store = await openStore({ engine: 'pglite', dataDir });
    await migrateToLatest(store.db);
    return {
      store,
      url: null,
      dataDir,
      cleanup: async () => {
        await store.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  server ??= await startPgServer({ fsync: true });
  const name = `bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = server.adminUrl.replace(/\/postgres$/, `/${name}`);
  const store = await openStore({ engine: 'postgres', url, poolSize: 10 });
  await migrateToLatest(store.db);
  return {
    store,
    url,
    dataDir,
    cleanup: async () => {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function stopBenchServer(): Promise<void> {
  await server?.stop();
  server = null;
}

/** Children under 16 on an active, unrestricted record (every plan on them is visible), by NHS number. */
export function benchChildren(db: Executor, today: IsoDate, limit?: number) {
  let q = db
    .selectFrom('person')
    .select(['nhs_number', 'family_name', 'given_names', 'birth_date'])
    .where('status', '=', 'active')
    .where('sensitive', '=', false)
    .where('birth_date', '>', addYears(today, -16))
    .orderBy('nhs_number');
  if (limit !== undefined) q = q.limit(limit);
  return q.execute();
}

/** The service on loopback in demo mode, over a bench store, on a free port. */
export async function benchService(
  store: Store,
  dataDir: string,
  tokens: DemoTokenService,
  opts: { scheduler?: boolean; clock?: SettableClock } = {},
): Promise<Service> {
  return startService({
    config: loadConfig({
      CPIS_MODE: 'demo',
      CPIS_LOG_LEVEL: 'warn',
      // One load generator is one client: a per-client limit would measure the limit, not the service.
      CPIS_RATE_LIMIT_PER_MINUTE: '0',
      CPIS_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
    }),
    store,
    demoTokens: tokens,
    demoWorld: false,
    ...(opts.scheduler === false ? { scheduler: false } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
}

/** Column types of access_event and access_notice rows that benches write straight into the store. */
export const ACCESS_TYPES = {
  id: 'uuid',
  nhs_number: 'text',
  queried_nhs_number: 'text',
  accessed_at: 'timestamptz',
  resource: 'text',
  request_id: 'text',
  person_key: 'text',
  accessor_kind: 'text',
  accessor_name: 'text',
  job_role_code: 'text',
  job_role_display: 'text',
  user_id: 'text',
  role_profile_id: 'text',
  asid: 'text',
  org_code: 'text',
  patient_location: 'text',
  safeguarding_lead: 'jsonb',
  la_codes: 'text[]',
  plan_types: 'text[]',
} as const;

export const NOTICE_TYPES = {
  access_id: 'uuid',
  la_code: 'text',
  plan_types: 'text[]',
  created_at: 'timestamptz',
  message_id: 'uuid',
} as const;

/**
 * One CP-IS look-up by a clinician (numbered `user`) at `org`, as the query path records it, and a
 * pending notice for each LA: rows for benches that write look-ups straight into the store.
 */
export function benchLookUp(nhsNumber: string, at: Date, org: string, user: number, laCodes: string[]) {
  const id = randomUUID();
  return {
    event: {
      id,
      nhs_number: nhsNumber,
      queried_nhs_number: nhsNumber,
      accessed_at: at,
      resource: 'CareTeam',
      request_id: id,
      person_key: `user:55500${user}`,
      accessor_kind: 'health-user',
      accessor_name: `Clinician ${user}`,
      job_role_code: 'R8000',
      job_role_display: 'Clinical Practitioner Access Role',
      user_id: `55500${user}`,
      role_profile_id: `12345${user}`,
      asid: null,
      org_code: org,
      patient_location: null,
      safeguarding_lead: null,
      la_codes: laCodes,
      plan_types: ['CPP'],
    },
    notices: laCodes.map((la) => ({
      access_id: id,
      la_code: la,
      plan_types: ['CPP'],
      created_at: at,
      message_id: null,
    })),
  };
}
