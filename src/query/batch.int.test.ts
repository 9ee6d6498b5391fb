/**
 * The group committer on both engines: jobs handed over together commit together, in one
 * transaction with their audit entries; a job that fails (even in the database) fails alone; a
 * closed committer finishes what it took and refuses the rest.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, openTestStore } from '../../test/engines.ts';
import { T0 } from '../../test/helper.ts';
import { verifyAuditChain } from '../audit/verify.ts';
import { SettableClock } from '../domain/clock.ts';
import { OutcomeError } from '../domain/outcomes.ts';
import type { Store } from '../store/db.ts';
import { type BatchWrites, GroupCommitter, type Job } from './batch.ts';

function auditJob(
  action: string,
  opts: { nhsNumber?: string; fail?: boolean; badAccess?: boolean } = {},
): Job<string> {
  return {
    numbers: opts.nhsNumber ? [opts.nhsNumber] : [],
    run(ctx, writes: BatchWrites) {
      if (opts.fail) throw new Error(`job ${action} failed`);
      writes.audit.push({ category: 'system', action, outcome: 'success', actor: { kind: 'test' } });
      if (opts.badAccess) {
        // Breaks a check constraint: the database refuses the whole batch's insert.
        writes.accesses.push({
          id: randomUUID(),
          nhs_number: 'not-a-number',
          queried_nhs_number: 'not-a-number',
          accessed_at: ctx.now,
          resource: 'CareTeam',
          request_id: 'x',
          person_key: 'user:x',
          accessor_kind: 'health-user',
          accessor_name: 'x',
          job_role_code: '',
          job_role_display: '',
          user_id: 'x',
          role_profile_id: null,
          asid: null,
          org_code: 'R1H12',
          patient_location: null,
          safeguarding_lead: null,
          la_codes: [],
          plan_types: [],
        });
      }
      const subject = opts.nhsNumber ? ctx.subjects.get(opts.nhsNumber) : undefined;
      return subject ? `${action}:${subject.current}` : action;
    },
  };
}

describe.each(engines())('the group committer on %s', (engine) => {
  let store: Store;
  const clock = new SettableClock(T0);
  beforeAll(async () => {
    store = await openTestStore(engine);
  });
  afterAll(() => store?.close());

  async function actions(): Promise<string[]> {
    const rows = await store.db.selectFrom('audit_log').select('action').orderBy('seq').execute();
    return rows.map((r) => r.action);
  }

  it('commits jobs handed over together in one transaction, in order, with one read for all', async () => {
    const c = new GroupCommitter(store.db, clock, { concurrency: 1 });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => c.submit(auditJob(`a${i}`, { nhsNumber: '9990000018' }))),
    );
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}:9990000018`));
    expect(c.stats).toEqual({ batches: 1, jobs: 10, largestBatch: 10 });
    expect(await actions()).toEqual(Array.from({ length: 10 }, (_, i) => `a${i}`));
    await c.close();
  });

  it('splits at the batch size', async () => {
    const c = new GroupCommitter(store.db, clock, { maxBatch: 4 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => c.submit(auditJob(`s${i}`))));
    expect(c.stats).toMatchObject({ batches: 3, jobs: 10, largestBatch: 4 });
    await c.close();
  });

  it('a failing job fails alone, whether it throws or the database refuses its writes', async () => {
    const c = new GroupCommitter(store.db, clock);
    const before = (await actions()).length;
    const settled = await Promise.allSettled([
      c.submit(auditJob('ok1')),
      c.submit(auditJob('throws', { fail: true })),
      c.submit(auditJob('refused', { badAccess: true })),
      c.submit(auditJob('ok2')),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((await actions()).slice(before)).toEqual(['ok1', 'ok2']);
    expect(await verifyAuditChain(store.db)).toMatchObject({ ok: true });
    await c.close();
  });

  it('once closed, finishes what it took and refuses the rest with a 503', async () => {
    const c = new GroupCommitter(store.db, clock);
    const taken = c.submit(auditJob('last'));
    const closing = c.close();
    await expect(c.submit(auditJob('too-late'))).rejects.toSatisfy(
      (e) => e instanceof OutcomeError && e.status === 503,
    );
    await closing;
    await expect(taken).resolves.toBe('last');
    expect((await actions()).at(-1)).toBe('last');
  });
});
