/**
 * Loading the demo world: real NHS organisations and local authorities, and the synthetic
 * population. Demo mode loads it on an empty store at start-up; `cpis seed` loads it on demand.
 * All of it commits in one transaction, so an interrupted load leaves the store empty, not half-full.
 */
import { sql } from 'kysely';
import { putLocalAuthority, putOrganisations } from '../directory/directory.ts';
import { insertRows } from '../store/bulk.ts';
import { type Executor, type Tx, transact } from '../store/db.ts';
import { generatePopulation, type PersonRow, storyRows } from './population.ts';
import { DEMO_LOCAL_AUTHORITIES, DEMO_ORGANISATIONS } from './world-directory.ts';

export const DEMO_WORLD_KEY = 'demo-world';

export interface DemoWorldOptions {
  people: number;
  seed: number;
}

export interface DemoWorldSummary {
  organisations: number;
  localAuthorities: number;
  people: number;
  seconds: number;
}

/** True when the store holds no people and no directory: a fresh store that demo mode may fill. */
export async function isEmptyStore(db: Executor): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`select
    (select count(*) from (select 1 from person limit 1) p) +
    (select count(*) from (select 1 from organisation limit 1) o) +
    (select count(*) from (select 1 from service_state where key = ${DEMO_WORLD_KEY}) s) as n`.execute(db);
  return rows[0]!.n === 0;
}

export async function loadDemoWorld(
  db: Executor,
  now: Date,
  opts: DemoWorldOptions,
): Promise<DemoWorldSummary> {
  const started = performance.now();
  let people = 0;
  await transact(
    db,
    async (trx) => {
      await putOrganisations(trx, now, DEMO_ORGANISATIONS);
      for (const la of DEMO_LOCAL_AUTHORITIES) await putLocalAuthority(trx, now, la);
      people = await insertPeople(trx, now, [storyRows(), generatePopulation(opts.people, opts.seed)]);
      await trx
        .insertInto('service_state')
        .values({
          key: DEMO_WORLD_KEY,
          value: JSON.stringify({ ...opts, loadedAt: now.toISOString() }),
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), updated_at: now })),
        )
        .execute();
    },
    0,
  );
  return {
    organisations: DEMO_ORGANISATIONS.length,
    localAuthorities: DEMO_LOCAL_AUTHORITIES.length,
    people,
    seconds: (performance.now() - started) / 1000,
  };
}

const CHUNK = 5000;

/** Insert people in multi-row statements (existing numbers are left as they are). */
async function insertPeople(trx: Tx, now: Date, sources: Iterable<PersonRow>[]): Promise<number> {
  let batch: PersonRow[] = [];
  let total = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    total += await insertRows(
      trx,
      'person',
      {
        nhs_number: 'text',
        family_name: 'text',
        given_names: 'text[]',
        birth_date: 'date',
        gender: 'text',
        sensitive: 'boolean',
        death_date: 'date',
        mother_nhs_number: 'text',
        postcode: 'text',
        status: 'text',
        superseded_by: 'text',
        inactive_since: 'timestamptz',
        created_at: 'timestamptz',
        updated_at: 'timestamptz',
      },
      batch.map((r) => ({ ...r, created_at: now, updated_at: now })),
      sql`on conflict (nhs_number) do nothing`,
    );
    batch = [];
  };
  for (const source of sources) {
    for (const row of source) {
      batch.push(row);
      if (batch.length >= CHUNK) await flush();
    }
  }
  await flush();
  return total;
}
