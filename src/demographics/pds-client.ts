/**
 * Demographics adapter for the real NHS Personal Demographics Service (PDS) FHIR API (R4).
 *
 * Trace: one `GET {base}/Patient/{nhsNumber}` per distinct number, a few at a time. What PDS answers, and
 * what we make of it (from the PDS FHIR API's OpenAPI specification, NHSDigital/personal-demographics-service-api):
 * - 200 with a Patient whose `id` is the number asked for: found.
 * - 200 with a Patient whose `id` differs: the number was superseded (merged); PDS answers with the surviving record.
 * - 404 `RESOURCE_NOT_FOUND`: not found. 404 `INVALIDATED_RESOURCE`: invalidated and not superseded.
 * - 400 `INVALID_RESOURCE_ID`: PDS does not accept the number; for us (the caller checked the check digit) not found.
 * - 401/403: the credential was refused. Other 4xx, a 404 without a PDS error code, or a body we do not
 *   recognise: we cannot tell what PDS meant, so the whole call fails.
 * - 408, 429, 5xx, network errors and timeouts: retried a bounded number of times, then the whole call fails.
 * Any failure throws `DemographicsUnavailable` for the whole `trace()`: callers must apply nothing rather
 * than treat a number PDS did not answer for as "not found".
 *
 * Search (trace by demographics): one `GET {base}/Patient?family=&given=&birthdate=eq{date}[&gender=]
 * [&address-postalcode=]&_max-results=1` (a non-fuzzy search; names and postcode may end with `*`), with the
 * same headers, retries and timeouts. PDS answers (paths/patient-search.yaml):
 * - 200 with a `searchset` Bundle of 0 or 1 Patients: none, or that one (a superseded record is answered by
 *   the surviving one; invalidated records are never returned). More than one entry, or a `total` above 1: several.
 * - 200 with an OperationOutcome coded `TOO_MANY_MATCHES`: several (the user refines the search). The PDS
 *   sandbox answers it with 400, so a 400 `TOO_MANY_MATCHES` is read the same way.
 * - Restricted patients come back labelled R or V and without an address: sensitive, postcode null. PDS
 *   returns no restricted patient at all to a search with a postcode.
 * - Anything else, as for trace: retried (408, 429, 5xx, network errors, timeouts) or a failure, which throws
 *   `DemographicsUnavailable` — never read as "none".
 *
 * The postcode a Patient gives is its home address's (`use` home, period in force), normalised; null when
 * there is none, it is not a UK postcode, or the record is restricted.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Address, HumanName, Patient } from 'fhir/r4.js';
import { type IsoDate, isIsoDate, londonDateOf } from '../domain/dates.ts';
import { isValidNhsNumber, type NhsNumber } from '../domain/nhs-number.ts';
import { normalisePostcode } from './search.ts';
import {
  type DemographicsQuery,
  type DemographicsSearchResult,
  type DemographicsService,
  DemographicsUnavailable,
  GENDERS,
  type Gender,
  type Person,
  type Trace,
  type TraceContext,
} from './types.ts';

export interface PdsClientOptions {
  /** E.g. https://int.api.service.nhs.uk/personal-demographics/FHIR/R4 (no trailing slash needed). */
  baseUrl: string;
  /** A bearer token, or a function asked for one before every request (so it can refresh). None: no header. */
  accessToken?: string | (() => Promise<string>);
  /** Per attempt, covering the response body too. Default 10 000 ms. */
  timeoutMs?: number;
  /** Lookups in flight at once. Default 8. */
  concurrency?: number;
  /** Further attempts after a transient failure (408, 429, 5xx, network error, timeout). Default 3. */
  retries?: number;
  /** First backoff delay; doubled each retry, plus jitter. Default 200 ms. */
  retryBaseDelayMs?: number;
  fetch?: typeof fetch;
}

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
/** The longest a `Retry-After` from PDS is allowed to hold one lookup up, so a call stays bounded. */
const MAX_RETRY_AFTER_MS = 5_000;

/** One attempt's outcome: an answer, or a transient failure worth another attempt. */
type Attempt<T> = { kind: 'answer'; value: T } | { kind: 'retry'; reason: string; retryAfterMs?: number };

/** Reads a PDS answer that is neither transient (retried) nor a refused credential. Throws when it cannot. */
type Reader<T> = (status: number, text: string, requestId: string) => T;

export class PdsFhirClient implements DemographicsService {
  readonly kind = 'pds' as const;
  private readonly baseUrl: string;
  private readonly accessToken: string | (() => Promise<string>) | undefined;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly retries: number;
  private readonly retryBaseDelayMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: PdsClientOptions) {
    if (!/^https?:\/\//.test(opts.baseUrl)) throw new Error(`PDS base URL must be http(s): ${opts.baseUrl}`);
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.accessToken = opts.accessToken;
    this.timeoutMs = positiveInt(opts.timeoutMs, 10_000, 'timeoutMs');
    this.concurrency = positiveInt(opts.concurrency, 8, 'concurrency');
    this.retries = nonNegativeInt(opts.retries, 3, 'retries');
    this.retryBaseDelayMs = nonNegativeInt(opts.retryBaseDelayMs, 200, 'retryBaseDelayMs');
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
  }

  async trace(nhsNumbers: readonly NhsNumber[], _ctx: TraceContext): Promise<Map<string, Trace>> {
    const unique = [...new Set<string>(nhsNumbers)];
    const results = new Map<string, Trace>();
    // Aborted on the first failure, so the other lookups stop (the whole call fails anyway).
    const stop = new AbortController();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < unique.length && !stop.signal.aborted) {
        const n = unique[next++]!;
        results.set(n, await this.lookUp(n, stop.signal));
      }
    };
    const workers = Array.from({ length: Math.min(this.concurrency, unique.length) }, () =>
      worker().catch((err: unknown) => {
        stop.abort(err);
        throw err;
      }),
    );
    try {
      await Promise.all(workers);
    } catch (err) {
      if (err instanceof DemographicsUnavailable) throw err;
      throw unavailable(`PDS lookup failed unexpectedly: ${describe(err)}`, err);
    }
    return results;
  }

  async search(query: DemographicsQuery, _ctx: TraceContext): Promise<DemographicsSearchResult> {
    const url = `${this.baseUrl}/Patient?${searchParameters(query)}`;
    try {
      return await this.call(url, new AbortController().signal, (status, text, requestId) =>
        readSearch(status, text, requestId),
      );
    } catch (err) {
      if (err instanceof DemographicsUnavailable) throw err;
      throw unavailable(`PDS search failed unexpectedly: ${describe(err)}`, err);
    }
  }

  /** One number, retried while PDS's failures look transient. */
  private lookUp(nhsNumber: string, stop: AbortSignal): Promise<Trace> {
    return this.call(
      `${this.baseUrl}/Patient/${encodeURIComponent(nhsNumber)}`,
      stop,
      (status, text, requestId) => readRetrieval(nhsNumber, status, text, requestId),
    );
  }

  /** One request, retried while PDS's failures look transient; `read` makes sense of the answer. */
  private async call<T>(url: string, stop: AbortSignal, read: Reader<T>): Promise<T> {
    // PDS asks for the same X-Request-ID when a request is retried (its SERVICE_UNAVAILABLE diagnostics say so).
    const requestId = randomUUID();
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(url, requestId, stop, read);
      if (outcome.kind === 'answer') return outcome.value;
      if (attempt >= this.retries) {
        throw unavailable(
          `PDS did not answer after ${attempt + 1} attempt(s): ${outcome.reason} (X-Request-ID ${requestId})`,
        );
      }
      const backoff = this.retryBaseDelayMs * 2 ** attempt + Math.random() * this.retryBaseDelayMs;
      const wait = Math.max(backoff, Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
      await sleep(wait, undefined, { signal: stop });
    }
  }

  private async attempt<T>(
    url: string,
    requestId: string,
    stop: AbortSignal,
    read: Reader<T>,
  ): Promise<Attempt<T>> {
    const headers: Record<string, string> = { Accept: 'application/fhir+json', 'X-Request-ID': requestId };
    const token = await this.token();
    if (token) headers.Authorization = `Bearer ${token}`;

    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const signal = AbortSignal.any([stop, AbortSignal.timeout(this.timeoutMs)]);
      const res = await this.fetchImpl(url, { headers, signal });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (err) {
      if (stop.aborted) throw stop.reason;
      if (err instanceof Error && err.name === 'TimeoutError') {
        return { kind: 'retry', reason: `timed out after ${this.timeoutMs} ms` };
      }
      return { kind: 'retry', reason: `network error: ${describe(err)}` };
    }

    if (status === 408 || status === 429 || status >= 500) {
      return { kind: 'retry', reason: statusText(status, text), retryAfterMs: retryAfterMs(retryAfter) };
    }
    if (status === 401 || status === 403) {
      throw unavailable(
        `PDS refused the credential (${statusText(status, text)}, X-Request-ID ${requestId})`,
      );
    }
    return { kind: 'answer', value: read(status, text, requestId) };
  }

  private async token(): Promise<string | undefined> {
    if (typeof this.accessToken !== 'function') return this.accessToken || undefined;
    try {
      return await this.accessToken();
    } catch (err) {
      throw unavailable(`could not obtain an access token for PDS: ${describe(err)}`, err);
    }
  }
}

/** `HTTP 503 SERVICE_UNAVAILABLE`: the status and the Spine error code, if the body carries one. */
function statusText(status: number, text: string): string {
  const code = errorCode(parseJson(text));
  return `HTTP ${status}${code ? ` ${code}` : ''}`;
}

/** A retrieval's answer (not transient, not a refused credential) as a Trace, or a failure. */
function readRetrieval(nhsNumber: string, status: number, text: string, requestId: string): Trace {
  if (status === 200) {
    const body = parseJson(text);
    if (!isObject(body) || body.resourceType !== 'Patient') {
      throw unavailable(`PDS answered 200 without a Patient resource (X-Request-ID ${requestId})`);
    }
    return patientToTrace(nhsNumber, body as unknown as Patient);
  }
  const code = errorCode(parseJson(text));
  const what = statusText(status, text);
  if (status === 404 && code === 'RESOURCE_NOT_FOUND') return { status: 'not-found', nhsNumber };
  if (status === 404 && code === 'INVALIDATED_RESOURCE') return { status: 'invalidated', nhsNumber };
  if (status === 400 && code === 'INVALID_RESOURCE_ID') return { status: 'not-found', nhsNumber };
  if (status === 404) {
    // Not a PDS "no such patient": most likely a wrong base URL. Never read it as "not found".
    throw unavailable(`PDS answered ${what} without a recognised error code; is the base URL right?`);
  }
  throw unavailable(`PDS answered ${what} unexpectedly (X-Request-ID ${requestId})`);
}

/** The query string of a search: the parameters PDS documents, percent-encoded, `*` kept as the wildcard. */
export function searchParameters(query: DemographicsQuery): string {
  const params: [string, string][] = [
    ['family', query.familyName],
    ['given', query.givenName],
    ['birthdate', `eq${query.birthDate}`],
  ];
  if (query.gender) params.push(['gender', query.gender]);
  if (query.postcode) params.push(['address-postalcode', query.postcode]);
  params.push(['_max-results', '1']);
  return params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

/** A search's answer (not transient, not a refused credential): none, one or several, or a failure. */
function readSearch(status: number, text: string, requestId: string): DemographicsSearchResult {
  const body = parseJson(text);
  const code = errorCode(body);
  if ((status === 200 || status === 400) && code === 'TOO_MANY_MATCHES') return { status: 'several' };
  if (status !== 200) {
    throw unavailable(`PDS answered the search with ${statusText(status, text)} (X-Request-ID ${requestId})`);
  }
  if (!isObject(body) || body.resourceType !== 'Bundle') {
    throw unavailable(`PDS answered the search without a Bundle (X-Request-ID ${requestId})`);
  }
  const entries: unknown = body.entry ?? [];
  if (!Array.isArray(entries)) throw unexpectedBundle('entry is not a list', requestId);
  const total: unknown = body.total;
  if (total !== undefined && (typeof total !== 'number' || !Number.isInteger(total) || total < 0)) {
    throw unexpectedBundle('total is not a count', requestId);
  }
  if (entries.length > 1 || (typeof total === 'number' && total > 1)) return { status: 'several' };
  if (entries.length === 0) {
    if (total !== undefined && total !== 0) throw unexpectedBundle('total and entries disagree', requestId);
    return { status: 'none' };
  }
  const resource: unknown = isObject(entries[0]) ? entries[0].resource : undefined;
  if (!isObject(resource) || resource.resourceType !== 'Patient') {
    throw unexpectedBundle('the entry is not a Patient', requestId);
  }
  return { status: 'one', person: patientToPerson(resource as unknown as Patient) };
}

function unexpectedBundle(what: string, requestId: string): DemographicsUnavailable {
  return new DemographicsUnavailable(
    `PDS answered the search with a Bundle we cannot read: ${what} (X-Request-ID ${requestId})`,
  );
}

/**
 * What a PDS Patient says about the number asked for. Throws `DemographicsUnavailable` when the resource
 * is not shaped as PDS documents it. Gaps PDS admits for a few poor-quality records (no usual name, a
 * partial birth date such as `2010-10`) are passed on as they are, so that record fails to match.
 *
 * A "very restricted" (V) record comes back with everything but `id`, `identifier` and `meta` removed. It is
 * mapped to a sensitive Person whose withheld fields are empty (`familyName` '', `givenNames` [],
 * `birthDate` '' — not a date, so date arithmetic on it throws rather than computes): CP-IS may not hold
 * information about such a child, so nothing should read them.
 */
export function patientToTrace(
  requested: string,
  patient: Patient,
  today: IsoDate = londonDateOf(new Date()),
): Trace {
  const person = patientToPerson(patient, today);
  if (person.nhsNumber === requested) return { status: 'found', person };
  return { status: 'superseded', nhsNumber: requested, replacementNhsNumber: person.nhsNumber, person };
}

/** The Person a PDS Patient describes (see `patientToTrace`). */
export function patientToPerson(patient: Patient, today: IsoDate = londonDateOf(new Date())): Person {
  if (!isObject(patient) || patient.resourceType !== 'Patient') throw unexpected('not a Patient resource');
  const id = patient.id;
  if (typeof id !== 'string' || !isValidNhsNumber(id))
    throw unexpected('the Patient id is not a valid NHS number');
  for (const identifier of patient.identifier ?? []) {
    if (identifier.system === NHS_NUMBER_SYSTEM && identifier.value !== id) {
      throw unexpected('the Patient id and its NHS number identifier differ');
    }
  }
  const security = securityLevel(patient);
  return security === 'V'
    ? veryRestrictedPerson(id, patient)
    : fullPerson(id, patient, security === 'R', today);
}

function fullPerson(id: string, patient: Patient, sensitive: boolean, today: IsoDate): Person {
  // A record PDS holds with gaps (no usual name, a partial date such as "2010-10") is still an answer
  // for this number: it is kept as PDS gives it, so matching fails on that field (CPR03) for this one
  // record instead of failing the whole file. Never guessed, never completed.
  const name = currentUsualName(patient.name, today);
  const givenNames = name?.given ?? [];
  if (!Array.isArray(givenNames) || !givenNames.every((g) => typeof g === 'string')) {
    throw unexpected('the usual name has malformed given names');
  }
  const birthDate = patient.birthDate;
  if (birthDate !== undefined && !isPartialOrFullDate(birthDate)) {
    throw unexpected(`the birth date is not a FHIR date (${shape(birthDate)})`);
  }
  return {
    nhsNumber: id,
    familyName: name?.family?.trim() ?? '',
    givenNames: givenNames.filter((g) => g.trim() !== ''),
    birthDate: birthDate ?? '',
    gender: gender(patient.gender),
    sensitive,
    deathDate: deathDate(patient),
    motherNhsNumber: null,
    // PDS leaves a restricted record's address out; should one ever come, it is still never passed on.
    postcode: sensitive ? null : homePostcode(patient.address, today),
  };
}

/**
 * The postcode of the home address in force today (period absent, or started and not ended; the latest
 * started if several), normalised. Null when there is none or it is not a UK postcode (an address
 * abroad): a postcode only narrows a search, so its absence never fails the call.
 */
function homePostcode(addresses: Address[] | undefined, today: IsoDate): string | null {
  if (addresses !== undefined && !Array.isArray(addresses)) throw unexpected('address is not a list');
  const home = (addresses ?? []).filter((a) => isObject(a) && a.use === 'home');
  const current = home.filter((a) => {
    const start = a.period?.start?.slice(0, 10);
    const end = a.period?.end?.slice(0, 10);
    return (!start || start <= today) && (!end || end >= today);
  });
  const latest = [...current].sort((a, b) => compareDesc(a.period?.start ?? '', b.period?.start ?? ''))[0];
  const raw = latest?.postalCode;
  return typeof raw === 'string' ? normalisePostcode(raw) : null;
}

/** FHIR `date`: YYYY, YYYY-MM or YYYY-MM-DD. */
function isPartialOrFullDate(value: unknown): value is string {
  return typeof value === 'string' && (/^\d{4}(-\d{2})?$/.test(value) || isIsoDate(value));
}

function veryRestrictedPerson(id: string, patient: Patient): Person {
  return {
    nhsNumber: id,
    familyName: '',
    givenNames: [],
    birthDate: '',
    gender: gender(patient.gender),
    sensitive: true,
    deathDate: null,
    motherNhsNumber: null,
    postcode: null,
  };
}

/** `meta.security[].code`: U unrestricted, R restricted, V very restricted; absent means unrestricted. */
function securityLevel(patient: Patient): 'U' | 'R' | 'V' {
  const labels = patient.meta?.security ?? [];
  if (!Array.isArray(labels)) throw unexpected('meta.security is not a list');
  let level: 'U' | 'R' | 'V' = 'U';
  for (const label of labels) {
    const code = label?.code;
    if (code === 'V') level = 'V';
    else if (code === 'R') level = level === 'V' ? 'V' : 'R';
    else if (code !== 'U') throw unexpected(`unknown meta.security code ${JSON.stringify(code)}`);
  }
  return level;
}

/**
 * The usual name in force today (period absent, or started and not ended). PDS documents that a patient
 * always has a usual name; if none is in force by its period (the PDS sandbox's own examples carry a
 * usual name ended in 2021), the usual name most recently in force is still the name PDS holds.
 */
function currentUsualName(names: HumanName[] | undefined, today: IsoDate): HumanName | undefined {
  if (names !== undefined && !Array.isArray(names)) throw unexpected('name is not a list');
  const usual = (names ?? []).filter((n) => isObject(n) && n.use === 'usual');
  const current = usual.filter((n) => {
    const start = n.period?.start?.slice(0, 10);
    const end = n.period?.end?.slice(0, 10);
    return (!start || start <= today) && (!end || end >= today);
  });
  const pool = current.length > 0 ? current : usual;
  // Latest in force first: by end (open-ended first), then by start.
  return [...pool].sort(
    (a, b) =>
      compareDesc(a.period?.end ?? '9999', b.period?.end ?? '9999') ||
      compareDesc(a.period?.start ?? '', b.period?.start ?? ''),
  )[0];
}

function compareDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

function gender(value: unknown): Gender {
  if (value === undefined) return 'unknown';
  if (typeof value === 'string' && (GENDERS as readonly string[]).includes(value)) return value as Gender;
  throw unexpected(`unknown gender ${JSON.stringify(value)}`);
}

/**
 * The date part of `deceasedDateTime` (its own calendar date, not shifted to UTC). A partial date is
 * kept as given; a death recorded with no date at all is '' (deceased, date unknown): either way the
 * person is deceased, which is what CP-IS needs to know.
 */
function deathDate(patient: Patient): IsoDate | null {
  const value = patient.deceasedDateTime;
  if (value === undefined) return patient.deceasedBoolean === true ? '' : null;
  const date = typeof value === 'string' ? value.slice(0, 10) : '';
  if (!isPartialOrFullDate(date)) throw unexpected(`the date of death is not a FHIR date (${shape(value)})`);
  return date;
}

/** The Spine error code in an OperationOutcome (`issue[].details.coding[].code`), if there is one. */
function errorCode(body: unknown): string | undefined {
  if (!isObject(body) || body.resourceType !== 'OperationOutcome') return undefined;
  const issues: unknown = body.issue;
  if (!Array.isArray(issues)) return undefined;
  for (const issue of issues) {
    const details: unknown = isObject(issue) ? issue.details : undefined;
    const coding: unknown = isObject(details) ? details.coding : undefined;
    if (!Array.isArray(coding)) continue;
    for (const c of coding) if (isObject(c) && typeof c.code === 'string') return c.code;
  }
  return undefined;
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value's shape without the value itself (dates of birth stay out of error messages and logs). */
function shape(value: unknown): string {
  return typeof value === 'string' ? value.replace(/[0-9]/g, 'n') : typeof value;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

function unexpected(what: string): DemographicsUnavailable {
  return new DemographicsUnavailable(`PDS answered with a Patient we cannot read: ${what}`);
}

function unavailable(message: string, cause?: unknown): DemographicsUnavailable {
  const err = new DemographicsUnavailable(message);
  if (cause !== undefined) err.cause = cause;
  return err;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

function nonNegativeInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, 0 or more`);
  return value;
}
