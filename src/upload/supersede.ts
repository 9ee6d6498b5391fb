/**
 * When demographics merges two records of one person (supersede), every LA's record held under the
 * old number moves to the replacement at once (CPIS.md §4, ours), so a query by either number finds
 * it. If an LA already holds a record under the replacement, the two merge: the replacement's plans
 * stand, and plan types only the old record had are added. Invalidation moves nothing: the old
 * identity must never be linked to a new one.
 */
import { appendAudit } from '../audit/log.ts';
import type { DemographicsListener } from '../demographics/admin.ts';
import type { SupersedeResult } from '../demographics/register.ts';
import { type PlanType, visibleUntil } from '../domain/plans.ts';
import type { Tx } from '../store/db.ts';

export async function moveRecordsToReplacement(
  trx: Tx,
  now: Date,
  change: SupersedeResult,
): Promise<string[]> {
  const from = change.old.nhsNumber;
  const to = change.replacement.nhsNumber;
  const moving = await trx
    .selectFrom('la_record')
    .selectAll()
    .where('nhs_number', '=', from)
    .orderBy('la_code')
    .execute();
  const moved: string[] = [];
  for (const old of moving) {
    const plans = await trx
      .selectFrom('la_plan')
      .selectAll()
      .where('la_code', '=', old.la_code)
      .where('nhs_number', '=', from)
      .execute();
    const existing = await trx
      .selectFrom('la_record')
      .select('expected_delivery_date')
      .where('la_code', '=', old.la_code)
      .where('nhs_number', '=', to)
      .executeTakeFirst();
    const held = new Set(
      existing
        ? (
            await trx
              .selectFrom('la_plan')
              .select('plan_type')
              .where('la_code', '=', old.la_code)
              .where('nhs_number', '=', to)
              .execute()
          ).map((p) => p.plan_type as PlanType)
        : [],
    );
    await trx
      .deleteFrom('la_record')
      .where('la_code', '=', old.la_code)
      .where('nhs_number', '=', from)
      .execute();
    if (!existing) {
      await trx
        .insertInto('la_record')
        .values({ ...old, nhs_number: to, birth_date: change.replacement.birthDate, updated_at: now })
        .execute();
    }
    const subject = {
      birthDate: change.replacement.birthDate,
      expectedDeliveryDate: existing ? existing.expected_delivery_date : old.expected_delivery_date,
    };
    const adding = plans.filter((p) => !held.has(p.plan_type));
    if (adding.length) {
      await trx
        .insertInto('la_plan')
        .values(
          adding.map((p) => ({
            ...p,
            nhs_number: to,
            visible_until: visibleUntil(
              { type: p.plan_type, startDate: p.start_date, endDate: p.end_date },
              subject,
            ),
          })),
        )
        .execute();
    }
    moved.push(old.la_code);
  }
  if (moved.length) {
    await appendAudit(
      trx,
      now,
      moved.map((laCode) => ({
        category: 'system' as const,
        action: 'record.move',
        outcome: 'success' as const,
        actor: { kind: 'system', reason: 'NHS number superseded' },
        nhsNumber: to,
        detail: { laCode, fromNhsNumber: from },
      })),
    );
  }
  return moved;
}

export const recordsFollowSupersede: DemographicsListener = {
  async superseded(trx, now, change) {
    await moveRecordsToReplacement(trx, now, change);
  },
};
