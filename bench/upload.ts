/**
 * One upload of 250,000 records (the whole national cohort) through HTTP into a running service,
 * on each engine: records per second, and the process's peak memory while it runs; then a file
 * changing every record under health queries, and how those queries fared. Files are sent from a
 * forked client process, as an LA's system sends them from its own machine.
 */

import { once } from 'node:events';
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Service, startService } from '../src/app.ts';
import type { Persona } from '../src/auth/claims.ts';
import { DemoTokenService } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config.ts';
import { generatePopulation } from '../src/demo/population.ts';
import { loadDemoWorld } from '../src/demo/world.ts';
import { londonDateOf } from '../src/domain/dates.ts';
import type { Engine } from '../src/store/db.ts';
import { benchChildren, benchStore } from './engines.ts';
import type { LoadRequest } from './loadgen.ts';
import { forkScript, line, runLoadgen, startLoadgen } from './query.ts';
import type { UploadJob, UploadReply } from './upload-client.ts';

const SEED = 20261122;

/**
 * Write an upload file of `count` matching records; returns its path and how many it holds. The
 * `changed` file states every record of the other with a plan starting a day later.
 */
async function writeFile(
  count: number,
  people: number,
  changed = false,
): Promise<{ path: string; records: number }> {
  const path = join(tmpdir(), `cpis-bench-upload-${process.pid}${changed ? '-changed' : ''}.json`);
  const out = createWriteStream(path);
  out.write('{"mode":"delta","records":[\n');
  let n = 0;
  for (const p of generatePopulation(people, SEED)) {
    if (n >= count) break;
    if (p.status !== 'active' || p.sensitive || p.death_date) continue;
    const child = p.birth_date > '2009-06-01';
    const rec = child
      ? {
          subject: 'child',
          nhsNumber: p.nhs_number,
          localId: `C-${n}`,
          familyName: p.family_name,
          givenNames: p.given_names,
          birthDate: p.birth_date,
          plans: [{ type: n % 3 ? 'CPP' : 'LAC', startDate: changed ? '2026-01-16' : '2026-01-15' }],
        }
      : p.gender === 'female' && p.birth_date < '2008-01-01'
        ? {
            subject: 'unborn',
            nhsNumber: p.nhs_number,
            familyName: p.family_name,
            givenNames: p.given_names,
            birthDate: p.birth_date,
            expectedDeliveryDate: '2027-03-01',
            plans: [{ type: 'UCPP', startDate: changed ? '2026-09-02' : '2026-09-01' }],
          }
        : null;
    if (!rec) continue;
    if (!out.write(`${n ? ',\n' : ''}${JSON.stringify(rec)}`)) await once(out, 'drain');
    n++;
  }
  out.end(']}\n');
  await once(out, 'finish');
  return { path, records: n };
}

/** The LA's client, forked once and ready before anything is timed (bench/upload-client.ts). */
async function startUploadClient(): Promise<{
  upload: (job: UploadJob) => Promise<{ fileCode: string; accepted: number; received: number }>;
  close: () => void;
}> {
  const child = forkScript('./upload-client.ts');
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`upload client exited with ${code}`)));
  });
  return {
    upload: (job) =>
      new Promise((resolve, reject) => {
        child.once('message', (m: UploadReply) => (m.ok ? resolve(m.ack) : reject(new Error(m.error))));
        child.once('exit', (code) => reject(new Error(`upload client exited with ${code}`)));
        child.send(job);
      }),
    close: () => child.disconnect(),
  };
}

/** Health queries (a clinician's CareTeam searches over `children`) for the load generator. */
async function healthQueries(service: Service, children: string[]): Promise<LoadRequest[]> {
  const persona: Persona = {
    kind: 'health-user',
    sdsUserId: '555900000001',
    name: 'Clinician A',
    jobRole: { code: 'R8000', display: 'Clinical Practitioner Access Role' },
    organisation: { odsCode: 'R1H12' },
    activities: ['B0107'],
  };
  const auth = `Bearer ${(await service.deps.demoTokens!.issue(persona, 24 * 3600)).access_token}`;
  return children.map((n) => ({
    path: `/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number%7C${n}`,
    headers: { authorization: auth },
  }));
}

export async function benchUpload(engines: Engine[], count: number): Promise<Record<string, number>> {
  const people = Math.ceil(count * 1.45);
  const file = await writeFile(count, people);
  const changedFile = await writeFile(count, people, true);
  console.log(
    `upload file: ${file.records.toLocaleString('en-GB')} records, ${(statSync(file.path).size / 1048576).toFixed(1)} MB`,
  );
  const rates: Record<string, number> = {};
  try {
    for (const engine of engines) {
      const { store, dataDir, cleanup } = await benchStore(engine);
      await loadDemoWorld(store.db, new Date(), { people, seed: SEED });
      const service = await startService({
        config: loadConfig({
          CPIS_MODE: 'demo',
          CPIS_LOG_LEVEL: 'warn',
          CPIS_RATE_LIMIT_PER_MINUTE: '0',
          CPIS_DATA_DIR: dataDir,
          PORT: '0',
        }),
        store,
        demoTokens: await DemoTokenService.ephemeral(),
        demoWorld: false,
      });
      const client = await startUploadClient();
      try {
        const token = (await service.deps.demoTokens!.issue({ kind: 'local-authority', laCode: 'E08000025' }))
          .access_token;
        const send = async (sequence: number, path = file.path) => {
          global.gc?.();
          const baseline = process.memoryUsage().rss;
          let peak = baseline;
          const sampler = setInterval(() => {
            peak = Math.max(peak, process.memoryUsage().rss);
          }, 50);
          const started = performance.now();
          const ack = await client.upload({
            url: `${service.url}/la/v1/uploads?sequence=${sequence}`,
            token,
            path,
          });
          const seconds = (performance.now() - started) / 1000;
          clearInterval(sampler);
          if (ack.accepted !== file.records)
            throw new Error(
              `expected every record accepted, got ${JSON.stringify({ ...ack, records: undefined })}`,
            );
          return { seconds, peak, baseline, ack };
        };
        // 1. The upload alone: its speed and memory.
        const alone = await send(1);
        rates[engine] = alone.ack.accepted / alone.seconds;
        console.log(
          `upload ${engine.padEnd(8)} ${alone.ack.accepted.toLocaleString('en-GB')} records in ${alone.seconds.toFixed(1)} s: ` +
            `${Math.round(rates[engine]).toLocaleString('en-GB')} records/s (${alone.ack.fileCode}); ` +
            `peak RSS ${(alone.peak / 1048576).toFixed(0)} MB (+${((alone.peak - alone.baseline) / 1048576).toFixed(0)} MB over the idle service)`,
        );
        // 2. Health queries without an upload (the reference), then all through a file changing every
        // record (each replaced: the most an upload's apply does).
        const children = (await benchChildren(store.db, londonDateOf(new Date()), 2000)).map(
          (c) => c.nhs_number,
        );
        const requests = await healthQueries(service, children);
        const load = { base: service.url!, requests, connections: 16, requestIds: true };
        const quiet = await runLoadgen({ ...load, warmupMs: 1000, durationMs: 3000 });
        console.log(line(`queries, no upload`, quiet));
        const during = startLoadgen({ ...load, warmupMs: 200, durationMs: 0, untilStopped: true });
        await during.measuring;
        // How long the service's own event loop was held while the file went in: queries wait for
        // that whatever the store does.
        const loop = monitorEventLoopDelay({ resolution: 5 });
        loop.enable();
        const sent = await send(2, changedFile.path);
        loop.disable();
        during.stop();
        const busy = await during.result;
        console.log(
          `upload ${engine.padEnd(8)} every record changed, under queries: ${sent.seconds.toFixed(1)} s`,
        );
        console.log(line(`queries during upload`, busy));
        console.log(
          `upload ${engine}: the service's event loop during the upload: delay p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, ` +
            `max ${(loop.max / 1e6).toFixed(1)} ms`,
        );
        // Which seconds of the upload were slow: a stall shows as a run of them.
        const slow = busy.perSecond.flatMap((s, i) => (s.p99 > 50 ? [`${i}s ${s.p99.toFixed(0)} ms`] : []));
        console.log(
          `upload ${engine}: seconds of the upload whose queries had p99 over 50 ms: ${slow.length} of ${busy.perSecond.length}` +
            (slow.length ? ` (${slow.join(', ')})` : ''),
        );
        console.log(
          `upload ${engine}: query p99 during the upload ${(busy.p99 / Math.max(0.01, quiet.p99)).toFixed(1)}x ` +
            `the p99 without it; throughput ${(busy.qps / Math.max(1, quiet.qps)).toFixed(2)}x`,
        );
      } finally {
        client.close();
        await service.stop();
        await cleanup();
      }
    }
  } finally {
    rmSync(file.path, { force: true });
    rmSync(changedFile.path, { force: true });
  }
  return rates;
}
