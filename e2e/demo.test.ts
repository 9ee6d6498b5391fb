/** `cpis demo` against a real service process: the storyboards play through and show what each person sees. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningService, startServiceProcess, stopGracefully } from '../test/processes.ts';

describe('cpis demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'cpis-demo-'));
  let service: RunningService | null = null;
  afterAll(async () => {
    if (service) await stopGracefully(service);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('plays Johnny, Lucy, Tracy and the flood, and gives the clock back', async () => {
    service = await startServiceProcess({
      CPIS_DATA_DIR: dataDir,
      DATABASE_URL: '',
      CPIS_DEMO_PEOPLE: '100',
    });
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--url', service.url],
      {
        env: service.env,
        encoding: 'utf8',
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = run.stdout;
    // The registration clerk sees the plan and whom to ring, in hours and out of hours.
    expect(out).toMatch(
      /! SUBJECT TO CHILD PROTECTION PLAN from \d{4}-\d{2}-\d{2}\n\s+London Borough of Tower Hamlets: office hours 020 7946 0500, out of hours \(EDT\) 07700 900 109/,
    );
    expect(out).toMatch(/! LOOKED AFTER CHILD/);
    // The midwife's manual search finds the unborn child's plan on the 19-year-old mother's record.
    expect(out).toMatch(
      /! UNBORN CHILD SUBJECT TO CHILD PROTECTION PLAN .*\n\s+Birmingham City Council: office hours 0121 496 0500/,
    );
    // The social workers see readable places and people, and the birth.
    expect(out).toMatch(
      /at The Royal London Hospital Emergency Department, Emergency department, Barts Health NHS Trust, London, tel 020 7946 0101/,
    );
    expect(out).toMatch(
      /at Whipps Cross University Hospital Maternity Unit, Maternity unit, Barts Health NHS Trust/,
    );
    expect(out).toMatch(/Birmingham receives a birth message:\n\s+A baby has been born to 9990000026/);
    expect(out).toMatch(/Birmingham ends the UCPP and uploads a CPP for the baby: CPF02 \(2\/2 accepted\)/);
    // The flood is one episode of five look-ups.
    expect(out).toMatch(/Episode: Mason James HUGHES \(9990000069\), 5 look-ups/);
    expect(out).toMatch(
      /\[NHS 111\][\s\S]*\[Ambulance service\][\s\S]*\[Ambulance service\][\s\S]*\[Emergency department\][\s\S]*\[Paediatric ward\]/,
    );
    const clock = (await (await fetch(`${service.url}/dev/clock`)).json()) as { now: string; fixed: boolean };
    expect(clock.fixed).toBe(false);
  }, 180_000);
});
