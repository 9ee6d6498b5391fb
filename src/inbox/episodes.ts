/**
 * Episodes as an LA's social care team works them (CPIS.md §8, ours): every look-up this LA is told
 * of joins one episode for the child — the one it falls within the LA's episode gap of — or begins
 * a new one. A new episode is routed when it begins: to the child's team when the LA's record names
 * one, otherwise to the LA's screening queue, and also to the EDT queue when it began out of the
 * LA's office hours and the LA routes out-of-hours work there. Each episode carries the child's
 * patterns of concern as of its latest look-up.
 *
 * Episodes are brought up to date from the pending look-ups (access_notice rows with no episode) by
 * `bringEpisodesUpToDate`, under a per-LA lock, in the caller's transaction: before the inbox is
 * read, before a notification is delivered (so messages and the portal name the same episode ids)
 * and by the scheduler. The health query's own transaction is not made longer by any of it.
 *
 * A look-up that joins an episode the team has already dealt with (reviewed, follow-up recorded, no
 * action needed) sends it back to `new`: the decision was made without it.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { DEFAULT_EPISODE_GAP_HOURS, thresholdsOf } from '../directory/directory.ts';
import { isOutOfHours } from '../domain/office-hours.ts';
import { type Concern, childPattern } from '../domain/patterns.ts';
import type { Job } from '../scheduler.ts';
import { insertRows } from '../store/bulk.ts';
import { type Executor, type Tx, transact } from '../store/db.ts';
import type { EpisodeState } from '../store/schema.ts';
import { routingOf } from './routing.ts';

const CHUNK = 5000;
const DAY_MS = 86_400_000;
const SYSTEM = { kind: 'system' } as const;

interface Pending {
  access_id: string;
  nhs_number: string;
  accessed_at: Date;
}

interface EpisodeRow {
  id: string;
  nhs_number: string;
  started_at: Date;
  last_at: Date;
  access_count: number;
  state: EpisodeState;
  edt: boolean;
  version: number;
}

interface Working extends EpisodeRow {
  fresh: boolean;
  added: number;
  reopenedFrom: EpisodeState | null;
  /** An episode under way that a look-up out of hours now sends to the EDT too. */
  toEdt: boolean;
  team?: string;
  outOfHours?: boolean;
}

/** Hold this LA's episodes for the rest of the transaction (filing look-ups, changing an episode). */
export async function lockEpisodes(trx: Tx, laCode: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`cpis-episodes:${laCode}`}))`.execute(trx);
}

/** The episode id of look-ups sent by message before the LA inbox existed (migration 0007): no episode. */
export const BEFORE_THE_INBOX = '00000000-0000-0000-0000-000000000000';

/** Assign this LA's pending look-ups to episodes; returns how many look-ups were assigned. */
export async function bringEpisodesUpToDate(trx: Tx, laCode: string, now: Date): Promise<number> {
  // Most reads find nothing pending: they need not wait for the lock (a look-up committed just after
  // this is filed by the next read, the scheduler or the dispatch).
  const { rows: any } =
    await sql`select 1 from access_notice where la_code = ${laCode} and episode_id is null limit 1`.execute(
      trx,
    );
  if (any.length === 0) return 0;
  await lockEpisodes(trx, laCode);
  let assigned = 0;
  for (;;) {
    const { rows: pending } = await sql<Pending>`
      select n.access_id, e.nhs_number, e.accessed_at
        from access_notice n join access_event e on e.id = n.access_id
       where n.la_code = ${laCode} and n.episode_id is null
       order by e.accessed_at, e.id
       limit ${CHUNK}`.execute(trx);
    if (pending.length === 0) return assigned;
    await assignChunk(trx, laCode, now, pending);
    assigned += pending.length;
    if (pending.length < CHUNK) return assigned;
  }
}

async function assignChunk(trx: Tx, laCode: string, now: Date, pending: Pending[]): Promise<void> {
  const la = await trx
    .selectFrom('local_authority')
    .select(['episode_gap_hours', 'pattern_thresholds', 'routing'])
    .where('la_code', '=', laCode)
    .executeTakeFirst();
  const gapMs = (la?.episode_gap_hours ?? DEFAULT_EPISODE_GAP_HOURS) * 3_600_000;
  const routing = routingOf(la?.routing ?? null);
  const thresholds = thresholdsOf(la?.pattern_thresholds ?? null);
  const children = [...new Set(pending.map((p) => p.nhs_number))];
  const first = pending[0]!.accessed_at.getTime();
  const last = pending.at(-1)!.accessed_at.getTime();

  const teams = new Map(
    (
      await trx
        .selectFrom('la_record')
        .select(['nhs_number', 'team'])
        .where('la_code', '=', laCode)
        .where('nhs_number', 'in', children)
        .execute()
    ).map((r) => [r.nhs_number, r.team]),
  );
  const byChild = new Map<string, Working[]>();
  const { rows: existing } = await sql<EpisodeRow>`
    select id, nhs_number, started_at, last_at, access_count, state, edt, version from la_episode
     where la_code = ${laCode} and nhs_number = any(${children}::text[])
       and last_at > ${new Date(first - gapMs)} and started_at < ${new Date(last + gapMs)}
     order by started_at`.execute(trx);
  for (const e of existing) {
    const list = byChild.get(e.nhs_number) ?? [];
    list.push({ ...e, fresh: false, added: 0, reopenedFrom: null, toEdt: false });
    byChild.set(e.nhs_number, list);
  }

  const episodeOf = new Map<string, Working>();
  for (const p of pending) {
    const at = p.accessed_at.getTime();
    const list = byChild.get(p.nhs_number) ?? [];
    byChild.set(p.nhs_number, list);
    // Within the gap of an episode's span (look-ups may be recorded slightly out of order).
    let ep = list.find((e) => at > e.started_at.getTime() - gapMs && at < e.last_at.getTime() + gapMs);
    if (!ep) {
      const outOfHours = isOutOfHours(p.accessed_at, routing.officeHours);
      ep = {
        id: randomUUID(),
        nhs_number: p.nhs_number,
        started_at: p.accessed_at,
        last_at: p.accessed_at,
        access_count: 0,
        state: 'new',
        version: 1,
        fresh: true,
        added: 0,
        reopenedFrom: null,
        toEdt: false,
        team: teams.get(p.nhs_number) ?? routing.screeningTeam,
        edt: outOfHours && routing.outOfHoursToEdt,
        outOfHours,
      };
      list.push(ep);
    }
    if (p.accessed_at < ep.started_at) ep.started_at = p.accessed_at;
    if (p.accessed_at > ep.last_at) ep.last_at = p.accessed_at;
    ep.access_count++;
    ep.added++;
    if (!ep.fresh && ep.state !== 'new' && ep.reopenedFrom === null) {
      ep.reopenedFrom = ep.state;
      ep.state = 'new';
    }
    // The child is still in unscheduled care out of hours (an evening after a day in A&E, or a
    // weekend look-up reopening a closed episode): the EDT is told too, as for a new episode.
    if (!ep.edt && routing.outOfHoursToEdt && isOutOfHours(p.accessed_at, routing.officeHours)) {
      ep.edt = true;
      if (!ep.fresh) ep.toEdt = true;
    }
    episodeOf.set(p.access_id, ep);
  }
  const touched = [...new Set(episodeOf.values())];
  const concerns = await concernsOf(trx, laCode, touched, thresholds, gapMs / 3_600_000);

  const created = touched.filter((e) => e.fresh);
  await insertRows(
    trx,
    'la_episode',
    {
      id: 'uuid',
      la_code: 'text',
      nhs_number: 'text',
      started_at: 'timestamptz',
      last_at: 'timestamptz',
      access_count: 'int',
      team: 'text',
      edt: 'boolean',
      out_of_hours: 'boolean',
      state: 'text',
      version: 'int',
      concerns: 'jsonb',
      created_at: 'timestamptz',
      updated_at: 'timestamptz',
    },
    created.map((e) => ({
      id: e.id,
      la_code: laCode,
      nhs_number: e.nhs_number,
      started_at: e.started_at,
      last_at: e.last_at,
      access_count: e.access_count,
      team: e.team!,
      edt: e.edt!,
      out_of_hours: e.outOfHours!,
      state: 'new' as const,
      version: 1,
      concerns: concerns.get(e.id) ?? [],
      created_at: now,
      updated_at: now,
    })),
  );
  const grown = touched.filter((e) => !e.fresh);
  if (grown.length) {
    const doc = grown.map((e) => ({
      id: e.id,
      started_at: e.started_at,
      last_at: e.last_at,
      access_count: e.access_count,
      state: e.state,
      edt: e.edt,
      concerns: concerns.get(e.id) ?? [],
    }));
    // Every change moves the version on, so a form loaded before these look-ups arrived is stale.
    await sql`update la_episode e set started_at = x.started_at, last_at = x.last_at, access_count = x.access_count,
                state = x.state, state_reason = case when x.state = e.state then e.state_reason end,
                edt = x.edt, concerns = x.concerns, version = e.version + 1, updated_at = ${now}
              from jsonb_to_recordset(${JSON.stringify(doc)}::jsonb)
                as x(id uuid, started_at timestamptz, last_at timestamptz, access_count int, state text, edt boolean,
                      concerns jsonb)
             where e.id = x.id`.execute(trx);
  }
  const ids = [...episodeOf.keys()];
  // `access_id = any(…)` lets the planner find the rows by the primary key rather than scan the table.
  await sql`update access_notice n set episode_id = x.episode_id
              from unnest(${ids}::uuid[], ${ids.map((id) => episodeOf.get(id)!.id)}::uuid[]) as x(access_id, episode_id)
             where n.access_id = any(${ids}::uuid[]) and n.la_code = ${laCode} and n.access_id = x.access_id`.execute(
    trx,
  );
  // Dated when the look-ups happened (what the team reads), with when CP-IS wrote it down.
  const events = touched.map((e) => ({
    episode_id: e.id,
    at: e.fresh ? e.started_at : e.last_at,
    actor: SYSTEM,
    action: e.fresh ? 'routed' : 'look-ups-added',
    detail: e.fresh
      ? { team: e.team, edt: e.edt, outOfHours: e.outOfHours, lookUps: e.added, recordedAt: now }
      : {
          lookUps: e.added,
          recordedAt: now,
          ...(e.reopenedFrom ? { reopenedFrom: e.reopenedFrom } : {}),
          ...(e.toEdt ? { toEdt: true } : {}),
        },
  }));
  await appendEpisodeEvents(trx, events);
}

export interface EpisodeEventInput {
  episode_id: string;
  at: Date;
  actor: Record<string, unknown>;
  action: string;
  detail: Record<string, unknown>;
}

/** Add events to episodes' histories, numbered after what each already has. */
export async function appendEpisodeEvents(trx: Tx, events: EpisodeEventInput[]): Promise<void> {
  if (events.length === 0) return;
  const ids = [...new Set(events.map((e) => e.episode_id))];
  const { rows } = await sql<{ episode_id: string; seq: number }>`
    select episode_id, max(seq) as seq from la_episode_event where episode_id = any(${ids}::uuid[])
     group by episode_id`.execute(trx);
  const last = new Map(rows.map((r) => [r.episode_id, Number(r.seq)]));
  await insertRows(
    trx,
    'la_episode_event',
    { episode_id: 'uuid', seq: 'int', at: 'timestamptz', actor: 'jsonb', action: 'text', detail: 'jsonb' },
    events.map((e) => {
      const seq = (last.get(e.episode_id) ?? 0) + 1;
      last.set(e.episode_id, seq);
      return { ...e, seq };
    }),
  );
}

/**
 * Each touched episode's concerns as of its latest look-up, from every look-up this LA was told of
 * for the child within the thresholds' windows. (An access's `la_codes` are the LAs given a notice
 * of it: read from there, the child's index finds them without scanning every LA's notices.)
 */
async function concernsOf(
  trx: Tx,
  laCode: string,
  episodes: Working[],
  thresholds: ReturnType<typeof thresholdsOf>,
  gapHours: number,
): Promise<Map<string, Concern[]>> {
  const out = new Map<string, Concern[]>();
  if (episodes.length === 0) return out;
  const windowMs = Math.max(thresholds.episodeDays, thresholds.areaDays) * DAY_MS;
  const from = Math.min(...episodes.map((e) => e.last_at.getTime())) - windowMs;
  const to = Math.max(...episodes.map((e) => e.last_at.getTime()));
  const { rows } = await sql<{ nhs_number: string; accessed_at: Date; area: string | null }>`
    select e.nhs_number, e.accessed_at,
           case when o.setting in ('nhs-111', 'ambulance-service') then l.town else o.town end as area
      from access_event e
      left join organisation o on o.ods_code = e.org_code
      left join organisation l on l.ods_code = e.patient_location
     where e.nhs_number = any(${[...new Set(episodes.map((e) => e.nhs_number))]}::text[])
       and ${laCode} = any(e.la_codes)
       and e.accessed_at > ${new Date(from)} and e.accessed_at <= ${new Date(to)}`.execute(trx);
  const sightings = new Map<string, { at: Date; area: string | null }[]>();
  for (const r of rows) {
    const list = sightings.get(r.nhs_number) ?? [];
    list.push({ at: r.accessed_at, area: r.area });
    sightings.set(r.nhs_number, list);
  }
  for (const e of episodes) {
    out.set(e.id, childPattern(sightings.get(e.nhs_number) ?? [], e.last_at, gapHours, thresholds).concerns);
  }
  return out;
}

/** Brings every LA's episodes up to date soon after its look-ups, whether or not anyone has the inbox open. */
export function episodesJob(db: Executor): Job {
  return {
    name: 'episodes',
    async run(now) {
      const { rows } = await sql<{ la_code: string }>`
        select distinct la_code from access_notice where episode_id is null`.execute(db);
      let lookUps = 0;
      for (const { la_code } of rows)
        lookUps += await transact(db, (trx) => bringEpisodesUpToDate(trx, la_code, now));
      return lookUps ? { localAuthorities: rows.length, lookUps } : null;
    },
  };
}
