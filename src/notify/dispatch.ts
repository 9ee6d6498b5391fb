/**
 * Turning recorded accesses into access notifications (CPIS.md §7–§8, INTERFACE §4).
 *
 * Every unscheduled access to a visible record leaves one pending notice per LA that held a
 * visible record at that moment, written in the access's own transaction (src/query). Dispatch
 * delivers them into each LA's mailbox:
 * - `daily` LAs (the default) get one message a day, from 06:00 Europe/London, covering the
 *   previous day (and anything older still pending). A day with no accesses still gets a message,
 *   a heartbeat, so silence is never ambiguous.
 * - `immediate` LAs get pending notices at every scheduler tick.
 * - `force` delivers everything pending now, whatever the cadence.
 *
 * Each LA is dispatched in its own transaction, holding a per-LA advisory lock that another process
 * will skip rather than wait for, and claiming its notices by marking them with the message's id
 * (the message is posted later in that transaction); a daily batch is recorded once per LA per day.
 * So several processes on one PostgreSQL never deliver an access twice, and a crash before commit
 * leaves the notices pending for the next run. A few LAs are dispatched at once (each still its own
 * transaction), and the work for an LA is set-based: a handful of statements whatever its number of
 * accesses. Notices are partitioned by LA (migration 0016), so an LA's claim touches the pages of
 * about a sixteenth of them.
 *
 * Each access names the organisation in full — name, setting, parent trust, town, phone — never a
 * bare code (an unknown code is marked as unknown and listed), and accesses to the same child close
 * together form episodes with a timeline, so one incident reads as one event. Each child also
 * carries its pattern over the LA's history (src/domain/patterns.ts): repeated episodes or several
 * areas within the LA's thresholds are named as concerns.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { appendAudit } from '../audit/log.ts';
import { DEFAULT_EPISODE_GAP_HOURS, thresholdsOf } from '../directory/directory.ts';
import { SETTING_LABELS, type Setting } from '../directory/types.ts';
import { addDays, type IsoDate, londonDateOf, londonMidnight, londonTime } from '../domain/dates.ts';
import { type ChildPattern, childPattern } from '../domain/patterns.ts';
import { BEFORE_THE_INBOX, bringEpisodesUpToDate, lockEpisodes } from '../inbox/episodes.ts';
import type { Job } from '../scheduler.ts';
import { type Executor, type Tx, transact } from '../store/db.ts';
import type { AccessEventTable } from '../store/schema.ts';
import { postMessage } from './mailbox.ts';

/** Daily messages go out from this London time, covering the previous day. */
export const DAILY_DELIVERY = { hour: 6, minute: 0 };
/**
 * How many LAs are dispatched at once, each in its own transaction on its own connection (PGlite,
 * with one connection, takes them in turn). Memory is one LA's message per worker.
 */
const CONCURRENCY = 2;
/** How far back, at least, an episode is followed when a new access joins it. */
const EPISODE_LOOKBACK_DAYS = 7;

export interface DispatchSummary {
  messages: number;
  accesses: number;
  heartbeats: number;
  localAuthorities: string[];
}

interface LaInfo {
  la_code: string;
  name: string | null;
  cadence: 'daily' | 'immediate';
  gap_hours: number;
  pattern_thresholds: unknown;
}

export async function dispatchNotifications(
  db: Executor,
  now: Date,
  opts: { force?: boolean; concurrency?: number } = {},
): Promise<DispatchSummary> {
  const today = londonDateOf(now);
  const yesterday = addDays(today, -1);
  const dailyDue = now.getTime() >= londonTime(today, DAILY_DELIVERY.hour, DAILY_DELIVERY.minute).getTime();
  // Every LA in the directory, and any LA not (yet) in it that has notices waiting.
  const { rows: las } = await sql<LaInfo>`
    select la_code, name, notification_cadence as cadence, episode_gap_hours as gap_hours, pattern_thresholds
      from local_authority
    union all
    select distinct n.la_code, null, 'daily', ${DEFAULT_EPISODE_GAP_HOURS}::int, null::jsonb from access_notice n
     where n.message_id is null and not exists (select 1 from local_authority l where l.la_code = n.la_code)
    order by la_code`.execute(db);
  // LAs are independent (each its own transaction and locks), so a few go at once: one LA's queries
  // run on the server while another's message is built here. The order of the summary is kept.
  const results: (Sent[] | null)[] = new Array(las.length).fill(null);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (!failure && next < las.length) {
      const i = next++;
      try {
        results[i] = await dispatchLa(db, now, las[i]!, { force: !!opts.force, dailyDue, today, yesterday });
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? CONCURRENCY) }, worker));
  // A failed LA's transaction rolled back; those already committed stand, and the rest wait for the
  // next run, as when LAs went one by one.
  if (failure) throw (failure as { error: unknown }).error;
  const summary: DispatchSummary = { messages: 0, accesses: 0, heartbeats: 0, localAuthorities: [] };
  las.forEach((la, i) => {
    const result = results[i];
    if (!result || result.length === 0) return;
    summary.localAuthorities.push(la.la_code);
    for (const s of result) {
      summary.messages++;
      summary.accesses += s.accesses;
      if (s.heartbeat) summary.heartbeats++;
    }
  });
  return summary;
}

interface Sent {
  accesses: number;
  heartbeat: boolean;
}

/** One LA's dispatch, in its own transaction: null when another process is dispatching it. */
async function dispatchLa(
  db: Executor,
  now: Date,
  la: LaInfo,
  opts: { force: boolean; dailyDue: boolean; today: IsoDate; yesterday: IsoDate },
): Promise<Sent[] | null> {
  const { today, yesterday } = opts;
  const wantPending = opts.force || la.cadence === 'immediate';
  const wantDaily = la.cadence === 'daily' && opts.dailyDue;
  if (!wantPending && !wantDaily) return null;
  return transact(db, async (trx) => {
    const { rows } = await sql<{
      locked: boolean;
    }>`select pg_try_advisory_xact_lock(hashtext(${`cpis-dispatch:${la.la_code}`})) as locked`.execute(trx);
    if (!rows[0]!.locked) return null; // another process is dispatching this LA right now
    const sent: Sent[] = [];
    if (wantPending) {
      const messageId = randomUUID();
      const ids = await claimPending(trx, now, la.la_code, null, messageId);
      if (ids.length)
        sent.push(
          await deliver(trx, now, la, messageId, ids, {
            kind: opts.force ? 'forced' : 'immediate',
            from: null,
            to: now,
          }),
        );
    }
    if (wantDaily) {
      const batches = await trx
        .selectFrom('notification_batch')
        .select((eb) => eb.fn.max('batch_date').as('last'))
        .where('la_code', '=', la.la_code)
        .executeTakeFirst();
      const last = batches?.last ?? null;
      if (last === null || last < yesterday) {
        const to = londonMidnight(today);
        const from = londonMidnight(last === null ? yesterday : addDays(last, 1));
        const messageId = randomUUID();
        const rows = await claimPending(trx, now, la.la_code, to, messageId);
        const out = await deliver(trx, now, la, messageId, rows, {
          kind: 'daily',
          from,
          to,
          batchDate: yesterday,
        });
        sent.push(out);
      }
    }
    return sent;
  });
}

/**
 * Claim this LA's pending notices (for accesses before `cutoff`, if given) for the message
 * `messageId`, and read everything the message says about them: the rows stay locked for this
 * transaction, which holds the LA's dispatch lock.
 */
async function claimPending(
  trx: Tx,
  now: Date,
  laCode: string,
  cutoff: Date | null,
  messageId: string,
): Promise<AccessRow[]> {
  // The LA's episodes are held first, as everything that files look-ups into them holds them before
  // it writes a notice (src/inbox/episodes.ts): a filer then waits for this dispatch, or this
  // dispatch for it, and neither holds what the other needs. The look-ups are filed, so the message
  // names the same episodes as the inbox and the API.
  await lockEpisodes(trx, laCode);
  await bringEpisodesUpToDate(trx, laCode, now);
  const rows = await claimRows(trx, laCode, cutoff, messageId);
  // A look-up committed between the filing and the claim is filed now (an episode id is set once,
  // so the others stand).
  const unfiled = rows.filter((r) => r.episode_id === null);
  if (unfiled.length) {
    await bringEpisodesUpToDate(trx, laCode, now);
    const { rows: filed } = await sql<{ access_id: string; episode_id: string | null }>`
      select access_id, episode_id from access_notice
       where la_code = ${laCode} and access_id = any(${unfiled.map((r) => r.id)}::uuid[])`.execute(trx);
    const episodeOf = new Map(filed.map((f) => [f.access_id, f.episode_id]));
    for (const r of unfiled) r.episode_id = episodeOf.get(r.id) ?? null;
  }
  return rows;
}

async function claimRows(
  trx: Tx,
  laCode: string,
  cutoff: Date | null,
  messageId: string,
): Promise<AccessRow[]> {
  // One statement marks the notices with the message about to be posted in this same transaction
  // (the per-LA dispatch lock keeps any other dispatcher away; a notice being filed into an episode
  // at this moment is waited for, not skipped, so it is not left for the next day's message), and
  // reads the access (one heap tuple each, by key). The child's names, the same for all of a
  // child's look-ups, are read once per child afterwards, and the organisations once per message
  // (deliver), rather than once per look-up.
  const { rows } = await sql<AccessRow>`
    with marked as (
      update access_notice n set message_id = ${messageId}
        from access_event e
       where e.id = n.access_id and n.la_code = ${laCode} and n.message_id is null
             ${cutoff ? sql`and e.accessed_at < ${cutoff}` : sql``}
      returning e.id, e.nhs_number, e.queried_nhs_number, e.accessed_at, e.resource, e.accessor_kind,
                e.accessor_name, e.job_role_code, e.job_role_display, e.user_id, e.role_profile_id, e.asid,
                e.org_code, e.patient_location, e.safeguarding_lead, n.plan_types, n.episode_id
    )
    select * from marked order by accessed_at, id`.execute(trx);
  if (rows.length === 0) return rows;
  const { rows: names } = await sql<ChildNames & { nhs_number: string }>`
    select c.nhs_number,
           r.family_name as r_family, r.given_names as r_given, r.birth_date as r_birth, r.local_id as r_local_id,
           p.family_name as p_family, p.given_names as p_given, p.birth_date as p_birth
      from unnest(${[...new Set(rows.map((r) => r.nhs_number))]}::text[]) as c(nhs_number)
      left join la_record r on r.la_code = ${laCode} and r.nhs_number = c.nhs_number
      left join person p on p.nhs_number = c.nhs_number`.execute(trx);
  const byChild = new Map(names.map((n) => [n.nhs_number, n]));
  for (const r of rows) {
    const n = byChild.get(r.nhs_number)!;
    r.r_family = n.r_family;
    r.r_given = n.r_given;
    r.r_birth = n.r_birth;
    r.r_local_id = n.r_local_id;
    r.p_family = n.p_family;
    r.p_given = n.p_given;
    r.p_birth = n.p_birth;
  }
  return rows;
}

interface ChildNames {
  r_family: string | null;
  r_given: string[] | null;
  r_birth: string | null;
  r_local_id: string | null;
  p_family: string | null;
  p_given: string[] | null;
  p_birth: string | null;
}

interface Period {
  kind: 'daily' | 'immediate' | 'forced';
  from: Date | null;
  to: Date;
  batchDate?: IsoDate;
}

/** One claimed notice: the access as recorded, the LA's own plan types, and the child's names. */
type AccessRow = Omit<
  AccessEventTable,
  'request_id' | 'person_key' | 'la_codes' | 'safeguarding_lead' | 'plan_types'
> & {
  safeguarding_lead: { name?: string; role?: string; phone?: string } | null;
  plan_types: string[];
  /** The episode the look-up was filed into (null until it is). */
  episode_id: string | null;
} & ChildNames;

export interface OrganisationDescription {
  odsCode: string;
  name: string;
  setting: string;
  settingLabel: string;
  parentOdsCode?: string;
  parentName?: string;
  town?: string;
  phone?: string;
  known: boolean;
}

/** An organisation a message names, as the directory holds it, with its parent's name. */
interface OrganisationRow {
  ods_code: string;
  name: string;
  setting: string | null;
  town: string | null;
  phone: string | null;
  parent_ods_code: string | null;
  parent_name: string | null;
}

/** The organisations the delivered look-ups name (where they happened, and where the patient was). */
async function organisationsOf(trx: Tx, rows: AccessRow[]): Promise<Map<string, OrganisationRow>> {
  const codes = new Set<string>();
  for (const r of rows) {
    codes.add(r.org_code);
    if (r.patient_location) codes.add(r.patient_location);
  }
  if (codes.size === 0) return new Map();
  const { rows: orgs } = await sql<OrganisationRow>`
    select o.ods_code, o.name, o.setting, o.town, o.phone, o.parent_ods_code, p.name as parent_name
      from organisation o left join organisation p on p.ods_code = o.parent_ods_code
     where o.ods_code = any(${[...codes]}::text[])`.execute(trx);
  return new Map(orgs.map((o) => [o.ods_code, o]));
}

/**
 * An organisation as a message describes it; a patient's location names its parent but not the
 * parent's code. Not in the directory: marked as unknown.
 */
function describe(
  code: string,
  org: OrganisationRow | undefined,
  asLocation: boolean,
): OrganisationDescription {
  if (!org) {
    return {
      odsCode: code,
      name: `Unknown organisation (ODS code ${code})`,
      setting: 'other',
      settingLabel: 'Not in the organisation directory',
      known: false,
    };
  }
  const setting = org.setting ?? 'other';
  return {
    odsCode: code,
    name: org.name,
    setting,
    settingLabel: SETTING_LABELS[setting as Setting] ?? 'Other',
    ...(org.parent_ods_code && !asLocation ? { parentOdsCode: org.parent_ods_code } : {}),
    ...(org.parent_name ? { parentName: org.parent_name } : {}),
    ...(org.town ? { town: org.town } : {}),
    ...(org.phone ? { phone: org.phone } : {}),
    known: true,
  };
}

async function deliver(
  trx: Tx,
  now: Date,
  la: LaInfo,
  messageId: string,
  rows: AccessRow[],
  period: Period,
): Promise<{ accesses: number; heartbeat: boolean }> {
  const orgs = await organisationsOf(trx, rows);
  const history = await historyOf(trx, la, rows, orgs);
  const episodes = episodesFor(rows, history, await storedEpisodes(trx, history));
  const patterns = patternsFor(la, rows, history);
  const concerning = patterns.filter((p) => p.concerns.length > 0).length;
  const unknown = new Set<string>();
  // Each organisation is described once per message, and the description shared by its look-ups.
  const described = {
    asOrganisation: new Map<string, OrganisationDescription>(),
    asLocation: new Map<string, OrganisationDescription>(),
  };
  const describeOnce = (code: string, asLocation: boolean) => {
    const seen = asLocation ? described.asLocation : described.asOrganisation;
    let d = seen.get(code);
    if (!d) {
      d = describe(code, orgs.get(code), asLocation);
      seen.set(code, d);
      if (!d.known) unknown.add(code);
    }
    return d;
  };
  const accesses = rows.map((a) => {
    const organisation = describeOnce(a.org_code, false);
    const location = a.patient_location ? describeOnce(a.patient_location, true) : null;
    const jobRole = { code: a.job_role_code, display: a.job_role_display };
    // Optional fields are left undefined, which JSON leaves out, rather than spread in: an object
    // built by spreads is several times slower to make, and there is one per look-up.
    return {
      accessId: a.id,
      nhsNumber: a.nhs_number,
      queriedNhsNumber: a.queried_nhs_number !== a.nhs_number ? a.queried_nhs_number : undefined,
      localId: a.r_local_id,
      child: {
        familyName: a.r_family ?? a.p_family,
        givenNames: a.r_given ?? a.p_given,
        birthDate: a.r_birth ?? a.p_birth,
      },
      accessedAt: a.accessed_at.toISOString(),
      accessedBy:
        a.accessor_kind === 'health-user'
          ? {
              kind: 'user',
              name: a.accessor_name,
              jobRole,
              sdsUserId: a.user_id,
              roleProfileId: a.role_profile_id,
            }
          : { kind: 'system', asid: a.asid, responsiblePerson: { name: a.accessor_name, jobRole } },
      organisation,
      patientLocation: location ?? undefined,
      safeguardingLead: a.safeguarding_lead ?? undefined,
      planTypes: a.plan_types,
      episodeId: episodes.idOf.get(a.id) ?? null,
    };
  });
  const children = new Set(rows.map((r) => r.nhs_number));
  const heartbeat = rows.length === 0;
  const body = {
    laCode: la.la_code,
    ...(la.name ? { laName: la.name } : {}),
    delivery: period.kind,
    ...(period.batchDate ? { batchDate: period.batchDate } : {}),
    // From the period's start, or earlier if accesses left pending from before it are delivered too.
    period: { from: periodStart(period.from, rows)?.toISOString() ?? null, to: period.to.toISOString() },
    heartbeat,
    summary: heartbeat
      ? 'No child you hold a record for was looked up in an unscheduled care setting in this period.'
      : `${rows.length} look-up${rows.length === 1 ? '' : 's'} of ${children.size} child${children.size === 1 ? '' : 'ren'}, ` +
        `in ${episodes.list.length} episode${episodes.list.length === 1 ? '' : 's'}` +
        (concerning
          ? `; ${concerning} child${concerning === 1 ? '' : 'ren'} with a pattern of concern.`
          : '.'),
    accessCount: rows.length,
    childCount: children.size,
    accesses,
    episodes: episodes.list,
    // Per child: episodes and areas over the LA's thresholds' windows, and any concern they raise.
    children: patterns,
    unknownOrganisations: [...unknown].sort(),
  };
  // The claimed notices already carry this message's id (claimRows), in this transaction.
  await postMessage(trx, now, la.la_code, 'access-notification', body, messageId);
  if (period.batchDate) {
    await trx
      .insertInto('notification_batch')
      .values({ la_code: la.la_code, batch_date: period.batchDate, message_id: messageId, created_at: now })
      .execute();
  }
  await appendAudit(trx, now, [
    {
      category: 'system',
      action: 'notifications.deliver',
      outcome: 'success',
      actor: { kind: 'system' },
      detail: {
        laCode: la.la_code,
        messageId,
        delivery: period.kind,
        accesses: rows.length,
        unknownOrganisations: [...unknown],
      },
    },
  ]);
  return { accesses: rows.length, heartbeat };
}

function periodStart(from: Date | null, rows: AccessRow[]): Date | null {
  const first = rows[0]?.accessed_at ?? null;
  if (!from) return first;
  return first && first < from ? first : from;
}

/** An episode as an access-notification carries it (INTERFACE §4). */
export interface EpisodeOut {
  id: string;
  nhsNumber: string;
  start: string;
  end: string;
  accessCount: number;
  /** Accesses of this episode delivered in this message (the rest came in earlier ones). */
  newAccessCount: number;
  organisations: { odsCode: string; name: string; setting: string }[];
  timeline: {
    accessId: string;
    at: string;
    odsCode: string;
    organisation: string;
    setting: string;
    who: string;
  }[];
}

/** One earlier or delivered access to a child, as this LA was told of it. */
interface HistoryRow {
  id: string;
  /** Null only for a look-up committed after this dispatch filed its claimed look-ups into episodes. */
  episode_id: string | null;
  nhs_number: string;
  accessed_at: Date;
  org_code: string;
  name: string | null;
  setting: string | null;
  accessor_name: string;
  job_role_display: string;
  /** The town the child was in (see patternsFor). */
  area: string | null;
}

/**
 * This LA's history of each delivered child, read once for both episodes and patterns: from the
 * longest look-back either needs before the earliest delivered access, up to the latest. The area
 * is the organisation's town, or for NHS 111 and ambulances (which are not where the child is) the
 * patient's location when the caller gave one. The delivered accesses are part of it, as claimed:
 * only the child's other look-ups this LA was told of are read here.
 */
async function historyOf(
  trx: Tx,
  la: LaInfo,
  delivered: AccessRow[],
  orgs: Map<string, OrganisationRow>,
): Promise<Map<string, HistoryRow[]>> {
  const byChild = new Map<string, HistoryRow[]>();
  if (delivered.length === 0) return byChild;
  const t = thresholdsOf(la.pattern_thresholds);
  const lookbackDays = Math.max(EPISODE_LOOKBACK_DAYS, t.episodeDays, t.areaDays);
  // Delivered in time order (claimRows).
  const first = delivered[0]!.accessed_at.getTime();
  const last = delivered.at(-1)!.accessed_at;
  const children = [...new Set(delivered.map((a) => a.nhs_number))].sort();
  const { rows: others } = await sql<HistoryRow & { o_town: string | null; l_town: string | null }>`
    select e.id, n.episode_id, e.nhs_number, e.accessed_at, e.org_code, o.name, o.setting, e.accessor_name,
           e.job_role_display, o.town as o_town, l.town as l_town
      from access_event e
      -- By the notice's key for each of the child's look-ups, not by scanning every LA's notices
      -- (offset 0 keeps the planner from turning it into such a scan).
      join lateral (select n.episode_id from access_notice n where n.access_id = e.id and n.la_code = ${la.la_code} offset 0) n on true
      left join organisation o on o.ods_code = e.org_code
      left join organisation l on l.ods_code = e.patient_location
     where e.nhs_number = any(${children}::text[])
       and e.accessed_at >= ${new Date(first - lookbackDays * 86_400_000)}
       and e.accessed_at <= ${last}
       and e.id <> all(${delivered.map((a) => a.id)}::uuid[])`.execute(trx);
  for (const nhs of children) byChild.set(nhs, []);
  for (const r of others) {
    const { o_town, l_town, ...row } = r;
    byChild.get(r.nhs_number)!.push({ ...row, area: areaOf(r.setting, o_town, l_town) });
  }
  for (const a of delivered) {
    const org = orgs.get(a.org_code);
    byChild.get(a.nhs_number)!.push({
      id: a.id,
      episode_id: a.episode_id,
      nhs_number: a.nhs_number,
      accessed_at: a.accessed_at,
      org_code: a.org_code,
      name: org?.name ?? null,
      setting: org?.setting ?? null,
      accessor_name: a.accessor_name,
      job_role_display: a.job_role_display,
      area: areaOf(
        org?.setting ?? null,
        org?.town ?? null,
        a.patient_location ? (orgs.get(a.patient_location)?.town ?? null) : null,
      ),
    });
  }
  // Each child's look-ups in time order (then by id), as one read of them all would give.
  for (const list of byChild.values())
    list.sort(
      (x, y) => x.accessed_at.getTime() - y.accessed_at.getTime() || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0),
    );
  return byChild;
}

/** Where the child was: the organisation's town, or for NHS 111 and ambulances (which are not where the child is) the patient's location's. */
function areaOf(setting: string | null, orgTown: string | null, locationTown: string | null): string | null {
  return setting === 'nhs-111' || setting === 'ambulance-service' ? locationTown : orgTown;
}

/**
 * The episodes the delivered accesses belong to, as the LA's inbox holds them (src/inbox): an
 * episode may have begun in an earlier message, and its timeline shows the look-ups of it that fall
 * in the history read.
 */
function episodesFor(
  delivered: AccessRow[],
  history: Map<string, HistoryRow[]>,
  stored: Map<string, StoredEpisode>,
): { list: EpisodeOut[]; idOf: Map<string, string> } {
  const idOf = new Map<string, string>();
  const deliveredIds = new Set(delivered.map((a) => a.id));
  const list: EpisodeOut[] = [];
  for (const [nhsNumber, accesses] of history) {
    const byEpisode = new Map<string, HistoryRow[]>();
    for (const a of accesses) {
      if (!a.episode_id || a.episode_id === BEFORE_THE_INBOX) continue;
      const ep = byEpisode.get(a.episode_id) ?? [];
      ep.push(a);
      byEpisode.set(a.episode_id, ep);
    }
    for (const [id, ep] of byEpisode) {
      const fresh = ep.filter((a) => deliveredIds.has(a.id));
      if (fresh.length === 0) continue;
      for (const a of fresh) idOf.set(a.id, id);
      const orgs = new Map<string, { odsCode: string; name: string; setting: string }>();
      for (const a of ep) {
        if (!orgs.has(a.org_code)) {
          orgs.set(a.org_code, {
            odsCode: a.org_code,
            name: a.name ?? `Unknown organisation (ODS code ${a.org_code})`,
            setting: a.setting ?? 'other',
          });
        }
      }
      // Start, end and count as the inbox holds them (the timeline is what the history read covers).
      const whole = stored.get(id);
      list.push({
        id,
        nhsNumber,
        start: (whole?.started_at ?? ep[0]!.accessed_at).toISOString(),
        end: (whole?.last_at ?? ep.at(-1)!.accessed_at).toISOString(),
        accessCount: whole?.access_count ?? ep.length,
        newAccessCount: fresh.length,
        organisations: [...orgs.values()],
        timeline: ep.map((a) => ({
          accessId: a.id,
          at: a.accessed_at.toISOString(),
          odsCode: a.org_code,
          organisation: a.name ?? `Unknown organisation (ODS code ${a.org_code})`,
          setting: SETTING_LABELS[(a.setting ?? 'other') as Setting] ?? 'Other',
          who: `${a.accessor_name} (${a.job_role_display})`,
        })),
      });
    }
  }
  list.sort((a, b) => a.start.localeCompare(b.start) || a.nhsNumber.localeCompare(b.nhsNumber));
  return { list, idOf };
}

interface StoredEpisode {
  id: string;
  started_at: Date;
  last_at: Date;
  access_count: number;
}

async function storedEpisodes(
  trx: Tx,
  history: Map<string, HistoryRow[]>,
): Promise<Map<string, StoredEpisode>> {
  const ids = new Set<string>();
  for (const rows of history.values()) for (const r of rows) if (r.episode_id) ids.add(r.episode_id);
  if (ids.size === 0) return new Map();
  const { rows } = await sql<StoredEpisode>`
    select id, started_at, last_at, access_count from la_episode where id = any(${[...ids]}::uuid[])`.execute(
    trx,
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Each delivered child's pattern against the LA's thresholds, as of the child's latest access in
 * this message.
 */
function patternsFor(
  la: LaInfo,
  delivered: AccessRow[],
  history: Map<string, HistoryRow[]>,
): ({ nhsNumber: string } & ChildPattern)[] {
  const thresholds = thresholdsOf(la.pattern_thresholds);
  const asOf = new Map<string, Date>();
  for (const a of delivered) {
    const seen = asOf.get(a.nhs_number);
    if (!seen || a.accessed_at > seen) asOf.set(a.nhs_number, a.accessed_at);
  }
  return [...asOf.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([nhsNumber, at]) => ({
      nhsNumber,
      ...childPattern(
        (history.get(nhsNumber) ?? []).map((r) => ({ at: r.accessed_at, area: r.area })),
        at,
        la.gap_hours,
        thresholds,
      ),
    }));
}

export function dispatchJob(db: Executor): Job {
  return {
    name: 'notification-dispatch',
    async run(now) {
      const s = await dispatchNotifications(db, now);
      return s.messages ? { messages: s.messages, accesses: s.accesses, heartbeats: s.heartbeats } : null;
    },
  };
}

/** Organisation codes seen in accesses that the directory does not know: an operator should add them. */
export async function unknownOrganisations(
  db: Executor,
): Promise<{ odsCode: string; accesses: number; lastSeen: string }[]> {
  const { rows } = await sql<{ code: string; n: number; last: Date }>`
    select code, count(*)::int8 as n, max(at) as last from (
      select org_code as code, accessed_at as at from access_event
      union all select patient_location, accessed_at from access_event where patient_location is not null
    ) c where not exists (select 1 from organisation o where o.ods_code = c.code)
    group by code order by max(at) desc, code`.execute(db);
  return rows.map((r) => ({ odsCode: r.code, accesses: r.n, lastSeen: r.last.toISOString() }));
}
