import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, openTestStore } from '../../test/engines.ts';
import { loadDemoWorld } from '../demo/world.ts';
import { nhsNumber } from '../domain/nhs-number.ts';
import type { Store } from '../store/db.ts';
import { LocalRegister } from './register.ts';

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

  it('loads the demo world once: loading again adds no people', async () => {
    const again = await loadDemoWorld(store.db, new Date('2026-11-20T10:00:00Z'), { people: 100, seed: 1 });
    expect(again.people).toBe(0);
  });
});
