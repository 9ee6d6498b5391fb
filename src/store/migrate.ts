/**
 * One set of migrations for both engines, applied with Kysely's Migrator (which takes a lock, so
 * several processes starting together on one PostgreSQL migrate once). A migration is a list of
 * SQL statements run in order inside the migration transaction.
 */
import { type Kysely, type MigrationProvider, Migrator, sql } from 'kysely';
import { foundation } from './migrations/0001_foundation.ts';
import { records } from './migrations/0002_records.ts';
import { accessAudit } from './migrations/0003_access_audit.ts';
import { notifications } from './migrations/0004_notifications.ts';
import { patterns } from './migrations/0005_patterns.ts';
import { portal } from './migrations/0006_portal.ts';
import { laPortal } from './migrations/0007_la_portal.ts';
import { auditCheckpoints } from './migrations/0008_audit_checkpoints.ts';
import { retention } from './migrations/0009_retention.ts';
import { uploadStaging } from './migrations/0010_upload_staging.ts';
import { queryRead } from './migrations/0011_query_read.ts';
import { dispatchSpeed } from './migrations/0012_dispatch_speed.ts';
import { planIndex } from './migrations/0013_plan_index.ts';
import { planRecordCheck } from './migrations/0014_plan_record_check.ts';
import { mailboxJson } from './migrations/0015_mailbox_json.ts';
import { noticePartitions } from './migrations/0016_notice_partitions.ts';

export interface Migration {
  name: string;
  up: string[];
}

/** Every migration, oldest first. Add new ones at the end; never edit one that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  foundation,
  records,
  accessAudit,
  notifications,
  patterns,
  portal,
  laPortal,
  auditCheckpoints,
  retention,
  uploadStaging,
  queryRead,
  dispatchSpeed,
  planIndex,
  planRecordCheck,
  mailboxJson,
  noticePartitions,
];

/** Our migrations as Kysely's Migrator takes them (a test migrates part of the way with it). */
export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return Object.fromEntries(
      MIGRATIONS.map((m) => [
        m.name,
        {
          async up(db: Kysely<unknown>) {
            for (const statement of m.up) await sql.raw(statement).execute(db);
          },
        },
      ]),
    );
  },
};

export interface MigrateResult {
  applied: string[];
}

/**
 * True when Kysely's migration table lists exactly our migrations: nothing to apply, so start-up
 * skips the Migrator's own checks (about ten statements: tens to hundreds of ms on a cold embedded store).
 * Anything else (no table yet, a migration missing, one this version does not know) goes to the
 * Migrator, which applies, locks and reports as before.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run on any schema
async function upToDate(db: Kysely<any>): Promise<boolean> {
  const exists = sql<{ found: boolean }>`select to_regclass('kysely_migration') is not null as found`;
  if (!(await exists.execute(db)).rows[0]?.found) return false;
  const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db);
  const applied = new Set(rows.map((r) => r.name));
  return applied.size === MIGRATIONS.length && MIGRATIONS.every((m) => applied.has(m.name));
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run on any schema
export async function migrateToLatest(db: Kysely<any>): Promise<MigrateResult> {
  if (await upToDate(db)) return { applied: [] };
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const cause = error instanceof Error ? error.message : String(error ?? 'unknown');
    throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${cause}`, { cause: error });
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
