/**
 * The read of a health query, for many queries at once: one statement resolves each queried NHS
 * number to its current number (a superseded number is followed to its replacement, as the
 * demographics service does) and returns every plan visible today from every LA, with the LA's
 * name and phone numbers from the directory. Visibility is decided by the stored `visible_until`
 * (src/domain/plans.ts) and the start date; a plan whose delete date has come is already gone for
 * health even before the daily purge removes it.
 */
import { sql } from 'kysely';
import type { IsoDate } from '../domain/dates.ts';
import { PLAN_TYPES, type PlanType } from '../domain/plans.ts';
import type { Tx } from '../store/db.ts';

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

interface Row {
  queried: string;
  current: string;
  la_code: string | null;
  plan_nhs_number: string | null;
  plan_type: PlanType | null;
  start_date: string | null;
  end_date: string | null;
  la_name: string | null;
  office_hours_phone: string | null;
  emergency_duty_phone: string | null;
}

const TYPE_ORDER = new Map(PLAN_TYPES.map((t, i) => [t, i]));

export async function lookupSubjects(
  trx: Tx,
  numbers: readonly string[],
  today: IsoDate,
): Promise<Map<string, Subject>> {
  const out = new Map<string, Subject>();
  if (numbers.length === 0) return out;
  // Plans are looked for under the current number and, should any have been left there, under
  // the queried one too: a plan must never be hidden by a merge.
  const { rows } = await sql<Row>`
    with q as (select distinct unnest(${[...numbers]}::text[]) as n),
    s as (
      select q.n as queried,
             case when p.status = 'superseded' then p.superseded_by else q.n end as current
      from q left join person p on p.nhs_number = q.n
    )
    select s.queried, s.current, pl.la_code, pl.nhs_number as plan_nhs_number, pl.plan_type,
           pl.start_date, pl.end_date, la.name as la_name, la.office_hours_phone, la.emergency_duty_phone
    from s
    left join la_plan pl on pl.nhs_number in (s.current, s.queried)
      and pl.start_date <= ${today}::date
      and (pl.visible_until is null or pl.visible_until >= ${today}::date)
      and (pl.delete_date is null or pl.delete_date > ${today}::date)
    left join local_authority la on la.la_code = pl.la_code`.execute(trx);
  for (const r of rows) {
    let subject = out.get(r.queried);
    if (!subject) {
      subject = { queried: r.queried, current: r.current, plans: [] };
      out.set(r.queried, subject);
    }
    if (r.la_code === null || r.plan_type === null || r.start_date === null) continue;
    const existing = subject.plans.findIndex((p) => p.laCode === r.la_code && p.planType === r.plan_type);
    const plan: VisiblePlan = {
      laCode: r.la_code,
      laName: r.la_name,
      officeHoursPhone: r.office_hours_phone,
      emergencyDutyPhone: r.emergency_duty_phone,
      planType: r.plan_type,
      startDate: r.start_date,
      endDate: r.end_date,
    };
    // The same LA's plan under both numbers: the one under the current number wins.
    if (existing >= 0) {
      if (r.plan_nhs_number === r.current) subject.plans[existing] = plan;
    } else subject.plans.push(plan);
  }
  for (const s of out.values()) {
    s.plans.sort(
      (a, b) =>
        (TYPE_ORDER.get(a.planType) ?? 9) - (TYPE_ORDER.get(b.planType) ?? 9) ||
        (a.laCode < b.laCode ? -1 : a.laCode > b.laCode ? 1 : 0),
    );
  }
  return out;
}
