/**
 * The two commands a newcomer runs, for real: `cpis serve` as a separate process on the embedded
 * store and on PostgreSQL, answering /healthz and serving the demo world, with the CLI talking to
 * it over HTTP.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { engines } from '../test/engines.ts';
import { freePort } from '../tools/pg-server.ts';

interface Running {
  url: string;
  child: ChildProcess;
  output: () => string;
  env: NodeJS.ProcessEnv;
}

async function serve(env: NodeJS.ProcessEnv): Promise<Running> {
  const port = await freePort();
  const fullEnv = {
    ...process.env,
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
    CPIS_DEMO_PEOPLE: '300',
    CPIS_LOG_LEVEL: 'warn',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited early:\n${out}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`service did not become healthy:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, output: () => out, env: fullEnv };
}

async function stop(r: Running): Promise<number | null> {
  if (r.child.exitCode !== null) return r.child.exitCode;
  r.child.kill('SIGTERM');
  return new Promise((resolve) => r.child.on('exit', (code) => resolve(code)));
}

async function adminToken(url: string): Promise<string> {
  const res = await fetch(`${url}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"kind":"admin"}',
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

describe.each(engines())('cpis serve on %s', (engine) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('starts, answers /healthz, serves the demo world, takes a directory import over HTTP and stops cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cpis-e2e-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    let databaseUrl = '';
    if (engine === 'postgres') {
      const name = `e2e_${process.pid}_${Date.now() % 100000}`;
      const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
      await admin.connect();
      await admin.query(`create database ${name}`);
      await admin.end();
      databaseUrl = inject('pgAdminUrl').replace(/\/postgres$/, `/${name}`);
    }
    const r = await serve({ CPIS_DATA_DIR: dataDir, DATABASE_URL: databaseUrl });
    cleanups.push(async () => {
      await stop(r);
    });

    expect(await (await fetch(`${r.url}/healthz`)).json()).toEqual({ status: 'ok', store: engine });
    const token = await adminToken(r.url);
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

    expect(await stop(r)).toBe(0);
  }, 120_000);
});
