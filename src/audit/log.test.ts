import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeUnstorable } from '../domain/validate.ts';
import type { AuditLogTable } from '../store/schema.ts';
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

/** An audit_log row as its JSON reads back (the timestamp as text). */
type StoredRow = Omit<AuditLogTable, 'recorded_at'> & { recorded_at: string };

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

  it('stores what JSON would, with every string and key that cannot be stored escaped', () => {
    // What callers may also hand over: dates, left-out members, numbers JSON cannot hold.
    const loose = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        json,
        fc.date({ noInvalidDate: true }),
        fc.constant(undefined),
        fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(text, tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    // The meaning, written the obvious (slow) way: through JSON, escaping text as it is read back.
    const stored = (value: unknown) =>
      JSON.parse(JSON.stringify(value), (_key, v) => {
        if (typeof v === 'string') return escapeUnstorable(v);
        if (v && typeof v === 'object' && !Array.isArray(v))
          return Object.fromEntries(Object.entries(v).map(([k, m]) => [escapeUnstorable(k), m]));
        return v;
      });
    fc.assert(
      fc.property(
        fc.dictionary(text, loose, { maxKeys: 4 }),
        fc.dictionary(text, loose, { maxKeys: 5 }),
        (actor, detail) => {
          const input: AuditEntryInput = {
            category: 'query',
            action: 'a',
            outcome: 'success',
            actor,
            detail,
            nhsNumber: null,
          };
          const { json: rows } = sealEntries(
            { seq: 0, hash: GENESIS_HASH },
            prepareEntries(new Date(0), [input]),
          );
          const [row] = JSON.parse(rows);
          expect(row.actor).toEqual(stored(actor));
          expect(row.detail).toEqual(stored(detail));
        },
      ),
      { numRuns: 500 },
    );
  });
});
