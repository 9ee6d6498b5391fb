/**
 * Store tests run on both engines. `testEngines()` is both unless CPIS_TEST_ENGINES narrows it;
 * `openTestStore(engine)` gives a fresh, migrated database for one test file.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import { type Engine, openStore, type Store } from '../src/store/db.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    engines: Engine[];
    pgliteImage: string;
    pgAdminUrl: string;
  }
}

export const TEMPLATE_DB = 'cpis_template';

export function testEngines(): Engine[] {
  const raw = process.env.CPIS_TEST_ENGINES ?? 'pglite,postgres';
  const engines = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const e of engines) if (e !== 'pglite' && e !== 'postgres') throw new Error(`unknown engine ${e}`);
  return engines as Engine[];
}

/** The engines this run covers (as provided by the global setup). */
export function engines(): Engine[] {
  return inject('engines');
}

/** A fresh, migrated PostgreSQL database's URL, for tests that open several services on one database. */
export async function createTestDatabaseUrl(): Promise<string> {
  const adminUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  return adminUrl.replace(/\/postgres$/, `/${name}`);
}

/**
 * A fresh database for one test file: migrated, or with `blank`, empty (for a test that migrates
 * part of the way itself).
 */
export async function openTestStore(engine: Engine, opts: { blank?: boolean } = {}): Promise<Store> {
  if (engine === 'pglite') {
    if (opts.blank) return openStore({ engine: 'pglite', dataDir: null });
    const image = new Blob([readFileSync(inject('pgliteImage'))]);
    return openStore({ engine: 'pglite', dataDir: null, loadDataDir: image });
  }
  const adminUrl = inject('pgAdminUrl');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${opts.blank ? 'template0' : TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  const store = await openStore({
    engine: 'postgres',
    url: adminUrl.replace(/\/postgres$/, `/${name}`),
    poolSize: 8,
  });
  return {
    ...store,
    async close() {
      await store.close();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`).finally(() => a.end());
    },
  };
}
