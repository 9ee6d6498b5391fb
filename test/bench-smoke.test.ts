/**
 * Every benchmark still runs (`npm run bench`), at sizes small enough for the test suite, so none
 * of them can rot between the runs that measure. Timings are printed by the benches and never
 * asserted here; what is asserted is that each did its work.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { stopBenchServer } from '../bench/engines.ts';
import { benchInbox } from '../bench/inbox.ts';
import { benchPortal } from '../bench/portal.ts';
import { benchQuery } from '../bench/query.ts';
import { benchSeed } from '../bench/seed.ts';
import { benchUpload } from '../bench/upload.ts';
import { engines } from './engines.ts';

describe.skipIf(!engines().includes('pglite'))('benchmark smoke runs on pglite', () => {
  afterAll(() => stopBenchServer());

  test('seed writes the population', async () => {
    const s = await benchSeed(['pglite'], 500);
    expect(s.pglite).toBeGreaterThan(0);
  }, 60_000);

  test('query answers every request 200 and keeps the audit chain whole', async () => {
    const q = await benchQuery(['pglite'], {
      people: 2000,
      connections: 4,
      // Long enough that a scheduler run holding the embedded store's one connection (about a
      // second on a busy CI machine) cannot leave the whole window without an answer.
      seconds: 2,
      warmupSeconds: 0.2,
      rounds: 2,
    });
    const figures = q.pglite!;
    expect(figures.service.requests).toBeGreaterThan(0);
    expect(Object.keys(figures.service.statuses)).toEqual(['200']);
    expect(figures.bare.requests).toBeGreaterThan(0);
    expect(figures.chainVerifies).toBe(true);
  }, 90_000);

  test('upload accepts every record, alone and again under health queries', async () => {
    const u = await benchUpload(['pglite'], 300);
    expect(u.pglite).toBeGreaterThan(0);
  }, 90_000);

  test('inbox renders its pages', async () => {
    const r = await benchInbox(['pglite'], 50, 2);
    expect(Object.keys(r.pglite!.pages).length).toBeGreaterThan(0);
  }, 90_000);

  test('portal serves the health portal pages', async () => {
    const p = await benchPortal(['pglite'], {
      people: 500,
      connections: 2,
      seconds: 0.5,
      warmupSeconds: 0.2,
    });
    expect(p.pglite!.flag.p50).toBeGreaterThan(0);
  }, 90_000);
});
