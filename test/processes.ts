/**
 * Running the real service as a separate process (for crash and start-up tests): start it, wait
 * until /healthz answers, kill it hard or stop it, and ask it for demo tokens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Persona } from '../src/auth/claims.ts';
import type { Engine } from '../src/store/db.ts';
import { freePort } from '../tools/pg-server.ts';

export interface RunningService {
  url: string;
  child: ChildProcess;
  env: NodeJS.ProcessEnv;
  output(): string;
}

export async function startServiceProcess(env: NodeJS.ProcessEnv): Promise<RunningService> {
  const port = await freePort();
  const fullEnv = {
    ...process.env,
    CPIS_LOG_LEVEL: 'warn',
    CPIS_DEMO_PEOPLE: '300',
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
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
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited early:\n${out}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`service did not become healthy:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child, env: fullEnv, output: () => out };
}

/** SIGKILL: no shutdown code runs, as in a power cut of the process. */
export async function killHard(s: RunningService): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGKILL');
  await exited;
}

export async function stopGracefully(s: RunningService): Promise<number | null> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return s.child.exitCode;
  const exited = new Promise<number | null>((r) => s.child.once('exit', (code) => r(code)));
  s.child.kill('SIGTERM');
  return exited;
}

export async function demoToken(url: string, persona: Persona): Promise<string> {
  const res = await fetch(`${url}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(persona),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

/** An empty database for a service process on this engine ('' for PGlite: the data directory holds it). */
export async function freshDatabaseUrl(engine: Engine): Promise<string> {
  if (engine === 'pglite') return '';
  const name = `p_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return inject('pgAdminUrl').replace(/\/postgres$/, `/${name}`);
}

/** Call a running service as a demo persona, JSON in and out. */
export async function callAs(
  url: string,
  persona: Persona,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await demoToken(url, persona)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
