/**
 * Messages that follow from demographics (CPIS.md §7): an LA holding records for a number that is
 * superseded or invalidated is told (with the replacement when there is one), and an LA holding a
 * visible unborn child protection plan for a mother is told when her baby is born. Both are written
 * in the transaction that makes the demographics change.
 */
import { sql } from 'kysely';
import type { DemographicsListener } from '../demographics/admin.ts';
import { londonDateOf } from '../domain/dates.ts';
import type { Tx } from '../store/db.ts';
import { postMessage } from './mailbox.ts';

interface HeldRecord {
  la_code: string;
  local_id: string | null;
  plan_types: string[];
}

async function recordsHeldFor(trx: Tx, nhsNumber: string): Promise<HeldRecord[]> {
  const { rows } = await sql<HeldRecord>`select r.la_code, r.local_id,
      coalesce(array_agg(p.plan_type order by p.plan_type) filter (where p.plan_type is not null), '{}') as plan_types
    from la_record r left join la_plan p on p.la_code = r.la_code and p.nhs_number = r.nhs_number
    where r.nhs_number = ${nhsNumber}
    group by r.la_code, r.local_id
    order by r.la_code`.execute(trx);
  return rows;
}

/**
 * Must run before the records move to the replacement (see src/app.ts), so it still sees which LAs
 * held records under the old number.
 */
export const inactiveNumberMessages: DemographicsListener = {
  async superseded(trx, now, change) {
    const from = change.old.nhsNumber;
    const to = change.replacement.nhsNumber;
    for (const held of await recordsHeldFor(trx, from)) {
      await postMessage(trx, now, held.la_code, 'inactive-nhs-number', {
        nhsNumber: from,
        replacementNhsNumber: to,
        reason: 'superseded',
        localId: held.local_id,
        planTypes: held.plan_types,
        message:
          `NHS number ${from} has been merged into ${to}. Your record has moved to ${to}; ` +
          `send future updates for this child under ${to}.`,
      });
    }
  },
  async invalidated(trx, now, person) {
    for (const held of await recordsHeldFor(trx, person.nhsNumber)) {
      await postMessage(trx, now, held.la_code, 'inactive-nhs-number', {
        nhsNumber: person.nhsNumber,
        replacementNhsNumber: null,
        reason: 'invalidated',
        localId: held.local_id,
        planTypes: held.plan_types,
        message:
          `NHS number ${person.nhsNumber} is no longer in use and has no replacement (as happens on adoption). ` +
          'Your record stays under the old number until it is removed or expires; it is not linked to any new identity.',
      });
    }
  },
};

export const birthMessages: DemographicsListener = {
  async born(trx, now, baby, mother) {
    const today = londonDateOf(now);
    const { rows } = await sql<{
      la_code: string;
      local_id: string | null;
      expected_delivery_date: string | null;
    }>`
      select r.la_code, r.local_id, r.expected_delivery_date
      from la_plan p join la_record r on r.la_code = p.la_code and r.nhs_number = p.nhs_number
      where p.nhs_number = ${mother.nhsNumber} and p.plan_type = 'UCPP'
        and p.start_date <= ${today} and (p.visible_until is null or p.visible_until >= ${today})
      order by r.la_code`.execute(trx);
    for (const r of rows) {
      await postMessage(trx, now, r.la_code, 'birth', {
        motherNhsNumber: mother.nhsNumber,
        localId: r.local_id,
        expectedDeliveryDate: r.expected_delivery_date,
        baby: {
          nhsNumber: baby.nhsNumber,
          familyName: baby.familyName,
          givenNames: baby.givenNames,
          birthDate: baby.birthDate,
          gender: baby.gender,
        },
        message:
          `A baby has been born to ${mother.nhsNumber}, who holds your unborn child protection plan. ` +
          `End the UCPP on the mother's record and, if the plan continues, upload a CPP for the baby (${baby.nhsNumber}).`,
      });
    }
  },
};
