/**
 * Nightly upkeep for the embedded store. PGlite runs PostgreSQL single-user, so there is no
 * autovacuum: without this, tables grow with dead rows and the planner's statistics go stale
 * (queries measured at half speed after a bulk load). Once a day, from 03:00 Europe/London, it
 * runs VACUUM ANALYZE. PostgreSQL's own autovacuum does this for a PostgreSQL store.
 */
import { sql } from 'kysely';
import { londonDateOf, londonTime } from '../domain/dates.ts';
import type { Job } from '../scheduler.ts';
import type { Engine, Executor } from './db.ts';

const STATE_KEY = 'maintenance.last-vacuum';

export function maintenanceJob(db: Executor, engine: Engine): Job {
  return {
    name: 'maintenance',
    async run(now) {
      if (engine !== 'pglite') return null;
      const today = londonDateOf(now);
      if (now < londonTime(today, 3, 0)) return null;
      const last = await db
        .selectFrom('service_state')
        .select('value')
        .where('key', '=', STATE_KEY)
        .executeTakeFirst();
      if (last && (last.value as string) === today) return null; // once a day, whichever way the clock moved
      const started = performance.now();
      await sql`vacuum analyze`.execute(db);
      await sql`insert into service_state (key, value, updated_at) values (${STATE_KEY}, ${JSON.stringify(today)}, ${now})
        on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at`.execute(db);
      return { vacuumed: today, seconds: Math.round((performance.now() - started) / 100) / 10 };
    },
  };
}
