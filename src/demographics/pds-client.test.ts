/**
 * The PDS FHIR client against a small fake PDS on loopback. Resources and errors are shaped like the PDS
 * FHIR API's own sandbox (NHSDigital/personal-demographics-service-api: sandbox/mocks/Patient.json,
 * Sensitive_Patient.json, Minimal_Patient.json; OperationOutcome errors coded from Spine-ErrorOrWarningCode),
 * with numbers from the 999 test range.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Patient } from 'fhir/r4.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type NhsNumber, nhsNumber } from '../domain/nhs-number.ts';
import { type PdsClientOptions, PdsFhirClient, patientToTrace, searchParameters } from './pds-client.ts';
import { type DemographicsQuery, DemographicsUnavailable, type TraceContext } from './types.ts';

const ctx: TraceContext = { db: undefined as never };
const TOKEN = 'test-access-token';

const FOUND = nhsNumber('9990000018');
const SUPERSEDED = nhsNumber('9990000026');
const SURVIVOR = nhsNumber('9990000034');
const RESTRICTED = nhsNumber('9990000042');
const NOT_FOUND = nhsNumber('9990000050');
const INVALIDATED = nhsNumber('9990000069');
const FLAKY = nhsNumber('9990000077');
const DOWN = nhsNumber('9990000085');
const SLOW = nhsNumber('9990000093');
const VERY_RESTRICTED = nhsNumber('9990000107');
const DECEASED = nhsNumber('9990000115');
const REJECTED_ID = nhsNumber('9990000123');
const BARE_404 = nhsNumber('9990000131');
const NOT_A_PATIENT = nhsNumber('9990000158');

const SECURITY_SYSTEM = 'https://www.hl7.org/fhir/valueset-security-labels.html';

/** A Patient as PDS returns it on a retrieval (after sandbox/mocks/Patient.json, trimmed). */
function pdsPatient(id: string, overrides: Partial<Patient> = {}): Patient {
  return {
    resourceType: 'Patient',
    id,
    identifier: [
      {
        extension: [
          {
            url: 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus',
            valueCodeableConcept: {
              coding: [
                {
                  system: 'https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus',
                  version: '1.0.0',
                  code: '01',
                  display: 'Number present and verified',
                },
              ],
            },
          },
        ],
        system: 'https://fhir.nhs.uk/Id/nhs-number',
        value: id,
      },
    ],
    meta: { versionId: '2', security: [{ system: SECURITY_SYSTEM, code: 'U', display: 'unrestricted' }] },
    name: [
      {
        id: '123',
        use: 'usual',
        period: { start: '2015-03-01' },
        given: ['Jane', 'Adele'],
        family: 'Smith',
        prefix: ['Miss'],
      },
      { id: '124', use: 'nickname', given: ['Janey'], family: 'Smith' },
    ],
    gender: 'female',
    birthDate: '2015-03-01',
    multipleBirthInteger: 1,
    address: [
      {
        id: '456',
        period: { start: '2020-01-01' },
        use: 'home',
        line: ['1 Trevelyan Square', 'Boar Lane', 'Leeds'],
        postalCode: 'LS1 6AE',
      },
    ],
    generalPractitioner: [
      {
        id: '254406A3',
        type: 'Organization',
        identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'Y12345' },
      },
    ],
    ...overrides,
  };
}

/** A restricted record loses address, telecom and GP (after sandbox/mocks/Sensitive_Patient.json). */
function restricted(patient: Patient): Patient {
  const { address: _a, telecom: _t, generalPractitioner: _g, ...rest } = patient;
  return {
    ...rest,
    meta: { versionId: '2', security: [{ system: SECURITY_SYSTEM, code: 'R', display: 'restricted' }] },
  };
}

function outcome(code: string, display: string, issueCode: string, diagnostics?: string) {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: issueCode,
        details: {
          coding: [
            {
              system: 'https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode',
              version: '1',
              code,
              display,
            },
          ],
        },
        ...(diagnostics ? { diagnostics } : {}),
      },
    ],
  };
}

// --- the fake PDS -------------------------------------------------------------------------------

const BASE_PATH = '/personal-demographics/FHIR/R4';
let server: Server;
let baseUrl: string;
/** Every request the fake saw: the NHS number in the path and the headers. */
let requests: { nhsNumber: string; headers: IncomingHttpHeaders }[] = [];
/** Every search the fake saw: the raw query string, its parameters and the headers. */
let searches: { search: string; params: URLSearchParams; headers: IncomingHttpHeaders }[] = [];
let inFlight = 0;
let maxInFlight = 0;
/** Added to every answer (to observe concurrency). */
let delayMs = 0;

function hits(n: string): number {
  return requests.filter((r) => r.nhsNumber === n).length;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/fhir+json', ...headers });
  res.end(JSON.stringify(body));
}

async function answer(n: string, headers: IncomingHttpHeaders, res: ServerResponse): Promise<void> {
  if (headers.authorization !== `Bearer ${TOKEN}`) {
    return send(res, 401, outcome('ACCESS_DENIED', 'Access Denied - Unauthorised', 'forbidden'));
  }
  if (!headers['x-request-id']) {
    return send(res, 400, outcome('MISSING_VALUE', 'Required value is missing', 'required'));
  }
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  switch (n) {
    case FOUND:
      return send(res, 200, pdsPatient(FOUND), { etag: 'W/"2"' });
    case SUPERSEDED:
      // The surviving record is returned in place of the one asked for.
      return send(
        res,
        200,
        pdsPatient(SURVIVOR, {
          name: [{ use: 'usual', given: ['Thomas'], family: 'Jones' }],
          gender: 'male',
        }),
      );
    case RESTRICTED:
      return send(res, 200, restricted(pdsPatient(RESTRICTED)));
    case VERY_RESTRICTED:
      // Everything but id, identifier and meta is removed (after Minimal_Patient.json with code V).
      return send(res, 200, {
        resourceType: 'Patient',
        id: VERY_RESTRICTED,
        identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: VERY_RESTRICTED }],
        meta: {
          versionId: '2',
          security: [{ system: SECURITY_SYSTEM, code: 'V', display: 'very restricted' }],
        },
      });
    case DECEASED:
      return send(res, 200, pdsPatient(DECEASED, { deceasedDateTime: '2024-06-30T23:30:00+01:00' }));
    case NOT_FOUND:
      return send(res, 404, outcome('RESOURCE_NOT_FOUND', 'Resource not found', 'not_found'));
    case INVALIDATED:
      return send(
        res,
        404,
        outcome(
          'INVALIDATED_RESOURCE',
          'Resource that has been marked as invalid was requested - invalid resources cannot be retrieved',
          'processing',
        ),
      );
    case REJECTED_ID:
      return send(res, 400, outcome('INVALID_RESOURCE_ID', 'Resource Id is invalid', 'value'));
    case FLAKY:
      if (hits(FLAKY) === 1) return send(res, 500, outcome('SERVICE_ERROR', 'Service error', 'exception'));
      return send(res, 200, pdsPatient(FLAKY));
    case DOWN:
      return send(
        res,
        503,
        outcome(
          'SERVICE_UNAVAILABLE',
          'Service unavailable',
          'timeout',
          'Retry after the Retry-After period.',
        ),
        { 'retry-after': '0' },
      );
    case SLOW:
      await new Promise((r) => setTimeout(r, 1_000));
      return send(res, 200, pdsPatient(SLOW));
    case BARE_404:
      if (res.destroyed) return;
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<h1>Not Found</h1>');
      return;
    case NOT_A_PATIENT:
      return send(res, 200, { resourceType: 'Bundle', type: 'searchset', total: 0 });
    default:
      if (/^[0-9]{10}$/.test(n)) return send(res, 200, pdsPatient(n));
      return send(res, 400, outcome('INVALID_RESOURCE_ID', 'Resource Id is invalid', 'value'));
  }
}

/** A searchset Bundle as PDS answers a search (after sandbox/src/services/patient-searcher.js). */
function searchset(patients: Patient[]) {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    timestamp: '2026-11-20T10:00:00+00:00',
    total: patients.length,
    entry: patients.map((p) => ({
      fullUrl: `https://api.service.nhs.uk/personal-demographics/FHIR/R4/Patient/${p.id}`,
      search: { score: 1 },
      resource: p,
    })),
  };
}

const TOO_MANY = outcome('TOO_MANY_MATCHES', 'Too Many Matches', 'multiple-matches');

/** The fake's searches, chosen by the family name asked for. */
async function answerSearch(params: URLSearchParams, headers: IncomingHttpHeaders, res: ServerResponse) {
  if (headers.authorization !== `Bearer ${TOKEN}`) {
    return send(res, 401, outcome('ACCESS_DENIED', 'Access Denied - Unauthorised', 'forbidden'));
  }
  switch (params.get('family')) {
    case 'Smith':
      return send(res, 200, searchset([pdsPatient(FOUND)]));
    case 'Nobody':
      return send(res, 200, { resourceType: 'Bundle', type: 'searchset', total: 0 });
    case 'Many':
      return send(res, 200, TOO_MANY);
    case 'SandboxMany':
      // The PDS sandbox answers TOO_MANY_MATCHES with 400.
      return send(res, 400, TOO_MANY);
    case 'Two':
      return send(res, 200, searchset([pdsPatient(FOUND), pdsPatient(SURVIVOR)]));
    case 'Restricted':
      return send(res, 200, searchset([restricted(pdsPatient(RESTRICTED))]));
    case 'Flaky':
      if (searches.length === 1)
        return send(res, 500, outcome('SERVICE_ERROR', 'Service error', 'exception'));
      return send(res, 200, searchset([pdsPatient(FLAKY)]));
    case 'Down':
      return send(res, 503, outcome('SERVICE_UNAVAILABLE', 'Service unavailable', 'timeout'), {
        'retry-after': '0',
      });
    case 'Invalid':
      return send(res, 400, outcome('INVALID_SEARCH_DATA', 'Invalid search data provided', 'invalid'));
    case 'NotABundle':
      return send(res, 200, pdsPatient(FOUND));
    default:
      return send(res, 200, searchset([]));
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === `${BASE_PATH}/Patient`) {
      searches.push({ search: url.search, params: url.searchParams, headers: req.headers });
      answerSearch(url.searchParams, req.headers, res).catch(() =>
        send(res, 500, outcome('SERVICE_ERROR', 'Service error', 'exception')),
      );
      return;
    }
    const m = url.pathname.startsWith(`${BASE_PATH}/Patient/`)
      ? url.pathname.slice(`${BASE_PATH}/Patient/`.length)
      : undefined;
    if (req.method !== 'GET' || m === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such route');
      return;
    }
    requests.push({ nhsNumber: m, headers: req.headers });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    answer(m, req.headers, res)
      .catch(() => send(res, 500, outcome('SERVICE_ERROR', 'Service error', 'exception')))
      .finally(() => inFlight--);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}${BASE_PATH}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  searches = [];
  inFlight = 0;
  maxInFlight = 0;
  delayMs = 0;
});

function client(opts: Partial<PdsClientOptions> = {}): PdsFhirClient {
  return new PdsFhirClient({
    baseUrl,
    accessToken: TOKEN,
    retries: 2,
    retryBaseDelayMs: 5,
    timeoutMs: 2_000,
    ...opts,
  });
}

async function traceOne(n: NhsNumber, opts: Partial<PdsClientOptions> = {}) {
  const result = await client(opts).trace([n], ctx);
  return result.get(n);
}

// --- tests --------------------------------------------------------------------------------------

describe('PdsFhirClient', () => {
  it('is the pds kind', () => {
    expect(client().kind).toBe('pds');
  });

  it('maps a found patient: usual name, given names, birth date, gender', async () => {
    expect(await traceOne(FOUND)).toEqual({
      status: 'found',
      person: {
        nhsNumber: FOUND,
        familyName: 'Smith',
        givenNames: ['Jane', 'Adele'],
        birthDate: '2015-03-01',
        gender: 'female',
        sensitive: false,
        deathDate: null,
        motherNhsNumber: null,
        postcode: 'LS1 6AE',
      },
    });
  });

  it('reports a superseded number with its replacement and the surviving record', async () => {
    const trace = await traceOne(SUPERSEDED);
    expect(trace).toMatchObject({
      status: 'superseded',
      nhsNumber: SUPERSEDED,
      replacementNhsNumber: SURVIVOR,
      person: { nhsNumber: SURVIVOR, familyName: 'Jones', givenNames: ['Thomas'], gender: 'male' },
    });
  });

  it('marks a restricted (R) record sensitive, with no postcode', async () => {
    const trace = await traceOne(RESTRICTED);
    expect(trace).toMatchObject({
      status: 'found',
      person: { nhsNumber: RESTRICTED, sensitive: true, postcode: null },
    });
    expect(trace?.status === 'found' && trace.person.familyName).toBe('Smith');
  });

  it('marks a very restricted (V) record sensitive, with the withheld fields empty', async () => {
    expect(await traceOne(VERY_RESTRICTED)).toEqual({
      status: 'found',
      person: {
        nhsNumber: VERY_RESTRICTED,
        familyName: '',
        givenNames: [],
        birthDate: '',
        gender: 'unknown',
        sensitive: true,
        deathDate: null,
        motherNhsNumber: null,
        postcode: null,
      },
    });
  });

  it('takes the date part of deceasedDateTime, in its own offset', async () => {
    const trace = await traceOne(DECEASED);
    expect(trace?.status === 'found' && trace.person.deathDate).toBe('2024-06-30');
  });

  it('reports 404 RESOURCE_NOT_FOUND as not found', async () => {
    expect(await traceOne(NOT_FOUND)).toEqual({ status: 'not-found', nhsNumber: NOT_FOUND });
  });

  it('reports 404 INVALIDATED_RESOURCE as invalidated', async () => {
    expect(await traceOne(INVALIDATED)).toEqual({ status: 'invalidated', nhsNumber: INVALIDATED });
  });

  it('reports 400 INVALID_RESOURCE_ID as not found', async () => {
    expect(await traceOne(REJECTED_ID)).toEqual({ status: 'not-found', nhsNumber: REJECTED_ID });
  });

  it('retries a 500 and uses the answer that follows, with the same X-Request-ID', async () => {
    const trace = await traceOne(FLAKY);
    expect(trace).toMatchObject({ status: 'found', person: { nhsNumber: FLAKY } });
    expect(hits(FLAKY)).toBe(2);
    const [first, second] = requests.map((r) => r.headers['x-request-id']);
    expect(first).toBe(second);
  });

  it('throws DemographicsUnavailable when PDS stays at 503, after a bounded number of attempts', async () => {
    const err = await client({ retries: 2 })
      .trace([DOWN], ctx)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DemographicsUnavailable);
    expect((err as Error).message).toMatch(/3 attempt\(s\).*503 SERVICE_UNAVAILABLE/);
    expect(hits(DOWN)).toBe(3);
  });

  it('fails the whole call when one number cannot be answered (never a partial map)', async () => {
    await expect(client({ retries: 0 }).trace([FOUND, DOWN, RESTRICTED], ctx)).rejects.toBeInstanceOf(
      DemographicsUnavailable,
    );
  });

  it('throws DemographicsUnavailable when PDS does not answer in time', async () => {
    const err = await client({ timeoutMs: 100, retries: 1 })
      .trace([SLOW], ctx)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DemographicsUnavailable);
    expect((err as Error).message).toMatch(/timed out after 100 ms/);
    expect(hits(SLOW)).toBe(2);
  });

  it('sends the bearer token, a UUID X-Request-ID and Accept: application/fhir+json', async () => {
    let asked = 0;
    const tokenSource = async () => {
      asked++;
      return TOKEN;
    };
    await client({ accessToken: tokenSource }).trace([FOUND, RESTRICTED], ctx);
    expect(asked).toBe(2);
    expect(requests).toHaveLength(2);
    for (const { headers } of requests) {
      expect(headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(headers.accept).toBe('application/fhir+json');
      expect(headers['x-request-id']).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    }
    expect(requests[0]!.headers['x-request-id']).not.toBe(requests[1]!.headers['x-request-id']);
  });

  it('says the credential was refused on a 401, without retrying', async () => {
    const err = await client({ accessToken: 'expired' })
      .trace([FOUND], ctx)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DemographicsUnavailable);
    expect((err as Error).message).toMatch(/refused the credential.*401 ACCESS_DENIED/);
    expect(hits(FOUND)).toBe(1);
  });

  it('throws DemographicsUnavailable when the token source fails', async () => {
    const failing = async (): Promise<string> => {
      throw new Error('token endpoint down');
    };
    await expect(client({ accessToken: failing }).trace([FOUND], ctx)).rejects.toThrow(
      /access token.*token endpoint down/,
    );
  });

  it('asks once per distinct number and answers for every number asked about', async () => {
    const result = await client().trace([FOUND, FOUND, RESTRICTED, FOUND, NOT_FOUND, RESTRICTED], ctx);
    expect([...result.keys()].sort()).toEqual([FOUND, RESTRICTED, NOT_FOUND].sort());
    expect(hits(FOUND)).toBe(1);
    expect(hits(RESTRICTED)).toBe(1);
    expect(hits(NOT_FOUND)).toBe(1);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    delayMs = 30;
    const many = ['9990000166', '9990000174', '9990000182', '9990000190', '9990000204', '9990000212'].map(
      nhsNumber,
    );
    const result = await client({ concurrency: 2 }).trace(many, ctx);
    expect(result.size).toBe(6);
    expect(maxInFlight).toBe(2);
  });

  it('answers an empty request with an empty map, without calling PDS', async () => {
    expect((await client().trace([], ctx)).size).toBe(0);
    expect(requests).toHaveLength(0);
  });

  it('never reads a 404 without a PDS error code (say, a wrong base URL) as not found', async () => {
    await expect(client().trace([BARE_404], ctx)).rejects.toThrow(/without a recognised error code/);
    await expect(client({ baseUrl: `${baseUrl}/wrong` }).trace([FOUND], ctx)).rejects.toBeInstanceOf(
      DemographicsUnavailable,
    );
  });

  it('throws DemographicsUnavailable on a 200 that is not a Patient', async () => {
    await expect(client().trace([NOT_A_PATIENT], ctx)).rejects.toThrow(/without a Patient resource/);
  });

  it('throws DemographicsUnavailable when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      client({ baseUrl: `http://127.0.0.1:${port}`, retries: 1 }).trace([FOUND], ctx),
    ).rejects.toThrow(/network error/);
  });
});

describe('PdsFhirClient.search', () => {
  const jane: DemographicsQuery = { familyName: 'Smith', givenName: 'Jane', birthDate: '2015-03-01' };

  it('answers one with the Patient found, its home postcode included', async () => {
    expect(await client().search(jane, ctx)).toEqual({
      status: 'one',
      person: {
        nhsNumber: FOUND,
        familyName: 'Smith',
        givenNames: ['Jane', 'Adele'],
        birthDate: '2015-03-01',
        gender: 'female',
        sensitive: false,
        deathDate: null,
        motherNhsNumber: null,
        postcode: 'LS1 6AE',
      },
    });
    expect(searches).toHaveLength(1);
  });

  it('answers none for an empty searchset', async () => {
    expect(await client().search({ ...jane, familyName: 'Nobody' }, ctx)).toEqual({ status: 'none' });
  });

  it('answers several for TOO_MANY_MATCHES (200, as documented, or 400, as the sandbox does), never a list', async () => {
    expect(await client().search({ ...jane, familyName: 'Many' }, ctx)).toEqual({ status: 'several' });
    expect(await client().search({ ...jane, familyName: 'SandboxMany' }, ctx)).toEqual({ status: 'several' });
    expect(await client().search({ ...jane, familyName: 'Two' }, ctx)).toEqual({ status: 'several' });
  });

  it('answers a restricted patient as sensitive, with no postcode', async () => {
    const result = await client().search({ ...jane, familyName: 'Restricted' }, ctx);
    expect(result).toMatchObject({
      status: 'one',
      person: { nhsNumber: RESTRICTED, sensitive: true, postcode: null, familyName: 'Smith' },
    });
  });

  it('builds the query string PDS documents: eq date, optional gender and postcode, one result at most', async () => {
    await client().search(jane, ctx);
    expect(searches[0]!.search).toBe('?family=Smith&given=Jane&birthdate=eq2015-03-01&_max-results=1');
    await client().search({ ...jane, gender: 'female', postcode: 'LS1 6AE' }, ctx);
    expect(searches[1]!.search).toBe(
      '?family=Smith&given=Jane&birthdate=eq2015-03-01&gender=female&address-postalcode=LS1%206AE&_max-results=1',
    );
  });

  it('keeps wildcards and percent-encodes everything else (spaces, accents, ampersands)', async () => {
    const query: DemographicsQuery = {
      familyName: "O'Brien-Kociński",
      givenName: 'Zo*',
      birthDate: '2019-04-04',
      postcode: 'B15*',
    };
    expect(searchParameters(query)).toBe(
      "family=O'Brien-Koci%C5%84ski&given=Zo*&birthdate=eq2019-04-04&address-postalcode=B15*&_max-results=1",
    );
    expect(searchParameters({ ...query, familyName: 'Smith & Jones', givenName: 'Mary Ann' })).toContain(
      'family=Smith%20%26%20Jones&given=Mary%20Ann&',
    );
    await client().search(query, ctx);
    expect(searches[0]!.params.get('family')).toBe("O'Brien-Kociński");
    expect(searches[0]!.params.get('given')).toBe('Zo*');
    expect(searches[0]!.params.get('address-postalcode')).toBe('B15*');
  });

  it('sends the same headers as a trace', async () => {
    await client().search(jane, ctx);
    const { headers } = searches[0]!;
    expect(headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(headers.accept).toBe('application/fhir+json');
    expect(headers['x-request-id']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('retries a 500 with the same X-Request-ID and uses the answer that follows', async () => {
    const result = await client().search({ ...jane, familyName: 'Flaky' }, ctx);
    expect(result).toMatchObject({ status: 'one', person: { nhsNumber: FLAKY } });
    expect(searches).toHaveLength(2);
    expect(searches[0]!.headers['x-request-id']).toBe(searches[1]!.headers['x-request-id']);
  });

  it('throws DemographicsUnavailable when PDS stays at 503, after a bounded number of attempts', async () => {
    const err = await client({ retries: 2 })
      .search({ ...jane, familyName: 'Down' }, ctx)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DemographicsUnavailable);
    expect((err as Error).message).toMatch(/3 attempt\(s\).*503 SERVICE_UNAVAILABLE/);
    expect(searches).toHaveLength(3);
  });

  it('never reads a refusal or an answer it does not recognise as none', async () => {
    await expect(client({ accessToken: 'expired' }).search(jane, ctx)).rejects.toThrow(
      /refused the credential.*401 ACCESS_DENIED/,
    );
    await expect(client().search({ ...jane, familyName: 'Invalid' }, ctx)).rejects.toThrow(
      /400 INVALID_SEARCH_DATA/,
    );
    await expect(client().search({ ...jane, familyName: 'NotABundle' }, ctx)).rejects.toThrow(
      /without a Bundle/,
    );
    await expect(client({ baseUrl: `${baseUrl}/wrong` }).search(jane, ctx)).rejects.toBeInstanceOf(
      DemographicsUnavailable,
    );
    expect(searches.filter((s) => s.params.get('family') === 'Invalid')).toHaveLength(1);
  });

  it('throws DemographicsUnavailable when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    await expect(
      client({ baseUrl: `http://127.0.0.1:${port}`, retries: 1 }).search(jane, ctx),
    ).rejects.toThrow(/network error/);
  });
});

describe('patientToTrace', () => {
  const today = '2026-05-01';

  it('picks the usual name in force, not an old, nickname or ended usual name', () => {
    const patient = pdsPatient(FOUND, {
      name: [
        { use: 'old', given: ['Jane'], family: 'Brown' },
        {
          use: 'usual',
          period: { start: '2015-03-01', end: '2020-01-31' },
          given: ['Jane'],
          family: 'Brown',
        },
        { use: 'nickname', given: ['Janey'], family: 'Smith' },
        { use: 'usual', period: { start: '2020-02-01' }, given: ['Jane', 'Adele'], family: 'Smith' },
      ],
    });
    const trace = patientToTrace(FOUND, patient, today);
    expect(trace).toMatchObject({
      status: 'found',
      person: { familyName: 'Smith', givenNames: ['Jane', 'Adele'] },
    });
  });

  it('falls back to the usual name most recently in force when none is current (as in the PDS sandbox)', () => {
    const patient = pdsPatient(FOUND, {
      name: [
        { use: 'usual', period: { start: '2015-01-01', end: '2018-12-31' }, given: ['Ann'], family: 'Older' },
        {
          use: 'usual',
          period: { start: '2020-01-01', end: '2021-12-31' },
          given: ['Jane'],
          family: 'Smith',
        },
      ],
    });
    expect(patientToTrace(FOUND, patient, today)).toMatchObject({ person: { familyName: 'Smith' } });
  });

  it('maps a missing gender to unknown', () => {
    const { gender: _g, ...rest } = pdsPatient(FOUND);
    expect(patientToTrace(FOUND, rest as Patient, today)).toMatchObject({ person: { gender: 'unknown' } });
  });

  it('passes gaps on for that one record (so it fails to match) instead of guessing or failing the file', () => {
    const noName = pdsPatient(FOUND, { name: [{ use: 'nickname', given: ['Janey'], family: 'Smith' }] });
    expect(patientToTrace(FOUND, noName, today)).toMatchObject({
      status: 'found',
      person: { familyName: '', givenNames: [] },
    });
    expect(patientToTrace(FOUND, pdsPatient(FOUND, { birthDate: '2015-03' }), today)).toMatchObject({
      person: { birthDate: '2015-03' },
    });
    const minimal = pdsPatient(FOUND);
    delete minimal.name;
    delete minimal.birthDate;
    expect(patientToTrace(FOUND, minimal, today)).toMatchObject({
      person: { familyName: '', birthDate: '' },
    });
    expect(patientToTrace(FOUND, pdsPatient(FOUND, { deceasedDateTime: '2024' }), today)).toMatchObject({
      person: { deathDate: '2024' },
    });
  });

  it('fails the call for shapes PDS does not document: an unknown security code, a bad id, a malformed date', () => {
    const oddLabel = pdsPatient(FOUND, {
      meta: { security: [{ system: SECURITY_SYSTEM, code: 'REDACTED' }] },
    });
    expect(() => patientToTrace(FOUND, oddLabel, today)).toThrow(/meta.security code "REDACTED"/);
    expect(() => patientToTrace(FOUND, pdsPatient('9990000019'), today)).toThrow(/not a valid NHS number/);
    expect(() => patientToTrace(FOUND, pdsPatient(FOUND, { birthDate: '15/03/2015' }), today)).toThrow(
      DemographicsUnavailable,
    );
  });

  it('takes the postcode of the home address in force, normalised; none when there is no such address', () => {
    const moved = pdsPatient(FOUND, {
      address: [
        { use: 'home', period: { start: '2015-03-01', end: '2022-06-30' }, postalCode: 'LS1 6AE' },
        { use: 'temp', period: { start: '2026-01-01' }, postalCode: 'M13 9WL' },
        { use: 'home', period: { start: '2022-07-01' }, postalCode: 'b152tt' },
        { use: 'home', period: { start: '2027-01-01' }, postalCode: 'BS2 8EG' },
      ],
    });
    expect(patientToTrace(FOUND, moved, today)).toMatchObject({ person: { postcode: 'B15 2TT' } });
    const noPeriod = pdsPatient(FOUND, { address: [{ use: 'home', postalCode: 'E1 1BB' }] });
    expect(patientToTrace(FOUND, noPeriod, today)).toMatchObject({ person: { postcode: 'E1 1BB' } });
    const abroad = pdsPatient(FOUND, { address: [{ use: 'home', postalCode: '75001' }] });
    expect(patientToTrace(FOUND, abroad, today)).toMatchObject({ person: { postcode: null } });
    const { address: _a, ...noAddress } = pdsPatient(FOUND);
    expect(patientToTrace(FOUND, noAddress as Patient, today)).toMatchObject({ person: { postcode: null } });
  });

  it('never gives a restricted record a postcode, even if PDS sent its address', () => {
    const patient = pdsPatient(RESTRICTED, {
      meta: { security: [{ system: SECURITY_SYSTEM, code: 'R', display: 'restricted' }] },
    });
    expect(patient.address?.[0]?.postalCode).toBe('LS1 6AE');
    expect(patientToTrace(RESTRICTED, patient, today)).toMatchObject({
      person: { sensitive: true, postcode: null },
    });
  });

  it('treats a record with no security label as unrestricted', () => {
    const patient = pdsPatient(FOUND, { meta: { versionId: '2' } });
    expect(patientToTrace(FOUND, patient, today)).toMatchObject({ person: { sensitive: false } });
  });
});
