/**
 * A real service process killed in the middle of applying an upload: afterwards nothing of that
 * file is in the store (one file, one transaction), and an upload acknowledged before the crash is
 * all still there.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generatePopulation } from '../src/demo/population.ts';
import { engines } from '../test/engines.ts';
import {
  callAs,
  demoToken,
  freshDatabaseUrl,
  killHard,
  type RunningService,
  startServiceProcess,
  stopGracefully,
} from '../test/processes.ts';

const PEOPLE = 12_000;
const SEED = 7;

/** Records for the generated children, matching demographics exactly. */
function records(): unknown[] {
  const out: unknown[] = [];
  for (const p of generatePopulation(PEOPLE, SEED)) {
    if (p.status !== 'active' || p.sensitive || p.death_date || p.birth_date < '2009-06-01') continue;
    out.push({
      subject: 'child',
      nhsNumber: p.nhs_number,
      familyName: p.family_name,
      givenNames: p.given_names,
      birthDate: p.birth_date,
      plans: [{ type: 'CPP', startDate: '2026-01-01' }],
    });
  }
  return out;
}

describe.each(engines())('killing the service mid-upload on %s', (engine) => {
  const running: RunningService[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'cpis-crash-'));
  afterAll(async () => {
    for (const r of running) await stopGracefully(r);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves nothing of the interrupted file and everything of the acknowledged one', async () => {
    const env = {
      CPIS_DATA_DIR: dataDir,
      DATABASE_URL: await freshDatabaseUrl(engine),
      CPIS_DEMO_PEOPLE: String(PEOPLE),
      CPIS_DEMO_SEED: String(SEED),
    };
    const first = await startServiceProcess(env);
    running.push(first);
    const recs = records();
    expect(recs.length).toBeGreaterThan(3000);
    const send = async (url: string, laCode: string) =>
      fetch(`${url}/la/v1/uploads`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await demoToken(url, { kind: 'local-authority', laCode })}`,
        },
        body: JSON.stringify({ sequence: 1, records: recs }),
      });

    // Birmingham's upload completes and is acknowledged.
    const acked = await send(first.url, 'E08000025');
    expect(acked.status).toBe(200);
    expect(((await acked.json()) as { accepted: number }).accepted).toBe(recs.length);

    // Sandwell sends the same file; the process dies once part of it is written. The demo fault
    // holds the upload there, inside its transaction, so the kill lands mid-file every time.
    await fetch(`${first.url}/dev/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uploads: 'hold-mid-file' }),
    });
    const interrupted = send(first.url, 'E08000028').then(
      (r) => `answered ${r.status}`,
      () => 'no answer',
    );
    let held = 0;
    for (let i = 0; i < 1200 && held === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      held = ((await (await fetch(`${first.url}/dev/faults`)).json()) as { uploadsHeld: number }).uploadsHeld;
    }
    expect(held).toBe(1);
    await killHard(first);
    expect(await interrupted).toBe('no answer');

    const spools = () => readdirSync(tmpdir()).filter((f) => f.startsWith(`cpis-upload-${first.child.pid}-`));
    expect(spools()).toHaveLength(1);
    const second = await startServiceProcess(env);
    running.push(second);
    // The dead process's copy of the file is removed when the service starts again.
    expect(spools()).toEqual([]);
    const dq = async (laCode: string) => {
      const la = { kind: 'local-authority', laCode } as const;
      return {
        dq: (await callAs(second.url, la, 'GET', '/la/v1/data-quality')).body as {
          records: { subjects: number };
          uploads: unknown[];
        },
        // Only acknowledgements: a daily LA's heartbeat may also be there, depending on the hour.
        acknowledgements: (
          (await callAs(second.url, la, 'GET', '/la/v1/mailbox')).body.messages as { type: string }[]
        ).filter((m) => m.type === 'upload-acknowledgement'),
      };
    };
    const sandwell = await dq('E08000028');
    expect(sandwell.dq.records.subjects).toBe(0);
    expect(sandwell.dq.uploads).toEqual([]);
    expect(sandwell.acknowledgements).toEqual([]);
    const birmingham = await dq('E08000025');
    expect(birmingham.dq.records.subjects).toBe(recs.length);
    expect(birmingham.acknowledgements).toHaveLength(1);

    // The interrupted file can simply be sent again.
    const retry = await send(second.url, 'E08000028');
    expect(((await retry.json()) as { accepted: number }).accepted).toBe(recs.length);
  }, 240_000);
});
