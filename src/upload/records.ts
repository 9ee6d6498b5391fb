/**
 * LA records in the store. A record is one LA's whole current statement about one subject: writing
 * it replaces whatever that LA said before (its plans are the LA's plans for that subject now);
 * other LAs' records for the same subject are never touched.
 */
import { sql } from 'kysely';
import type { IsoDate } from '../domain/dates.ts';
import { type PlanDates, type PlanType, type Subject, visibleUntil } from '../domain/plans.ts';
import { insertRows } from '../store/bulk.ts';
import type { Tx } from '../store/db.ts';

export interface PlanInput extends PlanDates {
  /** A future date on which the plan is to be removed (created in error); past dates never reach here. */
  deleteDate: IsoDate | null;
}

export interface RecordInput {
  laCode: string;
  nhsNumber: string;
  subject: Subject;
  localId: string | null;
  /** The LA's own team for the child (LA-private routing); null: no allocated team (a closed case). */
  team?: string | null;
  familyName: string;
  givenNames: string[];
  birthDate: IsoDate;
  expectedDeliveryDate: IsoDate | null;
  plans: PlanInput[];
}

/** Replace this LA's statement about the subject. With no plans left the record is removed. */
export async function putRecord(trx: Tx, now: Date, uploadId: number, r: RecordInput): Promise<void> {
  await putRecords(trx, now, uploadId, r.laCode, [r]);
}

/**
 * Replace one LA's statements about many subjects at once (one statement per table per call, so a
 * file of 250,000 records costs a few hundred round trips, not a million). Subjects must be distinct.
 */
export async function putRecords(
  trx: Tx,
  now: Date,
  uploadId: number,
  laCode: string,
  records: readonly RecordInput[],
): Promise<void> {
  if (records.length === 0) return;
  await sql`delete from la_record where la_code = ${laCode} and nhs_number = any(${records.map((r) => r.nhsNumber)}::text[])`.execute(
    trx,
  );
  const standing = records.filter((r) => r.plans.length > 0);
  if (standing.length === 0) return;
  await insertRows(
    trx,
    'la_record',
    {
      la_code: 'text',
      nhs_number: 'text',
      subject: 'text',
      local_id: 'text',
      team: 'text',
      family_name: 'text',
      given_names: 'text[]',
      birth_date: 'date',
      expected_delivery_date: 'date',
      upload_id: 'bigint',
      created_at: 'timestamptz',
      updated_at: 'timestamptz',
    },
    standing.map((r) => ({
      la_code: laCode,
      nhs_number: r.nhsNumber,
      subject: r.subject,
      local_id: r.localId,
      team: r.team ?? null,
      family_name: r.familyName,
      given_names: r.givenNames,
      birth_date: r.birthDate,
      expected_delivery_date: r.expectedDeliveryDate,
      upload_id: uploadId,
      created_at: now,
      updated_at: now,
    })),
  );
  await insertRows(
    trx,
    'la_plan',
    {
      la_code: 'text',
      nhs_number: 'text',
      plan_type: 'text',
      start_date: 'date',
      end_date: 'date',
      visible_until: 'date',
      delete_date: 'date',
    },
    standing.flatMap((r) => planRows(r).map((p) => ({ la_code: laCode, nhs_number: r.nhsNumber, ...p }))),
  );
}

/** A record's plans as `la_plan` columns, each with the last day health may see it. */
export function planRows(r: Pick<RecordInput, 'birthDate' | 'expectedDeliveryDate' | 'plans'>) {
  const subject = { birthDate: r.birthDate, expectedDeliveryDate: r.expectedDeliveryDate };
  return r.plans.map((p) => ({
    plan_type: p.type,
    start_date: p.startDate,
    end_date: p.endDate,
    visible_until: visibleUntil(p, subject),
    delete_date: p.deleteDate,
  }));
}

/**
 * Snapshot mode: the LA's plans for subjects absent from the file (none of the staged file's rows
 * names them, src/upload/upload.ts) end today (plans that already ended keep their end date), so
 * they stay visible for the usual year after ending. Returns the subjects whose plans were ended.
 */
export async function endRecordsAbsentFrom(
  trx: Tx,
  laCode: string,
  stageId: string,
  today: IsoDate,
): Promise<string[]> {
  const open = await trx
    .selectFrom('la_plan as p')
    .innerJoin('la_record as r', (j) =>
      j.onRef('r.la_code', '=', 'p.la_code').onRef('r.nhs_number', '=', 'p.nhs_number'),
    )
    .select(['p.nhs_number', 'p.plan_type', 'p.start_date', 'r.birth_date', 'r.expected_delivery_date'])
    .where('p.la_code', '=', laCode)
    .where((eb) => eb.or([eb('p.end_date', 'is', null), eb('p.end_date', '>', today)]))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('upload_stage as s')
            .select('s.idx')
            .where('s.stage_id', '=', stageId)
            .whereRef('s.nhs_number', '=', 'p.nhs_number'),
        ),
      ),
    )
    .execute();
  const ended = new Set<string>();
  for (const p of open) {
    const endDate = p.start_date > today ? p.start_date : today;
    const plan = { type: p.plan_type as PlanType, startDate: p.start_date, endDate };
    await trx
      .updateTable('la_plan')
      .set({
        end_date: endDate,
        visible_until: visibleUntil(plan, {
          birthDate: p.birth_date,
          expectedDeliveryDate: p.expected_delivery_date,
        }),
      })
      .where('la_code', '=', laCode)
      .where('nhs_number', '=', p.nhs_number)
      .where('plan_type', '=', p.plan_type)
      .execute();
    ended.add(p.nhs_number);
  }
  return [...ended];
}

/**
 * Retention (CPIS.md §5): delete plans past their last visible day or their delete date, then
 * records left with no plan. Their audit entries remain. Returns what was purged.
 */
export async function purgeExpired(trx: Tx, today: IsoDate): Promise<{ plans: number; records: number }> {
  const plans = await trx
    .deleteFrom('la_plan')
    .where((eb) => eb.or([eb('visible_until', '<', today), eb('delete_date', '<=', today)]))
    .executeTakeFirst();
  const records = await trx
    .deleteFrom('la_record')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('la_plan')
            .select(sql`1`.as('one'))
            .whereRef('la_plan.la_code', '=', 'la_record.la_code')
            .whereRef('la_plan.nhs_number', '=', 'la_record.nhs_number'),
        ),
      ),
    )
    .executeTakeFirst();
  return { plans: Number(plans.numDeletedRows), records: Number(records.numDeletedRows) };
}
