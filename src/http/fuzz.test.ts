/**
 * Fuzzing every write route and every query parameter of the HTTP API with fast-check, against one
 * real service (PGlite, scheduler off) holding a little known data. For every generated request:
 *
 * - never a 5xx;
 * - every 4xx is an OperationOutcome, and a 400 names the field at fault in `expression[0]` (a
 *   field of the route, a header, `body`, or something the request itself sent);
 * - no stack trace, SQL text or file path in an error body;
 * - a refused request writes nothing (row triggers count every insert, update and delete in every
 *   table; only the audit trail, and for uploads the LA's mailbox acknowledgement, may grow);
 * - an accepted write is exactly what was sent (read back and compared);
 * - every request under /FHIR/R4 is audited.
 *
 * Afterwards the service answers /healthz and the audit chain verifies. `CPIS_FUZZ_RUNS` scales the
 * number of cases (1 = the default of a little over 10,000).
 */

import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findForm, TestBrowser } from '../../test/browser.ts';
import {
  CONTENT_TYPES,
  csvLine,
  encodeSegment,
  type J,
  jsonValue,
  keyArb,
  mutatedBody,
  nastyString,
  obj,
  pathSegment,
  queryString,
  Raw,
  type RawBody,
  rawBody,
  undecodableSegment,
} from '../../test/fuzz-arbitraries.ts';
import {
  admin,
  buildTestApp,
  clinician,
  la,
  nhsNumbersFrom,
  pasSystem,
  type TestApp,
} from '../../test/helper.ts';
import { johnnyCpp } from '../../test/storyboard.ts';
import { verifyAuditChain } from '../audit/verify.ts';
import type { Persona } from '../auth/claims.ts';
import { CSV_COLUMNS } from '../upload/upload.ts';

const SCALE = Math.max(0.01, Number(process.env.CPIS_FUZZ_RUNS ?? '1') || 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

const BHAM = 'E08000025';
const { plans: _plans, ...johnny } = johnnyCpp;
const JOHNNY = { ...johnny, localId: 'C-1042' };
const NHS_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const nextNhs = nhsNumbersFrom(999_300_000);
/** Valid numbers nobody has been given yet (for creating people), and ones that are malformed. */
const FRESH_NHS = Array.from({ length: 40 }, () => nextNhs());
const FRESH_NHS_2 = Array.from({ length: 40 }, () => nextNhs());

type Method = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
interface Case {
  method: Method;
  url: string;
  body?: RawBody;
  headers?: Record<string, string>;
  /** Who calls: a persona, or null for no token. */
  as?: Persona | null;
  /** Keys the request itself sent (a 400 may name any of them). */
  sent: string[];
  /** What a 2xx should have written, for the read-back. */
  expect?: unknown;
}

interface Route {
  name: string;
  runs: number;
  arb: fc.Arbitrary<Case>;
  /** Fields (roots of `expression[0]`) a refusal may name. */
  fields: readonly string[];
  /** Tables a refusal may still write (besides the audit trail). */
  refusalMayWrite?: readonly string[];
  /** Every request must leave an audit entry. */
  audited?: boolean;
  /** Checks an accepted (2xx) answer against what was sent. */
  accepted?: (c: Case, res: LightMyRequestResponse, writes: Record<string, number>) => Promise<void>;
}

const HEADER_FIELDS = [
  'X-Request-ID',
  'IsUnscheduledAccessEvent',
  'NHSD-Responsible-Person',
  'NHSD-Responsible-Person-Role',
  'NHSD-Patient-Location',
  'NHSD-Safeguarding-Lead',
  'NHSD-Safeguarding-Lead-Role',
  'NHSD-Safeguarding-Lead-Phone',
  'Content-Type',
];

/** What must never be in an error body: stack frames, file paths, SQL, driver messages. */
const LEAKS: readonly RegExp[] = [
  /\n\s+at /,
  /\bat [\w.$<>]+ \([^)]*:\d+:\d+\)/,
  /node_modules/,
  /\/work\//,
  /\/tmp\//,
  /cpis-upload-/,
  /file:\/\//,
  /\.[tj]s:\d+/,
  /\bselect\b[^"]{0,80}\bfrom\b/i,
  /\binsert into\b/i,
  /\bdelete from\b/i,
  /syntax error at or near/i,
  /violates [\w ]* constraint/i,
  /relation "/i,
  /SQLSTATE/i,
  /invalid input syntax/i,
  /unsupported Unicode escape/i,
  /pglite|kysely/i,
];

describe('fuzzing the HTTP API', () => {
  let t: TestApp;
  const totals = { cases: 0, s2xx: 0, s4xx: 0, s5xx: 0 };
  const byRoute: Record<string, { cases: number; s2xx: number; s4xx: number; ms: number }> = {};
  let seq = 1;
  let episodeId = '00000000-0000-4000-8000-000000000000';
  let messageIds: string[] = [];
  let lastWrites: Record<string, number> | null = null;

  const db = () => t.service.store.db;

  /** Rows inserted, updated or deleted so far, per table (committed work only: the counter is a row). */
  async function writes(): Promise<Record<string, number>> {
    const { rows } = await sql<{ tbl: string; n: string }>`select tbl, n from fuzz_writes`.execute(db());
    return Object.fromEntries(rows.map((r) => [r.tbl, Number(r.n)]));
  }
  function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
    const d: Record<string, number> = {};
    for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) d[k] = v - (before[k] ?? 0);
    return d;
  }

  beforeAll(async () => {
    t = await buildTestApp('pglite', { scheduler: false });
    // Count every row written to every table, so "nothing was written" is exact, not a guess.
    await sql`create table fuzz_writes (tbl text primary key, n bigint not null)`.execute(db());
    await sql`create function fuzz_count() returns trigger language plpgsql as $$
      begin
        -- A partition's writes count as its table's (the trigger is made on the partitioned table).
        insert into fuzz_writes
          values (coalesce((select inhparent::regclass::text from pg_inherits where inhrelid = tg_relid), tg_table_name), 1)
          on conflict (tbl) do update set n = fuzz_writes.n + 1;
        return null;
      end $$`.execute(db());
    const { rows } = await sql<{ table_name: string }>`select table_name from information_schema.tables t
      where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'fuzz_writes'
        and not (select relispartition from pg_class c where c.oid = ('public.' || quote_ident(t.table_name))::regclass)`.execute(
      db(),
    );
    for (const { table_name } of rows) {
      await sql`create trigger fuzz_count after insert or update or delete on ${sql.table(table_name)}
        for each row execute function fuzz_count()`.execute(db());
    }

    // A little known data: an LA, a place, a child with a plan, a look-up (so an episode), a message.
    const a = t.as(admin);
    expect(
      (
        await a.put(`/admin/v1/local-authorities/${BHAM}`, {
          name: 'Birmingham City Council',
          officeHoursPhone: '0121 496 0000',
          emergencyDutyPhone: '0121 496 0999',
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (
        await a.put('/admin/v1/organisations/R1H12', {
          name: 'The Royal London',
          setting: 'emergency-department',
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (
        await a.put(`/admin/v1/demographics/${JOHNNY.nhsNumber}`, {
          familyName: 'SMITH',
          givenNames: ['Johnny'],
          birthDate: '2021-05-02',
          postcode: 'B15 2TT',
        })
      ).statusCode,
    ).toBe(201);
    const up = await t.as(la(BHAM)).post('/la/v1/uploads', {
      sequence: seq++,
      records: [{ ...JOHNNY, plans: [{ type: 'CPP', startDate: '2026-10-01' }] }],
    });
    expect(up.json().accepted).toBe(1);
    const look = await t
      .as(clinician())
      .get(`/FHIR/R4/CareTeam?patient:identifier=${NHS_SYSTEM}|${JOHNNY.nhsNumber}`, {
        'x-request-id': crypto.randomUUID(),
      });
    expect(look.json().total).toBe(1);
    const episodes = await t.as(la(BHAM)).get('/la/v1/episodes');
    expect(episodes.json().total).toBe(1);
    episodeId = episodes.json().episodes[0].id;
    messageIds = (await t.as(la(BHAM)).get('/la/v1/mailbox'))
      .json()
      .messages.map((m: { id: string }) => m.id);
    expect(messageIds.length).toBeGreaterThan(0);
  });

  afterAll(async () => {
    console.log(
      `fuzz totals: ${totals.cases} cases, ${totals.s2xx} 2xx, ${totals.s4xx} 4xx, ${totals.s5xx} 5xx\n` +
        Object.entries(byRoute)
          .map(
            ([r, s]) =>
              `  ${r}: ${s.cases} cases, ${s.s2xx} 2xx, ${s.s4xx} 4xx, ${Math.round(s.ms / s.cases)} ms each`,
          )
          .join('\n'),
    );
    await t?.close();
  });

  const show = (c: Case, res?: LightMyRequestResponse) => {
    const payload = c.body?.payload;
    const body =
      payload === undefined ? '' : typeof payload === 'string' ? payload : `<${payload.length} bytes>`;
    return `${c.method} ${c.url.slice(0, 300)} ${JSON.stringify(c.body?.contentType)} ${body.slice(0, 400)}${
      res ? ` -> ${res.statusCode} ${res.body.slice(0, 400)}` : ''
    }`;
  };

  async function exercise(route: Route, c: Case): Promise<void> {
    const persona = c.as === undefined ? admin : c.as;
    const headers: Record<string, string> = { ...(c.headers ?? {}) };
    if (persona) headers.authorization = `Bearer ${await t.tokenFor(persona)}`;
    if (c.body?.contentType !== undefined) headers['content-type'] = c.body.contentType;
    let url = c.url.replaceAll('{{SEQ}}', String(seq));
    let payload = c.body?.payload;
    if (typeof payload === 'string' && payload.includes('{{SEQ}}'))
      payload = payload.replaceAll('{{SEQ}}', String(seq));
    if (url !== c.url || payload !== c.body?.payload) seq++;
    url = url.replaceAll('{{EPISODE}}', episodeId);

    c = {
      ...c,
      sent: [...c.sent, ...(payload !== undefined ? keysOfText({ payload, contentType: undefined }) : [])],
    };
    const started = performance.now();
    // Nothing writes between cases except read-backs, after which the counts are read afresh.
    const before = lastWrites ?? (await writes());
    const res = await t.service.http.inject({
      method: c.method,
      url,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    const after = await writes();
    const written = delta(before, after);
    lastWrites = after;

    const stats = byRoute[route.name] ?? { cases: 0, s2xx: 0, s4xx: 0, ms: 0 };
    byRoute[route.name] = stats;
    stats.ms += performance.now() - started;
    totals.cases++;
    stats.cases++;
    if (res.statusCode >= 500) totals.s5xx++;
    else if (res.statusCode >= 400) {
      totals.s4xx++;
      stats.s4xx++;
    } else {
      totals.s2xx++;
      stats.s2xx++;
    }

    // Messages are built only when a check fails (a fuzz run makes a great many checks).
    const must = (ok: boolean, why: string) => {
      if (!ok) throw new Error(`${why}: ${show(c, res)}`);
    };
    must(res.statusCode < 500, 'a 5xx');
    if (route.audited) must((written.audit_log ?? 0) > 0, 'not audited');
    if (res.statusCode >= 400) {
      for (const leak of LEAKS) must(!leak.test(res.body), `${leak} in the answer`);
      let oo: {
        resourceType?: string;
        issue?: { code?: unknown; diagnostics?: unknown; expression?: unknown[] }[];
      };
      try {
        oo = JSON.parse(res.body);
      } catch {
        oo = {};
      }
      must(oo.resourceType === 'OperationOutcome', 'not an OperationOutcome');
      const issue = oo.issue?.[0];
      must(
        typeof issue?.code === 'string' && typeof issue.diagnostics === 'string',
        'an issue without code or text',
      );
      if (res.statusCode === 400) {
        const f = issue?.expression?.[0];
        must(typeof f === 'string' && f.length > 0, 'no field named');
        const field = f as string;
        const named =
          [...route.fields, ...HEADER_FIELDS, 'body', 'query', 'path'].some(
            (k) => field === k || field.startsWith(`${k}.`) || field.startsWith(`${k}[`),
          ) ||
          c.sent.some(
            (k) => (k !== '' && field.startsWith(k)) || field.includes(JSON.stringify(k).slice(0, 60)),
          );
        must(named, `field ${field} is not something this request sent`);
      }
      const allowed = new Set(['audit_log', 'audit_head', ...(route.refusalMayWrite ?? [])]);
      const unexpected = Object.keys(written).filter((k) => !allowed.has(k));
      must(unexpected.length === 0, `a refused request wrote ${JSON.stringify(written)}`);
    } else if (route.accepted) {
      lastWrites = null;
      await route.accepted(c, res, written);
    }
  }

  /** The keys anywhere in a generated body (a 400 may name any of them). */
  function keysOf(j: J, out: string[] = []): string[] {
    if (Array.isArray(j)) for (const v of j) keysOf(v, out);
    else if (j !== null && typeof j === 'object' && !(j instanceof Raw)) {
      for (const [k, v] of j.entries) {
        out.push(k);
        keysOf(v, out);
      }
    }
    return out;
  }
  /** A body case: the generated JSON, as sent, with its keys. */
  const bodyCase = (method: Method, url: string, j: fc.Arbitrary<J>, extra: Partial<Case> = {}) =>
    fc
      .tuple(j, fc.nat())
      .chain(([value]) =>
        rawBody(fc.constant(value)).map(
          (body) => ({ method, url, body, sent: keysOf(value), ...extra }) as Case,
        ),
      );
  /** The JSON a case sent, parsed (null when it was not a JSON object). */
  const sentJson = (c: Case): Record<string, unknown> | null => {
    try {
      const v = JSON.parse(String(c.body?.payload));
      return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
    } catch {
      return null;
    }
  };
  const normName = (s: unknown) => String(s).trim().replace(/\s+/g, ' ');
  /** The fixture child stays as he is (a merge or invalidation would end the plan later routes act on). */
  const notFixture = (segment: string) =>
    !decodeURIComponent(segment).replace(/\s/g, '').includes(JOHNNY.nhsNumber);

  // ---- Generators of plausible values, which the mutations then break ----

  const isoDate = fc
    .date({
      min: new Date('1990-01-01T00:00:00Z'),
      max: new Date('2026-11-20T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().slice(0, 10));
  const name = fc.oneof(
    fc.constantFrom('SMITH', "O'BRIEN", 'Smith-Jones', 'Siân', 'van der Berg'),
    nastyString,
  );
  const phone = fc.oneof(
    fc.constantFrom('0121 496 0000', '+44 20 7946 0000', '(0151) 496-0999'),
    nastyString,
  );
  const odsCode = fc.oneof(fc.constantFrom('R1H12', 'RJE01', 'RRK15', 'RYA01', 'B86017'), nastyString);
  const freshNhs = fc.constantFrom(...FRESH_NHS);
  const person = fc.record({
    familyName: name,
    givenNames: fc.oneof(fc.array(name, { minLength: 1, maxLength: 3 }), nastyString) as fc.Arbitrary<J>,
    birthDate: fc.oneof(isoDate, nastyString),
    gender: fc.constantFrom('male', 'female', 'other', 'unknown', 'M', ''),
    sensitive: fc.boolean(),
    deathDate: fc.oneof(fc.constant(null), isoDate),
    postcode: fc.oneof(
      fc.constantFrom('B15 2TT', 'b152tt', 'LS9 7HE', 'SW1A1AA'),
      fc.constant(null),
      nastyString,
    ),
  }) as fc.Arbitrary<Record<string, J>>;
  const organisation = fc.record({
    name,
    setting: fc.oneof(
      fc.constantFrom('emergency-department', 'nhs-111', 'ambulance-service', 'maternity-unit'),
      nastyString,
    ),
    parentOdsCode: fc.oneof(fc.constant(null), odsCode),
    town: fc.oneof(fc.constant(null), name),
    phone: fc.oneof(fc.constant(null), phone),
    postcode: fc.oneof(fc.constant(null), fc.constantFrom('E1 1BB', 'B15 2TT'), nastyString),
  }) as fc.Arbitrary<Record<string, J>>;
  const localAuthority = fc.record(
    {
      name,
      officeHoursPhone: phone,
      emergencyDutyPhone: phone,
      notificationCadence: fc.constantFrom('daily', 'immediate', 'weekly'),
      episodeGapHours: fc.oneof(
        fc.integer({ min: 0, max: 200 }),
        fc.constant(new Raw('12.0')),
        fc.constant(new Raw('1e400')),
      ),
      webhook: fc.oneof(
        fc.constant(null),
        fc
          .record({
            url: fc.constantFrom(
              'https://la.example.org/cpis',
              'http://127.0.0.1:9/x',
              'ftp://x',
              'not a url',
            ),
            secret: fc.oneof(fc.constant('s'.repeat(40)), nastyString),
          })
          .map((w) => obj(w as Record<string, J>)),
      ),
      patternThresholds: fc.oneof(
        fc.constant(null),
        fc
          .record(
            {
              episodes: fc.integer({ min: -1, max: 60 }),
              episodeDays: fc.integer({ min: 0, max: 800 }),
              areas: fc.integer({ min: 0, max: 30 }),
              areaDays: fc.integer({ min: 0, max: 100 }),
            },
            { requiredKeys: [] },
          )
          .map((p) => obj(p as Record<string, J>)),
      ),
    },
    { requiredKeys: ['name', 'officeHoursPhone', 'emergencyDutyPhone'] },
  ) as fc.Arbitrary<Record<string, J>>;

  /** Check a 2xx person against what was sent, and against a read-back. */
  async function personMatches(
    nhsNumber: string,
    sent: Record<string, unknown>,
    res: LightMyRequestResponse,
  ) {
    const got = res.json();
    expect(got.familyName).toBe(normName(sent.familyName));
    const given =
      typeof sent.givenNames === 'string' ? sent.givenNames.split(/\s+/).filter(Boolean) : sent.givenNames;
    expect(got.givenNames).toEqual((given as string[]).map(normName));
    expect(got.birthDate).toBe(sent.birthDate);
    if (sent.gender !== undefined) expect(got.gender).toBe(sent.gender);
    if (sent.sensitive !== undefined) expect(got.sensitive).toBe(sent.sensitive);
    if (sent.deathDate !== undefined) expect(got.deathDate).toBe(sent.deathDate);
    if (got.sensitive) expect(got.postcode).toBeNull();
    else if (typeof sent.postcode === 'string')
      expect(got.postcode.replace(/ /g, '')).toBe(sent.postcode.replace(/\s/g, '').toUpperCase());
    if (sent.postcode === null) expect(got.postcode).toBeNull();
    const back = await t.as(admin).get(`/admin/v1/demographics/${nhsNumber}`);
    expect(back.json()).toEqual(got);
  }

  // ---- Uploads ----

  const plan = fc.record(
    {
      type: fc.oneof(fc.constantFrom('CPP', 'LAC', 'UCPP'), nastyString),
      startDate: fc.oneof(fc.constantFrom('2026-10-01', '2026-11-20', '2026-11-21'), nastyString),
      endDate: fc.oneof(
        fc.constant(null),
        fc.constantFrom('2026-11-01', '2026-12-31', '2026-09-01'),
        nastyString,
      ),
      deleteDate: fc.oneof(fc.constant(null), fc.constantFrom('2026-11-20', '2027-01-01')),
    },
    { requiredKeys: ['type', 'startDate'] },
  ) as fc.Arbitrary<Record<string, J>>;
  const record = fc.record(
    {
      subject: fc.oneof(fc.constant('child'), fc.constantFrom('unborn', 'adult'), nastyString),
      nhsNumber: fc.oneof(
        fc.constant(JOHNNY.nhsNumber),
        fc.constantFrom('999 000 0018', ...FRESH_NHS.slice(0, 3)),
        nastyString,
      ),
      localId: fc.oneof(fc.constant('C-1042'), nastyString),
      team: fc.oneof(fc.constantFrom('Team A', 'screening'), nastyString),
      familyName: fc.oneof(fc.constantFrom('SMITH', 'smith', ' Smith '), nastyString),
      givenNames: fc.oneof(
        fc.constant(['Johnny']),
        fc.constant('Johnny'),
        fc.array(nastyString, { maxLength: 2 }),
      ) as fc.Arbitrary<J>,
      birthDate: fc.oneof(fc.constant('2021-05-02'), nastyString),
      expectedDeliveryDate: fc.oneof(fc.constant(null), fc.constant('2027-01-20'), nastyString),
      plans: fc.array(mutatedBody(plan), { maxLength: 3 }) as fc.Arbitrary<J>,
      remove: fc.boolean(),
    },
    { requiredKeys: ['subject', 'nhsNumber', 'familyName', 'givenNames', 'birthDate'] },
  ) as fc.Arbitrary<Record<string, J>>;

  // ---- The routes ----

  const routes: Route[] = [
    {
      name: 'GET /admin/v1/audit/export?…',
      runs: runs(300),
      fields: ['since', 'until', 'query'],
      arb: queryString({
        since: ['2026-11-21T00:00:00Z', '2026-11-20T00:00:00+01:00', '2026-11-20', '2026-13-40T99:99:99Z'],
        until: ['2026-11-21T00:00:00Z', '2026-11-19T00:00:00Z', '9999-12-31T23:59:59Z'],
      }).map((q) => ({ method: 'GET', url: `/admin/v1/audit/export${q}`, sent: queryKeys(q) }) as Case),
    },
    {
      name: 'PUT /admin/v1/demographics/:nhsNumber',
      runs: runs(800),
      fields: [
        'nhsNumber',
        'familyName',
        'givenNames',
        'birthDate',
        'gender',
        'sensitive',
        'deathDate',
        'postcode',
      ],
      arb: fc
        .tuple(
          fc.oneof(
            { weight: 4, arbitrary: freshNhs.map(encodeSegment) },
            { weight: 1, arbitrary: pathSegment(FRESH_NHS) },
          ),
        )
        .chain(([n]) => bodyCase('PUT', `/admin/v1/demographics/${n}`, mutatedBody(person))),
      accepted: async (c, res) => {
        expect([200, 201]).toContain(res.statusCode);
        await personMatches(res.json().nhsNumber, sentJson(c)!, res);
      },
    },
    {
      name: 'GET /admin/v1/demographics/:nhsNumber',
      runs: runs(200),
      fields: ['nhsNumber'],
      arb: fc
        .tuple(pathSegment([JOHNNY.nhsNumber, ...FRESH_NHS]), queryString({}))
        .map(([n, q]) => ({ method: 'GET', url: `/admin/v1/demographics/${n}${q}`, sent: [] }) as Case),
    },
    {
      name: 'POST /admin/v1/demographics/:nhsNumber/supersede',
      runs: runs(400),
      fields: ['nhsNumber', 'newNhsNumber'],
      arb: fc
        .tuple(pathSegment(FRESH_NHS_2).filter(notFixture))
        .chain(([n]) =>
          bodyCase(
            'POST',
            `/admin/v1/demographics/${n}/supersede`,
            mutatedBody(fc.record({ newNhsNumber: fc.oneof(fc.constantFrom(...FRESH_NHS_2), nastyString) })),
          ),
        ),
      accepted: async (c, res) => {
        const sent = sentJson(c)!;
        expect(res.json().old.supersededBy).toBe(sent.newNhsNumber);
        expect(res.json().replacement.nhsNumber).toBe(sent.newNhsNumber);
      },
    },
    {
      name: 'POST /admin/v1/demographics/:nhsNumber/invalidate',
      runs: runs(300),
      fields: ['nhsNumber'],
      arb: fc.tuple(pathSegment(FRESH_NHS_2).filter(notFixture), fc.option(rawBody(jsonValue))).map(
        ([n, body]) =>
          ({
            method: 'POST',
            url: `/admin/v1/demographics/${n}/invalidate`,
            sent: [],
            ...(body ? { body } : {}),
          }) as Case,
      ),
      accepted: async (_c, res) => {
        expect(res.json().status).toBe('invalidated');
      },
    },
    {
      name: 'POST /admin/v1/births',
      runs: runs(600),
      fields: ['motherNhsNumber', 'nhsNumber', 'familyName', 'givenNames', 'birthDate', 'gender'],
      arb: bodyCase(
        'POST',
        '/admin/v1/births',
        mutatedBody(
          fc.record({
            motherNhsNumber: fc.oneof(
              fc.constant(JOHNNY.nhsNumber),
              fc.constantFrom(...FRESH_NHS),
              nastyString,
            ),
            nhsNumber: fc.oneof(fc.constantFrom(...FRESH_NHS_2), nastyString),
            familyName: name,
            givenNames: fc.oneof(fc.array(name, { minLength: 1, maxLength: 2 }), name) as fc.Arbitrary<J>,
            birthDate: fc.oneof(isoDate, nastyString),
            gender: fc.constantFrom('male', 'female', 'X'),
          }) as fc.Arbitrary<Record<string, J>>,
        ),
      ),
      accepted: async (c, res) => {
        expect(res.statusCode).toBe(201);
        const sent = sentJson(c)!;
        // A merged mother is followed to her replacement, as the register does.
        const mother = (await t.as(admin).get(`/admin/v1/demographics/${sent.motherNhsNumber}`)).json();
        const current = mother.supersededBy ?? mother.nhsNumber;
        expect(res.json().motherNhsNumber).toBe(current);
        const { motherNhsNumber: _m, nhsNumber: _n, ...fields } = sent;
        const baby = await t.as(admin).get(`/admin/v1/demographics/${sent.nhsNumber}`);
        expect(baby.json().motherNhsNumber).toBe(current);
        await personMatches(String(sent.nhsNumber), fields, {
          json: () => res.json().baby,
        } as LightMyRequestResponse);
      },
    },
    {
      name: 'PUT /admin/v1/organisations/:odsCode',
      runs: runs(700),
      fields: ['odsCode', 'name', 'setting', 'parentOdsCode', 'town', 'phone', 'postcode'],
      arb: fc
        .tuple(pathSegment(['RXX01', 'RXX02', 'rxx03', 'R1H12']))
        .chain(([code]) => bodyCase('PUT', `/admin/v1/organisations/${code}`, mutatedBody(organisation))),
      accepted: async (c, res) => {
        const sent = sentJson(c)!;
        const got = res.json();
        expect(got.name).toBe(normName(sent.name));
        expect(got.setting).toBe(sent.setting);
        if (sent.phone) expect(got.phone).toBe(normName(sent.phone));
        if (sent.town) expect(got.town).toBe(normName(sent.town));
        const back = await t.as(admin).get(`/admin/v1/organisations/${got.odsCode}`);
        expect(back.json()).toEqual(got);
      },
    },
    {
      name: 'GET /admin/v1/organisations/:odsCode',
      runs: runs(200),
      fields: ['odsCode'],
      arb: pathSegment(['R1H12', 'RXX01']).map(
        (code) => ({ method: 'GET', url: `/admin/v1/organisations/${code}`, sent: [] }) as Case,
      ),
    },
    {
      name: 'GET /admin/v1/organisations?…',
      runs: runs(400),
      fields: ['setting', 'parent', 'after', 'limit', 'query'],
      arb: queryString({
        setting: ['emergency-department', 'nhs-111', 'Emergency-Department'],
        parent: ['R1H', 'RJE'],
        after: ['R1H12', ''],
        limit: ['0', '1', '10', '1000', '9999', '01', '-1', '1.5', '1e3', ' 1'],
      }).map((q) => ({ method: 'GET', url: `/admin/v1/organisations${q}`, sent: queryKeys(q) }) as Case),
    },
    {
      name: 'POST /admin/v1/organisations/import',
      runs: runs(400),
      fields: ['organisations'],
      arb: bodyCase(
        'POST',
        '/admin/v1/organisations/import',
        mutatedBody(
          fc
            .array(
              fc
                .tuple(fc.oneof(fc.constantFrom('RIM01', 'RIM02', 'RIM03', 'RIM04'), odsCode), organisation)
                .map(([code, o]) => obj({ odsCode: code, ...o })),
              { maxLength: 4 },
            )
            .map((orgs) => ({ organisations: orgs as J })),
        ),
      ),
      accepted: async (c, res) => {
        const sent = sentJson(c)!.organisations as Record<string, unknown>[];
        expect(res.json().received).toBe(sent.length);
        for (const o of sent) {
          const back = (
            await t.as(admin).get(`/admin/v1/organisations/${encodeSegment(String(o.odsCode))}`)
          ).json();
          expect(back.name).toBe(normName(o.name));
          expect(back.setting).toBe(o.setting);
        }
      },
    },
    {
      name: 'PUT /admin/v1/local-authorities/:laCode',
      runs: runs(700),
      fields: [
        'laCode',
        'name',
        'officeHoursPhone',
        'emergencyDutyPhone',
        'notificationCadence',
        'episodeGapHours',
        'webhook',
        'patternThresholds',
      ],
      arb: fc
        .tuple(pathSegment(['E09000001', 'E09000002', 'e09000003']))
        .chain(([code]) =>
          bodyCase('PUT', `/admin/v1/local-authorities/${code}`, mutatedBody(localAuthority)),
        ),
      accepted: async (c, res) => {
        const sent = sentJson(c)!;
        const got = res.json();
        expect(got.name).toBe(normName(sent.name));
        expect(got.officeHoursPhone).toBe(normName(sent.officeHoursPhone));
        expect(got.emergencyDutyPhone).toBe(normName(sent.emergencyDutyPhone));
        expect(got.notificationCadence).toBe(sent.notificationCadence ?? 'daily');
        expect(got.episodeGapHours).toBe(sent.episodeGapHours ?? 12);
        if (sent.patternThresholds)
          expect(got.patternThresholds).toMatchObject(sent.patternThresholds as object);
        expect(got.webhook === null).toBe(!sent.webhook);
        const back = await t.as(admin).get(`/admin/v1/local-authorities/${got.laCode}`);
        expect(back.json()).toEqual(got);
      },
    },
    {
      name: 'GET /admin/v1/local-authorities/:laCode',
      runs: runs(200),
      fields: ['laCode'],
      arb: pathSegment([BHAM, 'E09000001']).map(
        (code) => ({ method: 'GET', url: `/admin/v1/local-authorities/${code}`, sent: [] }) as Case,
      ),
    },
    {
      name: 'POST /admin/v1/notifications/dispatch',
      runs: runs(300),
      fields: ['force'],
      refusalMayWrite: [],
      arb: fc
        .option(rawBody(mutatedBody(fc.record({ force: fc.boolean() }) as fc.Arbitrary<Record<string, J>>)))
        .map(
          (body) =>
            ({
              method: 'POST',
              url: '/admin/v1/notifications/dispatch',
              sent: body ? keysOfText(body) : [],
              ...(body ? { body } : {}),
            }) as Case,
        ),
    },
    {
      name: 'POST /la/v1/uploads (JSON)',
      runs: runs(900),
      // 'header': some cases say text/csv, and the body is then read as CSV.
      fields: ['sequence', 'mode', 'records', 'Content-Type', 'header'],
      refusalMayWrite: ['mailbox_message'],
      arb: uploadJsonCase(),
      accepted: uploadAccepted,
    },
    {
      name: 'POST /la/v1/uploads (CSV)',
      runs: runs(800),
      fields: ['sequence', 'mode', 'header', 'Content-Type'],
      refusalMayWrite: ['mailbox_message'],
      arb: uploadCsvCase(),
      accepted: uploadAccepted,
    },
    {
      name: 'GET /la/v1/mailbox?limit',
      runs: runs(300),
      fields: ['limit', 'query'],
      arb: queryString({ limit: ['0', '1', '500', '501', '999999', '1.0', '-1', ' 5', '5 '] }).map(
        (q) => ({ method: 'GET', url: `/la/v1/mailbox${q}`, as: la(BHAM), sent: queryKeys(q) }) as Case,
      ),
    },
    {
      name: 'GET|PUT /la/v1/mailbox/:id',
      runs: runs(300),
      fields: ['id'],
      arb: fc
        .tuple(
          fc.boolean(),
          pathSegment(['{{MSG}}', '00000000-0000-4000-8000-000000000000', 'not-a-uuid']),
          fc.option(rawBody(jsonValue)),
        )
        .map(
          ([ack, id, body]) =>
            ({
              method: ack ? 'PUT' : 'GET',
              url: `/la/v1/mailbox/${id}${ack ? '/acknowledged' : ''}`,
              as: la(BHAM),
              sent: [],
              ...(ack && body ? { body } : {}),
            }) as Case,
        ),
      accepted: async (c, res) => {
        if (c.method === 'PUT') {
          expect(res.json().acknowledged).toBe(true);
          const back = await t.as(la(BHAM)).get(`/la/v1/mailbox/${res.json().id}`);
          expect(back.json().acknowledgedAt).not.toBeNull();
        }
      },
    },
    {
      name: 'GET /la/v1/episodes?…',
      runs: runs(400),
      fields: ['state', 'queue', 'pattern', 'from', 'to', 'page', 'pageSize', 'query'],
      arb: queryString({
        state: ['new', 'reviewed', 'follow-up-recorded', 'no-action-needed', 'NEW'],
        queue: ['edt', 'screening', 'Team A'],
        pattern: ['any', 'REPEAT_EPISODES', 'SEVERAL_AREAS'],
        from: ['2026-11-01', '2026-02-30', '1899-12-31'],
        to: ['2026-12-01', '2026-10-01'],
        page: ['1', '0', '2', '1.5', '1e2', '9007199254740993'],
        pageSize: ['1', '500', '501', '0', '100'],
      }).map(
        (q) => ({ method: 'GET', url: `/la/v1/episodes${q}`, as: la(BHAM), sent: queryKeys(q) }) as Case,
      ),
    },
    {
      name: 'GET|PUT /la/v1/episodes/:id',
      runs: runs(700),
      fields: ['id', 'version', 'state', 'reason', 'team', 'worker'],
      arb: fc
        .tuple(
          fc.boolean(),
          pathSegment(['{{EPISODE}}', '{{EPISODE}}', '{{EPISODE}}', '00000000-0000-4000-8000-000000000000']),
          mutatedBody(
            fc.record(
              {
                version: fc.oneof(fc.integer({ min: -1, max: 6 }), fc.constant(new Raw('1.0'))),
                state: fc.oneof(
                  fc.constantFrom('new', 'reviewed', 'follow-up-recorded', 'no-action-needed'),
                  nastyString,
                ),
                reason: fc.oneof(fc.constantFrom('Seen by the team', ''), nastyString),
                team: fc.oneof(fc.constantFrom('screening', 'edt'), nastyString),
              },
              { requiredKeys: ['version'] },
            ) as fc.Arbitrary<Record<string, J>>,
          ),
        )
        .chain(([put, id, j]) =>
          put
            ? rawBody(fc.constant(j)).map(
                (body) =>
                  ({
                    method: 'PUT',
                    url: `/la/v1/episodes/${id}`,
                    as: la(BHAM),
                    body,
                    sent: keysOf(j),
                  }) as Case,
              )
            : fc.constant({ method: 'GET', url: `/la/v1/episodes/${id}`, as: la(BHAM), sent: [] } as Case),
        )
        .map((c) => ({ ...c, url: c.url.replace('%7B%7BEPISODE%7D%7D', '{{EPISODE}}') })),
      accepted: async (c, res) => {
        if (c.method !== 'PUT') return;
        const sent = sentJson(c)!;
        const got = res.json();
        expect(got.version).toBe(Number(sent.version) + 1);
        if (sent.state !== undefined) expect(got.state).toBe(sent.state);
        if (typeof sent.reason === 'string' && sent.reason.trim() && sent.state !== undefined)
          expect(got.stateReason).toBe(sent.reason.trim());
      },
    },
    ...(['CareTeam', 'Flag', 'AuditEvent'] as const).map(
      (resource): Route => ({
        name: `GET /FHIR/R4/${resource}`,
        runs: runs(resource === 'CareTeam' ? 700 : 300),
        fields: ['patient:identifier'],
        audited: true,
        refusalMayWrite: [],
        arb: fhirCase(resource),
      }),
    ),
    {
      name: 'paths the router cannot decode',
      runs: runs(200),
      fields: ['path'],
      arb: fc
        .tuple(
          fc.constantFrom<[Method, string]>(
            ['GET', '/admin/v1/demographics/'],
            ['PUT', '/admin/v1/organisations/'],
            ['PUT', '/admin/v1/local-authorities/'],
            ['GET', '/la/v1/mailbox/'],
            ['PUT', '/la/v1/episodes/'],
          ),
          undecodableSegment,
        )
        .map(([[method, prefix], seg]) => ({
          method,
          url: prefix + seg,
          as: prefix.startsWith('/la/') ? la(BHAM) : admin,
          body: { payload: '{}', contentType: 'application/json' },
          sent: [],
        })),
    },
    {
      name: 'any route, any caller',
      runs: runs(400),
      fields: [
        'nhsNumber',
        'familyName',
        'givenNames',
        'birthDate',
        'motherNhsNumber',
        'name',
        'setting',
        'organisations',
        'officeHoursPhone',
        'emergencyDutyPhone',
        'version',
        'patient:identifier',
      ],
      refusalMayWrite: ['mailbox_message'],
      arb: fc
        .tuple(
          fc.constantFrom<[Method, string]>(
            ['PUT', `/admin/v1/demographics/${FRESH_NHS[0]}`],
            ['POST', '/admin/v1/births'],
            ['PUT', '/admin/v1/organisations/RXX09'],
            ['POST', '/admin/v1/organisations/import'],
            ['PUT', '/admin/v1/local-authorities/E09000009'],
            ['POST', '/admin/v1/notifications/dispatch'],
            ['POST', '/la/v1/uploads'],
            ['PUT', '/la/v1/episodes/{{EPISODE}}'],
            ['GET', '/la/v1/episodes'],
            ['GET', '/admin/v1/audit/verify'],
            ['GET', '/FHIR/R4/CareTeam'],
            ['DELETE', '/admin/v1/demographics/9990000018'],
            ['PATCH', '/admin/v1/local-authorities/E08000025'],
            ['DELETE', '/la/v1/mailbox/00000000-0000-4000-8000-000000000000'],
          ),
          fc.oneof(
            fc.constant(null),
            fc.constantFrom<Persona>(
              admin,
              la(BHAM),
              la('E09000099'),
              clinician(),
              clinician({ activities: [] }),
              pasSystem(),
            ),
          ),
          fc.oneof(
            fc.constant(undefined),
            fc.constantFrom('Bearer', 'Bearer x.y.z', 'Basic YTpi', 'bearer  ', 'Bearer eyJ.eyJ.sig', ''),
          ),
        )
        .map(
          ([[method, url], as, authorization]) =>
            ({
              method,
              url,
              as: authorization === undefined ? as : null,
              headers: {
                ...(authorization !== undefined ? { authorization } : {}),
                'x-request-id': crypto.randomUUID(),
              },
              body: { payload: '{"x":1}', contentType: 'application/json' },
              sent: ['x'],
            }) as Case,
        ),
    },
  ];

  function queryKeys(q: string): string[] {
    return q
      .replace(/^\?/, '')
      .split('&')
      .map((p) => {
        const k = p.split('=')[0] ?? '';
        try {
          return decodeURIComponent(k.replace(/\+/g, ' '));
        } catch {
          return k;
        }
      });
  }
  /** Every member name in a JSON body as sent, at any depth. */
  function keysOfText(b: RawBody): string[] {
    const keys: string[] = [];
    try {
      JSON.parse(String(b.payload), (k, v) => {
        keys.push(k);
        return v;
      });
    } catch {
      // Not one JSON value (a streamed upload reads further): the member names it seems to hold.
      for (const m of String(b.payload).matchAll(/"((?:[^"\\]|\\.)*)"\s*:/g)) {
        try {
          keys.push(JSON.parse(`"${m[1]}"`));
        } catch {
          keys.push(m[1]!);
        }
      }
    }
    return keys;
  }

  function uploadJsonCase(): fc.Arbitrary<Case> {
    const upload = fc.record(
      {
        sequence: fc.oneof(
          { weight: 6, arbitrary: fc.constant(new Raw('{{SEQ}}')) },
          { weight: 1, arbitrary: jsonValue },
        ),
        mode: fc.oneof(fc.constantFrom('delta', 'delta', 'snapshot'), nastyString),
        records: fc.array(mutatedBody(record), { maxLength: 4 }) as fc.Arbitrary<J>,
      },
      { requiredKeys: ['sequence', 'records'] },
    ) as fc.Arbitrary<Record<string, J>>;
    return fc
      .tuple(
        mutatedBody(upload),
        fc.oneof(
          { weight: 5, arbitrary: fc.constant('') },
          {
            weight: 1,
            arbitrary: queryString({ sequence: ['{{SEQ}}', '1', '-1'], mode: ['delta', 'snapshot', 'x'] }),
          },
        ),
      )
      .chain(([j, q]) =>
        rawBody(fc.constant(j)).map((body) => ({
          method: 'POST' as const,
          url: `/la/v1/uploads${q}`,
          as: la(BHAM),
          body,
          sent: [...keysOf(j), ...queryKeys(q)],
        })),
      );
  }

  function uploadCsvCase(): fc.Arbitrary<Case> {
    const valid: Record<string, string> = {
      subject: 'child',
      nhs_number: JOHNNY.nhsNumber,
      local_id: 'C-1042',
      family_name: 'SMITH',
      given_names: 'Johnny',
      birth_date: '2021-05-02',
      plan_type: 'CPP',
      start_date: '2026-10-01',
      end_date: '',
      delete_date: '',
      expected_delivery_date: '',
      team: 'Team A',
    };
    const columns = [...CSV_COLUMNS, 'team'];
    const header = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .shuffledSubarray(columns, { minLength: columns.length - 1 })
          .filter((h) => CSV_COLUMNS.every((c) => h.includes(c))),
      },
      { weight: 1, arbitrary: fc.shuffledSubarray(columns) },
      { weight: 1, arbitrary: fc.tuple(fc.shuffledSubarray(columns), keyArb).map(([h, k]) => [...h, k]) },
      { weight: 1, arbitrary: fc.constant([...CSV_COLUMNS.map((c) => c.toUpperCase())]) },
      { weight: 1, arbitrary: fc.constant([...CSV_COLUMNS, 'nhs_number']) },
    );
    const cell = (col: string) =>
      fc.oneof(
        {
          weight: 5,
          arbitrary: fc.constant(Object.hasOwn(valid, col.toLowerCase()) ? valid[col.toLowerCase()]! : ''),
        },
        { weight: 1, arbitrary: nastyString.map((s) => s.slice(0, 300)) },
      );
    return fc
      .tuple(
        header,
        fc.nat({ max: 4 }),
        fc.constantFrom<'minimal' | 'all' | 'none'>('minimal', 'minimal', 'all', 'none'),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.constantFrom('utf8', 'utf8', 'utf8', 'bom', 'latin1', 'utf16le'),
        fc.oneof(
          { weight: 6, arbitrary: fc.constant('?sequence={{SEQ}}') },
          {
            weight: 1,
            arbitrary: queryString({
              sequence: ['{{SEQ}}', '1', '-1', '1.5', ''],
              mode: ['delta', 'snapshot', 'x'],
            }),
          },
        ),
        fc.constantFrom('text/csv', 'text/csv', 'text/csv; charset=utf-8', 'TEXT/CSV', ...CONTENT_TYPES),
        fc.integer({ min: -1, max: 1 }),
      )
      .chain(([cols, nRows, quoting, eol, encoding, q, contentType, skew]) =>
        fc
          .array(
            fc
              .tuple(...cols.map(cell))
              .map((cells) => (skew < 0 ? cells.slice(0, -1) : skew > 0 ? [...cells, 'extra'] : cells)),
            { minLength: nRows, maxLength: nRows },
          )
          .map((rows) => {
            const text = [csvLine(cols, quoting), ...rows.map((r) => csvLine(r, quoting))].join(eol) + eol;
            const payload =
              encoding === 'bom'
                ? `\ufeff${text}`
                : encoding === 'latin1'
                  ? Buffer.from(text, 'latin1')
                  : encoding === 'utf16le'
                    ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
                    : text;
            return {
              method: 'POST',
              url: `/la/v1/uploads${q}`,
              as: la(BHAM),
              body: { payload, contentType },
              sent: [...cols, ...queryKeys(q)],
            } as Case;
          }),
      );
  }

  /** An acknowledged upload: its counts add up, and each accepted record is held exactly as sent. */
  async function uploadAccepted(c: Case, res: LightMyRequestResponse, written: Record<string, number>) {
    const ack = res.json();
    expect(ack.accepted + ack.rejected, show(c, res)).toBe(ack.received);
    expect(ack.records.length).toBe(ack.received);
    if (ack.accepted === 0 && ack.mode === 'delta') {
      expect(written.la_record ?? 0, show(c, res)).toBe(0);
      expect(written.la_plan ?? 0, show(c, res)).toBe(0);
    }
    const sent = c.body?.contentType?.toLowerCase().includes('json') ? sentJson(c) : null;
    for (const r of ack.records) {
      if (r.code !== 'CPR06' || !sent) continue;
      const raw = (sent.records as Record<string, unknown>[])[r.index]!;
      const held = await db()
        .selectFrom('la_record')
        .select(['family_name', 'given_names', 'local_id', 'subject'])
        .where('la_code', '=', BHAM)
        .where('nhs_number', '=', r.nhsNumber)
        .executeTakeFirst();
      const plans = (
        await db()
          .selectFrom('la_plan')
          .select(['plan_type', 'start_date', 'end_date'])
          .where('la_code', '=', BHAM)
          .where('nhs_number', '=', r.nhsNumber)
          .execute()
      ).map((p) => p.plan_type);
      const standing = ((raw.plans ?? []) as Record<string, unknown>[])
        .filter((p) => !p.deleteDate || String(p.deleteDate) > '2026-11-20')
        .map((p) => p.type);
      if (raw.remove === true || standing.length === 0) {
        expect(held, show(c, res)).toBeUndefined();
        continue;
      }
      expect(held?.subject, show(c, res)).toBe(raw.subject);
      expect(held?.family_name, show(c, res)).toBe(String(raw.familyName).trim());
      expect(held?.local_id ?? null, show(c, res)).toBe(raw.localId || null);
      expect(plans.sort(), show(c, res)).toEqual([...standing].sort());
    }
  }

  // ---- FHIR ----

  function headerValue(s: string): string {
    // What a client can put on the wire: UTF-8 bytes as latin1, controls percent-encoded.
    return Buffer.from(s.slice(0, 500), 'utf8')
      .toString('latin1')
      .split('')
      .map((ch) => {
        const code = ch.charCodeAt(0);
        return (code < 0x20 && code !== 0x09) || code === 0x7f
          ? `%${code.toString(16).padStart(2, '0')}`
          : ch;
      })
      .join('');
  }
  function fhirCase(resource: string): fc.Arbitrary<Case> {
    const hv = (plausible: string[]) =>
      fc.option(fc.oneof(fc.constantFrom(...plausible), nastyString).map(headerValue), { freq: 2 });
    return fc
      .tuple(
        queryString({
          'patient:identifier': [
            `${NHS_SYSTEM}|${JOHNNY.nhsNumber}`,
            `${NHS_SYSTEM}|${FRESH_NHS[0]}`,
            `${NHS_SYSTEM}|9990000019`,
            `${NHS_SYSTEM}|999 000 0018`,
            `${NHS_SYSTEM}|${JOHNNY.nhsNumber},${FRESH_NHS[0]}`,
            `|${JOHNNY.nhsNumber}`,
            JOHNNY.nhsNumber,
            `http://example.org|${JOHNNY.nhsNumber}`,
          ],
          _include: ['AuditEvent:agent', 'AuditEvent:entity-type=Patient'],
          patient: [JOHNNY.nhsNumber],
          _format: ['json', 'xml'],
        }),
        fc.option(fc.oneof(fc.uuid().map(String), nastyString.map(headerValue)), { freq: 8 }),
        hv(['true', 'false', 'TRUE', 'yes']),
        hv(['Sam Reed']),
        hv(['R8003|Health Professional Access Role', 'Health Professional Access Role', '|x']),
        hv(['RYA01', 'r1h12', 'XX']),
        hv(['Jo Bloggs']),
        hv(['Named nurse']),
        hv(['0151 496 0999', 'call me']),
        fc.constantFrom<Persona>(
          clinician(),
          clinician({ activities: ['B0170'] }),
          clinician({ activities: [] }),
          pasSystem(),
          pasSystem({ responsiblePerson: undefined as never }),
        ),
      )
      .map(([q, rid, unsched, rp, rpRole, loc, lead, leadRole, leadPhone, as]) => {
        const headers: Record<string, string> = {};
        const set = (k: string, v: string | null) => {
          if (v !== null) headers[k] = v;
        };
        set('x-request-id', rid);
        set('isunscheduledaccessevent', unsched);
        set('nhsd-responsible-person', rp);
        set('nhsd-responsible-person-role', rpRole);
        set('nhsd-patient-location', loc);
        set('nhsd-safeguarding-lead', lead);
        set('nhsd-safeguarding-lead-role', leadRole);
        set('nhsd-safeguarding-lead-phone', leadPhone);
        return { method: 'GET', url: `/FHIR/R4/${resource}${q}`, headers, as, sent: queryKeys(q) } as Case;
      });
  }

  for (const route of routes) {
    it(`${route.name}: no 5xx, refusals name the field and write nothing`, async () => {
      await fc.assert(
        fc.asyncProperty(route.arb, async (c) => {
          const msg = messageIds[0] ?? '';
          await exercise(route, { ...c, url: c.url.replace('%7B%7BMSG%7D%7D', msg) });
        }),
        { numRuns: route.runs, endOnFailure: true },
      );
    }, 600_000);
  }

  // A lighter pass over the health portal's search form (a signed-in session, with its CSRF token).
  it('POST /search (portal form): no 5xx, no leak, nothing written but the audit trail and the session', async () => {
    const b = new TestBrowser(t.service.http);
    const signedIn = await b.signIn('555000000302');
    expect(signedIn.status).toBe(200);
    const csrf = findForm((await b.get('/search')).html, '/search').hidden._csrf!;
    const field = (plausible: string[]) =>
      fc.option(fc.oneof(fc.constantFrom(...plausible), nastyString), { freq: 3 });
    const form = fc.record({
      _csrf: fc.oneof({ weight: 8, arbitrary: fc.constant(csrf) }, { weight: 1, arbitrary: nastyString }),
      by: field(['nhs-number', 'details']),
      nhsNumber: field([JOHNNY.nhsNumber, '999 000 0018', '9990000019']),
      familyName: field(['SMITH', 'SMI*']),
      givenName: field(['Johnny', 'J*']),
      day: field(['2', '02', '31']),
      month: field(['5', '13']),
      year: field(['2021', '1899', '2100']),
      gender: field(['male', 'female', 'x']),
      postcode: field(['B15 2TT', 'B15*', 'B*']),
      extra: fc.option(fc.tuple(keyArb, nastyString), { freq: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(
        form,
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain'),
        async (f, type) => {
          const fields: [string, string][] = [];
          for (const [k, v] of Object.entries(f)) {
            if (k === 'extra' || v === null) continue;
            fields.push([k, (v as string).slice(0, 2000)]);
          }
          if (f.extra) fields.push([f.extra[0].slice(0, 100), f.extra[1].slice(0, 2000)]);
          const payload =
            type === 'application/json'
              ? `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`
              : fields.map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`).join('&');
          const before = await writes();
          const res = await t.service.http.inject({
            method: 'POST',
            url: '/search',
            headers: {
              host: '127.0.0.1:8080',
              cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
              'content-type': type,
            },
            payload,
          });
          const written = delta(before, await writes());
          lastWrites = null;
          totals.cases++;
          if (res.statusCode >= 500) totals.s5xx++;
          else if (res.statusCode >= 400) totals.s4xx++;
          else totals.s2xx++;
          const what = `POST /search ${type} ${payload.slice(0, 300)} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
          if (res.statusCode >= 500) throw new Error(`a 5xx: ${what}`);
          for (const leak of LEAKS.filter((l) => !/select|from/i.test(l.source))) {
            if (leak.test(res.body)) throw new Error(`${leak} in the answer: ${what}`);
          }
          const unexpected = Object.keys(written).filter(
            (k) => !['audit_log', 'audit_head', 'web_session'].includes(k),
          );
          if (unexpected.length) throw new Error(`the search wrote ${JSON.stringify(written)}: ${what}`);
        },
      ),
      { numRuns: runs(300), endOnFailure: true },
    );
  }, 600_000);

  it('leaves the service healthy and the audit chain intact', async () => {
    expect((await t.anonymous.get('/healthz')).statusCode).toBe(200);
    const chain = await verifyAuditChain(db());
    expect(chain.ok, JSON.stringify(chain)).toBe(true);
    expect(totals.s5xx).toBe(0);
    expect(totals.cases).toBeGreaterThanOrEqual(Math.min(10_000, runs(10_000)));
  });
});
