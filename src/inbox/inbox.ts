/**
 * The LA's inbox of episodes (issue: LA portal): what a social care team reads and does. One
 * capability for both the portal and the LA API, so a supplier's case system and the portal can
 * never disagree about an episode's state.
 *
 * Who sees what: an LA sees only its own episodes. Its safeguarding admins (and its own systems)
 * see all of them; a social worker or team manager sees their team's queue, and the EDT's members
 * also see episodes routed to the EDT. Anything outside that is "not found", never "forbidden": an
 * episode id says nothing about whether it exists elsewhere.
 *
 * Every read of a child's details and every change is audited; a change names the version it was
 * made against, and a version that has moved on changes nothing (a conflict, not an overwrite).
 */
import { sql } from 'kysely';
import { appendAudit } from '../audit/log.ts';
import { LA_ROLE_LABELS, type LaStaffRole } from '../auth/la-roles.ts';
import { SETTING_LABELS, type Setting } from '../directory/types.ts';
import { addDays, type IsoDate, isIsoDate, londonMidnight } from '../domain/dates.ts';
import type { Concern } from '../domain/patterns.ts';
import { type Executor, type Tx, transact } from '../store/db.ts';
import type { EpisodeState } from '../store/schema.ts';
import { appendEpisodeEvents, bringEpisodesUpToDate, lockEpisodes } from './episodes.ts';
import { type LaRouting, routingOf } from './routing.ts';

export const EPISODE_STATES: readonly EpisodeState[] = [
  'new',
  'reviewed',
  'follow-up-recorded',
  'no-action-needed',
];
export const STATE_LABELS: Record<EpisodeState, string> = {
  new: 'New',
  reviewed: 'Reviewed',
  'follow-up-recorded': 'Follow-up recorded',
  'no-action-needed': 'No action needed',
};
export const PATTERN_FILTERS = ['any', 'REPEAT_EPISODES', 'SEVERAL_AREAS'] as const;
export type PatternFilter = (typeof PATTERN_FILTERS)[number];

/** Who is working the inbox: a member of the LA's staff in one role, or the LA's own system. */
export interface InboxViewer {
  laCode: string;
  role: LaStaffRole | 'system';
  /** The staff member's team (social workers and team managers); null for admins and systems. */
  team: string | null;
  /** SDS user id (staff) or null (system). */
  userId: string | null;
  name: string;
  /** How the audit trail names them. */
  actor: Record<string, unknown>;
}

interface Scope {
  laCode: string;
  all: boolean;
  team: string | null;
  edt: boolean;
}

/**
 * Something an LA's staff did in the portal outside an episode (signing in, reading data quality) or
 * were refused, for the audit trail: one entry, in its own transaction.
 */
export async function recordStaffEvent(
  db: Executor,
  now: Date,
  entry: {
    action: string;
    actor: Record<string, unknown>;
    refused?: boolean;
    detail: Record<string, unknown>;
  },
): Promise<void> {
  await transact(db, (trx) =>
    appendAudit(trx, now, [
      {
        category: entry.refused ? 'access-denied' : 'casework',
        action: entry.action,
        outcome: entry.refused ? 'refused' : 'success',
        actor: entry.actor,
        detail: entry.detail,
      },
    ]),
  );
}

export async function routingFor(db: Executor, laCode: string): Promise<LaRouting> {
  const la = await db
    .selectFrom('local_authority')
    .select('routing')
    .where('la_code', '=', laCode)
    .executeTakeFirst();
  return routingOf(la?.routing ?? null);
}

function scopeOf(viewer: InboxViewer, routing: LaRouting): Scope {
  const all = viewer.role === 'safeguarding-admin' || viewer.role === 'system';
  return { laCode: viewer.laCode, all, team: viewer.team, edt: !all && viewer.team === routing.edtTeam };
}

function visible(scope: Scope) {
  if (scope.all) return sql`ep.la_code = ${scope.laCode}`;
  return sql`ep.la_code = ${scope.laCode} and (ep.team = ${scope.team ?? ''} ${scope.edt ? sql`or ep.edt` : sql``})`;
}

export interface InboxFilters {
  state?: EpisodeState;
  /** A team's name, or 'edt' for the EDT queue. */
  queue?: string;
  pattern?: PatternFilter;
  from?: IsoDate;
  to?: IsoDate;
}

/** Read filters from a query string; unknown or malformed values are reported by field. */
export function readFilters(q: Record<string, unknown>): { filters: InboxFilters; errors: string[] } {
  const filters: InboxFilters = {};
  const errors: string[] = [];
  const str = (k: string) => (typeof q[k] === 'string' && q[k] !== '' ? (q[k] as string) : undefined);
  const state = str('state');
  if (state !== undefined) {
    if ((EPISODE_STATES as string[]).includes(state)) filters.state = state as EpisodeState;
    else errors.push('state');
  }
  const queue = str('queue');
  if (queue !== undefined) {
    if (queue.length <= 60) filters.queue = queue;
    else errors.push('queue');
  }
  const pattern = str('pattern');
  if (pattern !== undefined) {
    if ((PATTERN_FILTERS as readonly string[]).includes(pattern)) filters.pattern = pattern as PatternFilter;
    else errors.push('pattern');
  }
  for (const k of ['from', 'to'] as const) {
    const v = str(k);
    if (v === undefined) continue;
    if (isIsoDate(v) && v >= '1900-01-01' && v <= '2199-12-31') filters[k] = v;
    else errors.push(k);
  }
  if (filters.from && filters.to && filters.from > filters.to) errors.push('to');
  return { filters, errors };
}

export interface OrganisationSeen {
  odsCode: string;
  name: string;
  town: string | null;
  setting: string;
}

export interface EpisodeSummary {
  id: string;
  nhsNumber: string;
  child: {
    familyName: string | null;
    givenNames: string[];
    birthDate: string | null;
    localId: string | null;
  };
  startedAt: Date;
  lastAt: Date;
  accessCount: number;
  team: string;
  edt: boolean;
  outOfHours: boolean;
  state: EpisodeState;
  stateReason: string | null;
  worker: { id: string; name: string } | null;
  concerns: Concern[];
  version: number;
  organisations: OrganisationSeen[];
}

interface EpisodeRow {
  id: string;
  nhs_number: string;
  started_at: Date;
  last_at: Date;
  access_count: number;
  team: string;
  edt: boolean;
  out_of_hours: boolean;
  state: EpisodeState;
  state_reason: string | null;
  worker: { id: string; name: string } | null;
  concerns: Concern[];
  version: number;
  family_name: string | null;
  given_names: string[] | null;
  birth_date: string | null;
  local_id: string | null;
}

const EPISODE_COLUMNS = sql`ep.id, ep.nhs_number, ep.started_at, ep.last_at, ep.access_count, ep.team, ep.edt,
  ep.out_of_hours, ep.state, ep.state_reason, ep.worker, ep.concerns, ep.version,
  coalesce(r.family_name, p.family_name) as family_name, coalesce(r.given_names, p.given_names) as given_names,
  coalesce(r.birth_date, p.birth_date) as birth_date, r.local_id`;
const EPISODE_JOINS = sql`left join la_record r on r.la_code = ep.la_code and r.nhs_number = ep.nhs_number
  left join person p on p.nhs_number = ep.nhs_number`;

/** The organisations each of an LA's episodes was seen at (the LA names the notices' partition). */
async function organisationsOf(
  db: Executor,
  laCode: string,
  ids: string[],
): Promise<Map<string, OrganisationSeen[]>> {
  const out = new Map<string, OrganisationSeen[]>();
  if (ids.length === 0) return out;
  const { rows } = await sql<{
    episode_id: string;
    code: string;
    name: string | null;
    town: string | null;
    setting: string | null;
  }>`
    select n.episode_id, e.org_code as code, o.name, o.town, o.setting
      from access_notice n join access_event e on e.id = n.access_id
      left join organisation o on o.ods_code = e.org_code
     where n.la_code = ${laCode} and n.episode_id = any(${ids}::uuid[])
     order by e.accessed_at, e.id`.execute(db);
  for (const r of rows) {
    const list = out.get(r.episode_id) ?? [];
    if (!list.some((o) => o.odsCode === r.code)) {
      list.push({
        odsCode: r.code,
        name: r.name ?? `Unknown organisation (ODS code ${r.code})`,
        town: r.town,
        setting: SETTING_LABELS[(r.setting ?? 'other') as Setting] ?? 'Other',
      });
    }
    out.set(r.episode_id, list);
  }
  return out;
}

function summaryOf(r: EpisodeRow, orgs: OrganisationSeen[]): EpisodeSummary {
  return {
    id: r.id,
    nhsNumber: r.nhs_number,
    child: {
      familyName: r.family_name,
      givenNames: r.given_names ?? [],
      birthDate: r.birth_date,
      localId: r.local_id,
    },
    startedAt: r.started_at,
    lastAt: r.last_at,
    accessCount: r.access_count,
    team: r.team,
    edt: r.edt,
    outOfHours: r.out_of_hours,
    state: r.state,
    stateReason: r.state_reason,
    worker: r.worker,
    concerns: r.concerns,
    version: r.version,
    organisations: orgs,
  };
}

export interface InboxPage {
  episodes: EpisodeSummary[];
  total: number;
  page: number;
  pages: number;
  pageSize: number;
  /** The queues this viewer can filter by. */
  queues: { value: string; text: string }[];
  routing: LaRouting;
}

export const PAGE_SIZE = 25;

/** One page of the viewer's episodes, newest first (audited: it names children). */
export async function listEpisodes(
  db: Executor,
  now: Date,
  viewer: InboxViewer,
  filters: InboxFilters,
  page: number,
  pageSize = PAGE_SIZE,
  /** A page past the end shows the last page (the portal) rather than none (the API). */
  clampToLast = true,
): Promise<InboxPage> {
  return transact(db, async (trx) => {
    await bringEpisodesUpToDate(trx, viewer.laCode, now);
    const routing = await routingFor(trx, viewer.laCode);
    const scope = scopeOf(viewer, routing);
    const where = [visible(scope)];
    if (filters.state) where.push(sql`ep.state = ${filters.state}`);
    if (filters.queue === 'edt') where.push(sql`ep.edt`);
    else if (filters.queue) where.push(sql`ep.team = ${filters.queue}`);
    if (filters.pattern === 'any') where.push(sql`jsonb_array_length(ep.concerns) > 0`);
    else if (filters.pattern)
      where.push(sql`ep.concerns @> ${JSON.stringify([{ code: filters.pattern }])}::jsonb`);
    if (filters.from) where.push(sql`ep.started_at >= ${londonMidnight(filters.from)}`);
    if (filters.to) where.push(sql`ep.started_at < ${londonMidnight(addDays(filters.to, 1))}`);
    const cond = sql.join(where, sql` and `);
    const { rows: counted } = await sql<{
      n: number;
    }>`select count(*)::int8 as n from la_episode ep where ${cond}`.execute(trx);
    const total = counted[0]!.n;
    const pages = Math.max(1, Math.ceil(total / pageSize));
    const current = clampToLast ? Math.min(Math.max(1, page), pages) : Math.max(1, page);
    const { rows } = await sql<EpisodeRow>`select ${EPISODE_COLUMNS} from la_episode ep ${EPISODE_JOINS}
      where ${cond} order by ep.started_at desc, ep.id limit ${pageSize} offset ${(current - 1) * pageSize}`.execute(
      trx,
    );
    const orgs = await organisationsOf(
      trx,
      viewer.laCode,
      rows.map((r) => r.id),
    );
    await appendAudit(trx, now, [
      {
        category: 'casework',
        action: 'inbox.list',
        outcome: 'success',
        actor: viewer.actor,
        detail: {
          laCode: viewer.laCode,
          filters,
          page: current,
          total,
          // Who was shown, so "who has seen this child" can be answered from the trail.
          shown: rows.map((r) => ({ episodeId: r.id, nhsNumber: r.nhs_number })),
        },
      },
    ]);
    return {
      episodes: rows.map((r) => summaryOf(r, orgs.get(r.id) ?? [])),
      total,
      page: current,
      pages,
      pageSize,
      queues: await queuesFor(trx, scope, routing),
      routing,
    };
  });
}

async function queuesFor(db: Executor, scope: Scope, routing: LaRouting) {
  if (!scope.all) {
    const own = [{ value: scope.team ?? '', text: scope.team ?? '' }];
    return scope.edt ? [...own, { value: 'edt', text: `${routing.edtTeam} (out of hours)` }] : own;
  }
  const { rows } = await sql<{ team: string }>`
    select team from la_record where la_code = ${scope.laCode} and team is not null
    union select team from la_episode where la_code = ${scope.laCode}
    order by team`.execute(db);
  const teams = new Set([routing.screeningTeam, ...rows.map((r) => r.team)]);
  teams.delete(routing.edtTeam);
  return [
    ...[...teams].map((t) => ({ value: t, text: t })),
    { value: 'edt', text: `${routing.edtTeam} (out of hours)` },
  ];
}

/** Every team the LA's records or episodes name, with its screening and EDT queues: where an episode can be moved. */
export async function teamsOf(db: Executor, laCode: string): Promise<string[]> {
  const routing = await routingFor(db, laCode);
  const { rows } = await sql<{ team: string }>`
    select team from la_record where la_code = ${laCode} and team is not null
    union select team from la_episode where la_code = ${laCode}`.execute(db);
  return [...new Set([routing.screeningTeam, routing.edtTeam, ...rows.map((r) => r.team)])].sort((a, b) =>
    a.localeCompare(b),
  );
}

export interface TimelineEntry {
  at: Date;
  organisation: {
    odsCode: string;
    name: string;
    setting: string;
    parentName: string | null;
    town: string | null;
    phone: string | null;
    known: boolean;
  };
  patientLocation: { name: string; town: string | null; phone: string | null } | null;
  who: string;
  role: string;
  system: boolean;
  safeguardingLead: { name?: string; role?: string; phone?: string } | null;
}

export interface EpisodeEvent {
  seq: number;
  at: Date;
  actor: { kind: string; name?: string; role?: string };
  action: string;
  detail: Record<string, unknown>;
}

export interface EpisodeDetail extends EpisodeSummary {
  timeline: TimelineEntry[];
  events: EpisodeEvent[];
  plans: { type: string; startDate: string; endDate: string | null }[];
  routing: LaRouting;
  /** What this viewer may do to it. */
  can: { changeState: boolean; reassignTeam: boolean; takeIt: boolean };
}

async function findVisible(trx: Tx, viewer: InboxViewer, id: string, routing: LaRouting, lock = false) {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  const { rows } = await sql<EpisodeRow>`select ${EPISODE_COLUMNS} from la_episode ep ${EPISODE_JOINS}
    where ep.id = ${id} and ${visible(scopeOf(viewer, routing))} ${lock ? sql`for update of ep` : sql``}`.execute(
    trx,
  );
  return rows[0] ?? null;
}

async function refused(trx: Tx, now: Date, viewer: InboxViewer, action: string, id: string) {
  await appendAudit(trx, now, [
    {
      category: 'access-denied',
      action,
      outcome: 'refused',
      actor: viewer.actor,
      detail: { laCode: viewer.laCode, episodeId: id, reason: 'not an episode this viewer can see' },
    },
  ]);
}

/** One episode with its timeline and history, or null when this viewer cannot see it (audited either way). */
export async function readEpisode(
  db: Executor,
  now: Date,
  viewer: InboxViewer,
  id: string,
): Promise<EpisodeDetail | null> {
  return transact(db, async (trx) => {
    await bringEpisodesUpToDate(trx, viewer.laCode, now);
    const routing = await routingFor(trx, viewer.laCode);
    const row = await findVisible(trx, viewer, id, routing);
    if (!row) {
      await refused(trx, now, viewer, 'episode.read', id);
      return null;
    }
    const detail = await detailOf(trx, viewer, row, routing);
    await appendAudit(trx, now, [
      {
        category: 'casework',
        action: 'episode.read',
        outcome: 'success',
        actor: viewer.actor,
        nhsNumber: row.nhs_number,
        detail: { laCode: viewer.laCode, episodeId: id },
      },
    ]);
    return detail;
  });
}

async function detailOf(
  trx: Tx,
  viewer: InboxViewer,
  row: EpisodeRow,
  routing: LaRouting,
): Promise<EpisodeDetail> {
  const { rows: accesses } = await sql<{
    accessed_at: Date;
    org_code: string;
    name: string | null;
    setting: string | null;
    town: string | null;
    phone: string | null;
    parent_name: string | null;
    parent_phone: string | null;
    l_name: string | null;
    l_town: string | null;
    l_phone: string | null;
    accessor_name: string;
    accessor_kind: string;
    job_role_display: string;
    safeguarding_lead: { name?: string; role?: string; phone?: string } | null;
  }>`
    select e.accessed_at, e.org_code, o.name, o.setting, o.town, o.phone, po.name as parent_name, po.phone as parent_phone,
           l.name as l_name, l.town as l_town, l.phone as l_phone,
           e.accessor_name, e.accessor_kind, e.job_role_display, e.safeguarding_lead
      from access_notice n join access_event e on e.id = n.access_id
      left join organisation o on o.ods_code = e.org_code
      left join organisation po on po.ods_code = o.parent_ods_code
      left join organisation l on l.ods_code = e.patient_location
     where n.la_code = ${viewer.laCode} and n.episode_id = ${row.id}
     order by e.accessed_at, e.id`.execute(trx);
  const timeline: TimelineEntry[] = accesses.map((a) => ({
    at: a.accessed_at,
    organisation: {
      odsCode: a.org_code,
      name: a.name ?? `Unknown organisation (ODS code ${a.org_code})`,
      setting: a.name
        ? (SETTING_LABELS[(a.setting ?? 'other') as Setting] ?? 'Other')
        : 'Not in the directory',
      parentName: a.parent_name,
      town: a.town,
      phone: a.phone ?? a.parent_phone,
      known: a.name !== null,
    },
    patientLocation: a.l_name ? { name: a.l_name, town: a.l_town, phone: a.l_phone } : null,
    who: a.accessor_name,
    role: a.job_role_display,
    system: a.accessor_kind === 'health-system',
    safeguardingLead: a.safeguarding_lead,
  }));
  const { rows: events } = await sql<EpisodeEvent>`
    select seq, at, actor, action, detail from la_episode_event where episode_id = ${row.id} order by seq`.execute(
    trx,
  );
  const plans = await trx
    .selectFrom('la_plan')
    .select(['plan_type as type', 'start_date as startDate', 'end_date as endDate'])
    .where('la_code', '=', viewer.laCode)
    .where('nhs_number', '=', row.nhs_number)
    .orderBy('start_date')
    .execute();
  const orgs = await organisationsOf(trx, viewer.laCode, [row.id]);
  const staff = viewer.role !== 'system';
  return {
    ...summaryOf(row, orgs.get(row.id) ?? []),
    timeline,
    events,
    plans,
    routing,
    can: {
      changeState: true,
      reassignTeam:
        viewer.role === 'safeguarding-admin' || viewer.role === 'team-manager' || viewer.role === 'system',
      takeIt: staff && row.worker?.id !== viewer.userId,
    },
  };
}

export interface EpisodeChange {
  /** The version the change was made against (from the page or the API read). */
  version: number;
  state?: EpisodeState;
  /** Why (required for no action needed, and what was done for a follow-up). */
  reason?: string;
  /** Move it to another team's queue (admins, team managers, systems). */
  team?: string;
  /** Assign it to the viewer (staff), or to nobody. */
  worker?: 'me' | 'nobody';
}

export type ChangeResult =
  | { kind: 'changed'; episode: EpisodeDetail }
  | { kind: 'not-found' }
  | { kind: 'conflict'; episode: EpisodeDetail }
  | { kind: 'invalid'; field: string; message: string };

const REASON_MAX = 500;

/** Check a change before anything is read; null when it is well formed. */
export function invalidChange(c: EpisodeChange): { field: string; message: string } | null {
  if (!Number.isInteger(c.version) || c.version < 1)
    return { field: 'version', message: 'version must be the version of the episode you read' };
  if (c.state === undefined && c.team === undefined && c.worker === undefined)
    return { field: 'state', message: 'say what to change: state, team or worker' };
  if (c.state !== undefined && !EPISODE_STATES.includes(c.state))
    return { field: 'state', message: `state must be one of ${EPISODE_STATES.join(', ')}` };
  const reason = c.reason?.trim() ?? '';
  if (reason.length > REASON_MAX)
    return { field: 'reason', message: `the reason must be ${REASON_MAX} characters or fewer` };
  if (c.state === 'no-action-needed' && !reason)
    return { field: 'reason', message: 'Say why no action is needed' };
  if (c.state === 'follow-up-recorded' && !reason)
    return { field: 'reason', message: 'Say what follow-up was recorded' };
  if (c.team !== undefined && (c.team.trim().length === 0 || c.team.trim().length > 60))
    return { field: 'team', message: 'team must be a team name of 1 to 60 characters' };
  if (c.worker !== undefined && c.worker !== 'me' && c.worker !== 'nobody')
    return { field: 'worker', message: 'worker must be "me" or "nobody"' };
  return null;
}

/** Change an episode's state, team or worker, if it is still at the version the change names. */
export async function changeEpisode(
  db: Executor,
  now: Date,
  viewer: InboxViewer,
  id: string,
  change: EpisodeChange,
): Promise<ChangeResult> {
  const bad = invalidChange(change);
  if (bad) return { kind: 'invalid', ...bad };
  return transact(db, async (trx): Promise<ChangeResult> => {
    await lockEpisodes(trx, viewer.laCode);
    await bringEpisodesUpToDate(trx, viewer.laCode, now);
    const routing = await routingFor(trx, viewer.laCode);
    const row = await findVisible(trx, viewer, id, routing, true);
    if (!row) {
      await refused(trx, now, viewer, 'episode.change', id);
      return { kind: 'not-found' };
    }
    const before = await detailOf(trx, viewer, row, routing);
    const unchanged = async (outcome: 'failure' | 'refused', why: string): Promise<void> => {
      await appendAudit(trx, now, [
        {
          category: outcome === 'refused' ? 'access-denied' : 'casework',
          action: 'episode.change',
          outcome,
          actor: viewer.actor,
          nhsNumber: row.nhs_number,
          detail: { laCode: viewer.laCode, episodeId: id, version: row.version, asked: change, why },
        },
      ]);
    };
    if (row.version !== change.version) {
      // The page shows the episode as it now is, so this is a read of it too.
      await unchanged('failure', `stale: the episode is at version ${row.version}`);
      return { kind: 'conflict', episode: before };
    }
    if (change.team !== undefined && !before.can.reassignTeam) {
      await unchanged('refused', 'only an admin or a team manager can move an episode');
      return {
        kind: 'invalid',
        field: 'team',
        message: 'only an admin or a team manager can move an episode to another team',
      };
    }
    if (change.team !== undefined && !(await teamsOf(trx, viewer.laCode)).includes(change.team.trim())) {
      await unchanged('failure', 'not a team of this local authority');
      return {
        kind: 'invalid',
        field: 'team',
        message: 'choose one of the local authority’s teams (those its records name, screening or the EDT)',
      };
    }
    if (change.worker === 'me' && viewer.userId === null) {
      await unchanged('refused', 'a system cannot take an episode');
      return {
        kind: 'invalid',
        field: 'worker',
        message: 'a system cannot take an episode; assign it in the portal',
      };
    }
    const reason = change.reason?.trim() || null;
    const team = change.team?.trim();
    const worker =
      change.worker === 'me'
        ? { id: viewer.userId!, name: viewer.name }
        : change.worker === 'nobody'
          ? null
          : row.worker;
    await trx
      .updateTable('la_episode')
      .set({
        ...(change.state !== undefined ? { state: change.state, state_reason: reason } : {}),
        ...(team !== undefined ? { team } : {}),
        ...(change.worker !== undefined ? { worker: worker ? JSON.stringify(worker) : null } : {}),
        version: row.version + 1,
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
    const what: Record<string, unknown> = {};
    if (change.state !== undefined) Object.assign(what, { from: row.state, to: change.state, reason });
    if (team !== undefined) Object.assign(what, { fromTeam: row.team, toTeam: team });
    if (change.worker !== undefined) Object.assign(what, { worker: worker?.name ?? null });
    await appendEpisodeEvents(trx, [
      {
        episode_id: id,
        at: now,
        actor: eventActor(viewer),
        action: change.state !== undefined ? 'state' : team !== undefined ? 'team' : 'worker',
        detail: what,
      },
    ]);
    await appendAudit(trx, now, [
      {
        category: 'casework',
        action: 'episode.change',
        outcome: 'success',
        actor: viewer.actor,
        nhsNumber: row.nhs_number,
        detail: { laCode: viewer.laCode, episodeId: id, version: row.version + 1, ...what },
      },
    ]);
    const after = await findVisible(trx, viewer, id, { ...routing }, false);
    // Moved to a team this viewer does not work in: they can no longer see it, which is the point.
    if (!after)
      return { kind: 'changed', episode: { ...before, version: row.version + 1, team: team ?? before.team } };
    return { kind: 'changed', episode: await detailOf(trx, viewer, after, routing) };
  });
}

function eventActor(viewer: InboxViewer) {
  return viewer.role === 'system'
    ? { kind: 'system', name: `${viewer.laCode} case management system` }
    : { kind: 'staff', name: viewer.name, role: LA_ROLE_LABELS[viewer.role] };
}

export interface ChildHistory {
  /** The episode the page was reached from. */
  from: EpisodeSummary;
  nhsNumber: string;
  child: EpisodeSummary['child'];
  team: string | null;
  /** Every episode CP-IS told this LA about for the child that this viewer can see, newest first. */
  episodes: EpisodeSummary[];
  /** Episodes of the child in other teams' queues (counted in the chart, not listed). */
  otherEpisodes: number;
  /** Attendances (episodes) and look-ups per month over the last 24 months, oldest first. */
  months: { month: string; episodes: number; lookUps: number }[];
  /** Towns the child was seen in over those months, most often first. */
  areas: { area: string; lookUps: number }[];
  plans: { type: string; startDate: string; endDate: string | null }[];
  /** The LA's uploads that carried this child, newest first, with what each said of the record. */
  acknowledgements: {
    sequence: number;
    receivedAt: Date;
    code: string;
    field: string | null;
    message: string | null;
  }[];
}

const MONTHS = 24;

/**
 * The child of an episode this viewer can see: every episode this LA was told of, a monthly count,
 * the areas seen, the LA's plans and their acknowledgement history. Null when the episode is not
 * this viewer's (audited either way).
 */
export async function childHistory(
  db: Executor,
  now: Date,
  viewer: InboxViewer,
  episodeId: string,
  londonMonth: (d: Date) => string,
): Promise<ChildHistory | null> {
  return transact(db, async (trx) => {
    await bringEpisodesUpToDate(trx, viewer.laCode, now);
    const routing = await routingFor(trx, viewer.laCode);
    const from = await findVisible(trx, viewer, episodeId, routing);
    if (!from) {
      await refused(trx, now, viewer, 'child.read', episodeId);
      return null;
    }
    const nhs = from.nhs_number;
    // Episodes in this viewer's queues are listed; the others (another team's) only counted, as the
    // chart counts every attendance.
    const scope = scopeOf(viewer, routing);
    const { rows: all } = await sql<EpisodeRow & { mine: boolean }>`
      select ${EPISODE_COLUMNS}, (${visible(scope)}) as mine from la_episode ep ${EPISODE_JOINS}
       where ep.la_code = ${viewer.laCode} and ep.nhs_number = ${nhs} order by ep.started_at desc, ep.id`.execute(
      trx,
    );
    const rows = all.filter((r) => r.mine);
    const orgs = await organisationsOf(
      trx,
      viewer.laCode,
      rows.map((r) => r.id),
    );
    const monthKeys: string[] = [];
    const cursor = new Date(now);
    for (let i = 0; i < MONTHS; i++) {
      const key = londonMonth(cursor);
      if (!monthKeys.includes(key)) monthKeys.unshift(key);
      cursor.setUTCDate(1);
      cursor.setUTCMonth(cursor.getUTCMonth() - 1);
    }
    const months = new Map(monthKeys.map((m) => [m, { month: m, episodes: 0, lookUps: 0 }]));
    for (const r of all) {
      const m = months.get(londonMonth(r.started_at));
      if (m) m.episodes++;
    }
    const { rows: looks } = await sql<{ accessed_at: Date; area: string | null }>`
      select e.accessed_at, case when o.setting in ('nhs-111', 'ambulance-service') then l.town else o.town end as area
        from access_notice n join access_event e on e.id = n.access_id
        left join organisation o on o.ods_code = e.org_code
        left join organisation l on l.ods_code = e.patient_location
       where n.la_code = ${viewer.laCode} and e.nhs_number = ${nhs}
         and e.accessed_at > ${new Date(now.getTime() - 731 * 86_400_000)}`.execute(trx);
    const areas = new Map<string, number>();
    for (const l of looks) {
      const m = months.get(londonMonth(l.accessed_at));
      if (m) m.lookUps++;
      if (l.area) areas.set(l.area, (areas.get(l.area) ?? 0) + 1);
    }
    const plans = await trx
      .selectFrom('la_plan')
      .select(['plan_type as type', 'start_date as startDate', 'end_date as endDate'])
      .where('la_code', '=', viewer.laCode)
      .where('nhs_number', '=', nhs)
      .orderBy('start_date')
      .execute();
    const team = await trx
      .selectFrom('la_record')
      .select('team')
      .where('la_code', '=', viewer.laCode)
      .where('nhs_number', '=', nhs)
      .executeTakeFirst();
    // The last 50 files: enough for the history of one record without reading every file ever sent.
    const { rows: acks } = await sql<{
      sequence: number;
      received_at: Date;
      code: string;
      field: string | null;
      message: string | null;
    }>`
      select u.sequence, u.received_at, r->>'code' as code, r->>'field' as field, r->>'message' as message
        from (select * from upload where la_code = ${viewer.laCode} order by sequence desc limit 50) u,
             jsonb_array_elements(u.acknowledgement->'records') r
       where r->>'nhsNumber' = ${nhs}
       order by u.sequence desc`.execute(trx);
    await appendAudit(trx, now, [
      {
        category: 'casework',
        action: 'child.read',
        outcome: 'success',
        actor: viewer.actor,
        nhsNumber: nhs,
        detail: { laCode: viewer.laCode, episodeId },
      },
    ]);
    const summary = summaryOf(from, []);
    return {
      from: summary,
      nhsNumber: nhs,
      child: summary.child,
      team: team?.team ?? null,
      episodes: rows.map((r) => summaryOf(r, orgs.get(r.id) ?? [])),
      otherEpisodes: all.length - rows.length,
      months: [...months.values()],
      areas: [...areas.entries()]
        .map(([area, lookUps]) => ({ area, lookUps }))
        .sort((a, b) => b.lookUps - a.lookUps || a.area.localeCompare(b.area)),
      plans,
      acknowledgements: acks.map((a) => ({
        sequence: a.sequence,
        receivedAt: a.received_at,
        code: a.code,
        field: a.field,
        message: a.message,
      })),
    };
  });
}
