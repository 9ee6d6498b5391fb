/**
 * Entries staged before the chain head is taken (an upload's, naming every record it put): they are
 * stored as they would have been appended, chain after whatever was appended meanwhile, verify, and
 * leave nothing behind when their transaction fails. On PostgreSQL, staging does not hold the head:
 * another transaction appends while a large batch is staged, without waiting for it.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, openTestStore } from '../../test/engines.ts';
import { type Store, transact } from '../store/db.ts';
import { type AuditEntryInput, appendAudit, appendStaged, prepareEntries, stageEntries } from './log.ts';
import { verifyAuditChain } from './verify.ts';

const AT = new Date('2026-11-20T10:00:00Z');
const LA = { kind: 'local-authority', laCode: 'E08000025' };

/** An upload's kind of entry: a thousand records a time, about 60 kB of detail each. */
function recordsPut(batch: number): AuditEntryInput {
  const records = Array.from({ length: 1000 }, (_, i) => ({
    nhsNumber: `999${String(batch * 1000 + i).padStart(7, '0')}`,
    subject: 'child',
    planTypes: ['CPP'],
  }));
  return { category: 'upload', action: 'record.put', outcome: 'success', actor: LA, detail: { records } };
}

const hostile: AuditEntryInput = {
  category: 'upload',
  action: 'upload',
  outcome: 'success',
  actor: { ...LA, name: 'Null\u0000 \ud800' },
  detail: { sequence: 7, 'key\udc00': ['\ud83d\ude00 ok'] },
};

const headOf = (store: Store) =>
  store.db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();

describe.each(engines())('audit entries staged before the head is taken on %s', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(engine);
  });
  afterAll(() => store?.close());
  const head = () => headOf(store);
  const entriesFrom = (seq: number) =>
    store.db.selectFrom('audit_log').selectAll().where('seq', '>', seq).orderBy('seq').execute();

  it('are stored as appended entries would be, in order, after more staged in the same transaction', async () => {
    const before = Number((await head()).seq);
    const big = [recordsPut(0), recordsPut(1), recordsPut(2)];
    const seqs = await transact(store.db, async (trx) => {
      const staged = await stageEntries(trx, prepareEntries(AT, big));
      await stageEntries(trx, prepareEntries(AT, [hostile]), staged);
      return appendStaged(trx, staged);
    });
    expect(seqs).toEqual([before + 1, before + 2, before + 3, before + 4]);
    const rows = await entriesFrom(before);
    expect(rows.map((r) => r.detail)).toEqual([
      ...big.map((e) => e.detail),
      { sequence: 7, 'key\\udc00': ['\ud83d\ude00 ok'] },
    ]);
    expect(rows[3]!.actor).toEqual({ ...LA, name: 'Null\\u0000 \\ud800' });
    expect(rows.every((r) => r.recorded_at.getTime() === AT.getTime() && r.category === 'upload')).toBe(true);
    expect(Number((await head()).seq)).toBe(before + 4);
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
  });

  it('leave nothing when their transaction fails, and the next staged append chains on', async () => {
    const before = await head();
    await expect(
      transact(store.db, async (trx) => {
        const staged = await stageEntries(trx, prepareEntries(AT, [recordsPut(3)]));
        await appendStaged(trx, staged);
        throw new Error('the upload failed after its audit was chained');
      }),
    ).rejects.toThrow('the upload failed');
    expect(await head()).toEqual(before);
    expect(await entriesFrom(Number(before.seq))).toEqual([]);
    await transact(store.db, async (trx) =>
      appendStaged(trx, await stageEntries(trx, prepareEntries(AT, [hostile]))),
    );
    expect(Number((await head()).seq)).toBe(Number(before.seq) + 1);
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
  });
});

// Only PostgreSQL has a second connection to append from while a transaction is open.
describe.each(engines().filter((e) => e === 'postgres'))('audit entries being staged on %s', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(engine);
  });
  afterAll(() => store?.close());
  const head = () => headOf(store);

  it('do not hold the head: another transaction appends meanwhile and is chained first', async () => {
    const before = Number((await head()).seq);
    let release!: () => void;
    const staging = new Promise<void>((r) => {
      release = r;
    });
    let staged!: () => void;
    const stagedDone = new Promise<void>((r) => {
      staged = r;
    });
    const upload = transact(store.db, async (trx) => {
      const s = await stageEntries(trx, prepareEntries(AT, [recordsPut(4), recordsPut(5)]));
      staged();
      await staging;
      return appendStaged(trx, s);
    });
    await stagedDone;
    // A health query's entry: with the head held by the staging transaction this would wait, and fail.
    const query = await transact(
      store.db,
      async (trx) => {
        await sql`set local lock_timeout = '2s'`.execute(trx);
        return appendAudit(trx, AT, [
          {
            category: 'query',
            action: 'CareTeam.search',
            outcome: 'success',
            actor: LA,
            nhsNumber: '9990000018',
          },
        ]);
      },
      0,
    );
    release();
    expect(query).toEqual([before + 1]);
    expect(await upload).toEqual([before + 2, before + 3]);
    const rows = await store.db
      .selectFrom('audit_log')
      .select('action')
      .where('seq', '>', before)
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => r.action)).toEqual(['CareTeam.search', 'record.put', 'record.put']);
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
  });
});
