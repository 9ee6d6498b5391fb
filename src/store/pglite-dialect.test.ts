/**
 * The embedded store runs on the service's own thread and settles its answers as microtasks: a run
 * of statements must still let other work (a health query's I/O) in once it has held the event
 * loop for a few milliseconds, and a single short statement must not be made to wait.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from './db.ts';

describe('the embedded store in the event loop', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ engine: 'pglite', dataDir: null });
  });
  afterAll(() => store?.close());

  it('lets a timer run part-way through a long run of statements', async () => {
    let doneWhenTimerRan = -1;
    let done = 0;
    setTimeout(() => {
      doneWhenTimerRan = done;
    }, 0);
    const started = performance.now();
    for (let i = 0; i < 60; i++) {
      await sql`select count(*) from generate_series(1, 20000)`.execute(store.db);
      done++;
    }
    // The run is long enough to need several turns of the loop.
    expect(performance.now() - started).toBeGreaterThan(20);
    expect(doneWhenTimerRan).toBeGreaterThanOrEqual(0);
    expect(doneWhenTimerRan).toBeLessThan(30);
  });
});
