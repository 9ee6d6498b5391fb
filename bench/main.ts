/**
 * `npm run bench -- [name ...] [--engines pglite,postgres] [--people N] [--connections N] [--seconds S]
 * [--warmup S] [--runs N]`: runs the named benchmarks (all by default) on both engines and prints
 * figures and ratios. Timings are measured here, never asserted in tests.
 */
import { parseArgs } from 'node:util';
import type { Engine } from '../src/store/db.ts';
import { stopBenchServer } from './engines.ts';
import { benchInbox } from './inbox.ts';
import { benchNotify } from './notify.ts';
import { benchPortal } from './portal.ts';
import { benchQuery } from './query.ts';
import { benchSeed } from './seed.ts';
import { benchStartup } from './startup.ts';
import { benchUpload } from './upload.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    engines: { type: 'string', default: 'pglite,postgres' },
    people: { type: 'string', default: '250000' },
    records: { type: 'string', default: '250000' },
    accesses: { type: 'string', default: '1000000' },
    episodes: { type: 'string', default: '10000' },
    // As the issue measured it: one load generator on 16 keep-alive connections.
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    runs: { type: 'string', default: '5' },
  },
});
const engines = values.engines.split(',') as Engine[];
const people = Number(values.people);
const records = Number(values.records);
const accesses = Number(values.accesses);
const connections = Number(values.connections);
const seconds = Number(values.seconds);
const warmupSeconds = Number(values.warmup);

const BENCHES: Record<string, () => Promise<void>> = {
  seed: async () => {
    const s = await benchSeed(engines, people);
    if (s.pglite && s.postgres)
      console.log(`seed ratio pglite/postgres time: ${(s.pglite / s.postgres).toFixed(2)}x`);
  },
  upload: async () => {
    const r = await benchUpload(engines, records);
    if (r.pglite && r.postgres)
      console.log(`upload ratio postgres/pglite records/s: ${(r.postgres / r.pglite).toFixed(2)}x`);
  },
  notify: async () => {
    const n = await benchNotify(engines, accesses);
    if (n.pglite && n.postgres)
      console.log(
        `notify ratio pglite/postgres dispatch time: ${(n.pglite.seconds / n.postgres.seconds).toFixed(2)}x`,
      );
  },
  query: async () => {
    const q = await benchQuery(engines, {
      people,
      connections,
      seconds,
      warmupSeconds,
      rounds: Number(values.rounds),
    });
    if (q.pglite && q.postgres) {
      console.log(
        `query ratio postgres/pglite throughput: ${(q.postgres.service.qps / q.pglite.service.qps).toFixed(2)}x`,
      );
    }
  },
  inbox: async () => {
    const r = await benchInbox(engines, Number(values.episodes));
    if (r.pglite && r.postgres) {
      const a = r.pglite.pages['inbox, admin, page 1']!.p50;
      const b = r.postgres.pages['inbox, admin, page 1']!.p50;
      console.log(`inbox ratio pglite/postgres first page p50: ${(a / b).toFixed(2)}x`);
    }
  },
  portal: async () => {
    // Light load: a few staff at once (--connections defaults to 16 for the API; 4 here unless given).
    const staff = process.argv.includes('--connections') ? connections : 4;
    const p = await benchPortal(engines, {
      people: Math.min(people, 20_000),
      connections: staff,
      seconds,
      warmupSeconds,
    });
    if (p.pglite && p.postgres)
      console.log(
        `portal ratio pglite/postgres flag page p50: ${(p.pglite.flag.p50 / p.postgres.flag.p50).toFixed(2)}x`,
      );
  },
  // Start-up on an existing data directory, spawn to /healthz (and `npm start` as a whole).
  startup: async () => {
    const s = await benchStartup(engines, { runs: Number(values.runs), npmStart: true });
    if (s.pglite && s.postgres)
      console.log(
        `startup ratio pglite/postgres median to /healthz: ${(s.pglite.medianMs / s.postgres.medianMs).toFixed(2)}x`,
      );
  },
};

const chosen = positionals.length ? positionals : Object.keys(BENCHES);
try {
  for (const name of chosen) {
    const bench = BENCHES[name];
    if (!bench) throw new Error(`unknown benchmark ${name}; choose from ${Object.keys(BENCHES).join(', ')}`);
    console.log(`\n== ${name} (${engines.join(', ')}) ==`);
    await bench();
  }
} finally {
  await stopBenchServer();
}
