/**
 * Every plan in the store, in memory, so a health query batch need not read the tables: the batch
 * then costs one statement (its write) instead of two.
 *
 * Exact, never merely fresh enough: the index is loaded in one statement together with the
 * snapshot it was read under, and a batch answered from it commits only if no transaction that
 * wrote plans, people or local authorities has committed since that snapshot (the write checks it:
 * `cpis_query_write`, migration 0013, whose triggers record every such transaction, whichever
 * process or code path made it). Otherwise the batch is refused as a whole, read again from the
 * tables and committed, and the index is reloaded in the background; batches read from the tables
 * until it is. So an answer given from the index is what the tables held when it committed, as an
 * answer read from them would be.
 *
 * Visibility by date is decided per batch from the stored dates (`isShownOn`, the rule
 * `cpis_query_plans` applies), so the index does not go stale at midnight.
 */
import { sql } from 'kysely';
import type { IsoDate } from '../domain/dates.ts';
import { isShownOn, type PlanType } from '../domain/plans.ts';
import { loopSharer } from '../loop-share.ts';
import type { Executor } from '../store/db.ts';
import { type PlanRow, type Subject, subjectsOf } from './lookup.ts';

/** The write's refusal when the plans changed after the index was read (migration 0013). */
export const PLANS_CHANGED = 'CPIS1';

/** An index older than this is reloaded even if nothing changed (plan_change rows are pruned after a day). */
const MAX_AGE_MS = 60 * 60_000;

/** nhs_number, la_code, plan_type, start_date, end_date, visible_until, delete_date */
type StoredPlan = [string, string, PlanType, IsoDate, IsoDate | null, IsoDate | null, IsoDate | null];
/** la_code, name, office_hours_phone, emergency_duty_phone */
type StoredLa = [string, string | null, string | null, string | null];

export class PlanSnapshot {
  /** The store's snapshot the index was read under (`pg_snapshot` text). */
  readonly snapshot: string;
  readonly #plans: Map<string, StoredPlan[]>;
  readonly #supersededBy: Map<string, string>;
  readonly #las: Map<string, StoredLa>;
  readonly loadedAt = performance.now();
  readonly size: number;

  constructor(
    snapshot: string,
    plans: Map<string, StoredPlan[]>,
    supersededBy: Map<string, string>,
    las: Map<string, StoredLa>,
    size: number,
  ) {
    this.snapshot = snapshot;
    this.#plans = plans;
    this.#supersededBy = supersededBy;
    this.#las = las;
    this.size = size;
  }

  /** Each number's subject and its plans visible on `today`, as `readPlans` reads them from the tables. */
  subjects(numbers: readonly string[], today: IsoDate): Map<string, Subject> {
    const rows: PlanRow[] = [];
    for (const queried of new Set(numbers)) {
      const current = this.#supersededBy.get(queried) ?? queried;
      const before = rows.length;
      this.#visible(rows, queried, current, current, today);
      if (queried !== current) this.#visible(rows, queried, current, queried, today);
      if (rows.length === before) rows.push({ ...NO_PLAN, queried, current_number: current });
    }
    return subjectsOf(rows);
  }

  #visible(rows: PlanRow[], queried: string, current: string, under: string, today: IsoDate): void {
    for (const [nhs, laCode, type, start, end, visibleUntil, deleteDate] of this.#plans.get(under) ?? []) {
      if (!isShownOn({ startDate: start, visibleUntil, deleteDate }, today)) continue;
      const la = this.#las.get(laCode);
      rows.push({
        queried,
        current_number: current,
        plan_nhs_number: nhs,
        la_code: laCode,
        plan_type: type,
        start_date: start,
        end_date: end,
        la_name: la?.[1] ?? null,
        office_hours_phone: la?.[2] ?? null,
        emergency_duty_phone: la?.[3] ?? null,
      });
    }
  }
}

const NO_PLAN: Omit<PlanRow, 'queried' | 'current_number'> = {
  plan_nhs_number: null,
  la_code: null,
  plan_type: null,
  start_date: null,
  end_date: null,
  la_name: null,
  office_hours_phone: null,
  emergency_duty_phone: null,
};

export interface PlanIndexStats {
  loads: number;
  /** Batches answered from the index (some then refused). */
  answered: number;
  /** Batches refused because the plans changed after the index they were answered from was read. */
  refused: number;
  lastLoadMs: number;
  plans: number;
}

export class PlanIndex {
  readonly #db: Executor;
  #current: PlanSnapshot | null = null;
  #loading: Promise<void> | null = null;
  #closed = false;
  readonly stats: PlanIndexStats = { loads: 0, answered: 0, refused: 0, lastLoadMs: 0, plans: 0 };

  constructor(db: Executor) {
    this.#db = db;
  }

  /**
   * The index to answer a batch from, or null when there is none yet (or it is out of date): the
   * batch reads the tables then, and a load starts.
   */
  current(): PlanSnapshot | null {
    const s = this.#current;
    if (s && performance.now() - s.loadedAt < MAX_AGE_MS) {
      this.stats.answered++;
      return s;
    }
    this.#current = null;
    this.#load();
    return null;
  }

  /** The store refused a batch answered from `s`: the plans changed since it was read. */
  changed(s: PlanSnapshot): void {
    this.stats.refused++;
    if (this.#current === s) this.#current = null;
    this.#load();
  }

  /** Stop loading; wait for a load in progress (it uses the store). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#loading;
  }

  #load(): void {
    if (this.#loading || this.#closed) return;
    const started = performance.now();
    this.#loading = readIndex(this.#db)
      .then((s) => {
        this.#current = s;
        this.stats.loads++;
        this.stats.lastLoadMs = performance.now() - started;
        this.stats.plans = s.size;
      })
      // A failed load leaves batches reading the tables; the next batch starts another.
      .catch(() => {})
      .finally(() => {
        this.#loading = null;
      });
  }
}

/**
 * Every plan, superseded number and LA's contact details, with the snapshot they were read under:
 * one statement. Plans come in a few hundred parts (by a hash of the number), each parsed as it
 * arrives and filed in a short turn, so loading a national store's plans does not hold health
 * queries behind it.
 */
export async function readIndex(db: Executor): Promise<PlanSnapshot> {
  const { rows } = await sql<{ k: number; snapshot: string | null; part: unknown[] | null }>`
    select 0 as k, pg_current_snapshot()::text as snapshot, null::json as part
    union all
    select 1, null, json_agg(json_build_array(p.nhs_number, p.la_code, p.plan_type, p.start_date, p.end_date,
                                              p.visible_until, p.delete_date))
      from la_plan p group by hashtext(p.nhs_number) & ${INDEX_PARTS - 1}
    union all
    select 2, null, json_agg(json_build_array(s.nhs_number, s.superseded_by))
      from person s where s.superseded_by is not null group by hashtext(s.nhs_number) & ${INDEX_PARTS - 1}
    union all
    select 3, null, json_agg(json_build_array(l.la_code, l.name, l.office_hours_phone, l.emergency_duty_phone))
      from local_authority l`.execute(db);
  const giveWay = loopSharer();
  let snapshot: string | null = null;
  const plans = new Map<string, StoredPlan[]>();
  const supersededBy = new Map<string, string>();
  const las = new Map<string, StoredLa>();
  let size = 0;
  for (const r of rows) {
    await giveWay();
    if (r.k === 0) snapshot = r.snapshot;
    else if (r.k === 1) {
      for (const p of r.part as StoredPlan[]) {
        const list = plans.get(p[0]);
        if (list) list.push(p);
        else plans.set(p[0], [p]);
      }
      size += r.part!.length;
    } else if (r.k === 2) for (const [from, to] of r.part as [string, string][]) supersededBy.set(from, to);
    else for (const l of (r.part ?? []) as StoredLa[]) las.set(l[0], l);
  }
  return new PlanSnapshot(snapshot!, plans, supersededBy, las, size);
}

/** How many parts the plans are read in (a power of two). */
const INDEX_PARTS = 256;

/**
 * Forget changes a day old (by the store's own clock: housekeeping, not a rule): every index is
 * reloaded within the hour (MAX_AGE_MS), so none was read before them. Run by the daily retention job.
 */
export async function prunePlanChanges(db: Executor): Promise<void> {
  await sql`delete from plan_change where changed_at < now() - interval '1 day'`.execute(db);
}
