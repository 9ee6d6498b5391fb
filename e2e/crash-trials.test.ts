/**
 * The crash trials (trials/, `npm run trials` for the full run) in small: one trial per flow on each
 * engine, with smaller populations, so the trials keep working and a regression that loses or
 * doubles work across a SIGKILL fails the suite. Each engine's flows run one after another; the two
 * engines run side by side.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { engines } from '../test/engines.ts';
import { FLOWS } from '../trials/flows.ts';
import {
  checkPushes,
  checkUpload,
  DeliveryLedger,
  type LookUp,
  missingDeliveries,
  retentionState,
} from '../trials/invariants.ts';
import { runTrials } from '../trials/run.ts';

// The checks themselves catch what they are for (else a clean trial run would prove nothing).
describe('the trial invariants', () => {
  const upload = { laCode: 'UP0', sequence: 1, records: 10, plans: 10, status: null, accepted: null };
  const whole = { subjects: 10, plans: 10, uploads: [{ sequence: 1, accepted: 10 }], acknowledgements: 1 };
  const none = { subjects: 0, plans: 0, uploads: [], acknowledgements: 0 };

  it('an upload: whole or absent if unanswered, whole if acknowledged', () => {
    expect(checkUpload(upload, whole)).toEqual([]);
    expect(checkUpload(upload, none)).toEqual([]);
    expect(checkUpload(upload, { ...whole, subjects: 4, plans: 4 })).toHaveLength(1);
    expect(checkUpload(upload, { ...none, acknowledgements: 1 })).toHaveLength(1);
    expect(checkUpload({ ...upload, status: 200, accepted: 10 }, none)).toHaveLength(1);
  });

  it('a look-up: lost, duplicated and doubled batches are found', () => {
    const q: LookUp = {
      sdsUserId: '550000000001',
      nhsNumber: '9991000001',
      holders: ['A', 'B'],
      status: 200,
      total: 2,
    };
    const message = (id: string, la: string) => ({
      id,
      type: 'access-notification',
      laCode: la,
      delivery: 'daily',
      batchDate: '2027-01-05',
      accessCount: 1,
      accesses: [{ accessId: 'x', accessedBy: { sdsUserId: q.sdsUserId } }],
    });
    const ledger = new DeliveryLedger();
    ledger.add('A', message('m1', 'A'));
    expect(missingDeliveries(ledger, [q])).toEqual([expect.stringContaining('never delivered to B')]);
    ledger.add('B', message('m2', 'B'));
    expect(missingDeliveries(ledger, [q])).toEqual([]);
    expect(ledger.takeProblems()).toEqual([]);
    ledger.add('B', message('m3', 'B'));
    expect(ledger.takeProblems()).toEqual([
      expect.stringContaining('2 daily batches'),
      expect.stringContaining('delivered 2 times to B'),
    ]);
  });

  it('a purge: before or after, never between', () => {
    const before = { subjects: 5, CPP: 5, LAC: 2, UCPP: 1 };
    const after = { subjects: 2, CPP: 0, LAC: 2, UCPP: 0 };
    expect(retentionState('R', before, before, after).state).toBe('before');
    expect(retentionState('R', after, before, after).state).toBe('after');
    expect(retentionState('R', { ...after, UCPP: 1 }, before, after).state).toBe('neither');
  });

  it('a push: every message at least once, signed', () => {
    const body = JSON.stringify({ id: 'm1', type: 'birth', createdAt: 't' });
    const good = { messageId: 'm1', timestamp: '1', body, signature: '' };
    good.signature = `sha256=${createHmac('sha256', 's').update(`1.${body}`).digest('hex')}`;
    const messages = [{ id: 'm1', type: 'birth', createdAt: 't' }];
    expect(checkPushes(messages, [good, good], 's')).toEqual({ problems: [], duplicates: 1 });
    expect(checkPushes(messages, [], 's').problems).toHaveLength(1);
    expect(checkPushes(messages, [{ ...good, signature: 'sha256=00' }], 's').problems).toHaveLength(1);
  });
});

describe.concurrent('crash trials, one per flow', () => {
  for (const engine of engines()) {
    it(`finds no violation on ${engine}`, async () => {
      const lines: string[] = [];
      const results = await runTrials({
        engines: [engine],
        flows: FLOWS.map((f) => f.name),
        perFlow: 1,
        seed: Number(process.env.CPIS_TRIALS_SEED ?? Date.now() % 2 ** 31),
        pg: { pgAdminUrl: engine === 'postgres' ? inject('pgAdminUrl') : null },
        small: true,
        log: (l) => lines.push(l),
      });
      // The trial log names each seed and kill point, so a failure here can be replayed.
      expect(
        results.flatMap((r) => r.violations),
        lines.join('\n'),
      ).toEqual([]);
      expect(results.map((r) => r.trials)).toEqual(FLOWS.map(() => 1));
    }, 600_000);
  }
});
