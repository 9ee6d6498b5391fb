/**
 * The record-level rules of an upload (CPIS.md §4), as pure functions: reading a submitted record,
 * checking what can be checked without demographics, then deciding against what demographics
 * holds. Every rejection names its code, and for CPR07 a detail code (an upper-case rule name) and
 * the field. Messages never repeat what demographics holds about anyone.
 */
import type { Person, Trace } from '../demographics/types.ts';
import { type IsoDate, isIsoDate } from '../domain/dates.ts';
import { matchIdentity } from '../domain/matching.ts';
import { checkNhsNumber } from '../domain/nhs-number.ts';
import { isAdultOn, PLAN_TYPES, type PlanType, type Subject } from '../domain/plans.ts';
import { isStorableText, memberPath } from '../domain/validate.ts';
import type { PlanInput } from './records.ts';

export type RecordCode = 'CPR01' | 'CPR02' | 'CPR03' | 'CPR04' | 'CPR05' | 'CPR06' | 'CPR07';

/** CPR07 detail codes: the rules this service enforces beyond the national list. */
export type RuleDetail =
  | 'MISSING_FIELD'
  | 'INVALID_VALUE'
  | 'UNKNOWN_FIELD'
  | 'INVALID_DATE'
  | 'IMPOSSIBLE_DATE'
  | 'BIRTH_DATE_IN_FUTURE'
  | 'START_DATE_IN_FUTURE'
  | 'END_BEFORE_START'
  | 'UNKNOWN_PLAN_TYPE'
  | 'PLAN_TYPE_NOT_FOR_SUBJECT'
  | 'DUPLICATE_PLAN_TYPE'
  | 'MISSING_EXPECTED_DELIVERY_DATE'
  | 'EXPECTED_DELIVERY_DATE_FOR_CHILD'
  | 'DUPLICATE_SUBJECT'
  | 'SUBJECT_IS_ADULT'
  | 'SUBJECT_DECEASED';

export interface Rejection {
  code: Exclude<RecordCode, 'CPR06'>;
  field?: string;
  detail?: RuleDetail;
  message: string;
  replacementNhsNumber?: string | null;
}

/** A submitted record, read into types (still unchecked against demographics). */
export interface SubmittedRecord {
  subject: Subject;
  nhsNumber: string;
  localId: string | null;
  /** The LA's own team for the child (routing in the LA portal); never shown to health, never in FHIR. */
  team: string | null;
  familyName: string;
  givenNames: string[];
  birthDate: IsoDate;
  expectedDeliveryDate: IsoDate | null;
  /** The plans that stand (plans with a delete date on or before today are left out). */
  plans: PlanInput[];
  /** True when the record only removes: `remove: true`, no plans, or every plan deleted. */
  removal: boolean;
}

/** A record as it arrives in JSON, or assembled from CSV rows. */
export type RawRecord = Record<string, unknown>;

const RECORD_FIELDS = new Set([
  'subject',
  'nhsNumber',
  'localId',
  'team',
  'familyName',
  'givenNames',
  'birthDate',
  'expectedDeliveryDate',
  'plans',
  'remove',
]);
const PLAN_FIELDS = new Set(['type', 'startDate', 'endDate', 'deleteDate']);

const reject = (
  code: Rejection['code'],
  message: string,
  field?: string,
  detail?: RuleDetail,
): Rejection => ({
  code,
  message,
  ...(field ? { field } : {}),
  ...(detail ? { detail } : {}),
});
const rule = (detail: RuleDetail, field: string, message: string): Rejection =>
  reject('CPR07', message, field, detail);

/** The NHS number as written (spaces removed), for the acknowledgement and duplicate checks. */
export function submittedNhsNumber(raw: RawRecord): string | null {
  // Echoed in the acknowledgement, so only text the store can hold (anything else fails CPR04 anyway).
  return typeof raw.nhsNumber === 'string' && isStorableText(raw.nhsNumber)
    ? raw.nhsNumber.replace(/ /g, '')
    : null;
}

/**
 * Read and check a record without demographics. `at` is the record's path in the file
 * (`records[3]`), used to name fields.
 */
export function readRecord(
  raw: unknown,
  at: string,
  today: IsoDate,
): { ok: true; record: SubmittedRecord } | { ok: false; rejection: Rejection } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, rejection: rule('INVALID_VALUE', at, `${at} must be an object`) };
  }
  const r = raw as RawRecord;
  // The NHS number first: it is the key of everything else (CPR04).
  const nhs = checkNhsNumber(r.nhsNumber);
  if (!nhs.ok) return { ok: false, rejection: reject('CPR04', nhs.message, `${at}.nhsNumber`) };
  try {
    for (const k of Object.keys(r)) {
      // Only the minimal data set may be shared: anything else is refused, not silently kept.
      if (!RECORD_FIELDS.has(k))
        throw rule('UNKNOWN_FIELD', memberPath(at, k), `${memberPath('', k)} is not a field CP-IS accepts`);
    }
    const subject = r.subject;
    if (subject === undefined || subject === null || subject === '')
      throw rule('MISSING_FIELD', `${at}.subject`, 'subject is required');
    if (subject !== 'child' && subject !== 'unborn') {
      throw rule('INVALID_VALUE', `${at}.subject`, 'subject must be "child" or "unborn"');
    }
    const remove = r.remove;
    if (remove !== undefined && typeof remove !== 'boolean')
      throw rule('INVALID_VALUE', `${at}.remove`, 'remove must be true or false');
    const localId = optionalString(r.localId, `${at}.localId`, 100);
    const team = teamOf(r.team, `${at}.team`);

    if (remove === true) {
      if (r.plans !== undefined && !(Array.isArray(r.plans) && r.plans.length === 0)) {
        throw rule('INVALID_VALUE', `${at}.plans`, 'a record with remove: true cannot also carry plans');
      }
      return {
        ok: true,
        record: {
          subject,
          nhsNumber: nhs.nhsNumber,
          localId,
          team,
          familyName: typeof r.familyName === 'string' ? r.familyName : '',
          givenNames: Array.isArray(r.givenNames)
            ? r.givenNames.filter((g): g is string => typeof g === 'string')
            : [],
          birthDate: typeof r.birthDate === 'string' ? r.birthDate : '',
          expectedDeliveryDate: null,
          plans: [],
          removal: true,
        },
      };
    }

    const familyName = requiredName(r.familyName, `${at}.familyName`, 'familyName');
    const givenNames = requiredGivenNames(r.givenNames, `${at}.givenNames`);
    const birthDate = requiredDate(r.birthDate, `${at}.birthDate`, 'birthDate');
    if (birthDate > today)
      throw rule('BIRTH_DATE_IN_FUTURE', `${at}.birthDate`, `birthDate ${birthDate} is in the future`);

    let expectedDeliveryDate: IsoDate | null = null;
    if (
      r.expectedDeliveryDate !== undefined &&
      r.expectedDeliveryDate !== null &&
      r.expectedDeliveryDate !== ''
    ) {
      if (subject === 'child') {
        throw rule(
          'EXPECTED_DELIVERY_DATE_FOR_CHILD',
          `${at}.expectedDeliveryDate`,
          'an expected delivery date belongs to an unborn subject (the mother), not a child',
        );
      }
      expectedDeliveryDate = requiredDate(
        r.expectedDeliveryDate,
        `${at}.expectedDeliveryDate`,
        'expectedDeliveryDate',
      );
    }

    if (r.plans === undefined || r.plans === null) {
      throw rule(
        'MISSING_FIELD',
        `${at}.plans`,
        'plans is required (an empty list, or remove: true, removes the record)',
      );
    }
    if (!Array.isArray(r.plans)) throw rule('INVALID_VALUE', `${at}.plans`, 'plans must be a list');
    const seen = new Set<PlanType>();
    const standing: PlanInput[] = [];
    r.plans.forEach((p: unknown, j: number) => {
      const plan = readPlan(p, `${at}.plans[${j}]`, subject, today);
      if (seen.has(plan.type)) {
        throw rule(
          'DUPLICATE_PLAN_TYPE',
          `${at}.plans[${j}].type`,
          `a record may hold one ${plan.type} only`,
        );
      }
      seen.add(plan.type);
      // A delete date on or before today removes that plan now (a plan created in error).
      if (plan.deleteDate === null || plan.deleteDate > today) standing.push(plan);
    });
    if (subject === 'unborn' && standing.length > 0 && expectedDeliveryDate === null) {
      throw rule(
        'MISSING_EXPECTED_DELIVERY_DATE',
        `${at}.expectedDeliveryDate`,
        'an unborn subject needs the expected delivery date (it decides how long the plan is visible)',
      );
    }
    return {
      ok: true,
      record: {
        subject,
        nhsNumber: nhs.nhsNumber,
        localId,
        team,
        familyName,
        givenNames,
        birthDate,
        expectedDeliveryDate: standing.length ? expectedDeliveryDate : null,
        plans: standing,
        removal: standing.length === 0,
      },
    };
  } catch (err) {
    if (isRejection(err)) return { ok: false, rejection: err };
    throw err;
  }
}

function readPlan(raw: unknown, at: string, subject: Subject, today: IsoDate): PlanInput {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw rule('INVALID_VALUE', at, `${at} must be an object`);
  const p = raw as Record<string, unknown>;
  for (const k of Object.keys(p)) {
    if (!PLAN_FIELDS.has(k))
      throw rule(
        'UNKNOWN_FIELD',
        memberPath(at, k),
        `${memberPath('', k)} is not a plan field CP-IS accepts`,
      );
  }
  if (p.type === undefined || p.type === null || p.type === '')
    throw rule('MISSING_FIELD', `${at}.type`, 'the plan type is required');
  if (typeof p.type !== 'string' || !PLAN_TYPES.includes(p.type as PlanType)) {
    throw rule('UNKNOWN_PLAN_TYPE', `${at}.type`, `plan type must be one of ${PLAN_TYPES.join(', ')}`);
  }
  const type = p.type as PlanType;
  if (subject === 'child' && type === 'UCPP') {
    throw rule(
      'PLAN_TYPE_NOT_FOR_SUBJECT',
      `${at}.type`,
      'a UCPP is recorded on the unborn child\'s mother (subject "unborn"), not on a child',
    );
  }
  if (subject === 'unborn' && type !== 'UCPP') {
    throw rule(
      'PLAN_TYPE_NOT_FOR_SUBJECT',
      `${at}.type`,
      `an unborn subject can only hold a UCPP, not a ${type}`,
    );
  }
  const startDate = requiredDate(p.startDate, `${at}.startDate`, 'startDate');
  if (startDate > today)
    throw rule('START_DATE_IN_FUTURE', `${at}.startDate`, `startDate ${startDate} is in the future`);
  const endDate = optionalDate(p.endDate, `${at}.endDate`, 'endDate');
  if (endDate !== null && endDate < startDate) {
    throw rule('END_BEFORE_START', `${at}.endDate`, `endDate ${endDate} is before startDate ${startDate}`);
  }
  const deleteDate = optionalDate(p.deleteDate, `${at}.deleteDate`, 'deleteDate');
  return { type, startDate, endDate, deleteDate };
}

/**
 * Decide a readable record against what demographics holds for its number (CPR01, CPR05, CPR02,
 * CPR03, then the rules that need the person: age and death). Null means accepted.
 */
export function decideAgainstDemographics(
  record: SubmittedRecord,
  trace: Trace,
  at: string,
  today: IsoDate,
): Rejection | null {
  switch (trace.status) {
    case 'not-found':
      return reject('CPR01', 'the NHS number is not known to demographics', `${at}.nhsNumber`);
    case 'superseded':
      return {
        ...reject(
          'CPR05',
          `the NHS number has been superseded by ${trace.replacementNhsNumber}; resubmit under that number`,
          `${at}.nhsNumber`,
        ),
        replacementNhsNumber: trace.replacementNhsNumber,
      };
    case 'invalidated':
      return {
        ...reject('CPR05', 'the NHS number is no longer in use and has no replacement', `${at}.nhsNumber`),
        replacementNhsNumber: null,
      };
    case 'found':
      return decideAgainstPerson(record, trace.person, at, today);
  }
}

function decideAgainstPerson(
  record: SubmittedRecord,
  person: Person,
  at: string,
  today: IsoDate,
): Rejection | null {
  if (person.sensitive) {
    return reject(
      'CPR02',
      'the demographics record is restricted (sensitive) and cannot hold CP-IS information',
      `${at}.nhsNumber`,
    );
  }
  const match = matchIdentity(record, person);
  if (!match.ok) {
    const first = match.mismatches[0]!;
    return reject('CPR03', first.reason, `${at}.${first.field}`);
  }
  if (person.deathDate !== null) {
    return rule('SUBJECT_DECEASED', `${at}.nhsNumber`, 'demographics records this person as deceased');
  }
  if (record.subject === 'child' && isIso(person.birthDate) && isAdultOn(person.birthDate, today)) {
    return rule(
      'SUBJECT_IS_ADULT',
      `${at}.birthDate`,
      'the child is 18 or over by demographics: CPP and LAC records are for children',
    );
  }
  return null;
}

function isIso(d: string): boolean {
  return isIsoDate(d);
}

export function isRejection(x: unknown): x is Rejection {
  return (
    typeof x === 'object' &&
    x !== null &&
    'code' in x &&
    typeof (x as Rejection).code === 'string' &&
    'message' in x
  );
}

function requiredName(v: unknown, field: string, name: string): string {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === ''))
    throw rule('MISSING_FIELD', field, `${name} is required`);
  if (typeof v !== 'string') throw rule('INVALID_VALUE', field, `${name} must be a string`);
  if (v.length > 100) throw rule('INVALID_VALUE', field, `${name} is longer than 100 characters`);
  if (!isStorableText(v))
    throw rule('INVALID_VALUE', field, `${name} contains characters that cannot be stored`);
  return v.trim();
}

function requiredGivenNames(v: unknown, field: string): string[] {
  if (v === undefined || v === null || v === '') throw rule('MISSING_FIELD', field, 'givenNames is required');
  const list = typeof v === 'string' ? v.split(/\s+/).filter(Boolean) : v;
  if (!Array.isArray(list)) throw rule('INVALID_VALUE', field, 'givenNames must be a list of names');
  if (list.length === 0) throw rule('MISSING_FIELD', field, 'givenNames must hold at least one name');
  return list.map((g, i) => {
    if (typeof g !== 'string' || g.trim() === '')
      throw rule('INVALID_VALUE', `${field}[${i}]`, 'each given name must be a non-empty string');
    if (!isStorableText(g))
      throw rule('INVALID_VALUE', `${field}[${i}]`, 'a given name contains characters that cannot be stored');
    return g.trim();
  });
}

function requiredDate(v: unknown, field: string, name: string): IsoDate {
  if (v === undefined || v === null || v === '') throw rule('MISSING_FIELD', field, `${name} is required`);
  return checkDate(v, field, name);
}

function optionalDate(v: unknown, field: string, name: string): IsoDate | null {
  if (v === undefined || v === null || v === '') return null;
  return checkDate(v, field, name);
}

function checkDate(v: unknown, field: string, name: string): IsoDate {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v))
    throw rule('INVALID_DATE', field, `${name} must be a date written YYYY-MM-DD`);
  if (!isIsoDate(v)) throw rule('IMPOSSIBLE_DATE', field, `${name} ${v} is not a real calendar date`);
  return v;
}

/** The LA's team for the child: trimmed, and only the characters a team's name needs (it routes episodes). */
function teamOf(v: unknown, field: string): string | null {
  const raw = optionalString(v, field, 100);
  if (raw === null) return null;
  const team = raw.trim().replace(/\s+/g, ' ');
  if (!/^[\p{L}\p{N} &'(),./-]{1,60}$/u.test(team))
    throw rule(
      'INVALID_VALUE',
      field,
      "team must be a team name of 1 to 60 letters, digits, spaces and & ' ( ) , . / -",
    );
  return team;
}

function optionalString(v: unknown, field: string, max: number): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw rule('INVALID_VALUE', field, `${field.split('.').pop()} must be a string`);
  if (v.length > max)
    throw rule('INVALID_VALUE', field, `${field.split('.').pop()} is longer than ${max} characters`);
  if (!isStorableText(v))
    throw rule('INVALID_VALUE', field, `${field.split('.').pop()} contains characters that cannot be stored`);
  return v;
}
