/**
 * Opening the store: PGlite in a data directory (the embedded default) or PostgreSQL 15 through `pg`
 * when a URL is given. Both come back as the same Kysely<Database>, with type parsers aligned so a
 * row reads the same from either engine: int8 as a JS number, date as 'YYYY-MM-DD', timestamptz as
 * a Date, sessions in UTC.
 */
import { join } from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import type { CustomTypesConfig } from 'pg';
import { acquireDirLock, type DirLock } from './lock.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import type { Database } from './schema.ts';

export type Engine = 'pglite' | 'postgres';
/** Anything queries can run on: the database, or a transaction in it. */
export type Executor = Kysely<Database>;
export type Tx = Transaction<Database>;

export type StoreConfig =
  | {
      engine: 'pglite';
      /** The service data directory; the database lives in `<dataDir>/pglite`. null: in memory (tests). */
      dataDir: string | null;
      /** Start from a dumped data directory image (tests use one migrated image for speed). */
      loadDataDir?: Blob;
    }
  | { engine: 'postgres'; url: string; poolSize?: number };

export interface Store {
  readonly engine: Engine;
  readonly db: Kysely<Database>;
  /** PGlite only: dump the data directory (used to build the test image). */
  dumpDataDir?(): Promise<Blob>;
  close(): Promise<void>;
}

const INT8 = 20;
const DATE = 1082;

export async function openStore(config: StoreConfig): Promise<Store> {
  return config.engine === 'pglite' ? openPglite(config) : openPostgres(config);
}

/**
 * PGlite's own settings, beyond its defaults. Its shared memory is zeroed when it starts (emscripten's
 * mmap), so every page of the buffer pool is touched before the first query: at the default 128 MB
 * that was 0.4-0.5 s of every start on this machine (page faults). One backend, with the data files
 * in the OS's page cache, does as well with 32 MB: the query and upload benches measured no slower
 * (issue 10). The WAL buffers stay at the 4 MB they were (by default they follow shared_buffers down
 * to 1 MB).
 */
const PGLITE_SETTINGS = ['shared_buffers=32MB', 'wal_buffers=4MB'];

async function openPglite(config: Extract<StoreConfig, { engine: 'pglite' }>): Promise<Store> {
  let lock: DirLock | null = null;
  if (config.dataDir) lock = acquireDirLock(config.dataDir);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(config.dataDir ? { dataDir: join(config.dataDir, 'pglite') } : {}),
      ...(config.loadDataDir ? { loadDataDir: config.loadDataDir } : {}),
      relaxedDurability: false,
      startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS.flatMap((s) => ['-c', s])],
      parsers: {
        [pgliteTypes.INT8]: (v: string) => Number(v),
        [pgliteTypes.DATE]: (v: string) => v,
      },
    });
    await pglite.exec(`set time zone 'UTC'`);
  } catch (err) {
    lock?.release();
    throw err;
  }
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  let closed = false;
  return {
    engine: 'pglite',
    db,
    dumpDataDir: () => pglite.dumpDataDir('none') as Promise<Blob>,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await db.destroy();
        await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/** pg's parsers, with int8 and date made to match PGlite's (see openPglite). */
function pgTypes(pg: typeof import('pg').default): CustomTypesConfig {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === INT8) return (v: string) => Number(v);
      if (oid === DATE) return (v: string) => v;
      return pg.types.getTypeParser(oid, format);
    },
  } as CustomTypesConfig;
}

async function openPostgres(config: Extract<StoreConfig, { engine: 'postgres' }>): Promise<Store> {
  // Loaded only for this engine: on the embedded store it was 60 ms of every start for nothing.
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize ?? 10,
    types: pgTypes(pg),
    options: '-c TimeZone=UTC',
    connectionTimeoutMillis: 10_000,
  });
  // An idle client's connection dropping must not crash the process; the next query reconnects.
  pool.on('error', (err) => process.emitWarning(`PostgreSQL idle client error: ${err.message}`));
  // Fail fast with a clear error if the server is not reachable.
  const client = await pool.connect().catch(async (err: Error) => {
    await pool.end().catch(() => {});
    throw new Error(`cannot connect to PostgreSQL at ${redact(config.url)}: ${err.message}`, { cause: err });
  });
  client.release();
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    engine: 'postgres',
    db,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** A connection URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

const RETRYABLE = new Set(['40001', '40P01']); // serialization_failure, deadlock_detected

/** A serialisation failure or deadlock: the work may be done again. */
export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return !!code && RETRYABLE.has(code);
}

/**
 * Run `fn` in a transaction. On PostgreSQL a serialisation failure or deadlock is retried (the
 * whole function runs again, so it must not have side effects outside the transaction).
 */
export async function transact<T>(db: Executor, fn: (trx: Tx) => Promise<T>, retries = 3): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction().execute(fn);
    } catch (err) {
      if (attempt >= retries || !isRetryable(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * (attempt + 1)));
    }
  }
}
