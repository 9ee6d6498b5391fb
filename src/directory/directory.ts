/**
 * Organisations and local authorities: reading and writing the directory. Codes the directory
 * does not know are normal (tokens carry codes before the directory learns them) and are described
 * as unknown rather than refused.
 */
import type { Selectable } from 'kysely';
import { DEFAULT_THRESHOLDS, type PatternThresholds } from '../domain/patterns.ts';
import type { Executor, Tx } from '../store/db.ts';
import type { LocalAuthorityTable, OrganisationTable } from '../store/schema.ts';
import type { LocalAuthorityInput, NotificationCadence, OrganisationInput, Setting } from './types.ts';

export interface OrganisationRecord {
  odsCode: string;
  name: string;
  setting: Setting;
  parentOdsCode: string | null;
  town: string | null;
  phone: string | null;
  postcode: string | null;
  updatedAt: Date;
}

export interface LocalAuthority {
  laCode: string;
  name: string;
  officeHoursPhone: string;
  emergencyDutyPhone: string;
  notificationCadence: NotificationCadence;
  /** Accesses to one child with less than this between them form one episode. */
  episodeGapHours: number;
  /** Where messages are also pushed (the secret signs them and is never shown). */
  webhookUrl: string | null;
  /** When a child's history is flagged as a pattern of concern in access notifications. */
  patternThresholds: PatternThresholds;
  updatedAt: Date;
}

export const DEFAULT_EPISODE_GAP_HOURS = 12;

export function toOrganisation(r: OrganisationTable): OrganisationRecord {
  return {
    odsCode: r.ods_code,
    name: r.name,
    setting: r.setting as Setting,
    parentOdsCode: r.parent_ods_code,
    town: r.town,
    phone: r.phone,
    postcode: r.postcode,
    updatedAt: r.updated_at,
  };
}

/** An LA's stored thresholds, or the defaults where it has none. */
export function thresholdsOf(stored: unknown): PatternThresholds {
  return { ...DEFAULT_THRESHOLDS, ...((stored as Partial<PatternThresholds> | null) ?? {}) };
}

export function toLocalAuthority(r: Selectable<LocalAuthorityTable>): LocalAuthority {
  return {
    laCode: r.la_code,
    name: r.name,
    officeHoursPhone: r.office_hours_phone,
    emergencyDutyPhone: r.emergency_duty_phone,
    notificationCadence: r.notification_cadence,
    episodeGapHours: r.episode_gap_hours,
    webhookUrl: r.webhook_url,
    patternThresholds: thresholdsOf(r.pattern_thresholds),
    updatedAt: r.updated_at,
  };
}

function organisationRow(o: OrganisationInput, now: Date): OrganisationTable {
  return {
    ods_code: o.odsCode,
    name: o.name,
    setting: o.setting,
    parent_ods_code: o.parentOdsCode ?? null,
    town: o.town ?? null,
    phone: o.phone ?? null,
    postcode: o.postcode ?? null,
    updated_at: now,
  };
}

/**
 * Create or update organisations (one statement per 1,000). Returns the codes that were new.
 * `replace` (an admin PUT) sets every field as given. `merge` (an ODS import) keeps what the
 * directory already knows where the import is silent: ODS extracts rarely carry phone numbers and
 * never a site's setting, so an import must not wipe a phone or turn an emergency department into
 * "other".
 */
export async function putOrganisations(
  trx: Tx,
  now: Date,
  orgs: readonly OrganisationInput[],
  mode: 'replace' | 'merge' = 'replace',
): Promise<Set<string>> {
  const created = new Set<string>();
  for (let i = 0; i < orgs.length; i += 1000) {
    const rows = orgs.slice(i, i + 1000).map((o) => organisationRow(o, now));
    const existing = await trx
      .selectFrom('organisation')
      .select('ods_code')
      .where(
        'ods_code',
        'in',
        rows.map((r) => r.ods_code),
      )
      .execute();
    const had = new Set(existing.map((r) => r.ods_code));
    for (const r of rows) if (!had.has(r.ods_code)) created.add(r.ods_code);
    await trx
      .insertInto('organisation')
      .values(rows)
      .onConflict((oc) =>
        oc.column('ods_code').doUpdateSet((eb) =>
          mode === 'replace'
            ? {
                name: eb.ref('excluded.name'),
                setting: eb.ref('excluded.setting'),
                parent_ods_code: eb.ref('excluded.parent_ods_code'),
                town: eb.ref('excluded.town'),
                phone: eb.ref('excluded.phone'),
                postcode: eb.ref('excluded.postcode'),
                updated_at: eb.ref('excluded.updated_at'),
              }
            : {
                name: eb.ref('excluded.name'),
                setting: eb
                  .case()
                  .when(eb.ref('excluded.setting'), '=', 'other')
                  .then(eb.ref('organisation.setting'))
                  .else(eb.ref('excluded.setting'))
                  .end(),
                parent_ods_code: eb.fn.coalesce('excluded.parent_ods_code', 'organisation.parent_ods_code'),
                town: eb.fn.coalesce('excluded.town', 'organisation.town'),
                phone: eb.fn.coalesce('excluded.phone', 'organisation.phone'),
                postcode: eb.fn.coalesce('excluded.postcode', 'organisation.postcode'),
                updated_at: eb.ref('excluded.updated_at'),
              },
        ),
      )
      .execute();
  }
  return created;
}

export async function getOrganisation(db: Executor, odsCode: string): Promise<OrganisationRecord | null> {
  const row = await db
    .selectFrom('organisation')
    .selectAll()
    .where('ods_code', '=', odsCode)
    .executeTakeFirst();
  return row ? toOrganisation(row) : null;
}

export async function listOrganisations(
  db: Executor,
  filter: { setting?: Setting; parentOdsCode?: string; limit: number; after?: string },
): Promise<OrganisationRecord[]> {
  let q = db.selectFrom('organisation').selectAll().orderBy('ods_code').limit(filter.limit);
  if (filter.setting) q = q.where('setting', '=', filter.setting);
  if (filter.parentOdsCode) q = q.where('parent_ods_code', '=', filter.parentOdsCode);
  if (filter.after) q = q.where('ods_code', '>', filter.after);
  return (await q.execute()).map(toOrganisation);
}

export async function putLocalAuthority(
  trx: Tx,
  now: Date,
  la: LocalAuthorityInput,
): Promise<{ created: boolean; localAuthority: LocalAuthority }> {
  const existing = await trx
    .selectFrom('local_authority')
    .select('la_code')
    .where('la_code', '=', la.laCode)
    .executeTakeFirst();
  const row = await trx
    .insertInto('local_authority')
    .values({
      la_code: la.laCode,
      name: la.name,
      office_hours_phone: la.officeHoursPhone,
      emergency_duty_phone: la.emergencyDutyPhone,
      notification_cadence: la.notificationCadence ?? 'daily',
      episode_gap_hours: la.episodeGapHours ?? DEFAULT_EPISODE_GAP_HOURS,
      webhook_url: la.webhook?.url ?? null,
      webhook_secret: la.webhook?.secret ?? null,
      pattern_thresholds: la.patternThresholds ? JSON.stringify(la.patternThresholds) : null,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.column('la_code').doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        office_hours_phone: eb.ref('excluded.office_hours_phone'),
        emergency_duty_phone: eb.ref('excluded.emergency_duty_phone'),
        notification_cadence: eb.ref('excluded.notification_cadence'),
        episode_gap_hours: eb.ref('excluded.episode_gap_hours'),
        webhook_url: eb.ref('excluded.webhook_url'),
        webhook_secret: eb.ref('excluded.webhook_secret'),
        pattern_thresholds: eb.ref('excluded.pattern_thresholds'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return { created: !existing, localAuthority: toLocalAuthority(row) };
}

export async function getLocalAuthority(db: Executor, laCode: string): Promise<LocalAuthority | null> {
  const row = await db
    .selectFrom('local_authority')
    .selectAll()
    .where('la_code', '=', laCode)
    .executeTakeFirst();
  return row ? toLocalAuthority(row) : null;
}

export async function listLocalAuthorities(db: Executor): Promise<LocalAuthority[]> {
  return (await db.selectFrom('local_authority').selectAll().orderBy('name').execute()).map(toLocalAuthority);
}
