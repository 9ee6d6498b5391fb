/**
 * Fresh stores for benchmarks: PGlite in a temporary data directory, and a PostgreSQL 15 started on
 * loopback with fsync on (benchmarks should pay for durability as production does).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Engine, openStore, type Store } from '../src/store/db.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { type PgServer, startPgServer } from '../tools/pg-server.ts';

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
