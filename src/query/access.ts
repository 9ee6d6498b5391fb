/**
 * The access history (CPIS.md §6): every unscheduled look-up of a subject with a visible plan is an
 * access, kept with who looked (name, role, organisation, system), where the patient was, the
 * safeguarding lead, when, and which LAs held a visible record at that moment. Beside each access,
 * one pending notice per such LA: the notification capability delivers them later.
 *
 * Reading it back: the 25 most recent accesses, newest first, where repeat accesses by the same
 * person (same user id, or the same system and responsible person) within 24 hours of one shown
 * are shown once — the newest.
 */
import { type RawBuilder, sql } from 'kysely';
import type { Executor } from '../store/db.ts';
import type { AccessEventTable, AccessNoticeTable } from '../store/schema.ts';

export const HISTORY_LIMIT = 25;
export const COLLAPSE_WINDOW_MS = 24 * 60 * 60 * 1000;
const PAGE = 200;

export type AccessRow = AccessEventTable;
export type NoticeRow = AccessNoticeTable;

/** One access as the history shows it. */
export interface AccessSummary {
  id: string;
  accessedAt: Date;
  personKey: string;
  kind: 'health-user' | 'health-system';
  name: string;
  jobRole: { code: string; display: string };
  userId: string | null;
  roleProfileId: string | null;
  asid: string | null;
  orgCode: string;
  /** From the directory, when it knows the organisation. */
  orgName: string | null;
}

/** The access columns the history shows, and the organisation's name from the directory. */
type HistoryRow = Pick<
  AccessEventTable,
  | 'id'
  | 'accessed_at'
  | 'person_key'
  | 'accessor_kind'
  | 'accessor_name'
  | 'job_role_code'
  | 'job_role_display'
  | 'user_id'
  | 'role_profile_id'
  | 'asid'
  | 'org_code'
> & { org_name: string | null };

/**
 * Keep the newest access of each person and drop that person's earlier ones that fall within 24
 * hours of the last one kept; stop at `limit`. `rows` must be newest first. `lastShown` carries
 * the state across pages.
 */
export function collapseAccesses(
  rows: readonly AccessSummary[],
  kept: AccessSummary[],
  lastShown: Map<string, number>,
  limit = HISTORY_LIMIT,
): void {
  for (const row of rows) {
    if (kept.length >= limit) return;
    const at = row.accessedAt.getTime();
    const last = lastShown.get(row.personKey);
    if (last !== undefined && last - at < COLLAPSE_WINDOW_MS) continue;
    kept.push(row);
    lastShown.set(row.personKey, at);
  }
}

/**
 * The history of a subject, by its current number; accesses recorded under numbers since
 * superseded by it are included. Reads newest first, a page at a time, until 25 are shown.
 */
export async function accessHistory(
  db: Executor,
  current: string,
  limit = HISTORY_LIMIT,
): Promise<AccessSummary[]> {
  const kept: AccessSummary[] = [];
  const lastShown = new Map<string, number>();
  let after: { at: Date; id: string } | null = null;
  for (;;) {
    const keyset: RawBuilder<unknown> = after
      ? sql`and (e.accessed_at, e.id) < (${after.at}::timestamptz, ${after.id}::uuid)`
      : sql``;
    const { rows }: { rows: HistoryRow[] } = await sql<HistoryRow>`
      select e.id, e.accessed_at, e.person_key, e.accessor_kind, e.accessor_name, e.job_role_code,
             e.job_role_display, e.user_id, e.role_profile_id, e.asid, e.org_code, o.name as org_name
      from access_event e left join organisation o on o.ods_code = e.org_code
      where e.nhs_number = any(array_prepend(${current}::text,
              array(select nhs_number from person where superseded_by = ${current})))
        ${keyset}
      order by e.accessed_at desc, e.id desc
      limit ${PAGE}`.execute(db);
    collapseAccesses(rows.map(toSummary), kept, lastShown, limit);
    if (kept.length >= limit || rows.length < PAGE) return kept;
    const last: HistoryRow = rows[rows.length - 1]!;
    after = { at: last.accessed_at, id: last.id };
  }
}

function toSummary(r: HistoryRow): AccessSummary {
  return {
    id: r.id,
    accessedAt: r.accessed_at,
    personKey: r.person_key,
    kind: r.accessor_kind,
    name: r.accessor_name,
    jobRole: { code: r.job_role_code, display: r.job_role_display },
    userId: r.user_id,
    roleProfileId: r.role_profile_id,
    asid: r.asid,
    orgCode: r.org_code,
    orgName: r.org_name,
  };
}
