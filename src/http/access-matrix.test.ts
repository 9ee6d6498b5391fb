/**
 * The access matrix: every route the service registers (read from its own route table, so a new
 * route cannot be missed), called by every kind of caller, on a demo-mode and a production-mode
 * service. What each cell must answer comes from one table below, keyed by `METHOD url`; a route
 * without an entry fails the test by name. Besides each cell's status, every cell is held to rules
 * that do not depend on the table: a caller the route's declaration does not allow never gets a 2xx,
 * nothing answers 5xx, every API refusal is an OperationOutcome, and refusals are audited.
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, buildTestApp, nhsNumbersFrom, T0, type TestApp } from '../../test/helper.ts';
import {
  authorizationFor,
  type LocalIssuer,
  localIssuer,
  OWN_LA,
  PERSONA_NAMES,
  type PersonaName,
  type Signer,
  signerOf,
  TOKEN_PERSONAS,
} from '../../test/personas.ts';
import { johnnyCpp } from '../../test/storyboard.ts';
import type { PrincipalKind } from '../auth/principal.ts';
import type { Allow } from './auth.ts';

type Mode = 'demo' | 'production';
/** Whom the table says a route is for (checked against the route's own declaration). */
type For = 'public' | 'session' | 'admin' | 'la' | 'health';

const KINDS: Record<'admin' | 'la' | 'health', readonly PrincipalKind[]> = {
  admin: ['admin'],
  la: ['local-authority'],
  health: ['health-user', 'health-system'],
};

/** What one service holds for the matrix to ask about (made by `seed`). */
interface World {
  episodeId: string;
  episodeVersion: number;
  messageId: string;
  person: string;
  toSupersede: string;
  replacement: string;
  toInvalidate: string;
  baby: string;
}

interface Call {
  /** For routes registered with all(): the method to call them with. */
  method?: string;
  url: string;
  payload?: unknown;
  headers?: Record<string, string>;
}

interface Entry {
  for: For;
  call: (w: World) => Call;
  /** The status a caller the route is for gets (per mode when they differ). */
  ok: number | Record<Mode, number>;
  /** Personas answered otherwise than the rule for `for` says. */
  except?: Partial<Record<PersonaName, number>>;
  /** Registered in demo mode only: every call is 404 in production mode. */
  demoOnly?: true;
  /** Where a redirect must lead. */
  location?: RegExp;
  /** Why a 5xx is the right answer here (nowhere else may one appear). */
  serverError?: string;
  /** A refusal of another LA (404) that the service writes to the audit trail as access-denied. */
  auditsOtherLa?: true;
}

const SYS = 'https://fhir.nhs.uk/Id/nhs-number';
const JOHNNY = johnnyCpp.nhsNumber;
const SIGN_IN = /^\/sign-in\?timedOut=0(&returnTo=|$)/;
const json = { 'content-type': 'application/json' };
const form = { 'content-type': 'application/x-www-form-urlencoded' };
const fhir = () => ({ 'x-request-id': randomUUID() });
const NO_SIGN_IN = 'production without CPIS_OIDC_ISSUER: portal sign-in is turned off, and the page says so';
const NO_CHECKPOINT_KEY = 'production without CPIS_CHECKPOINT_KEY_FILE publishes no checkpoints, and says so';
/** A portal page that needs a signed-in person: a bearer token signs no one in. */
const page = (url: string, method?: string): Entry => ({
  for: 'session',
  call: () => (method ? { url, payload: 'x=1', headers: form } : { url }),
  ok: 303,
  location: SIGN_IN,
});

/** THE table: every route of the service, and what each kind of caller gets from it. */
const TABLE: Record<string, Entry> = {
  'GET /healthz': { for: 'public', call: () => ({ url: '/healthz' }), ok: 200 },
  'GET /.well-known/jwks.json': { for: 'public', call: () => ({ url: '/.well-known/jwks.json' }), ok: 200 },
  'GET /openapi.json': { for: 'public', call: () => ({ url: '/openapi.json' }), ok: 200 },

  'POST /dev/token': {
    for: 'public',
    demoOnly: true,
    call: () => ({ url: '/dev/token', payload: { kind: 'admin' }, headers: json }),
    ok: 200,
  },
  'GET /dev/clock': { for: 'public', demoOnly: true, call: () => ({ url: '/dev/clock' }), ok: 200 },
  'POST /dev/clock': {
    for: 'public',
    demoOnly: true,
    // Sets the clock to where the tests keep it, so the calls change nothing.
    call: () => ({ url: '/dev/clock', payload: { now: T0.toISOString() }, headers: json }),
    ok: 200,
  },
  'GET /dev/faults': { for: 'public', demoOnly: true, call: () => ({ url: '/dev/faults' }), ok: 200 },
  'POST /dev/faults': {
    for: 'public',
    demoOnly: true,
    call: () => ({ url: '/dev/faults', payload: { demographics: 'available' }, headers: json }),
    ok: 200,
  },

  'PUT /admin/v1/demographics/:nhsNumber': {
    for: 'admin',
    call: (w) => ({
      url: `/admin/v1/demographics/${w.person}`,
      payload: { familyName: 'MATRIX', givenNames: ['Ada'], birthDate: '2015-06-01' },
      headers: json,
    }),
    ok: 201,
  },
  'GET /admin/v1/demographics/:nhsNumber': {
    for: 'admin',
    call: () => ({ url: `/admin/v1/demographics/${JOHNNY}` }),
    ok: 200,
  },
  'POST /admin/v1/demographics/:nhsNumber/supersede': {
    for: 'admin',
    call: (w) => ({
      url: `/admin/v1/demographics/${w.toSupersede}/supersede`,
      payload: { newNhsNumber: w.replacement },
      headers: json,
    }),
    ok: 200,
  },
  'POST /admin/v1/demographics/:nhsNumber/invalidate': {
    for: 'admin',
    call: (w) => ({ url: `/admin/v1/demographics/${w.toInvalidate}/invalidate` }),
    ok: 200,
  },
  'POST /admin/v1/births': {
    for: 'admin',
    call: (w) => ({
      url: '/admin/v1/births',
      payload: {
        motherNhsNumber: '9990000026',
        nhsNumber: w.baby,
        familyName: 'JONES',
        givenNames: ['Baby'],
        birthDate: '2026-11-19',
      },
      headers: json,
    }),
    ok: 201,
  },
  'PUT /admin/v1/organisations/:odsCode': {
    for: 'admin',
    call: () => ({
      url: '/admin/v1/organisations/RXX99',
      payload: { name: 'Matrix Walk-in Centre', setting: 'walk-in-centre' },
      headers: json,
    }),
    ok: 201,
  },
  'GET /admin/v1/organisations/:odsCode': {
    for: 'admin',
    call: () => ({ url: '/admin/v1/organisations/R1H12' }),
    ok: 200,
  },
  'GET /admin/v1/organisations': { for: 'admin', call: () => ({ url: '/admin/v1/organisations' }), ok: 200 },
  'POST /admin/v1/organisations/import': {
    for: 'admin',
    call: () => ({
      url: '/admin/v1/organisations/import',
      payload: { organisations: [{ odsCode: 'RXX98', name: 'Matrix Clinic', setting: 'other' }] },
      headers: json,
    }),
    ok: 200,
  },
  'PUT /admin/v1/local-authorities/:laCode': {
    for: 'admin',
    call: () => ({
      url: '/admin/v1/local-authorities/E06000099',
      payload: {
        name: 'Matrix Borough Council',
        officeHoursPhone: '020 7946 0000',
        emergencyDutyPhone: '020 7946 0001',
      },
      headers: json,
    }),
    ok: 201,
  },
  'GET /admin/v1/local-authorities/:laCode': {
    for: 'admin',
    call: () => ({ url: `/admin/v1/local-authorities/${OWN_LA}` }),
    ok: 200,
  },
  'GET /admin/v1/local-authorities': {
    for: 'admin',
    call: () => ({ url: '/admin/v1/local-authorities' }),
    ok: 200,
  },
  'POST /admin/v1/notifications/dispatch': {
    for: 'admin',
    call: () => ({ url: '/admin/v1/notifications/dispatch' }),
    ok: 200,
  },
  'GET /admin/v1/reports/unknown-organisations': {
    for: 'admin',
    call: () => ({ url: '/admin/v1/reports/unknown-organisations' }),
    ok: 200,
  },
  'GET /admin/v1/audit/verify': { for: 'admin', call: () => ({ url: '/admin/v1/audit/verify' }), ok: 200 },
  'GET /admin/v1/audit/export': {
    for: 'admin',
    call: () => ({ url: `/admin/v1/audit/export?since=${T0.toISOString()}` }),
    ok: 200,
  },
  'GET /admin/v1/audit/checkpoint': {
    for: 'admin',
    call: () => ({ url: '/admin/v1/audit/checkpoint' }),
    ok: { demo: 200, production: 503 },
    serverError: NO_CHECKPOINT_KEY,
  },
  'GET /admin/v1/audit/checkpoint/public-key': {
    for: 'admin',
    call: () => ({ url: '/admin/v1/audit/checkpoint/public-key' }),
    ok: { demo: 200, production: 503 },
    serverError: NO_CHECKPOINT_KEY,
  },
  'GET /admin/v1/audit/proof/inclusion': {
    for: 'admin',
    call: () => ({ url: '/admin/v1/audit/proof/inclusion?seq=1&treeSize=2' }),
    ok: 200,
  },
  'GET /admin/v1/audit/proof/consistency': {
    for: 'admin',
    call: () => ({ url: '/admin/v1/audit/proof/consistency?from=1&to=2' }),
    ok: 200,
  },

  'POST /la/v1/uploads': {
    for: 'la',
    // Each LA uploads into its own records (the LA is the token's): another LA's upload is its own.
    call: () => ({
      url: '/la/v1/uploads',
      payload: { sequence: 2, mode: 'delta', records: [johnnyCpp] },
      headers: json,
    }),
    ok: 200,
  },
  'GET /la/v1/mailbox': { for: 'la', call: () => ({ url: '/la/v1/mailbox' }), ok: 200 },
  'GET /la/v1/mailbox/:id': {
    for: 'la',
    call: (w) => ({ url: `/la/v1/mailbox/${w.messageId}` }),
    ok: 200,
    except: { 'la-other': 404 },
  },
  'PUT /la/v1/mailbox/:id/acknowledged': {
    for: 'la',
    call: (w) => ({ url: `/la/v1/mailbox/${w.messageId}/acknowledged` }),
    ok: 200,
    except: { 'la-other': 404 },
  },
  'GET /la/v1/episodes': { for: 'la', call: () => ({ url: '/la/v1/episodes' }), ok: 200 },
  'GET /la/v1/episodes/:id': {
    for: 'la',
    call: (w) => ({ url: `/la/v1/episodes/${w.episodeId}` }),
    ok: 200,
    except: { 'la-other': 404 },
    auditsOtherLa: true,
  },
  'PUT /la/v1/episodes/:id': {
    for: 'la',
    call: (w) => ({
      url: `/la/v1/episodes/${w.episodeId}`,
      payload: { version: w.episodeVersion, state: 'reviewed', reason: 'seen in the access matrix' },
      headers: json,
    }),
    ok: 200,
    except: { 'la-other': 404 },
    auditsOtherLa: true,
  },
  'GET /la/v1/data-quality': { for: 'la', call: () => ({ url: '/la/v1/data-quality' }), ok: 200 },

  'GET /assets/*': { for: 'public', call: () => ({ url: '/assets/portal.css' }), ok: 200 },
  'GET /FHIR/R4/metadata': { for: 'public', call: () => ({ url: '/FHIR/R4/metadata' }), ok: 200 },
  'GET /FHIR/R4/CareTeam': {
    for: 'health',
    call: () => ({ url: `/FHIR/R4/CareTeam?patient:identifier=${SYS}|${JOHNNY}`, headers: fhir() }),
    ok: 200,
  },
  'GET /FHIR/R4/AuditEvent': {
    for: 'health',
    call: () => ({ url: `/FHIR/R4/AuditEvent?patient:identifier=${SYS}|${JOHNNY}`, headers: fhir() }),
    ok: 200,
  },
  'GET /FHIR/R4/Flag': {
    for: 'health',
    call: () => ({ url: `/FHIR/R4/Flag?patient:identifier=${SYS}|${JOHNNY}`, headers: fhir() }),
    ok: 200,
  },

  // The demo's stand-in for NHS CIS2 (an OpenID provider of its own; absent in production).
  'ALL /cis2': { for: 'public', demoOnly: true, call: () => ({ method: 'GET', url: '/cis2' }), ok: 404 },
  'ALL /cis2/*': {
    for: 'public',
    demoOnly: true,
    call: () => ({ method: 'GET', url: '/cis2/.well-known/openid-configuration' }),
    ok: 200,
  },

  // The portals. Pages anyone may see: the sign-in page, under three addresses.
  'GET /': { for: 'session', call: () => ({ url: '/' }), ok: 200 },
  'GET /sign-in': { for: 'session', call: () => ({ url: '/sign-in' }), ok: 200 },
  'GET /signed-out': { for: 'session', call: () => ({ url: '/signed-out' }), ok: 200 },
  'GET /sign-in/start': {
    for: 'session',
    call: () => ({ url: '/sign-in/start' }),
    // Demo: off to the stand-in. Production with no CIS2 configured: the sign-in page says sign-in
    // is not available (a page, not a failure; production-sign-in.test.ts covers a configured one).
    ok: { demo: 303, production: 503 },
    serverError: NO_SIGN_IN,
  },
  'GET /sign-in/callback': {
    for: 'session',
    call: () => ({ url: '/sign-in/callback?code=x&state=y' }),
    // No sign-in was started in this session: refused.
    ok: { demo: 400, production: 503 },
    serverError: NO_SIGN_IN,
  },
  'GET /select-role': page('/select-role'),
  'POST /select-role': page('/select-role', 'POST'),
  'POST /sign-out': {
    for: 'session',
    call: () => ({ url: '/sign-out', payload: 'x=1', headers: form }),
    ok: 303,
    location: /^\/signed-out$/,
  },
  'GET /search': page('/search'),
  'POST /search': page('/search', 'POST'),
  'GET /patient/:ref': page('/patient/not-a-reference'),
  'POST /patient/:ref/view': page('/patient/not-a-reference/view', 'POST'),
  'GET /la': page('/la'),
  'GET /la/inbox': page('/la/inbox'),
  'GET /la/episodes/:id': { ...page(''), call: (w) => ({ url: `/la/episodes/${w.episodeId}` }) },
  'POST /la/episodes/:id': {
    ...page(''),
    call: (w) => ({
      url: `/la/episodes/${w.episodeId}`,
      payload: 'action=state&state=reviewed',
      headers: form,
    }),
  },
  'GET /la/episodes/:id/child': { ...page(''), call: (w) => ({ url: `/la/episodes/${w.episodeId}/child` }) },
  'GET /la/uploads': page('/la/uploads'),
  'POST /la/uploads': {
    ...page(''),
    call: () => ({
      url: '/la/uploads',
      payload: '--b\r\ncontent-disposition: form-data; name="x"\r\n\r\n1\r\n--b--\r\n',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
    }),
  },
  'GET /la/settings': page('/la/settings'),
  'POST /la/settings': page('/la/settings', 'POST'),
};

function expectedStatus(entry: Entry, persona: PersonaName, mode: Mode): number {
  if (mode === 'production' && entry.demoOnly) return 404;
  const over = entry.except?.[persona];
  if (over !== undefined) return over;
  const ok = typeof entry.ok === 'number' ? entry.ok : entry.ok[mode];
  if (entry.for === 'public' || entry.for === 'session') return ok;
  if (persona === 'none' || persona === 'garbage' || persona === 'expired') return 401;
  if (!KINDS[entry.for].includes(TOKEN_PERSONAS[persona].kind)) return 403;
  // CPIS §6: a health caller without B0107 or B0170 is refused.
  if (entry.for === 'health' && persona === 'user-no-activity') return 403;
  return ok;
}

const declaredFor = (f: For): Allow => (f === 'public' || f === 'session' ? f : KINDS[f]);
const keyOf = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

const nhs = nhsNumbersFrom(999_520_000);

async function send(t: TestApp, call: Call & { method: string }, headers: Record<string, string> = {}) {
  return t.service.http.inject({
    method: call.method as 'GET',
    url: call.url,
    // The portal's canonical address in the demo (other hosts are redirected to it).
    headers: { host: '127.0.0.1:8080', ...headers, ...call.headers },
    ...(call.payload === undefined ? {} : { payload: call.payload as string }),
  });
}

/** Johnny's plan (the own LA's), a look-up that makes an episode, and people the admin calls change. */
async function seed(t: TestApp, signer: Signer): Promise<World> {
  const as = async (persona: PersonaName) => ({
    authorization: `Bearer ${await signer.tokenFor(TOKEN_PERSONAS[persona as 'admin'])}`,
  });
  const ok = async (res: Promise<LightMyRequestResponse>, status = 200) => {
    const r = await res;
    expect(r.statusCode, r.body).toBe(status);
    return r.json();
  };
  const upload = { sequence: 1, mode: 'delta', records: [johnnyCpp] };
  const ack = await ok(
    send(t, { method: 'POST', url: '/la/v1/uploads', payload: upload, headers: json }, await as('la-own')),
  );
  expect(ack.fileCode).toBe('CPF02');
  await ok(
    send(
      t,
      { method: 'GET', url: `/FHIR/R4/CareTeam?patient:identifier=${SYS}|${JOHNNY}`, headers: fhir() },
      await as('user-B0107'),
    ),
  );
  await t.service.scheduler.tick();
  const episodes = await ok(send(t, { method: 'GET', url: '/la/v1/episodes' }, await as('la-own')));
  const episode = episodes.episodes[0];
  expect(episode, 'the look-up made an episode for the own LA').toBeDefined();
  const detail = await ok(
    send(t, { method: 'GET', url: `/la/v1/episodes/${episode.id}` }, await as('la-own')),
  );
  const mailbox = await ok(send(t, { method: 'GET', url: '/la/v1/mailbox' }, await as('la-own')));
  expect(mailbox.messages.length).toBeGreaterThan(0);
  const world: World = {
    episodeId: episode.id,
    episodeVersion: detail.version,
    messageId: mailbox.messages[0].id,
    person: nhs(),
    toSupersede: nhs(),
    replacement: nhs(),
    toInvalidate: nhs(),
    baby: nhs(),
  };
  for (const n of [world.toSupersede, world.toInvalidate]) {
    await ok(
      send(
        t,
        {
          method: 'PUT',
          url: `/admin/v1/demographics/${n}`,
          payload: { familyName: 'MATRIX', givenNames: ['Bo'], birthDate: '2016-02-02' },
          headers: json,
        },
        await as('admin'),
      ),
      201,
    );
  }
  return world;
}

async function headSeq(t: TestApp): Promise<number> {
  const h = await t.service.store.db.selectFrom('audit_head').select('seq').executeTakeFirstOrThrow();
  return Number(h.seq);
}

async function refusalsSince(t: TestApp, seq: number): Promise<{ actor: { kind?: string } }[]> {
  const { rows } = await sql<{ actor: { kind?: string } }>`
    select actor from audit_log where category = 'access-denied' and seq > ${seq}`.execute(
    t.service.store.db,
  );
  return rows;
}

/** What was checked, per mode: routes × personas = cells. */
const size: Record<Mode, { routes: number; cells: number }> = {
  demo: { routes: 0, cells: 0 },
  production: { routes: 0, cells: 0 },
};

/** Every route × every persona on one service; the problems found, one line each. */
async function runMatrix(t: TestApp, mode: Mode, signer: Signer, world: World): Promise<string[]> {
  const problems: string[] = [];
  const routes = t.service.http.declaredRoutes();
  const keys = new Set(routes.map(keyOf));
  for (const [key, entry] of Object.entries(TABLE)) {
    const [method] = key.split(' ') as [string];
    const call = entry.call(world);
    const allowed = entry.for in KINDS ? KINDS[entry.for as keyof typeof KINDS] : (['admin'] as const);
    const declared = routes.find((r) => keyOf(r) === key)?.allow;
    if (mode === 'production' && entry.demoOnly && keys.has(key))
      problems.push(`${key}: registered in production`);
    size[mode].routes++;
    for (const persona of PERSONA_NAMES) {
      size[mode].cells++;
      const cell = `${mode} ${key} as ${persona}`;
      const expected = expectedStatus(entry, persona, mode);
      const before = await headSeq(t);
      const res = await send(
        t,
        { ...call, method: call.method ?? method },
        await authorizationFor(persona, signer, allowed),
      );
      const status = res.statusCode;
      if (status !== expected)
        problems.push(`${cell}: ${status}, expected ${expected}: ${res.body.slice(0, 200)}`);
      if (status >= 500 && !entry.serverError) problems.push(`${cell}: ${status} (a server error)`);
      // Independent of the table: a caller the route's declaration does not allow never succeeds.
      const kind = persona in TOKEN_PERSONAS ? TOKEN_PERSONAS[persona as 'admin'].kind : null;
      if (Array.isArray(declared) && (!kind || !declared.includes(kind)) && status < 400)
        problems.push(`${cell}: ${status} for a caller the route does not allow`);
      // The API's answers, and a demo-only route asked for in production (the service's own 404).
      const api =
        entry.for === 'admin' ||
        entry.for === 'la' ||
        entry.for === 'health' ||
        (mode === 'production' && entry.demoOnly === true);
      if (api && status >= 400) {
        const body = res.json() as {
          resourceType?: string;
          issue?: { code: string; details?: { coding?: { code: string }[] } }[];
        };
        const issue = body.issue?.[0];
        if (body.resourceType !== 'OperationOutcome')
          problems.push(`${cell}: refusal is not an OperationOutcome`);
        const want = { 401: 'login', 403: 'forbidden', 404: 'not-found' }[status as 401];
        if (want && issue?.code !== want)
          problems.push(`${cell}: issue code ${issue?.code}, expected ${want}`);
        if ((status === 401 || status === 403) && issue?.details?.coding?.[0]?.code !== 'ACCESS_DENIED')
          problems.push(`${cell}: no ACCESS_DENIED code`);
      }
      const location = String(res.headers.location ?? '');
      if (entry.location && status === 303 && !entry.location.test(location))
        problems.push(`${cell}: redirected to ${location}`);
      // Refusals the service audits: every 403 of the API, every refusal of the FHIR API (401s
      // too), and another LA asking for an episode.
      const audited =
        (api && status === 403) ||
        (entry.for === 'health' && status === 401) ||
        (entry.auditsOtherLa && persona === 'la-other' && status === 404);
      if (audited) {
        // Once: a refusal written twice would count twice in every report of refusals.
        const entries = await refusalsSince(t, before);
        const who = kind ?? 'anonymous';
        if (entries.length !== 1 || (entries[0]!.actor.kind ?? 'anonymous') !== who)
          problems.push(
            `${cell}: ${status} audited ${entries.length} times as access-denied (want once, by ${who})`,
          );
      }
    }
  }
  return problems;
}

describe('access matrix', () => {
  let demo: TestApp;
  let prod: TestApp;
  let issuer: LocalIssuer;

  beforeAll(async () => {
    issuer = await localIssuer();
    demo = await buildTestApp('pglite', { demoWorld: true, demoPeople: 10, scheduler: false });
    prod = await buildTestApp('pglite', {
      mode: 'production',
      demoWorld: true,
      demoPeople: 10,
      scheduler: false,
      env: { CPIS_AUTH_ISSUER: issuer.issuer, CPIS_AUTH_JWKS_URL: issuer.jwksUrl },
    });
  }, 120_000);
  afterAll(async () => {
    await demo?.close();
    await prod?.close();
    await issuer?.close();
    for (const mode of ['demo', 'production'] as const) {
      const { routes, cells } = size[mode];
      console.log(
        `access matrix, ${mode} mode: ${routes} routes × ${PERSONA_NAMES.length} personas = ${cells} cells`,
      );
    }
  });

  it('has one entry for every route the service registers, declared for whom the entry says', () => {
    const routes = demo.service.http.declaredRoutes();
    const missing = routes
      .filter((r) => !(keyOf(r) in TABLE))
      .map((r) => `${keyOf(r)} has no entry in TABLE`);
    expect(missing).toEqual([]);
    const stale = Object.keys(TABLE).filter((k) => !routes.some((r) => keyOf(r) === k));
    expect(stale.map((k) => `${k} is in TABLE but not a route`)).toEqual([]);
    for (const r of routes) expect(r.allow, keyOf(r)).toEqual(declaredFor(TABLE[keyOf(r)]!.for));
    // The portal's pages (a child scope) and the stand-in (another) are in the route table too.
    expect(routes.map(keyOf)).toEqual(
      expect.arrayContaining(['GET /la/inbox', 'POST /la/uploads', 'ALL /cis2/*']),
    );
  });

  it('in production mode registers the same routes less the demo-only ones', () => {
    const demoKeys = demo.service.http.declaredRoutes().map(keyOf);
    const prodKeys = prod.service.http.declaredRoutes().map(keyOf);
    expect(prodKeys).toEqual(demoKeys.filter((k) => !TABLE[k]?.demoOnly));
  });

  it('answers every caller on every route as the table says (demo mode)', { timeout: 120_000 }, async () => {
    const signer = signerOf(demo.tokens);
    expect(await runMatrix(demo, 'demo', signer, await seed(demo, signer))).toEqual([]);
  });

  it("answers every caller on every route as the table says (production mode, the issuer's tokens; no /dev/)", {
    timeout: 120_000,
  }, async () => {
    expect(await runMatrix(prod, 'production', issuer.signer, await seed(prod, issuer.signer))).toEqual([]);
  });

  it('refuses the HEAD twin Fastify adds to every GET of the API as it refuses the GET', async () => {
    let checked = 0;
    for (const r of demo.service.http.declaredRoutes()) {
      if (r.method !== 'GET' || !Array.isArray(r.allow)) continue;
      const url = r.url.replace(/:(\w+)/g, 'x');
      const anonymous = await send(demo, { method: 'HEAD', url });
      expect(anonymous.statusCode, `HEAD ${r.url}`).toBe(401);
      const wrongKind = r.allow.includes('admin') ? TOKEN_PERSONAS['la-own'] : admin;
      const auth = { authorization: `Bearer ${await signerOf(demo.tokens).tokenFor(wrongKind)}` };
      expect((await send(demo, { method: 'HEAD', url }, auth)).statusCode, `HEAD ${r.url}`).toBe(403);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('refuses demo-issued tokens in production mode on every API route', async () => {
    const demoAdmin = { authorization: `Bearer ${await demo.tokenFor(admin)}` };
    for (const r of prod.service.http.declaredRoutes()) {
      if (!Array.isArray(r.allow)) continue;
      const res = await send(prod, { method: r.method, url: r.url.replace(/:(\w+)/g, 'x') }, demoAdmin);
      expect(res.statusCode, keyOf(r)).toBe(401);
    }
  });
});
