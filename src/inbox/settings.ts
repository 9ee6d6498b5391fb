/**
 * An LA's inbox settings (issue: LA portal §4), changed by its safeguarding admins: routing (office
 * hours, out-of-hours to the EDT, the screening and EDT queues' names), the episode gap and the
 * thresholds for patterns of concern. Checked field by field; a bad field changes nothing.
 */
import { appendAudit } from '../audit/log.ts';
import { DEFAULT_EPISODE_GAP_HOURS, thresholdsOf } from '../directory/directory.ts';
import { invalidThreshold, type PatternThresholds } from '../domain/patterns.ts';
import { type Executor, transact } from '../store/db.ts';
import { invalidRouting, type LaRouting, routingOf } from './routing.ts';

export interface LaSettings {
  laCode: string;
  laName: string;
  routing: LaRouting;
  episodeGapHours: number;
  thresholds: PatternThresholds;
}

export async function readSettings(db: Executor, laCode: string): Promise<LaSettings | null> {
  const la = await db
    .selectFrom('local_authority')
    .select(['name', 'routing', 'episode_gap_hours', 'pattern_thresholds'])
    .where('la_code', '=', laCode)
    .executeTakeFirst();
  if (!la) return null;
  return {
    laCode,
    laName: la.name,
    routing: routingOf(la.routing),
    episodeGapHours: la.episode_gap_hours ?? DEFAULT_EPISODE_GAP_HOURS,
    thresholds: thresholdsOf(la.pattern_thresholds),
  };
}

export type SettingsResult =
  | { ok: true; settings: LaSettings }
  | { ok: false; field: string; message: string };

const MESSAGES: Record<string, string> = {
  'officeHours.days': 'Choose at least one office day',
  'officeHours.open': 'Enter the time the office opens, like 09:00',
  'officeHours.close': 'Enter the time the office closes, like 17:00, later than it opens',
  outOfHoursToEdt: 'Say whether episodes out of hours go to the emergency duty team',
  screeningTeam: 'Enter the screening queue’s name (letters, numbers and spaces, up to 60)',
  edtTeam: 'Enter the emergency duty team’s name, different from the screening queue’s',
  episodeGapHours: 'Episode gap must be a whole number of hours from 1 to 168',
  episodes: 'Episodes must be a whole number from 2 to 50',
  episodeDays: 'Days for episodes must be a whole number from 1 to 730',
  areas: 'Areas must be a whole number from 2 to 20',
  areaDays: 'Days for areas must be a whole number from 1 to 90',
};

export async function saveSettings(
  db: Executor,
  now: Date,
  laCode: string,
  actor: Record<string, unknown>,
  input: { routing: LaRouting; episodeGapHours: number; thresholds: PatternThresholds },
): Promise<SettingsResult> {
  const bad =
    invalidRouting(input.routing as unknown as Record<string, unknown>) ??
    (!Number.isInteger(input.episodeGapHours) || input.episodeGapHours < 1 || input.episodeGapHours > 168
      ? 'episodeGapHours'
      : null) ??
    invalidThreshold(input.thresholds as unknown as Record<string, unknown>);
  if (bad) return { ok: false, field: bad, message: MESSAGES[bad] ?? `${bad} is not valid` };
  const routing: LaRouting = {
    ...input.routing,
    screeningTeam: input.routing.screeningTeam.trim(),
    edtTeam: input.routing.edtTeam.trim(),
    officeHours: { ...input.routing.officeHours, days: [...input.routing.officeHours.days].sort() },
  };
  return transact(db, async (trx): Promise<SettingsResult> => {
    const updated = await trx
      .updateTable('local_authority')
      .set({
        routing: JSON.stringify(routing),
        episode_gap_hours: input.episodeGapHours,
        pattern_thresholds: JSON.stringify(input.thresholds),
        updated_at: now,
      })
      .where('la_code', '=', laCode)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1)
      return { ok: false, field: 'laCode', message: 'This local authority is not in the directory yet' };
    await appendAudit(trx, now, [
      {
        category: 'casework',
        action: 'la.settings',
        outcome: 'success',
        actor,
        detail: { laCode, routing, episodeGapHours: input.episodeGapHours, thresholds: input.thresholds },
      },
    ]);
    return { ok: true, settings: (await readSettings(trx, laCode))! };
  });
}
