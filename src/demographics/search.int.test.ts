import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, openTestStore } from '../../test/engines.ts';
import { loadDemoWorld } from '../demo/world.ts';
import { nhsNumber } from '../domain/nhs-number.ts';
import { type Store, transact } from '../store/db.ts';
import { invalidatePerson, LocalRegister, putPerson, supersedePerson } from './register.ts';
import type { DemographicsQuery } from './types.ts';

const NOW = new Date('2026-11-20T10:00:00Z');
const TRACY: DemographicsQuery = { familyName: 'JONES', givenName: 'Tracy', birthDate: '2007-03-14' };
/** The two story children called Jack WILLIAMS, born 2019-04-04: one in Leeds, one in Bristol. */
const JACK: DemographicsQuery = { familyName: 'Williams', givenName: 'Jack', birthDate: '2019-04-04' };
const LEEDS_JACK = '9990000220';
const BRISTOL_JACK = '9990000298';

describe.each(engines())('searching the local register by demographics on %s', (engine) => {
  let store: Store;
  const register = new LocalRegister();
  const search = (query: DemographicsQuery) => register.search(query, { db: store.db });

  beforeAll(async () => {
    store = await openTestStore(engine);
    await loadDemoWorld(store.db, NOW, { people: 100, seed: 1 });
  });
  afterAll(() => store?.close());

  it('answers one person, with the postcode, when one fits', async () => {
    expect(await search(TRACY)).toEqual({
      status: 'one',
      person: {
        nhsNumber: '9990000026',
        familyName: 'JONES',
        givenNames: ['Tracy'],
        birthDate: '2007-03-14',
        gender: 'female',
        sensitive: false,
        deathDate: null,
        motherNhsNumber: null,
        postcode: 'B15 2TT',
        status: 'active',
        supersededBy: null,
        inactiveSince: null,
        createdAt: expect.any(Date),
        updatedAt: expect.any(Date),
      },
    });
  });

  it('answers none when nobody fits', async () => {
    expect(await search({ ...TRACY, birthDate: '2007-03-15' })).toEqual({ status: 'none' });
    expect(await search({ ...TRACY, givenName: 'Stacy' })).toEqual({ status: 'none' });
    expect(await search({ ...TRACY, familyName: 'JONESY' })).toEqual({ status: 'none' });
  });

  it('answers several, never a list, for two children with the same name and date of birth', async () => {
    expect(await search(JACK)).toEqual({ status: 'several' });
    expect(await search({ ...JACK, gender: 'male' })).toEqual({ status: 'several' });
  });

  it('tells the two apart by postcode, full (with or without its space) or the start of one', async () => {
    const one = async (query: DemographicsQuery) => {
      const r = await search(query);
      return r.status === 'one' ? r.person.nhsNumber : r.status;
    };
    expect(await one({ ...JACK, postcode: 'LS9 7HE' })).toBe(LEEDS_JACK);
    expect(await one({ ...JACK, postcode: 'LS97HE' })).toBe(LEEDS_JACK);
    expect(await one({ ...JACK, postcode: 'BS2 8JQ' })).toBe(BRISTOL_JACK);
    expect(await one({ ...JACK, postcode: 'LS*' })).toBe(LEEDS_JACK);
    expect(await one({ ...JACK, postcode: 'BS2*' })).toBe(BRISTOL_JACK);
    expect(await one({ ...JACK, postcode: 'LS9 7HF' })).toBe('none');
    expect(await one({ ...JACK, postcode: 'M*' })).toBe('none');
  });

  it('compares names as matching does (case, spaces, hyphens, apostrophes, accents), any given name', async () => {
    expect(await search({ ...TRACY, familyName: 'jones', givenName: 'TRACY' })).toMatchObject({
      status: 'one',
    });
    expect(
      await search({ familyName: 'Smith Jones', givenName: 'Noah', birthDate: '2017-08-14' }),
    ).toMatchObject({ status: 'one', person: { nhsNumber: '9990000131' } });
    expect(
      await search({ familyName: 'OBrien', givenName: 'Olivér', birthDate: '2012-11-05' }),
    ).toMatchObject({
      status: 'one',
    });
    const mason = { familyName: 'Hughes', birthDate: '2018-09-23' };
    for (const givenName of ['Mason', 'James', 'Mason James', 'Jam*']) {
      expect(await search({ ...mason, givenName })).toMatchObject({
        status: 'one',
        person: { nhsNumber: '9990000069' },
      });
    }
  });

  it('takes a trailing * as "starts with" on names', async () => {
    expect(await search({ ...TRACY, familyName: 'JON*', givenName: 'Tra*' })).toMatchObject({
      status: 'one',
      person: { nhsNumber: '9990000026' },
    });
    expect(await search({ ...TRACY, familyName: 'J*', givenName: 'T*' })).toMatchObject({ status: 'one' });
    expect(await search({ ...JACK, familyName: 'Will*', givenName: 'J*' })).toEqual({ status: 'several' });
    expect(await search({ ...TRACY, familyName: 'ONES*' })).toEqual({ status: 'none' });
    // Without the *, a prefix is not enough.
    expect(await search({ ...TRACY, familyName: 'JON' })).toEqual({ status: 'none' });
  });

  it('narrows by gender when asked', async () => {
    expect(await search({ ...TRACY, gender: 'female' })).toMatchObject({ status: 'one' });
    expect(await search({ ...TRACY, gender: 'male' })).toEqual({ status: 'none' });
    expect(await search({ ...JACK, gender: 'female' })).toEqual({ status: 'none' });
  });

  it('finds a restricted person without their postcode, and never with a postcode in the search', async () => {
    const amelia: DemographicsQuery = { familyName: 'CLARKE', givenName: 'Amelia', birthDate: '2016-01-30' };
    expect(await search(amelia)).toMatchObject({
      status: 'one',
      person: { nhsNumber: '9990000077', sensitive: true, postcode: null },
    });
    // The register holds her postcode (as PDS does); a search with it still finds nobody.
    const row = await store.db
      .selectFrom('person')
      .select('postcode')
      .where('nhs_number', '=', '9990000077')
      .executeTakeFirstOrThrow();
    expect(row.postcode).toBe('LS6 2QB');
    expect(await search({ ...amelia, postcode: 'LS6 2QB' })).toEqual({ status: 'none' });
    expect(await search({ ...amelia, postcode: 'LS*' })).toEqual({ status: 'none' });
    const traced = await register.trace([nhsNumber('9990000077')], { db: store.db });
    expect(traced.get('9990000077')).toMatchObject({ status: 'found', person: { postcode: null } });
  });

  it('never answers a superseded number: the person is found under the surviving one', async () => {
    // 9990000085 (superseded) and 9990000093 both hold Oliver O'BRIEN, born 2012-11-05.
    const oliver: DemographicsQuery = { familyName: "O'Brien", givenName: 'Oliver', birthDate: '2012-11-05' };
    expect(await search(oliver)).toMatchObject({ status: 'one', person: { nhsNumber: '9990000093' } });
    expect(await search({ ...oliver, postcode: 'M8 9HX' })).toMatchObject({
      status: 'one',
      person: { nhsNumber: '9990000093', status: 'active' },
    });
  });

  it('never answers an invalidated number', async () => {
    expect(await search({ familyName: 'TAYLOR', givenName: 'Ruby', birthDate: '2019-06-17' })).toEqual({
      status: 'none',
    });
  });

  it('follows merges and invalidations made after loading', async () => {
    const mia: DemographicsQuery = { familyName: 'FORD', givenName: 'Mia', birthDate: '2021-02-03' };
    await transact(store.db, (trx) =>
      putPerson(trx, NOW, nhsNumber('9990000328'), {
        familyName: 'FORD',
        givenNames: ['Mia'],
        birthDate: '2021-02-03',
        gender: 'female',
        postcode: 'NE1 4LP',
      }),
    );
    expect(await search(mia)).toMatchObject({ status: 'one', person: { nhsNumber: '9990000328' } });
    await transact(store.db, (trx) =>
      supersedePerson(trx, NOW, nhsNumber('9990000328'), nhsNumber('9990000336')),
    );
    expect(await search({ ...mia, postcode: 'NE1 4LP' })).toMatchObject({
      status: 'one',
      person: { nhsNumber: '9990000336', postcode: 'NE1 4LP' },
    });
    await transact(store.db, (trx) => invalidatePerson(trx, NOW, nhsNumber('9990000336')));
    expect(await search(mia)).toEqual({ status: 'none' });
  });
});
