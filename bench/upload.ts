/**
 * One upload of 250,000 records (the whole national cohort) through HTTP into a running service,
 * on each engine: records per second, and the process's peak memory while it runs.
 */

import { once } from 'node:events';
import { createReadStream, createWriteStream, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService } from '../src/app.ts';
import { DemoTokenService } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config.ts';
import { generatePopulation } from '../src/demo/population.ts';
import { loadDemoWorld } from '../src/demo/world.ts';
import type { Engine } from '../src/store/db.ts';
import { benchStore } from './engines.ts';

const SEED = 20261122;

/** Write an upload file of `count` matching records; returns its path and how many it holds. */
async function writeFile(count: number, people: number): Promise<{ path: string; records: number }> {
  const path = join(tmpdir(), `cpis-bench-upload-${process.pid}.json`);
  const out = createWriteStream(path);
  out.write('{"sequence":1,"mode":"delta","records":[\n');
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
          plans: [{ type: n % 3 ? 'CPP' : 'LAC', startDate: '2026-01-15' }],
        }
      : p.gender === 'female' && p.birth_date < '2008-01-01'
        ? {
            subject: 'unborn',
            nhsNumber: p.nhs_number,
            familyName: p.family_name,
            givenNames: p.given_names,
            birthDate: p.birth_date,
            expectedDeliveryDate: '2027-03-01',
            plans: [{ type: 'UCPP', startDate: '2026-09-01' }],
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

export async function benchUpload(engines: Engine[], count: number): Promise<Record<string, number>> {
  const people = Math.ceil(count * 1.45);
  const file = await writeFile(count, people);
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
      try {
        const token = (await service.deps.demoTokens!.issue({ kind: 'local-authority', laCode: 'E08000025' }))
          .access_token;
        global.gc?.();
        const baseline = process.memoryUsage().rss;
        let peak = baseline;
        const sampler = setInterval(() => {
          peak = Math.max(peak, process.memoryUsage().rss);
        }, 50);
        const started = performance.now();
        const res = await fetch(`${service.url}/la/v1/uploads`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: createReadStream(file.path) as unknown as ReadableStream,
          duplex: 'half',
        } as RequestInit);
        const ack = (await res.json()) as { fileCode: string; accepted: number; received: number };
        const seconds = (performance.now() - started) / 1000;
        clearInterval(sampler);
        if (ack.accepted !== file.records)
          throw new Error(
            `expected every record accepted, got ${JSON.stringify({ ...ack, records: undefined })}`,
          );
        rates[engine] = ack.accepted / seconds;
        console.log(
          `upload ${engine.padEnd(8)} ${ack.accepted.toLocaleString('en-GB')} records in ${seconds.toFixed(1)} s: ` +
            `${Math.round(rates[engine]).toLocaleString('en-GB')} records/s (${ack.fileCode}); ` +
            `peak RSS ${(peak / 1048576).toFixed(0)} MB (+${((peak - baseline) / 1048576).toFixed(0)} MB over the idle service)`,
        );
      } finally {
        await service.stop();
        await cleanup();
      }
    }
  } finally {
    rmSync(file.path, { force: true });
  }
  return rates;
}
