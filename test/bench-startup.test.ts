/**
 * The start-up benchmark (`npm run bench -- startup`) still runs: one timed start of `npm start`'s
 * command on an existing embedded store reaches /healthz. Timings are printed by the bench, never
 * asserted here.
 */
import { expect, inject, test } from 'vitest';
import { benchStartup } from '../bench/startup.ts';
import { engines } from './engines.ts';

test.skipIf(!engines().includes('pglite'))(
  'the start-up bench starts the service on an existing data directory and reaches /healthz',
  async () => {
    const figures = await benchStartup(['pglite'], {
      runs: 1,
      print: false,
      env: { CPIS_DEMO_PEOPLE: '50' },
      // The run's migrated image: no initdb here.
      pgliteImage: inject('pgliteImage'),
    });
    const run = figures.pglite!.runs[0]!;
    expect(run.readyMs).toBeGreaterThan(0);
    // The service reported its steps, through to listening.
    expect(Object.keys(run.steps)).toEqual(expect.arrayContaining(['process', 'store-open', 'listening']));
  },
  60_000,
);
