/**
 * Plans and when health may see them (CPIS.md §3, §5). Pure rules: the store keeps the result of
 * `visibleUntil` beside each plan so a query and the daily purge need no calculation, and these
 * functions are the one place the rule is written.
 *
 * - CPP and LAC: visible from the start date until 365 days after the end date (the 365th day is
 *   the last visible day); with no end date, visible until the subject turns 18 by demographics
 *   (the day before the 18th birthday is the last visible day). Whichever comes first.
 * - UCPP (held on the mother's NHS number): visible until 28 days after the expected delivery date,
 *   or until 365 days after its end date if that comes first. The mother's age does not matter.
 */
import { addDays, birthdayOf, type IsoDate } from './dates.ts';

export const PLAN_TYPES = ['CPP', 'LAC', 'UCPP'] as const;
export type PlanType = (typeof PLAN_TYPES)[number];

export const SNOMED_SYSTEM = 'http://snomed.info/sct';

/** The SNOMED CT concepts the national service uses for each plan type (CPIS.md §9). */
export const PLAN_CODES: Record<PlanType, { code: string; display: string }> = {
  CPP: { code: '342191000000101', display: 'Subject to child protection plan' },
  LAC: { code: '764841000000100', display: 'Looked after child' },
  UCPP: { code: '818901000000100', display: 'Unborn child subject to child protection plan' },
};

export const PLAN_LABELS: Record<PlanType, string> = {
  CPP: 'Child protection plan',
  LAC: 'Looked after child',
  UCPP: 'Unborn child protection plan',
};

export type Subject = 'child' | 'unborn';

export interface PlanDates {
  type: PlanType;
  startDate: IsoDate;
  endDate: IsoDate | null;
}

export interface SubjectDates {
  /** The subject's date of birth according to demographics (for a UCPP, the mother's). */
  birthDate: IsoDate;
  /** UCPP only. */
  expectedDeliveryDate: IsoDate | null;
}

/** Days a plan stays visible after it ends. */
export const DAYS_VISIBLE_AFTER_END = 365;
/** Days a UCPP stays visible after the expected delivery date. */
export const DAYS_VISIBLE_AFTER_DELIVERY = 28;
export const ADULT_AGE = 18;

/** The last day health may see the plan (inclusive), or null if nothing yet limits it. */
export function visibleUntil(plan: PlanDates, subject: SubjectDates): IsoDate | null {
  const limits: IsoDate[] = [];
  if (plan.endDate) limits.push(addDays(plan.endDate, DAYS_VISIBLE_AFTER_END));
  if (plan.type === 'UCPP') {
    if (subject.expectedDeliveryDate)
      limits.push(addDays(subject.expectedDeliveryDate, DAYS_VISIBLE_AFTER_DELIVERY));
  } else {
    limits.push(addDays(birthdayOf(subject.birthDate, ADULT_AGE), -1));
  }
  // ISO dates order as strings: the earliest limit wins.
  return limits.length ? (limits.sort()[0] ?? null) : null;
}

export function isVisibleOn(plan: PlanDates, subject: SubjectDates, today: IsoDate): boolean {
  if (plan.startDate > today) return false;
  const until = visibleUntil(plan, subject);
  return until === null || today <= until;
}

/**
 * Is a stored plan shown to health on `today`? Its start has come, its last visible day (worked out
 * at upload by `visibleUntil`) has not passed, and no delete date has come. The same rule as the
 * store's `cpis_query_plans` (migration 0011), for the in-memory plan index.
 */
export function isShownOn(
  plan: { startDate: IsoDate; visibleUntil: IsoDate | null; deleteDate: IsoDate | null },
  today: IsoDate,
): boolean {
  return (
    plan.startDate <= today &&
    (plan.visibleUntil === null || plan.visibleUntil >= today) &&
    (plan.deleteDate === null || plan.deleteDate > today)
  );
}

/** Is the subject 18 or over on `today`, by their date of birth? */
export function isAdultOn(birthDate: IsoDate, today: IsoDate): boolean {
  return today >= birthdayOf(birthDate, ADULT_AGE);
}
