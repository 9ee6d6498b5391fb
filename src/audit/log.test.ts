import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AuditEntryInput, entryHash, GENESIS_HASH, prepareEntries, sealEntries } from './log.ts';

// Entries as callers write them: any JSON in actor and detail, hostile text included.
const text = fc.string({ unit: 'binary', maxLength: 12 });
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const entry: fc.Arbitrary<AuditEntryInput> = fc.record({
  category: fc.constantFrom('query', 'upload', 'admin', 'system'),
  action: text,
  outcome: fc.constantFrom('success', 'failure', 'refused'),
  actor: fc.dictionary(text, json, { maxKeys: 4 }),
  nhsNumber: fc.option(text, { nil: null }),
  detail: fc.dictionary(text, json, { maxKeys: 5 }),
});

interface StoredRow {
  seq: number;
  recorded_at: string;
  category: string;
  action: string;
  outcome: string;
  actor: unknown;
  nhs_number: string | null;
  detail: unknown;
  prev_hash: string;
  hash: string;
}

describe('sealing audit entries', () => {
  it('gives every entry the hash verification recomputes from the stored entry', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 5 }), fc.nat(1_000_000), (entries, seq) => {
        const at = new Date('2026-12-07T08:00:00.123Z');
        const sealed = sealEntries({ seq, hash: GENESIS_HASH }, prepareEntries(at, entries));
        let prev = GENESIS_HASH;
        // The rows as inserted; what the log gives back is their JSON read through jsonb.
        const rows = JSON.parse(sealed.json);
        expect(rows).toHaveLength(entries.length);
        rows.forEach((stored: StoredRow, i: number) => {
          const r = stored;
          expect(r.seq).toBe(seq + i + 1);
          expect(r.prev_hash).toBe(prev);
          expect(
            entryHash(prev, {
              seq: r.seq,
              recordedAt: new Date(stored.recorded_at),
              category: stored.category,
              action: stored.action,
              outcome: stored.outcome,
              actor: stored.actor,
              nhsNumber: stored.nhs_number,
              detail: stored.detail,
            }),
          ).toBe(r.hash);
          prev = r.hash;
        });
        expect(sealed.hash).toBe(prev);
        expect(sealed.seq).toBe(seq + entries.length);
      }),
      { numRuns: 300 },
    );
  });
});
