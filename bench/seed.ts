/** Seeding the demo world with a national-scale population, on each engine. */
import { loadDemoWorld } from '../src/demo/world.ts';
import type { Engine } from '../src/store/db.ts';
import { benchStore } from './engines.ts';

export async function benchSeed(engines: Engine[], people: number): Promise<Record<string, number>> {
  const seconds: Record<string, number> = {};
  for (const engine of engines) {
    const { store, cleanup } = await benchStore(engine);
    try {
      const summary = await loadDemoWorld(store.db, new Date(), { people, seed: 20261122 });
      seconds[engine] = summary.seconds;
      console.log(
        `seed ${engine.padEnd(8)} ${summary.people.toLocaleString('en-GB')} people in ${summary.seconds.toFixed(1)} s ` +
          `(${Math.round(summary.people / summary.seconds).toLocaleString('en-GB')} people/s)`,
      );
    } finally {
      await cleanup();
    }
  }
  return seconds;
}
