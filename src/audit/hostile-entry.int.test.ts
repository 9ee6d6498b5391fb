/**
 * The audit trail records a hostile request whatever it carried: text the database refuses (NUL,
 * unpaired surrogates), in values or in keys, is stored escaped, hashed as stored, and the chain
 * still verifies. An audited action never fails because of what the caller sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, openTestStore } from '../../test/engines.ts';
import { type Store, transact } from '../store/db.ts';
import { migrateToLatest } from '../store/migrate.ts';
import { appendAudit } from './log.ts';
import { verifyAuditChain } from './verify.ts';

describe.each(engines())('a hostile request in the audit trail on %s', (engine) => {
  let store: Store;
  beforeAll(async () => {
    store = await openTestStore(engine);
    await migrateToLatest(store.db);
  });
  afterAll(() => store?.close());

  it('is stored with the characters the database refuses escaped, and the chain verifies', async () => {
    const at = new Date('2026-11-20T10:00:00Z');
    await transact(store.db, (trx) =>
      appendAudit(trx, at, [
        {
          category: 'query',
          action: 'CareTeam.search',
          outcome: 'refused',
          actor: { kind: 'health-user', name: 'Dr \ud800 Null\u0000' },
          detail: { requestId: 'abc\u0000def', 'key\udc00': ['\ud83d\ude00 ok', 'lone \udbff'] },
        },
      ]),
    );
    const row = await store.db
      .selectFrom('audit_log')
      .select(['actor', 'detail'])
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect(row.actor).toEqual({ kind: 'health-user', name: 'Dr \\ud800 Null\\u0000' });
    // A proper pair (an emoji) is kept as it is.
    expect(row.detail).toEqual({
      requestId: 'abc\\u0000def',
      'key\\udc00': ['\ud83d\ude00 ok', 'lone \\udbff'],
    });
    const verified = await verifyAuditChain(store.db);
    expect(verified.ok).toBe(true);
  });
});
