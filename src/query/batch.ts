/**
 * Group commit for the query path. Every health query reads, may record an access (and its LA
 * notices) and always appends an audit entry; done one transaction per request, the audit chain's
 * head and the commit's disk flush would serialise everything. Instead, concurrent requests hand
 * their work to this committer, which runs them together:
 *
 *   the plans of every NHS number in the batch, from the in-memory index (plan-index.ts) or, when it
 *   is not current, one read of the tables (`cpis_query_plans`, no lock); extra reads some jobs
 *   need (the access history); then one write statement of every access, notice and audit entry
 *   and the new chain head (`cpis_query_write`, migrations 0011 and 0013), which refuses a batch
 *   answered from an index the plans have changed since (it is then read from the tables).
 *
 * The write is one statement, so one transaction: a batch's accesses, notices and audit entries
 * commit together or not at all. Writes go one at a time in this process, each sealed onto the head
 * the previous one left, so the chain follows commit order; the write moves the head only if it is
 * still where the batch sealed from, and when another process moved it (PostgreSQL, several
 * processes), the batch is sealed again onto the new head. While one batch writes, the next one
 * reads (two in flight on PostgreSQL; the embedded store has one connection anyway).
 *
 * Each request is answered only after its batch's write has committed. If a batch fails, its jobs
 * are run again one by one, so one bad job cannot fail others.
 */
import { sql } from 'kysely';
import { type AuditEntryInput, prepareEntries, sealEntries } from '../audit/log.ts';
import type { Clock } from '../domain/clock.ts';
import { type IsoDate, londonDateOf } from '../domain/dates.ts';
import { unavailable } from '../domain/outcomes.ts';
import { type Executor, isRetryable } from '../store/db.ts';
import type { AccessRow, NoticeRow } from './access.ts';
import { type ChainHead, readHead, readPlans, type Subject } from './lookup.ts';
import { PLANS_CHANGED, type PlanIndex, type PlanSnapshot } from './plan-index.ts';

/** What a job sees when it runs: the store to read from, time, and the subjects it asked for. */
export interface BatchContext {
  db: Executor;
  now: Date;
  today: IsoDate;
  subjects: ReadonlyMap<string, Subject>;
}

/** The writes a batch collects from its jobs. */
export class BatchWrites {
  readonly accesses: AccessRow[] = [];
  readonly notices: NoticeRow[] = [];
  readonly audit: AuditEntryInput[] = [];
}

export interface Job<R> {
  /** NHS numbers whose subjects (current number, visible plans) this job needs. */
  readonly numbers: readonly string[];
  /** Decide the answer and add this job's writes. Must not write by itself: the batch writes. */
  run(ctx: BatchContext, writes: BatchWrites): Promise<R> | R;
}

interface Pending {
  job: Job<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface CommitterOptions {
  /** Most jobs in one transaction. */
  maxBatch?: number;
  /**
   * Batches in flight at once (default 1): while one writes, the next can read. Writes still go one
   * at a time.
   */
  concurrency?: number;
  /** Answer from this in-memory index of plans when it is current (plan-index.ts); else read the tables. */
  plans?: PlanIndex;
}

export interface CommitterStats {
  batches: number;
  jobs: number;
  largestBatch: number;
}

export class GroupCommitter {
  readonly #db: Executor;
  readonly #clock: Clock;
  readonly #maxBatch: number;
  readonly #concurrency: number;
  readonly #plans: PlanIndex | null;
  #queue: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;
  #closed = false;
  #idle: (() => void)[] = [];
  /** The chain's head after this process's last write (null: read it from the store). */
  #head: ChainHead | null = null;
  /** The write in progress: the next batch's write waits for it. */
  #writing: Promise<void> = Promise.resolve();
  readonly stats: CommitterStats = { batches: 0, jobs: 0, largestBatch: 0 };

  constructor(db: Executor, clock: Clock, opts: CommitterOptions = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#maxBatch = opts.maxBatch ?? 256;
    this.#concurrency = opts.concurrency ?? 1;
    this.#plans = opts.plans ?? null;
  }

  /** Run a job in the next batch; resolves after that batch has committed. */
  submit<R>(job: Job<R>): Promise<R> {
    if (this.#closed) return Promise.reject(unavailable('the service is shutting down; try again shortly'));
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ job, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#scheduled && this.#inFlight < this.#concurrency) {
        // Start on the next turn of the event loop, so requests that arrived together go together.
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#pump();
        });
      }
    });
  }

  /** Stop taking jobs and wait for those already taken to commit. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#queue.length === 0 && this.#inFlight === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#inFlight < this.#concurrency && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#inFlight++;
      void this.#runBatch(batch).finally(() => {
        this.#inFlight--;
        if (this.#queue.length > 0) this.#pump();
        else if (this.#inFlight === 0) for (const done of this.#idle.splice(0)) done();
      });
    }
  }

  async #runBatch(batch: Pending[]): Promise<void> {
    this.stats.batches++;
    this.stats.jobs += batch.length;
    if (batch.length > this.stats.largestBatch) this.stats.largestBatch = batch.length;
    try {
      const results = await this.#commit(batch.map((p) => p.job));
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      // Isolate the culprit: every job again, alone.
      for (const p of batch) {
        try {
          const [result] = await this.#commit([p.job]);
          p.resolve(result);
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }

  async #commit(jobs: Job<unknown>[], fromIndex = true): Promise<unknown[]> {
    const db = this.#db;
    const now = this.#clock.now();
    const today = londonDateOf(now);
    const numbers = new Set<string>();
    for (const j of jobs) for (const n of j.numbers) numbers.add(n);
    const index = fromIndex ? (this.#plans?.current() ?? null) : null;
    const subjects = index ? index.subjects([...numbers], today) : await readPlans(db, [...numbers], today);
    const writes = new BatchWrites();
    const ctx: BatchContext = { db, now, today, subjects };
    const results: unknown[] = [];
    for (const j of jobs) results.push(await j.run(ctx, writes));
    try {
      await this.#write(now, writes, index);
    } catch (err) {
      if (!index || (err as { code?: string } | null)?.code !== PLANS_CHANGED) throw err;
      // The plans changed after the index was read: nothing was written; answer from the tables.
      this.#plans!.changed(index);
      return this.#commit(jobs, false);
    }
    return results;
  }

  /** Write a batch: one at a time, sealed onto the head the last write left (or the store's). */
  async #write(now: Date, writes: BatchWrites, index: PlanSnapshot | null): Promise<void> {
    // Made ready while an earlier batch may still be writing; only the hashes wait for its head.
    const entries = prepareEntries(now, writes.audit);
    const previous = this.#writing;
    let done: () => void = () => {};
    this.#writing = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      await previous;
      for (let attempt = 1; ; attempt++) {
        const head = this.#head ?? (await readHead(this.#db));
        const sealed = sealEntries(head, entries);
        const rest = {
          accesses: writes.accesses,
          notices: writes.notices,
          fromSeq: head.seq,
          fromHash: head.hash,
          toSeq: sealed.seq,
          toHash: sealed.hash,
          // Answered from the index: the write refuses the batch if the plans changed since.
          ...(index ? { planSnapshot: index.snapshot } : {}),
        };
        // The entries are already JSON (sealed as text): the batch document is written around them.
        const batch = `{"entries":${sealed.json},${JSON.stringify(rest).slice(1)}`;
        try {
          await sql`select cpis_query_write(${batch}::jsonb)`.execute(this.#db);
          if (entries.length) this.#head = { seq: sealed.seq, hash: sealed.hash };
          return;
        } catch (err) {
          this.#head = null;
          // Another process appended since: seal again onto the head it left.
          if (!isRetryable(err) || attempt >= MAX_RESEALS) throw err;
        }
      }
    } finally {
      done();
    }
  }
}

const MAX_RESEALS = 20;
