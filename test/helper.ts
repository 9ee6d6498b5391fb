/**
 * Tests drive the real service through HTTP (`inject`, no sockets) and read as "as this user, do
 * that": `t.as(admin).put('/admin/v1/...', body)`. Each test app has its own fresh database on
 * the engine asked for, its own clock (fixed at a known instant) and an in-memory signing key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { expect } from 'vitest';
import { type Service, startService } from '../src/app.ts';
import type { Persona } from '../src/auth/claims.ts';
import { DemoTokenService } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config.ts';
import type { DemographicsService } from '../src/demographics/types.ts';
import { SettableClock } from '../src/domain/clock.ts';
import { nextValidNhsNumber } from '../src/domain/nhs-number.ts';
import type { Engine } from '../src/store/db.ts';
import { openTestStore } from './engines.ts';

export const T0 = new Date('2026-11-20T10:00:00Z');

/**
 * Valid NHS numbers from the test range, one after another from `start` (nine digits, 999…), so
 * that each test file's children never share a number with another file's.
 */
export function nhsNumbersFrom(start: number): () => string {
  let nine = start;
  return () => {
    const r = nextValidNhsNumber(nine);
    nine = r.nextNine;
    return r.nhsNumber;
  };
}

export const admin: Persona = { kind: 'admin' };
export const la = (laCode: string): Persona => ({ kind: 'local-authority', laCode });
export const clinician = (over: Partial<Extract<Persona, { kind: 'health-user' }>> = {}): Persona => ({
  kind: 'health-user',
  sdsUserId: '555000000101',
  name: 'Dr Priya Shah',
  jobRole: { code: 'R8000', display: 'Clinical Practitioner Access Role' },
  organisation: { odsCode: 'R1H12' },
  activities: ['B0107'],
  ...over,
});
export const pasSystem = (over: Partial<Extract<Persona, { kind: 'health-system' }>> = {}): Persona => ({
  kind: 'health-system',
  asid: '200000001234',
  organisation: { odsCode: 'RJE01' },
  responsiblePerson: {
    name: 'Sam Reed',
    jobRole: { code: 'R8003', display: 'Health Professional Access Role' },
  },
  activities: ['B0107'],
  ...over,
});

type Body = InjectOptions['payload'];
export interface Caller {
  get(url: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  put(url: string, body?: Body, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  post(url: string, body?: Body, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  inject(opts: InjectOptions): Promise<LightMyRequestResponse>;
}

export interface TestApp {
  readonly engine: Engine;
  readonly service: Service;
  readonly clock: SettableClock;
  readonly tokens: DemoTokenService;
  /** Calls made with a token for this persona. */
  as(persona: Persona): Caller;
  /** Calls made with no token at all. */
  anonymous: Caller;
  tokenFor(persona: Persona): Promise<string>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  mode?: 'demo' | 'production';
  demoWorld?: boolean;
  demoPeople?: number;
  demographics?: DemographicsService;
  env?: Record<string, string>;
  /** Run the scheduler (default true); off, nothing runs in the background and tests tick it themselves. */
  scheduler?: boolean;
  /** Listen on a free loopback port (for browser tests); `service.url` is then its address. */
  listen?: boolean;
  /** The service's logger (default: the configured one, silent). */
  logger?: Logger;
}

export async function buildTestApp(engine: Engine, opts: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cpis-app-'));
  const config = loadConfig({
    CPIS_MODE: opts.mode ?? 'demo',
    CPIS_LOG_LEVEL: 'silent',
    CPIS_DATA_DIR: dataDir,
    CPIS_DEMO_PEOPLE: String(opts.demoPeople ?? 200),
    // Tests make thousands of calls as one client: the rate limit and back-pressure have their own tests.
    CPIS_RATE_LIMIT_PER_MINUTE: '0',
    CPIS_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...(opts.listen ? { PORT: '0', HOST: '127.0.0.1' } : {}),
    ...(opts.mode === 'production'
      ? {
          CPIS_AUTH_ISSUER: 'https://auth.example.nhs.uk',
          CPIS_AUTH_JWKS_URL: 'https://auth.example.nhs.uk/jwks',
        }
      : {}),
    ...opts.env,
  });
  const store = await openTestStore(engine);
  const clock = new SettableClock(T0);
  const tokens = await DemoTokenService.ephemeral();
  const service = await startService({
    config,
    store,
    clock,
    demoTokens: tokens,
    listen: opts.listen ?? false,
    demoWorld: opts.demoWorld ?? false,
    // The scheduler runs at start-up and when a test calls tick(): never on a timer or a clock
    // change in the background, where its work would land in the middle of a test.
    schedulerIntervalMs: 3_600_000,
    tickOnClockChange: false,
    scheduler: opts.scheduler ?? true,
    ...(opts.demographics ? { demographics: opts.demographics } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  // Let the start-up tick (yesterday's batches, retention) finish before any test begins, so
  // its messages do not land in the middle of one (as a heartbeat once did, onto a webhook).
  await service.scheduler.tick();
  const cache = new Map<string, string>();
  const tokenFor = async (p: Persona) => {
    const key = JSON.stringify(p);
    let t = cache.get(key);
    if (!t) {
      t = (await tokens.issue(p)).access_token;
      cache.set(key, t);
    }
    return t;
  };
  const caller = (auth: () => Promise<Record<string, string>>): Caller => {
    const inject = async (o: InjectOptions) =>
      service.http.inject({ ...o, headers: { ...(await auth()), ...(o.headers as Record<string, string>) } });
    return {
      inject,
      get: (url, headers = {}) => inject({ method: 'GET', url, headers }),
      put: (url, body, headers = {}) => inject({ method: 'PUT', url, payload: body, headers }),
      post: (url, body, headers = {}) => inject({ method: 'POST', url, payload: body, headers }),
    };
  };
  return {
    engine,
    service,
    clock,
    tokens,
    tokenFor,
    as: (p) => caller(async () => ({ authorization: `Bearer ${await tokenFor(p)}` })),
    anonymous: caller(async () => ({})),
    async close() {
      await service.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The first issue of an OperationOutcome response, for assertions. */
export function issueOf(res: LightMyRequestResponse): {
  code: string;
  spineCode?: string;
  field?: string;
  text: string;
} {
  const body = res.json();
  expect(body.resourceType).toBe('OperationOutcome');
  const issue = body.issue[0];
  return {
    code: issue.code,
    spineCode: issue.details?.coding?.[0]?.code,
    field: issue.expression?.[0],
    text: issue.diagnostics,
  };
}
