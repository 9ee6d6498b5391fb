/**
 * The two commands a newcomer runs, for real: `cpis serve` as a separate process on the embedded
 * store and on PostgreSQL, answering /healthz and serving the demo world, with the CLI talking to
 * it over HTTP.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { engines } from '../test/engines.ts';
import { demoToken, freshDatabaseUrl, startServiceProcess, stopGracefully } from '../test/processes.ts';

describe.each(engines())('cpis serve on %s', (engine) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('starts, answers /healthz, serves the demo world, takes a directory import over HTTP and stops cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cpis-e2e-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const r = await startServiceProcess({
      CPIS_DATA_DIR: dataDir,
      DATABASE_URL: await freshDatabaseUrl(engine),
    });
    cleanups.push(async () => {
      await stopGracefully(r);
    });

    expect(await (await fetch(`${r.url}/healthz`)).json()).toEqual({ status: 'ok', store: engine });
    const token = await demoToken(r.url, { kind: 'admin' });
    const auth = { authorization: `Bearer ${token}` };
    const ed = await (await fetch(`${r.url}/admin/v1/organisations/R1H12`, { headers: auth })).json();
    expect(ed).toMatchObject({ odsCode: 'R1H12', setting: 'emergency-department', parentOdsCode: 'R1H' });
    const johnny = await (await fetch(`${r.url}/admin/v1/demographics/9990000018`, { headers: auth })).json();
    expect(johnny).toMatchObject({ familyName: 'SMITH', givenNames: ['Johnny'], birthDate: '2021-05-02' });
    const las = (await (await fetch(`${r.url}/admin/v1/local-authorities`, { headers: auth })).json()) as {
      localAuthorities: unknown[];
    };
    expect(las.localAuthorities.length).toBeGreaterThanOrEqual(20);

    const cli = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'directory', 'import', 'e2e/fixtures/etr.csv', '--url', r.url],
      {
        env: r.env,
        encoding: 'utf8',
      },
    );
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(
      /etr\.csv \(trusts\): 2 created, 1 updated, 1 closed skipped, 0 rows unreadable/,
    );
    const rqw = await (await fetch(`${r.url}/admin/v1/organisations/RQW`, { headers: auth })).json();
    expect(rqw).toMatchObject({
      name: 'The Princess Alexandra Hospital NHS Trust',
      setting: 'trust',
      town: 'Harlow',
    });
    // The import names Barts from ODS but keeps the switchboard number the directory already had.
    const barts = await (await fetch(`${r.url}/admin/v1/organisations/R1H`, { headers: auth })).json();
    expect(barts).toMatchObject({
      name: 'Barts Health NHS Trust',
      phone: '020 7946 0100',
      postcode: 'E1 2ES',
    });

    // The README's upload examples, sent with `cpis upload`.
    const up = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'upload', ...args, '--url', r.url], {
        env: r.env,
        encoding: 'utf8',
      });
    const json = up(['examples/upload.json', '--la', 'E08000025']);
    expect(json.stdout).toMatch(
      /^sequence 7 \(delta\): CPF03 some records accepted - 4 received, 3 accepted, 1 rejected/,
    );
    expect(json.stdout).toMatch(/#3 9990000077 CPR02/);
    expect(json.status).toBe(2);
    const csv = up(['examples/upload.csv', '--sequence', '1', '--la', 'E09000030']);
    expect(csv.stdout).toMatch(
      /^sequence 1 \(delta\): CPF03 some records accepted - 3 received, 2 accepted, 1 rejected/,
    );
    expect(csv.stdout).toMatch(/#2 9990000085 CPR05: .* \(replacement 9990000093\)/);
    const replay = up(['examples/upload.csv', '--sequence', '1', '--la', 'E09000030']);
    expect(replay.stdout).toBe(csv.stdout);
    const noLa = up(['examples/upload.json']);
    expect(noLa.stderr).toMatch(/say which local authority/);

    expect(await stopGracefully(r)).toBe(0);
  }, 120_000);
});
