/** Administering the directory (INTERFACE §2): organisations and local authorities, validated and audited. */

import { appendAudit } from '../audit/log.ts';
import { auditActor, type Principal } from '../auth/principal.ts';
import type { Clock } from '../domain/clock.ts';
import { invalidValue, missingValue } from '../domain/outcomes.ts';
import {
  DEFAULT_THRESHOLDS,
  invalidThreshold,
  type PatternThresholds,
  THRESHOLD_LIMITS,
} from '../domain/patterns.ts';
import { isStorableText, requireName, requirePhone } from '../domain/validate.ts';
import { type Executor, transact } from '../store/db.ts';
import { type SecretBox, webhookSecretBinding } from '../store/secret-box.ts';
import { DEFAULT_EPISODE_GAP_HOURS, putLocalAuthority, putOrganisations } from './directory.ts';
import {
  type LocalAuthorityInput,
  type NotificationCadence,
  ODS_CODE_RE,
  type OrganisationInput,
  SETTINGS,
  type Setting,
} from './types.ts';

export interface DirectoryDeps {
  db: Executor;
  clock: Clock;
}

export function requireOdsCode(field: string, raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw missingValue(field);
  const code = raw.trim().toUpperCase();
  if (!ODS_CODE_RE.test(code))
    throw invalidValue(field, `${field} must be an ODS code: 3 to 10 letters and digits`);
  return code;
}

export interface OrganisationBody {
  name: string;
  setting: string;
  parentOdsCode?: string | null;
  town?: string | null;
  phone?: string | null;
  postcode?: string | null;
}

/** Validate one organisation; `prefix` names where it sits in a larger body (e.g. `organisations[3].`). */
export function validateOrganisation(
  rawCode: unknown,
  body: OrganisationBody,
  prefix = '',
): OrganisationInput {
  const odsCode = requireOdsCode(`${prefix}odsCode`, rawCode);
  if (!SETTINGS.includes(body.setting as Setting)) {
    throw invalidValue(`${prefix}setting`, `${prefix}setting must be one of ${SETTINGS.join(', ')}`);
  }
  const parent =
    body.parentOdsCode === undefined || body.parentOdsCode === null || body.parentOdsCode === ''
      ? null
      : requireOdsCode(`${prefix}parentOdsCode`, body.parentOdsCode);
  if (parent === odsCode)
    throw invalidValue(`${prefix}parentOdsCode`, 'an organisation cannot be its own parent');
  return {
    odsCode,
    name: requireName(`${prefix}name`, body.name, 200),
    setting: body.setting as Setting,
    parentOdsCode: parent,
    town: body.town ? requireName(`${prefix}town`, body.town, 100) : null,
    phone: body.phone ? requirePhone(`${prefix}phone`, body.phone) : null,
    postcode: body.postcode ? requireName(`${prefix}postcode`, body.postcode, 10).toUpperCase() : null,
  };
}

export async function adminPutOrganisation(
  deps: DirectoryDeps,
  who: Principal,
  rawCode: string,
  body: OrganisationBody,
) {
  const org = validateOrganisation(rawCode, body);
  const now = deps.clock.now();
  return transact(deps.db, async (trx) => {
    const created = await putOrganisations(trx, now, [org]);
    await appendAudit(trx, now, [
      {
        category: 'admin',
        action: created.size ? 'organisation.create' : 'organisation.update',
        outcome: 'success',
        actor: auditActor(who),
        detail: { odsCode: org.odsCode, setting: org.setting },
      },
    ]);
    return { created: created.size > 0, organisation: org };
  });
}

/** Import many organisations at once (the CLI's `directory import`): all or nothing, merged into what is known. */
export async function adminImportOrganisations(
  deps: DirectoryDeps,
  who: Principal,
  items: ReadonlyArray<OrganisationBody & { odsCode: string }>,
) {
  const orgs = items.map((o, i) => validateOrganisation(o.odsCode, o, `organisations[${i}].`));
  const seen = new Set<string>();
  orgs.forEach((o, i) => {
    if (seen.has(o.odsCode))
      throw invalidValue(`organisations[${i}].odsCode`, `${o.odsCode} appears twice in the import`);
    seen.add(o.odsCode);
  });
  const now = deps.clock.now();
  return transact(deps.db, async (trx) => {
    const created = await putOrganisations(trx, now, orgs, 'merge');
    await appendAudit(trx, now, [
      {
        category: 'admin',
        action: 'organisation.import',
        outcome: 'success',
        actor: auditActor(who),
        detail: { received: orgs.length, created: created.size },
      },
    ]);
    return { received: orgs.length, created: created.size, updated: orgs.length - created.size };
  });
}

export interface LocalAuthorityBody {
  name: string;
  officeHoursPhone: string;
  emergencyDutyPhone: string;
  notificationCadence?: string;
  episodeGapHours?: number;
  webhook?: { url: string; secret: string } | null;
  patternThresholds?: Partial<PatternThresholds> | null;
}

/** Thresholds an admin sent, completed from the defaults; null (or absent) means the defaults. */
function validateThresholds(raw: LocalAuthorityBody['patternThresholds']): PatternThresholds | null {
  if (raw === undefined || raw === null) return null;
  const t = { ...DEFAULT_THRESHOLDS, ...raw };
  const bad = invalidThreshold(t);
  if (bad) {
    const [lo, hi] = THRESHOLD_LIMITS[bad];
    throw invalidValue(
      `patternThresholds.${bad}`,
      `patternThresholds.${bad} must be a whole number from ${lo} to ${hi}`,
    );
  }
  return t;
}

function validateWebhook(
  raw: LocalAuthorityBody['webhook'],
  allowHttp: boolean,
): { url: string; secret: string } | null {
  if (raw === undefined || raw === null) return null;
  if (!isStorableText(raw.url)) throw invalidValue('webhook.url', 'webhook.url is not a URL');
  let url: URL;
  try {
    url = new URL(raw.url);
  } catch {
    throw invalidValue('webhook.url', 'webhook.url is not a URL');
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:')) {
    throw invalidValue('webhook.url', 'webhook.url must use https');
  }
  if (typeof raw.secret !== 'string' || raw.secret.length < 32 || !isStorableText(raw.secret)) {
    throw invalidValue(
      'webhook.secret',
      'webhook.secret must be at least 32 characters (it signs every message), with no NUL or unpaired surrogate',
    );
  }
  return { url: url.toString(), secret: raw.secret };
}

export async function adminPutLocalAuthority(
  deps: DirectoryDeps & { allowHttpWebhooks?: boolean; secrets: SecretBox },
  who: Principal,
  rawCode: string,
  body: LocalAuthorityBody,
) {
  const cadence = body.notificationCadence ?? 'daily';
  if (cadence !== 'daily' && cadence !== 'immediate') {
    throw invalidValue('notificationCadence', 'notificationCadence must be daily or immediate');
  }
  const la: LocalAuthorityInput = {
    laCode: requireOdsCode('laCode', rawCode),
    name: requireName('name', body.name, 200),
    officeHoursPhone: requirePhone('officeHoursPhone', body.officeHoursPhone),
    emergencyDutyPhone: requirePhone('emergencyDutyPhone', body.emergencyDutyPhone),
    notificationCadence: cadence as NotificationCadence,
    episodeGapHours: body.episodeGapHours ?? DEFAULT_EPISODE_GAP_HOURS,
    webhook: validateWebhook(body.webhook, deps.allowHttpWebhooks ?? false),
    patternThresholds: validateThresholds(body.patternThresholds),
  };
  if (!Number.isInteger(la.episodeGapHours) || la.episodeGapHours! < 1 || la.episodeGapHours! > 168) {
    throw invalidValue('episodeGapHours', 'episodeGapHours must be a whole number of hours from 1 to 168');
  }
  // The secret is stored sealed (src/store/secret-box.ts); only the webhook job opens it.
  if (la.webhook) {
    la.webhook = {
      url: la.webhook.url,
      secret: deps.secrets.seal(la.webhook.secret, webhookSecretBinding(la.laCode)),
    };
  }
  const now = deps.clock.now();
  return transact(deps.db, async (trx) => {
    const result = await putLocalAuthority(trx, now, la);
    await appendAudit(trx, now, [
      {
        category: 'admin',
        action: result.created ? 'local-authority.create' : 'local-authority.update',
        outcome: 'success',
        actor: auditActor(who),
        detail: {
          laCode: la.laCode,
          notificationCadence: la.notificationCadence,
          episodeGapHours: la.episodeGapHours,
          webhookUrl: la.webhook?.url ?? null,
          patternThresholds: la.patternThresholds,
        },
      },
    ]);
    return result;
  });
}
