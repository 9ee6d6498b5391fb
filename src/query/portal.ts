/**
 * The health portal's questions, for staff whose systems are not integrated: find the person, then
 * look at their CP-IS information. The look itself is the same capability the FHIR API uses
 * (`QueryService.search`): the same access record, the same audit entry, the same notification to
 * the LA. Finding the person is audited too, whatever it found.
 */
import type { HealthUser } from '../auth/principal.ts';
import {
  type DemographicsQuery,
  type DemographicsService,
  DemographicsUnavailable,
  type Person,
} from '../demographics/types.ts';
import type { NhsNumber } from '../domain/nhs-number.ts';
import type { Executor } from '../store/db.ts';
import type { AccessSummary } from './access.ts';
import type { VisiblePlan } from './lookup.ts';
import { canNotify, decideMode, readCaller } from './request.ts';
import type { HttpFacts, QueryService } from './service.ts';

export interface PortalQueryDeps {
  db: Executor;
  demographics: DemographicsService;
  query: QueryService;
}

export type FindResult =
  | { status: 'found'; nhsNumber: string; note: FindNote | null }
  | { status: 'not-found' }
  | { status: 'several' }
  | { status: 'invalidated' }
  | { status: 'unavailable' };

/**
 * - `superseded`: the number asked about was merged into `current`; information under either is shown;
 * - `unconfirmed`: demographics did not answer, so the number could not be matched to a person
 *   (the flag can still be looked up: a missing demographics service must not hide a plan).
 */
export type FindNote = { kind: 'superseded'; current: string } | { kind: 'unconfirmed' };

/** Who a number belongs to, to show beside what is looked up (null when demographics cannot say). */
export async function personFor(deps: PortalQueryDeps, nhsNumber: string): Promise<Person | null> {
  try {
    const trace = (await deps.demographics.trace([nhsNumber as NhsNumber], { db: deps.db })).get(nhsNumber);
    if (trace?.status === 'found') return trace.person;
    if (trace?.status === 'superseded' && trace.person) return trace.person;
    return null;
  } catch (err) {
    if (err instanceof DemographicsUnavailable) return null;
    throw err;
  }
}

/** Find a person by NHS number (already validated, check digit included). */
export async function findByNhsNumber(
  deps: PortalQueryDeps,
  principal: HealthUser,
  nhsNumber: NhsNumber,
  http: HttpFacts,
): Promise<FindResult> {
  let result: FindResult;
  try {
    const trace = (await deps.demographics.trace([nhsNumber], { db: deps.db })).get(nhsNumber);
    if (!trace || trace.status === 'not-found') result = { status: 'not-found' };
    else if (trace.status === 'invalidated') result = { status: 'invalidated' };
    else if (trace.status === 'superseded') {
      // Looked up by the number asked for, as the API is: the query follows the merge itself and
      // finds plans held under either number (an LA's record may still be under the old one).
      result = {
        status: 'found',
        nhsNumber,
        note: { kind: 'superseded', current: trace.replacementNhsNumber },
      };
    } else result = { status: 'found', nhsNumber, note: null };
  } catch (err) {
    if (!(err instanceof DemographicsUnavailable)) throw err;
    result = { status: 'found', nhsNumber, note: { kind: 'unconfirmed' } };
  }
  await deps.query.record({
    action: 'portal.find-by-nhs-number',
    principal,
    status: 200,
    nhsNumber,
    http,
    detail: {
      channel: 'portal',
      result: result.status,
      ...(result.status === 'found' && result.note ? { note: result.note.kind } : {}),
    },
  });
  return result;
}

/** Find the one person who fits the details, as a PDS trace does: several is "refine", never a list. */
export async function findByDetails(
  deps: PortalQueryDeps,
  principal: HealthUser,
  query: DemographicsQuery,
  http: HttpFacts,
): Promise<FindResult> {
  let result: FindResult;
  try {
    const found = await deps.demographics.search(query, { db: deps.db });
    if (found.status === 'one') {
      result = { status: 'found', nhsNumber: found.person.nhsNumber, note: null };
    } else if (found.status === 'several') result = { status: 'several' };
    else result = { status: 'not-found' };
  } catch (err) {
    if (!(err instanceof DemographicsUnavailable)) throw err;
    result = { status: 'unavailable' };
  }
  // The criteria are kept: who searched for whom matters when a search is misused.
  await deps.query.record({
    action: 'portal.find-by-details',
    principal,
    status: result.status === 'unavailable' ? 503 : 200,
    nhsNumber: result.status === 'found' ? result.nhsNumber : null,
    http,
    detail: { channel: 'portal', result: result.status, criteria: query },
  });
  return result;
}

export interface FlagView {
  at: Date;
  /** The number the information is held under (a merged number's replacement). */
  nhsNumber: string;
  plans: VisiblePlan[];
  /** The 25 most recent unscheduled accesses (this one included), as the API's AuditEvent search; only beside a visible plan. */
  accesses: AccessSummary[];
  mode: 'unscheduled' | 'silent';
  /** An access was recorded and the LAs holding the plans will be told. */
  notified: boolean;
  pattern: AccessPattern;
}

/** What the history says at a glance: how often, and how many places, lately. */
export interface AccessPattern {
  days: number;
  lookUps: number;
  /** Organisation names (or codes the directory does not know), most recent first. */
  places: string[];
}

/**
 * The unscheduled look-ups shown in the history within `days` before `at`, and the distinct places
 * they came from, so "frequent attendances or several locations" can be seen without reading the
 * table. Counts only what the history shows (the 25 most recent, one per person a day).
 */
export function accessPattern(accesses: readonly AccessSummary[], at: Date, days = 30): AccessPattern {
  const since = at.getTime() - days * 24 * 60 * 60 * 1000;
  const recent = accesses.filter((a) => a.accessedAt.getTime() >= since);
  const places: string[] = [];
  for (const a of recent) {
    const place = a.orgName ?? a.orgCode;
    if (!places.includes(place)) places.push(place);
  }
  return { days, lookUps: recent.length, places };
}

export const SILENT_REASONS = {
  'planned-care': 'Planned (scheduled) care, not an unscheduled attendance',
  'records-review': 'Reviewing records: audit, safeguarding review or case conference',
  'record-correction': 'Checking or correcting a record',
  'follow-up': 'Following up an attendance already notified',
} as const;
export type SilentReason = keyof typeof SILENT_REASONS;

export type LookChoice =
  | { ok: true; notify: boolean; silentReason: SilentReason | null }
  | { ok: false; field: 'notify' | 'silentReason'; text: string };

/**
 * What the person chose on the confirm page. With B0107 they must say whether the care is
 * unscheduled (it is never assumed), and a look without notifying needs a reason from the list;
 * with B0170 alone every look is silent and there is nothing to choose.
 */
export function readLookChoice(p: HealthUser, form: { notify?: string; silentReason?: string }): LookChoice {
  if (!canNotify(p)) return { ok: true, notify: false, silentReason: null };
  if (form.notify === 'yes') return { ok: true, notify: true, silentReason: null };
  if (form.notify !== 'no')
    return { ok: false, field: 'notify', text: 'Choose whether this is unscheduled care' };
  const reason = form.silentReason;
  if (!reason || !Object.hasOwn(SILENT_REASONS, reason)) {
    return { ok: false, field: 'silentReason', text: 'Choose why you are looking without notifying' };
  }
  return { ok: true, notify: false, silentReason: reason as SilentReason };
}

/**
 * Look: the plans (recorded and notified when unscheduled, as the API's CareTeam search), then
 * the access history beside them (as the API's AuditEvent search). Two audit entries, as an
 * integrated system's two calls make.
 */
export async function viewFlag(
  deps: PortalQueryDeps,
  principal: HealthUser,
  req: { nhsNumber: string; notify: boolean; silentReason: SilentReason | null; http: HttpFacts },
): Promise<FlagView> {
  const decision = decideMode(principal, req.notify);
  const caller = readCaller(principal, {});
  const common = {
    nhsNumber: req.nhsNumber,
    decision,
    caller,
    channel: 'portal' as const,
    ...(decision.mode === 'silent' && req.silentReason ? { silentReason: req.silentReason } : {}),
  };
  const plans = await deps.query.search({ ...common, resource: 'CareTeam', http: req.http });
  const history = await deps.query.search({ ...common, resource: 'AuditEvent', http: req.http });
  return {
    at: plans.at,
    nhsNumber: plans.subject.current,
    plans: plans.plans,
    accesses: history.accesses,
    mode: plans.mode,
    notified: plans.accessId !== null,
    pattern: accessPattern(history.accesses, plans.at),
  };
}
