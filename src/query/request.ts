/**
 * Reading a health query (INTERFACE §5) from its parts: the headers, the caller and the search
 * parameter, each refused with an OperationOutcome naming what was wrong. The checks run in the
 * order the service applies them (the route calls them in this order):
 *
 * 1. authentication (the bearer token; done by the HTTP layer before anything here) — 401;
 * 2. `X-Request-ID` (a UUID) — 400 PRECONDITION_FAILED; `IsUnscheduledAccessEvent` — likewise;
 * 3. the caller's RBAC activity (B0107 / B0170) — 403 ACCESS_DENIED;
 * 4. what the caller says about the context (responsible person, patient location, safeguarding
 *    lead: headers, 400 PRECONDITION_FAILED naming the header) and the search parameter
 *    `patient:identifier` — 400 INVALID_SEARCH_DATA.
 *
 * Nobody learns anything about the API's parameters without a valid token, and nobody without a
 * CP-IS activity learns whether their search would have been well formed.
 */
import {
  ACTIVITY_VIEW_FLAG,
  ACTIVITY_VIEW_FLAG_SILENT,
  type HealthSystem,
  type HealthUser,
  type JobRole,
  type Principal,
} from '../auth/principal.ts';
import { ODS_CODE_RE } from '../directory/types.ts';
import { checkNhsNumber, type NhsNumber } from '../domain/nhs-number.ts';
import { forbidden, invalidHeader, invalidSearch, preconditionFailed } from '../domain/outcomes.ts';

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
export const PATIENT_PARAM = 'patient:identifier';

/** Header names, as documented (HTTP header names are case-insensitive; Node gives them in lower case). */
export const HEADERS = {
  requestId: 'X-Request-ID',
  unscheduled: 'IsUnscheduledAccessEvent',
  responsiblePerson: 'NHSD-Responsible-Person',
  responsiblePersonRole: 'NHSD-Responsible-Person-Role',
  patientLocation: 'NHSD-Patient-Location',
  safeguardingLead: 'NHSD-Safeguarding-Lead',
  safeguardingLeadRole: 'NHSD-Safeguarding-Lead-Role',
  safeguardingLeadPhone: 'NHSD-Safeguarding-Lead-Phone',
} as const;

export type Headers = Record<string, string | string[] | undefined>;
export type QueryParams = Record<string, unknown>;

export type HealthCaller = HealthUser | HealthSystem;
export type AccessMode = 'unscheduled' | 'silent';

export interface ModeDecision {
  mode: AccessMode;
  /** The activity the decision rests on. */
  activity: typeof ACTIVITY_VIEW_FLAG | typeof ACTIVITY_VIEW_FLAG_SILENT;
}

/** Who is looking, as the access history and the LA's notification will name them. */
export interface Accessor {
  kind: 'health-user' | 'health-system';
  /** Groups "the same person" for the history: `user:<SDS user id>` or `system:<ASID>:<responsible person>`. */
  personKey: string;
  /** The user, or the person a system queries for. */
  name: string;
  jobRole: JobRole;
  userId: string | null;
  roleProfileId: string | null;
  asid: string | null;
  orgCode: string;
}

export interface SafeguardingLead {
  name: string;
  role: string | null;
  phone: string | null;
}

export interface QueryCaller {
  principal: HealthCaller;
  accessor: Accessor;
  /** Where the responsible person came from (systems only). */
  responsiblePersonFrom: 'token' | 'header' | null;
  /** The ODS code of where the patient physically is (e.g. given by NHS 111), if said. */
  patientLocation: string | null;
  safeguardingLead: SafeguardingLead | null;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A header's text: raw UTF-8 bytes (which Node reads as latin1) and %XX escapes are both decoded. */
export function headerText(headers: Headers, name: string): string | undefined {
  const raw = headers[name.toLowerCase()];
  if (raw === undefined) return undefined;
  let value = Array.isArray(raw) ? raw.join(', ') : raw;
  if (/[\x80-\xff]/.test(value)) {
    const utf8 = Buffer.from(value, 'latin1').toString('utf8');
    if (!utf8.includes('\uFFFD')) value = utf8;
  }
  if (/%[0-9A-Fa-f]{2}/.test(value)) {
    try {
      value = decodeURIComponent(value);
    } catch {
      throw invalidHeader(name, `${name} is not valid percent-encoded UTF-8`);
    }
  }
  return value.trim();
}

/** `X-Request-ID`: required, a UUID; it names the request in the audit trail and in the caller's logs. */
export function requireRequestId(headers: Headers): string {
  const name = HEADERS.requestId;
  const value = headerText(headers, name);
  if (value === undefined || value === '') {
    throw preconditionFailed(name, `the ${name} header is required: a UUID that identifies this request`);
  }
  if (!UUID_RE.test(value)) throw invalidHeader(name, `the ${name} header must be a UUID`);
  return value.toLowerCase();
}

/** `IsUnscheduledAccessEvent`: `true` or `false`; absent means `true` (unscheduled care). */
export function readUnscheduled(headers: Headers): boolean {
  const name = HEADERS.unscheduled;
  const value = headerText(headers, name);
  if (value === undefined) return true;
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw invalidHeader(name, `the ${name} header must be true or false`);
}

export function isHealthCaller(p: Principal | null): p is HealthCaller {
  return p?.kind === 'health-user' || p?.kind === 'health-system';
}

/** May this caller look and notify (B0107)? */
export function canNotify(p: { activities: readonly string[] }): boolean {
  return p.activities.includes(ACTIVITY_VIEW_FLAG);
}

/** May this caller look at all (B0107, or B0170 for a silent read)? */
export function hasCpisActivity(p: { activities: readonly string[] }): boolean {
  return canNotify(p) || p.activities.includes(ACTIVITY_VIEW_FLAG_SILENT);
}

/**
 * RBAC (CPIS.md §6): B0107 makes the access unscheduled (recorded and notified), unless the caller
 * says `IsUnscheduledAccessEvent: false`; B0170 alone is always a silent read; neither is refused.
 */
export function decideMode(p: HealthCaller, unscheduled: boolean): ModeDecision {
  const full = canNotify(p);
  if (!hasCpisActivity(p)) {
    throw forbidden(
      `no CP-IS activity: the caller's role needs ${ACTIVITY_VIEW_FLAG} (View CP-IS flag) or ` +
        `${ACTIVITY_VIEW_FLAG_SILENT} (View CP-IS flag without sending a notification)`,
    );
  }
  if (full) return { mode: unscheduled ? 'unscheduled' : 'silent', activity: ACTIVITY_VIEW_FLAG };
  return { mode: 'silent', activity: ACTIVITY_VIEW_FLAG_SILENT };
}

const CONTROL = /[\p{Cc}<>{}]/u;

function text(name: string, value: string, max: number): string {
  const v = value.replace(/\s+/g, ' ').trim();
  if (v === '') throw invalidHeader(name, `the ${name} header is empty`);
  if (v.length > max) throw invalidHeader(name, `the ${name} header is longer than ${max} characters`);
  if (CONTROL.test(v)) throw invalidHeader(name, `the ${name} header contains characters not allowed`);
  return v;
}

const ROLE_CODE_RE = /^[A-Za-z0-9:]{1,40}$/;
const PHONE_RE = /^\+?[0-9][0-9 ()-]{5,22}[0-9]$/;

/** `code|display` or just the display. */
function jobRoleHeader(name: string, value: string): JobRole {
  const bar = value.indexOf('|');
  if (bar < 0) return { code: '', display: text(name, value, 100) };
  const code = value.slice(0, bar).trim();
  if (!ROLE_CODE_RE.test(code)) {
    throw invalidHeader(name, `the ${name} header must be "code|display" with a job role code like R8003`);
  }
  return { code, display: text(name, value.slice(bar + 1), 100) };
}

/**
 * Who is asking and about what context. A health system names the person it queries for: from its
 * token's `responsible_person`, or per request with `NHSD-Responsible-Person` (and
 * `NHSD-Responsible-Person-Role`), which wins. Anyone may say where the patient physically is
 * (`NHSD-Patient-Location`, an ODS code) and who the safeguarding lead there is
 * (`NHSD-Safeguarding-Lead`, `-Role`, `-Phone`).
 */
export function readCaller(p: HealthCaller, headers: Headers): QueryCaller {
  const rpName = headerText(headers, HEADERS.responsiblePerson);
  const rpRole = headerText(headers, HEADERS.responsiblePersonRole);
  let accessor: Accessor;
  let responsiblePersonFrom: QueryCaller['responsiblePersonFrom'] = null;
  if (p.kind === 'health-user') {
    for (const [h, v] of [
      [HEADERS.responsiblePerson, rpName],
      [HEADERS.responsiblePersonRole, rpRole],
    ] as const) {
      if (v !== undefined) {
        throw invalidHeader(
          h,
          `the ${h} header is for health systems; a signed-in user is the responsible person`,
        );
      }
    }
    accessor = {
      kind: 'health-user',
      personKey: `user:${p.sdsUserId}`,
      name: p.name,
      jobRole: p.jobRole,
      userId: p.sdsUserId,
      roleProfileId: p.roleProfileId || null,
      asid: null,
      orgCode: p.orgCode,
    };
  } else {
    let person: { name: string; jobRole: JobRole };
    if (rpName !== undefined) {
      const name = text(HEADERS.responsiblePerson, rpName, 100);
      if (rpRole === undefined) {
        throw preconditionFailed(
          HEADERS.responsiblePersonRole,
          `the ${HEADERS.responsiblePersonRole} header is required with ${HEADERS.responsiblePerson}`,
        );
      }
      person = { name, jobRole: jobRoleHeader(HEADERS.responsiblePersonRole, rpRole) };
      responsiblePersonFrom = 'header';
    } else if (rpRole !== undefined) {
      throw preconditionFailed(
        HEADERS.responsiblePerson,
        `the ${HEADERS.responsiblePerson} header is required with ${HEADERS.responsiblePersonRole}`,
      );
    } else if (p.responsiblePerson) {
      person = p.responsiblePerson;
      responsiblePersonFrom = 'token';
    } else {
      throw preconditionFailed(
        HEADERS.responsiblePerson,
        `a health system must name the person it queries for: its token carries no responsible_person, ` +
          `so send the ${HEADERS.responsiblePerson} and ${HEADERS.responsiblePersonRole} headers`,
      );
    }
    accessor = {
      kind: 'health-system',
      personKey: `system:${p.asid}:${person.name.toLowerCase()}`,
      name: person.name,
      jobRole: person.jobRole,
      userId: null,
      roleProfileId: null,
      asid: p.asid,
      orgCode: p.orgCode,
    };
  }

  let patientLocation: string | null = null;
  const location = headerText(headers, HEADERS.patientLocation);
  if (location !== undefined) {
    const code = location.toUpperCase();
    if (!ODS_CODE_RE.test(code)) {
      throw invalidHeader(
        HEADERS.patientLocation,
        `the ${HEADERS.patientLocation} header must be an ODS code (3 to 10 letters and digits)`,
      );
    }
    patientLocation = code;
  }

  let safeguardingLead: SafeguardingLead | null = null;
  const leadName = headerText(headers, HEADERS.safeguardingLead);
  const leadRole = headerText(headers, HEADERS.safeguardingLeadRole);
  const leadPhone = headerText(headers, HEADERS.safeguardingLeadPhone);
  if (leadName !== undefined) {
    let phone: string | null = null;
    if (leadPhone !== undefined) {
      phone = leadPhone.replace(/\s+/g, ' ');
      if (!PHONE_RE.test(phone)) {
        throw invalidHeader(
          HEADERS.safeguardingLeadPhone,
          `the ${HEADERS.safeguardingLeadPhone} header is not a telephone number (digits, spaces, + ( ) -)`,
        );
      }
    }
    safeguardingLead = {
      name: text(HEADERS.safeguardingLead, leadName, 100),
      role: leadRole === undefined ? null : text(HEADERS.safeguardingLeadRole, leadRole, 100),
      phone,
    };
  } else {
    for (const [h, v] of [
      [HEADERS.safeguardingLeadRole, leadRole],
      [HEADERS.safeguardingLeadPhone, leadPhone],
    ] as const) {
      if (v !== undefined) {
        throw preconditionFailed(
          HEADERS.safeguardingLead,
          `the ${HEADERS.safeguardingLead} header (the lead's name) is required with ${h}`,
        );
      }
    }
  }

  return { principal: p, accessor, responsiblePersonFrom, patientLocation, safeguardingLead };
}

/**
 * `patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{nhsNumber}` (the `|` may arrive as %7C).
 * Exactly one, with the NHS number system and a valid NHS number; anything else is 400
 * INVALID_SEARCH_DATA saying what was wrong.
 */
export function requirePatientIdentifier(query: QueryParams): NhsNumber {
  const raw = query[PATIENT_PARAM];
  const usage = `${PATIENT_PARAM}=${NHS_NUMBER_SYSTEM}|{nhsNumber}`;
  if (raw === undefined || raw === '') {
    const hint = query.patient !== undefined ? ` (the plain "patient" parameter is not supported)` : '';
    throw invalidSearch(PATIENT_PARAM, `the ${PATIENT_PARAM} search parameter is required: ${usage}${hint}`);
  }
  if (Array.isArray(raw)) {
    throw invalidSearch(PATIENT_PARAM, `${PATIENT_PARAM} must be given once: one NHS number per search`);
  }
  if (typeof raw !== 'string') throw invalidSearch(PATIENT_PARAM, `${PATIENT_PARAM} must be ${usage}`);
  const bar = raw.indexOf('|');
  if (bar < 0) {
    throw invalidSearch(
      PATIENT_PARAM,
      `${PATIENT_PARAM} must name the NHS number system: ${usage} (got no system)`,
    );
  }
  const system = raw.slice(0, bar);
  const value = raw.slice(bar + 1);
  if (system !== NHS_NUMBER_SYSTEM) {
    throw invalidSearch(
      PATIENT_PARAM,
      `${PATIENT_PARAM} system must be ${NHS_NUMBER_SYSTEM} (got ${system === '' ? 'an empty system' : JSON.stringify(system.slice(0, 100))})`,
    );
  }
  if (value.includes(',')) {
    throw invalidSearch(PATIENT_PARAM, `${PATIENT_PARAM} must carry one NHS number, not a list`);
  }
  const check = checkNhsNumber(value);
  if (!check.ok) throw invalidSearch(PATIENT_PARAM, `${PATIENT_PARAM}: ${check.message}`);
  return check.nhsNumber;
}

/** The NHS number a request names, if it names a valid one (for auditing refused requests). */
export function patientIdentifierIfValid(query: QueryParams): NhsNumber | null {
  try {
    return requirePatientIdentifier(query);
  } catch {
    return null;
  }
}

/** Whether an AuditEvent search asks for the agents' PractitionerRole resources (`_include=AuditEvent:…`). */
export function wantsAgentIncludes(query: QueryParams): boolean {
  const inc = query._include;
  const values = Array.isArray(inc) ? inc : inc === undefined ? [] : [inc];
  return values.some((v) => typeof v === 'string' && v.startsWith('AuditEvent:'));
}
