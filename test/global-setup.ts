/**
 * Once per test run: start a real PostgreSQL 15 on loopback with a migrated template database, and
 * build a migrated PGlite image. Each test file then gets its own fresh, migrated database on either
 * engine in well under a second (see test/engines.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openStore } from '../src/store/db.ts';
import { migrateToLatest } from '../src/store/migrate.ts';
import { startPgServer } from '../tools/pg-server.ts';
import { TEMPLATE_DB, testEngines } from './engines.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const engines = testEngines();
  const cleanups: (() => Promise<void>)[] = [];

  const tmp = mkdtempSync(join(tmpdir(), 'cpis-test-'));
  cleanups.push(async () => rmSync(tmp, { recursive: true, force: true }));

  if (engines.includes('pglite')) {
    const store = await openStore({ engine: 'pglite', dataDir: null });
    await migrateToLatest(store.db);
    const image = await store.dumpDataDir!();
    await store.close();
    const path = join(tmp, 'pglite-image.tar');
    writeFileSync(path, Buffer.from(await image.arrayBuffer()));
    project.provide('pgliteImage', path);
  }

  if (engines.includes('postgres')) {
    const server = await startPgServer();
    cleanups.push(() => server.stop());
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query(`create database ${TEMPLATE_DB}`);
    await admin.end();
    const url = server.adminUrl.replace(/\/postgres$/, `/${TEMPLATE_DB}`);
    const store = await openStore({ engine: 'postgres', url, poolSize: 1 });
    await migrateToLatest(store.db);
    await store.close();
    project.provide('pgAdminUrl', server.adminUrl);
  }

  project.provide('engines', engines);
  return async () => {
    for (const c of cleanups.reverse()) await c();
  };
}
