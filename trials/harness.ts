/**
 * What every crash trial needs: a seeded PRNG (so a run can be replayed), one service "world" per
 * flow and engine (a data directory and, on PostgreSQL, a database of its own) that a trial kills
 * with SIGKILL and starts again, and small HTTP helpers that talk to it as demo personas.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Persona } from '../src/auth/claims.ts';
import type { Engine } from '../src/store/db.ts';
import { killHard, type RunningService, startServiceProcess, stopGracefully } from '../test/processes.ts';

/** mulberry32: small, fast and the same on every machine. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    logInt: (lo, hi) => Math.round(Math.exp(Math.log(lo) + next() * (Math.log(hi) - Math.log(lo)))),
    pick: (list) => list[Math.floor(next() * list.length)]!,
  };
}

export interface Rng {
  /** [0, 1) */
  next(): number;
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  /**
   * An integer in [lo, hi] (lo > 0), as likely in [10, 100] as in [100, 1000]: kill delays, so a
   * trial lands inside short work on an idle machine and inside the same work slowed down on a busy one.
   */
  logInt(lo: number, hi: number): number;
  pick<T>(list: readonly T[]): T;
}

/** One seed per (run seed, flow, engine, trial), so each trial's draws do not depend on another's. */
export function trialSeed(seed: number, flow: string, engine: string, trial: number): number {
  let h = 2166136261 ^ seed;
  for (const ch of `${flow}/${engine}/${trial}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return h >>> 0;
}

/** TRIALS_DEBUG=1 prints where a trial's time goes. */
export function debug(line: string): void {
  if (process.env.TRIALS_DEBUG) console.error(`  [${new Date().toISOString().slice(11, 23)}] ${line}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where PostgreSQL databases come from: the trials' own server, or the test run's. */
export interface Engines {
  pgAdminUrl: string | null;
}

/**
 * A service that a flow's trials share: the same data directory (and database) across kills and
 * restarts, as a real deployment would have.
 */
export class World {
  service: RunningService | null = null;
  readonly #tokens = new Map<string, string>();
  #dbName: string | null = null;
  #previousOutput = '';

  private constructor(
    readonly engine: Engine,
    readonly env: NodeJS.ProcessEnv,
    readonly dataDir: string,
    private readonly pgAdminUrl: string | null,
  ) {}

  static async create(engine: Engine, engines: Engines, env: NodeJS.ProcessEnv): Promise<World> {
    const dataDir = mkdtempSync(join(tmpdir(), 'cpis-trial-'));
    let databaseUrl = '';
    let dbName: string | null = null;
    if (engine === 'postgres') {
      if (!engines.pgAdminUrl) throw new Error('the postgres engine needs a PostgreSQL server');
      dbName = `trial_${randomBytes(5).toString('hex')}`;
      const admin = new pg.Client({ connectionString: engines.pgAdminUrl });
      await admin.connect();
      await admin.query(`create database ${dbName}`);
      await admin.end();
      databaseUrl = engines.pgAdminUrl.replace(/\/postgres$/, `/${dbName}`);
    }
    const world = new World(
      engine,
      { CPIS_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, CPIS_LOG_LEVEL: 'error', ...env },
      dataDir,
      engines.pgAdminUrl,
    );
    world.#dbName = dbName;
    return world;
  }

  get url(): string {
    if (!this.service) throw new Error('the service is not running');
    return this.service.url;
  }

  async start(): Promise<void> {
    const t0 = Date.now();
    if (this.service) this.#previousOutput = this.service.output();
    this.service = await startServiceProcess(this.env);
    debug(`service up in ${Date.now() - t0} ms`);
  }

  /** SIGKILL: no shutdown code runs. */
  async kill(): Promise<void> {
    if (this.service) await killHard(this.service);
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** The last lines the service wrote (for a report when something goes wrong). */
  tail(lines = 20): string {
    const last = (s: string) => s.trim().split('\n').slice(-lines).join('\n');
    return `[killed process]\n${last(this.#previousOutput)}\n[restarted process]\n${last(this.service?.output() ?? '')}`;
  }

  /** Stop the service; with `keep` the data (directory, database) stays for a look afterwards. */
  async close(keep = false): Promise<void> {
    if (this.service) await stopGracefully(this.service);
    this.service = null;
    if (keep) {
      console.log(`kept: CPIS_DATA_DIR=${this.dataDir} DATABASE_URL=${this.env.DATABASE_URL ?? ''}`);
      return;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
    if (this.#dbName && this.pgAdminUrl) {
      const admin = new pg.Client({ connectionString: this.pgAdminUrl });
      await admin.connect();
      await admin.query(`drop database if exists ${this.#dbName} with (force)`).finally(() => admin.end());
    }
  }

  /** A demo token for the persona; the signing key lives in the data directory, so it outlives restarts. */
  async token(persona: Persona): Promise<string> {
    const key = JSON.stringify(persona);
    const cached = this.#tokens.get(key);
    if (cached) return cached;
    const res = await fetch(`${this.url}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(persona),
    });
    if (!res.ok) throw new Error(`/dev/token answered ${res.status}: ${await res.text()}`);
    const token = ((await res.json()) as { access_token: string }).access_token;
    this.#tokens.set(key, token);
    return token;
  }

  /** Call as a persona, JSON in and out; throws on a network failure (the caller decides what that means). */
  async call(
    persona: Persona,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await this.token(persona)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Json = { text };
    try {
      parsed = JSON.parse(text) as Json;
    } catch {}
    return { status: res.status, body: parsed };
  }

  /** Like call, but anything other than 2xx is an error. */
  async ok(persona: Persona, method: string, path: string, body?: unknown): Promise<Json> {
    const r = await this.call(persona, method, path, body);
    if (r.status < 200 || r.status > 299)
      throw new Error(`${method} ${path} answered ${r.status}: ${JSON.stringify(r.body).slice(0, 400)}`);
    return r.body;
  }

  /** Set the service clock (which also makes the scheduler tick). */
  async setClock(iso: string): Promise<void> {
    const res = await fetch(`${this.url}/dev/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ now: iso }),
    });
    if (!res.ok) throw new Error(`/dev/clock answered ${res.status}`);
  }

  /** GET /admin/v1/audit/verify: null when the chain is intact, else what is wrong. */
  async auditProblem(): Promise<string | null> {
    const r = await this.call(ADMIN, 'GET', '/admin/v1/audit/verify');
    if (r.status !== 200) return `audit verify answered ${r.status}`;
    return r.body.ok === true ? null : `audit chain broken: ${JSON.stringify(r.body)}`;
  }
}

export const ADMIN: Persona = { kind: 'admin' };
export const la = (laCode: string): Persona => ({ kind: 'local-authority', laCode });

/** A health user who can be told apart in the notifications: the SDS user id is unique per look-up. */
export function clinician(sdsUserId: string): Persona {
  return {
    kind: 'health-user',
    sdsUserId,
    name: `Trial Clinician ${sdsUserId.slice(-6)}`,
    jobRole: { code: 'R8000', display: 'Clinical Practitioner Access Role' },
    organisation: { odsCode: 'R1H12' },
    activities: ['B0107'],
  };
}

/** London is on UTC in January and February, where every trial's dates fall. */
export function dayOf(base: string, days: number): string {
  const d = new Date(`${base}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** A JSON object as the service answers it; callers say what they expect of its fields. */
export type Json = Record<string, unknown>;

export interface MailboxMessage {
  id: string;
  type: string;
  [k: string]: unknown;
}

/**
 * Read (and then acknowledge) every unacknowledged message in an LA's mailbox. Acknowledged
 * messages leave the listing, so each trial reads only what arrived since the last one.
 */
export async function drainMailbox(world: World, laCode: string): Promise<MailboxMessage[]> {
  const out: MailboxMessage[] = [];
  const seen = new Set<string>();
  for (;;) {
    const list = (await world.ok(la(laCode), 'GET', '/la/v1/mailbox?limit=500')).messages as {
      id: string;
    }[];
    const fresh = list.filter((m) => !seen.has(m.id));
    if (fresh.length === 0) break;
    for (const m of fresh) {
      seen.add(m.id);
      out.push((await world.ok(la(laCode), 'GET', `/la/v1/mailbox/${m.id}`)) as MailboxMessage);
      await world.ok(la(laCode), 'PUT', `/la/v1/mailbox/${m.id}/acknowledged`);
    }
  }
  return out;
}
