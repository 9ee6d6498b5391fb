/**
 * What an LA needs to see about its own data (CPIS.md §8): its current records by plan type, how
 * well its recent uploads matched demographics, and the subjects it tried to send that are
 * currently rejected — with the code, rule and field, and never what demographics holds about a
 * person who did not match.
 */
import { sql } from 'kysely';
import type { IsoDate } from '../domain/dates.ts';
import { PLAN_TYPES, type PlanType } from '../domain/plans.ts';
import type { Executor } from '../store/db.ts';

export interface DataQuality {
  laCode: string;
  asOf: IsoDate;
  records: {
    subjects: number;
    plans: Record<PlanType, number>;
    visiblePlans: Record<PlanType, number>;
  };
  uploads: {
    sequence: number;
    receivedAt: string;
    mode: string;
    fileCode: string;
    received: number;
    accepted: number;
    rejected: number;
    matchRate: number | null;
  }[];
  /** Over the uploads listed: the share of records received that were accepted. */
  matchRate: number | null;
  rejected: {
    nhsNumber: string;
    localId: string | null;
    code: string;
    detail: string | null;
    field: string | null;
    message: string;
    replacementNhsNumber: string | null;
    sequence: number;
    rejectedAt: string;
  }[];
}

const RECENT_UPLOADS = 10;

export async function dataQuality(
  db: Executor,
  laCode: string,
  today: IsoDate,
  rejectedLimit = 1000,
  uploadsLimit = RECENT_UPLOADS,
): Promise<DataQuality> {
  const plans = await db
    .selectFrom('la_plan')
    .select([
      'plan_type',
      (eb) => eb.fn.countAll<number>().as('all'),
      sql<number>`count(*) filter (where start_date <= ${today} and (visible_until is null or visible_until >= ${today}))`.as(
        'visible',
      ),
    ])
    .where('la_code', '=', laCode)
    .groupBy('plan_type')
    .execute();
  const subjects = await db
    .selectFrom('la_record')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('la_code', '=', laCode)
    .executeTakeFirstOrThrow();
  const zero = () => Object.fromEntries(PLAN_TYPES.map((t) => [t, 0])) as Record<PlanType, number>;
  const all = zero();
  const visible = zero();
  for (const p of plans) {
    all[p.plan_type] = p.all;
    visible[p.plan_type] = p.visible;
  }
  const uploads = await db
    .selectFrom('upload')
    .select(['sequence', 'received_at', 'mode', 'file_code', 'received', 'accepted', 'rejected'])
    .where('la_code', '=', laCode)
    .orderBy('sequence', 'desc')
    .limit(uploadsLimit)
    .execute();
  // The figure is over the most recent files (RECENT_UPLOADS), however many are listed.
  const recent = uploads.slice(0, RECENT_UPLOADS);
  const received = recent.reduce((n, u) => n + u.received, 0);
  const accepted = recent.reduce((n, u) => n + u.accepted, 0);
  const rejected = await db
    .selectFrom('record_rejection')
    .selectAll()
    .where('la_code', '=', laCode)
    .orderBy('rejected_at', 'desc')
    .orderBy('nhs_number')
    .limit(rejectedLimit)
    .execute();
  return {
    laCode,
    asOf: today,
    records: { subjects: subjects.n, plans: all, visiblePlans: visible },
    uploads: uploads.map((u) => ({
      sequence: u.sequence,
      receivedAt: u.received_at.toISOString(),
      mode: u.mode,
      fileCode: u.file_code,
      received: u.received,
      accepted: u.accepted,
      rejected: u.rejected,
      matchRate: u.received ? round(u.accepted / u.received) : null,
    })),
    matchRate: received ? round(accepted / received) : null,
    rejected: rejected.map((r) => ({
      nhsNumber: r.nhs_number,
      localId: r.local_id,
      code: r.code,
      detail: r.detail,
      field: r.field,
      message: r.message,
      replacementNhsNumber: r.replacement_nhs_number,
      sequence: r.sequence,
      rejectedAt: r.rejected_at.toISOString(),
    })),
  };
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
