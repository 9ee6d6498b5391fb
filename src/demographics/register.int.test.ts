import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, openTestStore } from '../../test/engines.ts';
import { loadDemoWorld } from '../demo/world.ts';
import { nhsNumber } from '../domain/nhs-number.ts';
import { type Store, transact } from '../store/db.ts';
import { getPerson, LocalRegister, putPerson, registerBirth } from './register.ts';

describe.each(engines())('the local register on %s', (engine) => {
  let store: Store;
  const register = new LocalRegister();
  beforeAll(async () => {
    store = await openTestStore(engine);
    await loadDemoWorld(store.db, new Date('2026-11-20T10:00:00Z'), { people: 100, seed: 1 });
  });
  afterAll(() => store?.close());

  it('traces found, superseded (with the replacement), invalidated and unknown numbers in one call', async () => {
    const asked = ['9990000018', '9990000085', '9990000107', '9990000239', '9990000018'].map(nhsNumber);
    const traces = await register.trace(asked, { db: store.db });
    expect(traces.size).toBe(4);
    expect(traces.get('9990000018')).toMatchObject({
      status: 'found',
      person: { familyName: 'SMITH', givenNames: ['Johnny'] },
    });
    expect(traces.get('9990000085')).toMatchObject({
      status: 'superseded',
      replacementNhsNumber: '9990000093',
      person: { nhsNumber: '9990000093', familyName: "O'BRIEN" },
    });
    expect(traces.get('9990000107')).toEqual({ status: 'invalidated', nhsNumber: '9990000107' });
    expect(traces.get('9990000239')).toEqual({ status: 'not-found', nhsNumber: '9990000239' });
  });

  it('reports restricted records as sensitive', async () => {
    const t = await register.trace([nhsNumber('9990000077')], { db: store.db });
    expect(t.get('9990000077')).toMatchObject({ status: 'found', person: { sensitive: true } });
  });

  it("gives each person's home postcode, and never a restricted person's, though the register holds it", async () => {
    const asked = ['9990000018', '9990000042', '9990000077', '9990000085'].map(nhsNumber);
    const traces = await register.trace(asked, { db: store.db });
    expect(traces.get('9990000018')).toMatchObject({ person: { postcode: 'E1 4DG' } });
    expect(traces.get('9990000042')).toMatchObject({ person: { postcode: 'E1 4DG' } });
    expect(traces.get('9990000077')).toMatchObject({ person: { sensitive: true, postcode: null } });
    expect(traces.get('9990000085')).toMatchObject({
      person: { nhsNumber: '9990000093', postcode: 'M8 9HX' },
    });
    expect((await getPerson(store.db, '9990000077'))?.postcode).toBeNull();
    const held = await store.db
      .selectFrom('person')
      .select('postcode')
      .where('nhs_number', '=', '9990000077')
      .executeTakeFirstOrThrow();
    expect(held.postcode).toBe('LS6 2QB');
  });

  it('keeps a postcode an update leaves out, and clears it on null', async () => {
    const n = nhsNumber('9990000344');
    const base = { familyName: 'GREEN', givenNames: ['Ella'], birthDate: '2020-05-06' };
    const put = (postcode?: string | null) =>
      transact(store.db, (trx) =>
        putPerson(trx, new Date(), n, postcode === undefined ? base : { ...base, postcode }),
      );
    expect((await put('LS1 3EX')).person.postcode).toBe('LS1 3EX');
    expect((await put()).person.postcode).toBe('LS1 3EX');
    expect((await put(null)).person.postcode).toBeNull();
  });

  it("registers a baby at the mother's postcode, but not at a restricted mother's", async () => {
    const now = new Date('2026-11-20T10:00:00Z');
    const birth = (mother: string, baby: string) =>
      transact(store.db, (trx) =>
        registerBirth(trx, now, {
          motherNhsNumber: nhsNumber(mother),
          nhsNumber: nhsNumber(baby),
          familyName: 'BABY',
          givenNames: ['Test'],
          birthDate: '2026-11-19',
        }),
      );
    expect((await birth('9990000026', '9990000352')).baby.postcode).toBe('B15 2TT');
    await transact(store.db, (trx) =>
      putPerson(trx, now, nhsNumber('9990000360'), {
        familyName: 'HIDDEN',
        givenNames: ['Hannah'],
        birthDate: '1995-01-01',
        sensitive: true,
        postcode: 'BS1 3NU',
      }),
    );
    const { baby } = await birth('9990000360', '9990000379');
    expect(baby.postcode).toBeNull();
    const row = await store.db
      .selectFrom('person')
      .select('postcode')
      .where('nhs_number', '=', '9990000379')
      .executeTakeFirstOrThrow();
    expect(row.postcode).toBeNull();
  });

  it('loads the demo world once: loading again adds no people', async () => {
    const again = await loadDemoWorld(store.db, new Date('2026-11-20T10:00:00Z'), { people: 100, seed: 1 });
    expect(again.people).toBe(0);
  });
});
