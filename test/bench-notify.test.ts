/**
 * The daily dispatch benchmark (`npm run bench -- notify`) still runs: a small day of look-ups over
 * 153 LAs on the embedded store, dispatched at 06:05 the next morning. The bench itself checks that
 * every notice was delivered and none is left pending; timings are printed, never asserted here.
 */
import { expect, test } from 'vitest';
import { benchNotify } from '../bench/notify.ts';

test('the notify bench delivers a day of look-ups as one daily message per LA', async () => {
  const figures = await benchNotify(['pglite'], 2000, { people: 5000 });
  const run = figures.pglite!;
  expect(run.messages).toBe(153);
  expect(run.accesses).toBeGreaterThanOrEqual(2000);
  expect(run.seconds).toBeGreaterThan(0);
}, 60_000);
