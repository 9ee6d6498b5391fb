/**
 * `npm run bench -- query`: the audited CareTeam query under load, on each engine, against a bare
 * Fastify route returning a constant in the same process (the ceiling the HTTP stack allows).
 *
 * The world: the demo population, with plans for 2% of the children, from the demo LAs; the
 * queries: 98% children without a plan, 2% with, as clinicians (B0107, so every query with a plan
 * records an access and its LA notices) and PAS systems. The service listens on loopback; the load
 * generator runs in a forked process (bench/loadgen.ts) with keep-alive connections. Afterwards the
 * audit trail must hold one entry per query answered and its chain must verify.
 */
import { type ChildProcess, fork } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { verifyAuditChain } from '../src/audit/verify.ts';
import type { Persona } from '../src/auth/claims.ts';
import { DemoTokenService } from '../src/auth/tokens.ts';
import { prng } from '../src/demo/population.ts';
import { loadDemoWorld } from '../src/demo/world.ts';
import { DEMO_LOCAL_AUTHORITIES } from '../src/demo/world-directory.ts';
import { londonDateOf } from '../src/domain/dates.ts';
import { type Engine, transact } from '../src/store/db.ts';
import { putRecord } from '../src/upload/records.ts';
import { benchChildren, benchService, benchStore } from './engines.ts';
import { combined } from './load-figures.ts';
import type { LoadPlan, LoadRequest, LoadResult } from './loadgen.ts';

const SYS = 'https://fhir.nhs.uk/Id/nhs-number';

export interface QueryBenchOptions {
  people: number;
  connections: number;
  seconds: number;
  warmupSeconds: number;
  /**
   * The measured seconds are split into this many rounds of service, bare Fastify and node:http in
   * turn, so a change in the machine's speed during the run (a shared host) falls on all three alike.
   */
  rounds: number;
}

export interface QueryFigures {
  service: LoadResult;
  /** A bare Fastify route returning a constant. */
  bare: LoadResult;
  /** A bare node:http server answering the same requests from a Map (the issue's reference). */
  keyed: LoadResult;
  chainVerifies: boolean;
}

export function runLoadgen(plan: LoadPlan): Promise<LoadResult> {
  return startLoadgen(plan).result;
}

/** Fork one of the bench's own scripts (run through tsx), talking to it over IPC. */
export function forkScript(file: string): ChildProcess {
  return fork(fileURLToPath(new URL(file, import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Start a load generator; `stop()` ends a plan with `untilStopped`. */
export function startLoadgen(plan: LoadPlan): {
  result: Promise<LoadResult>;
  /** Resolves once the generator is sending and measuring. */
  measuring: Promise<void>;
  stop: () => void;
} {
  const child = forkScript('./loadgen.ts');
  let measured: () => void = () => {};
  const measuring = new Promise<void>((resolve) => {
    measured = resolve;
  });
  const result = new Promise<LoadResult>((resolve, reject) => {
    child.on('message', (m: { measuring?: boolean; ok?: boolean; result?: LoadResult; error?: string }) => {
      if (m.measuring) measured();
      else if (m.ok) resolve(m.result!);
      else reject(new Error(m.error));
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
    child.send(plan);
  });
  return { result, measuring, stop: () => child.send({ stop: true }) };
}

export function line(label: string, r: LoadResult): string {
  const statuses = Object.entries(r.statuses)
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');
  return (
    `${label.padEnd(22)} ${Math.round(r.qps).toLocaleString('en-GB').padStart(7)} q/s   ` +
    `p50 ${r.p50.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   max ${r.max.toFixed(0)} ms   (${r.requests.toLocaleString('en-GB')} in ` +
    `${r.seconds.toFixed(1)} s; ${statuses}${r.errors ? `; ${r.errors} errors` : ''})`
  );
}

export async function benchQuery(
  engines: Engine[],
  opts: QueryBenchOptions,
): Promise<Record<string, QueryFigures>> {
  const out: Record<string, QueryFigures> = {};
  for (const engine of engines) {
    const { store, dataDir, cleanup } = await benchStore(engine);
    try {
      const now = new Date();
      const today = londonDateOf(now);
      const world = await loadDemoWorld(store.db, now, { people: opts.people, seed: 20261122 });
      // Plans for 2% of the children (under 16, so every plan is visible for the whole run).
      const children = await benchChildren(store.db, today);
      const random = prng(7);
      const withPlan = children.filter(() => random() < 0.02);
      const started = performance.now();
      for (let i = 0; i < withPlan.length; i += 500) {
        await transact(store.db, async (trx) => {
          for (const p of withPlan.slice(i, i + 500)) {
            const la = DEMO_LOCAL_AUTHORITIES[Math.floor(random() * DEMO_LOCAL_AUTHORITIES.length)]!;
            const lac = random() < 0.4;
            await putRecord(trx, now, 0, {
              laCode: la.laCode,
              nhsNumber: p.nhs_number,
              subject: 'child',
              localId: null,
              familyName: p.family_name,
              givenNames: p.given_names,
              birthDate: p.birth_date,
              expectedDeliveryDate: null,
              plans: [
                { type: lac ? 'LAC' : 'CPP', startDate: '2025-01-06', endDate: null, deleteDate: null },
              ],
            });
          }
        });
      }
      // Measure a settled store, not one still digesting the bulk load: vacuumed and analysed (so
      // PostgreSQL's autovacuum has nothing left to do mid-run, and PGlite, which runs none, has
      // statistics) and the load's dirty pages written out.
      await sql`vacuum analyze`.execute(store.db);
      await sql`checkpoint`.execute(store.db);
      const planSet = new Set(withPlan.map((p) => p.nhs_number));
      const without = children.filter((p) => !planSet.has(p.nhs_number));
      console.log(
        `query ${engine}: ${world.people.toLocaleString('en-GB')} people, ${withPlan.length.toLocaleString('en-GB')} ` +
          `children with a plan (${((performance.now() - started) / 1000).toFixed(1)} s to write them)`,
      );

      const tokens = await DemoTokenService.ephemeral();
      const service = await benchService(store, dataDir, tokens);
      const bare = Fastify({ logger: false });
      bare.get('/bare', async () => ({ resourceType: 'Bundle', type: 'searchset', total: 0 }));
      const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
      // The machine's limit for this shape of work: a bare node:http server answering the same
      // requests by a keyed lookup in a Map (the plans of the children with one, serialised once).
      const answers = new Map(
        children.map((c) => [
          c.nhs_number,
          JSON.stringify({
            resourceType: 'Bundle',
            type: 'searchset',
            total: planSet.has(c.nhs_number) ? 1 : 0,
          }),
        ]),
      );
      const keyed = http.createServer((req, res) => {
        const url = req.url ?? '';
        const body = answers.get(url.slice(url.lastIndexOf('%7C') + 3));
        res.writeHead(body ? 200 : 404, { 'content-type': 'application/fhir+json' });
        res.end(body ?? '{}');
      });
      await new Promise<void>((resolve) => keyed.listen(0, '127.0.0.1', resolve));
      const keyedUrl = `http://127.0.0.1:${(keyed.address() as AddressInfo).port}`;
      try {
        // 50 clinicians and 10 PAS systems; 98 queries of children without a plan to every 2 with.
        const personas: Persona[] = [
          ...Array.from({ length: 50 }, (_, i) => ({
            kind: 'health-user' as const,
            sdsUserId: `5559${String(i).padStart(8, '0')}`,
            name: `Clinician ${i}`,
            jobRole: { code: 'R8000', display: 'Clinical Practitioner Access Role' },
            organisation: { odsCode: 'R1H12' },
            activities: ['B0107'],
          })),
          ...Array.from({ length: 10 }, (_, i) => ({
            kind: 'health-system' as const,
            asid: `20000000${String(i).padStart(4, '0')}`,
            organisation: { odsCode: 'RRK15' },
            responsiblePerson: {
              name: `Registrar ${i}`,
              jobRole: { code: 'R8003', display: 'Health Professional' },
            },
            activities: ['B0107'],
          })),
        ];
        const auth = await Promise.all(
          personas.map(async (p) => `Bearer ${(await tokens.issue(p, 24 * 3600)).access_token}`),
        );
        const requests: LoadRequest[] = [];
        for (let i = 0; i < 10_000; i++) {
          const pool = i % 50 === 0 ? withPlan : without;
          const subject = pool[Math.floor(random() * pool.length)]!;
          requests.push({
            path: `/FHIR/R4/CareTeam?patient:identifier=${SYS}%7C${subject.nhs_number}`,
            headers: { authorization: auth[i % auth.length]! },
          });
        }
        const headBefore = await store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
        const rounds = Math.max(1, opts.rounds);
        const runs: { service: LoadResult; bare: LoadResult; keyed: LoadResult }[] = [];
        // The service's own CPU per answer (this process: its thread, PGlite inside it, libuv's pool;
        // not PostgreSQL's server), which a busy neighbour on a shared host moves far less than rates.
        let serviceCpuUs = 0;
        let serviceJobs = 0;
        for (let round = 0; round < rounds; round++) {
          const plan = {
            connections: opts.connections,
            // A full warm-up first; later rounds only open their connections again.
            warmupMs: round === 0 ? opts.warmupSeconds * 1000 : Math.min(1000, opts.warmupSeconds * 1000),
            durationMs: (opts.seconds * 1000) / rounds,
          };
          const jobsBefore = service.deps.query.stats.jobs;
          const cpuBefore = process.cpuUsage();
          const serviceRun = await runLoadgen({ base: service.url!, requests, requestIds: true, ...plan });
          const cpu = process.cpuUsage(cpuBefore);
          serviceCpuUs += cpu.user + cpu.system;
          serviceJobs += service.deps.query.stats.jobs - jobsBefore;
          runs.push({
            service: serviceRun,
            bare: await runLoadgen({
              base: bareUrl,
              requests: [{ path: '/bare', headers: {} }],
              requestIds: false,
              ...plan,
            }),
            keyed: await runLoadgen({ base: keyedUrl, requests, requestIds: true, ...plan }),
          });
        }
        const serviceResult = combined(runs.map((r) => r.service));
        const bareResult = combined(runs.map((r) => r.bare));
        const keyedResult = combined(runs.map((r) => r.keyed));
        const headAfter = await store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
        const audited = Number(headAfter.seq) - Number(headBefore.seq);
        const accesses = await store.db
          .selectFrom('access_event')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        const chain = await verifyAuditChain(store.db);
        const stats = service.deps.query.stats;
        const index = service.deps.query.planIndexStats;
        console.log(line(`query ${engine}`, serviceResult));
        console.log(line(`bare fastify (${engine} run)`, bareResult));
        console.log(line(`node:http Map (${engine} run)`, keyedResult));
        console.log(
          `query ${engine}: ${(serviceResult.qps / keyedResult.qps).toFixed(3)} of the node:http keyed lookup's rate ` +
            `(target 0.25, p99 ≤ 10 ms; by round ${runs.map((r) => (r.service.qps / r.keyed.qps).toFixed(3)).join(', ')}), ` +
            `${(serviceResult.qps / bareResult.qps).toFixed(3)} of the bare Fastify route's; ` +
            `service CPU ${(serviceCpuUs / 1000 / Math.max(1, serviceJobs)).toFixed(3)} ms per query; ` +
            `${audited.toLocaleString('en-GB')} audit entries written (warm-up included), ` +
            `${Number(accesses.n).toLocaleString('en-GB')} accesses recorded; ` +
            `${stats.batches.toLocaleString('en-GB')} commits, ${(stats.jobs / Math.max(1, stats.batches)).toFixed(1)} ` +
            `queries per commit on average (largest ${stats.largestBatch}); ` +
            `plan index: ${index.plans.toLocaleString('en-GB')} plans, loaded ${index.loads} time(s) (last ${index.lastLoadMs.toFixed(0)} ms), ` +
            `${index.answered.toLocaleString('en-GB')} batches answered from it, ${index.refused} refused after a change; ` +
            `chain ${chain.ok ? 'verifies' : `BROKEN: ${JSON.stringify(chain)}`}`,
        );
        out[engine] = {
          service: serviceResult,
          bare: bareResult,
          keyed: keyedResult,
          chainVerifies: chain.ok,
        };
      } finally {
        await new Promise((resolve) => keyed.close(resolve));
        await bare.close();
        await service.stop();
      }
    } finally {
      await cleanup();
    }
  }
  return out;
}
