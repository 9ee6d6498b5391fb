/**
 * The read of a health query, for many queries at once: one statement resolves each queried NHS
 * number to its current number (a superseded number is followed to its replacement, as the
 * demographics service does) and returns every plan visible today from every LA, with the LA's
 * name and phone numbers from the directory. Visibility is decided by the stored `visible_until`
 * (src/domain/plans.ts) and the start date; a plan whose delete date has come is already gone for
 * health even before the daily purge removes it. The SQL is the `cpis_query_plans` function
 * (migration 0011).
 */
import { sql } from 'kysely';
import type { IsoDate } from '../domain/dates.ts';
import { PLAN_TYPES, type PlanType } from '../domain/plans.ts';
import type { Executor } from '../store/db.ts';

export interface VisiblePlan {
  laCode: string;
  /** null when the LA is not (yet) in the directory: the plan is still shown. */
  laName: string | null;
  officeHoursPhone: string | null;
  emergencyDutyPhone: string | null;
  planType: PlanType;
  startDate: IsoDate;
  endDate: IsoDate | null;
}

export interface Subject {
  /** The number the caller asked about. */
  queried: string;
  /** The number the subject is known by now (the queried one unless it was superseded). */
  current: string;
  /** Visible plans, ordered by plan type (CPP, LAC, UCPP) then LA code. */
  plans: VisiblePlan[];
}

export interface PlanRow {
  queried: string;
  current_number: string | null;
  plan_nhs_number: string | null;
  la_code: string | null;
  plan_type: PlanType | null;
  start_date: string | null;
  end_date: string | null;
  la_name: string | null;
  office_hours_phone: string | null;
  emergency_duty_phone: string | null;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

const TYPE_ORDER = new Map(PLAN_TYPES.map((t, i) => [t, i]));

/**
 * The read of a batch, in one statement (the `cpis_query_plans` function, migration 0011): each
 * number's subject and its visible plans. It takes no lock; the batch's write checks the audit
 * chain's head itself.
 */
export async function readPlans(
  db: Executor,
  numbers: readonly string[],
  today: IsoDate,
): Promise<Map<string, Subject>> {
  if (numbers.length === 0) return new Map();
  const { rows } =
    await sql<PlanRow>`select * from cpis_query_plans(${[...numbers]}::text[], ${today}::date)`.execute(db);
  return subjectsOf(rows);
}

/**
 * Subjects from rows as `cpis_query_plans` returns them (one per visible plan, or one without a
 * plan for a subject with none); the in-memory index (plan-index.ts) makes the same rows.
 */
export function subjectsOf(rows: readonly PlanRow[]): Map<string, Subject> {
  const subjects = new Map<string, Subject>();
  for (const r of rows) {
    const current = r.current_number ?? r.queried;
    let subject = subjects.get(r.queried);
    if (!subject) {
      subject = { queried: r.queried, current, plans: [] };
      subjects.set(r.queried, subject);
    }
    if (r.la_code === null || r.plan_type === null || r.start_date === null) continue;
    const plan: VisiblePlan = {
      laCode: r.la_code,
      laName: r.la_name,
      officeHoursPhone: r.office_hours_phone,
      emergencyDutyPhone: r.emergency_duty_phone,
      planType: r.plan_type,
      startDate: r.start_date,
      endDate: r.end_date,
    };
    const existing = subject.plans.findIndex((p) => p.laCode === plan.laCode && p.planType === plan.planType);
    // The same LA's plan under both numbers: the one under the current number wins.
    if (existing < 0) subject.plans.push(plan);
    else if (r.plan_nhs_number === current) subject.plans[existing] = plan;
  }
  for (const s of subjects.values()) {
    s.plans.sort(
      (a, b) =>
        (TYPE_ORDER.get(a.planType) ?? 9) - (TYPE_ORDER.get(b.planType) ?? 9) ||
        (a.laCode < b.laCode ? -1 : a.laCode > b.laCode ? 1 : 0),
    );
  }
  return subjects;
}

/** The audit chain's head as committed now (no lock: the write checks it has not moved). */
export async function readHead(db: Executor): Promise<ChainHead> {
  const head = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  return { seq: Number(head.seq), hash: head.hash };
}
