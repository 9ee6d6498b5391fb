/**
 * Group commit for the query path. Every health query reads, may record an access (and its LA
 * notices) and always appends an audit entry; done one transaction per request, the audit chain's
 * head lock and the commit's disk flush would serialise everything. Instead, concurrent requests
 * hand their work to this committer, which runs them together in one transaction:
 *
 *   BEGIN; one read for every NHS number in the batch, which also locks the audit chain head;
 *   extra reads some jobs need (the access history); one write of every access, notice and audit
 *   entry and the new chain head; COMMIT.
 *
 * Four statements per batch, whatever its size (the read and the write are plpgsql functions,
 * migration 0003, so their plans are prepared once per session). The head is locked from the read
 * on, so batches commit one at a time and the chain follows commit order.
 *
 * Each request is answered only after its batch commits, so the read, the access, the notices and
 * the audit entry are one atomic, durable unit per request (and per batch). While one batch
 * commits, the next fills up; an idle committer starts at once, so a lone request waits for
 * nobody. If a batch fails, its jobs are run again one by one, so one bad job cannot fail others.
 */
import { sql } from 'kysely';
import { type AuditEntryInput, sealEntries } from '../audit/log.ts';
import type { Clock } from '../domain/clock.ts';
import { type IsoDate, londonDateOf } from '../domain/dates.ts';
import { unavailable } from '../domain/outcomes.ts';
import { type Executor, type Tx, transact } from '../store/db.ts';
import type { AccessRow, NoticeRow } from './access.ts';
import { readBatch, type Subject } from './lookup.ts';

/** What a job sees when it runs: the batch's transaction, time, and the subjects it asked for. */
export interface BatchContext {
  trx: Tx;
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
   * Batches in flight at once (default 1). The read locks the chain head, so batches commit one at a
   * time anyway; measured on both engines, one at a time makes larger batches and is as fast.
   */
  concurrency?: number;
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
  #queue: Pending[] = [];
  #inFlight = 0;
  #scheduled = false;
  #closed = false;
  #idle: (() => void)[] = [];
  readonly stats: CommitterStats = { batches: 0, jobs: 0, largestBatch: 0 };

  constructor(db: Executor, clock: Clock, opts: CommitterOptions = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#maxBatch = opts.maxBatch ?? 256;
    this.#concurrency = opts.concurrency ?? 1;
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

  async #commit(jobs: Job<unknown>[]): Promise<unknown[]> {
    return transact(this.#db, async (trx) => {
      const now = this.#clock.now();
      const today = londonDateOf(now);
      const numbers = new Set<string>();
      for (const j of jobs) for (const n of j.numbers) numbers.add(n);
      const { subjects, head } = await readBatch(trx, [...numbers], today);
      const writes = new BatchWrites();
      const ctx: BatchContext = { trx, now, today, subjects };
      const results: unknown[] = [];
      for (const j of jobs) results.push(await j.run(ctx, writes));
      const sealed = sealEntries(head, now, writes.audit);
      const batch = {
        accesses: writes.accesses,
        notices: writes.notices,
        entries: sealed.rows,
        fromSeq: head.seq,
        toSeq: sealed.seq,
        toHash: sealed.hash,
      };
      await sql`select cpis_query_write(${JSON.stringify(batch)}::jsonb)`.execute(trx);
      return results;
    });
  }
}
