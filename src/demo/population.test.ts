import { describe, expect, it } from 'vitest';
import { normalisePostcode } from '../demographics/search.ts';
import { checkNhsNumber } from '../domain/nhs-number.ts';
import {
  DEMO_OUTWARD_CODES,
  generatePopulation,
  STORY_BABY_NHS_NUMBER,
  STORY_PEOPLE,
  storyRows,
} from './population.ts';

/** The first people seed 42 gave before postcodes were added (they must not move). */
const FIRST_OF_SEED_42 = [
  ['9991000003', "O'CONNOR", ['Lola'], '1982-07-29', 'female'],
  ['9991000011', "O'CONNOR", ['Rohan', 'Ayaan'], '2021-08-15', 'male'],
  ['9991000038', 'DOUGLAS', ['Matilda'], '2003-06-12', 'female'],
];

describe('the synthetic population', () => {
  const people = [...generatePopulation(3000, 42)];

  it('is deterministic for a seed and differs between seeds', () => {
    expect([...generatePopulation(3000, 42)]).toEqual(people);
    expect([...generatePopulation(50, 43)].map((p) => p.family_name)).not.toEqual(
      people.slice(0, 50).map((p) => p.family_name),
    );
  });

  it('uses only valid NHS numbers from the 999 test range, each once', () => {
    const all = [...storyRows(), ...people].map((p) => p.nhs_number);
    expect(new Set(all).size).toBe(all.length);
    for (const n of all) {
      expect(n.startsWith('999')).toBe(true);
      expect(checkNhsNumber(n).ok).toBe(true);
    }
    expect(all).not.toContain(STORY_BABY_NHS_NUMBER);
  });

  it('has the requested size, mostly children, with mothers, babies and a few inactive or restricted records', () => {
    expect(people).toHaveLength(3000);
    const children = people.filter((p) => p.birth_date > '2008-11-01');
    expect(children.length / people.length).toBeGreaterThan(0.5);
    const babies = people.filter((p) => p.mother_nhs_number !== null);
    expect(babies.length).toBeGreaterThan(20);
    expect(people.filter((p) => p.status === 'superseded').length).toBeGreaterThan(0);
    expect(people.filter((p) => p.sensitive).length).toBeGreaterThan(0);
  });

  it('orders rows so mothers and replacements come before the rows that point at them', () => {
    const seen = new Set<string>();
    for (const p of [...storyRows(), ...people]) {
      if (p.mother_nhs_number) expect(seen.has(p.mother_nhs_number)).toBe(true);
      if (p.superseded_by) expect(seen.has(p.superseded_by)).toBe(true);
      seen.add(p.nhs_number);
    }
  });

  it('keeps the storyboard people the README names', () => {
    const byNumber = new Map(STORY_PEOPLE.map((p) => [p.nhsNumber, p]));
    expect(byNumber.get('9990000018')).toMatchObject({
      familyName: 'SMITH',
      givenNames: ['Johnny'],
      birthDate: '2021-05-02',
    });
    expect(byNumber.get('9990000026')).toMatchObject({
      familyName: 'JONES',
      givenNames: ['Tracy'],
      birthDate: '2007-03-14',
    });
    expect(byNumber.get('9990000034')).toMatchObject({
      familyName: 'BROWN',
      givenNames: ['Lucy'],
      birthDate: '2014-07-09',
    });
  });

  it('gives everyone a well-formed home postcode in a demo town, restricted people included (held, never shown)', () => {
    for (const p of [...storyRows(), ...people]) {
      expect(p.postcode, p.nhs_number).not.toBeNull();
      expect(normalisePostcode(p.postcode!), p.nhs_number).toBe(p.postcode);
    }
    for (const p of people) expect(DEMO_OUTWARD_CODES).toContain(p.postcode!.split(' ')[0]);
    expect(people.filter((p) => p.sensitive).every((p) => p.postcode !== null)).toBe(true);
    expect(DEMO_OUTWARD_CODES).toEqual(expect.arrayContaining(['B15', 'E11', 'ST4', 'LS9']));
  });

  it("gives a household one postcode: babies their mother's, old numbers their replacement's", () => {
    const byNumber = new Map(people.map((p) => [p.nhs_number, p]));
    let babies = 0;
    for (const p of people) {
      if (p.mother_nhs_number) {
        babies++;
        expect(p.postcode).toBe(byNumber.get(p.mother_nhs_number)!.postcode);
      }
      if (p.superseded_by) expect(p.postcode).toBe(byNumber.get(p.superseded_by)!.postcode);
    }
    expect(babies).toBeGreaterThan(20);
    // Households differ: many postcodes, not one.
    expect(new Set(people.map((p) => p.postcode)).size).toBeGreaterThan(500);
  });

  it('adds postcodes without changing the people a seed gives (names, numbers, dates as before)', () => {
    // The first people of seed 42, as the population was before postcodes were added.
    expect(
      people.slice(0, 3).map((p) => [p.nhs_number, p.family_name, p.given_names, p.birth_date, p.gender]),
    ).toEqual(FIRST_OF_SEED_42);
  });

  it('keeps the storyboard postcodes fixed: Johnny and his mother share a London one', () => {
    const byNumber = new Map(storyRows().map((p) => [p.nhs_number, p]));
    expect(byNumber.get('9990000026')?.postcode).toBe('B15 2TT');
    expect(byNumber.get('9990000018')?.postcode).toBe(byNumber.get('9990000042')?.postcode);
    expect(byNumber.get('9990000018')?.postcode).toMatch(/^E1 /);
  });

  it('has two children with the same name and date of birth in different towns, for a search that must ask to refine', () => {
    const jacks = STORY_PEOPLE.filter((p) => p.familyName === 'WILLIAMS' && p.givenNames[0] === 'Jack');
    expect(jacks.map((p) => [p.nhsNumber, p.birthDate, p.postcode])).toEqual([
      ['9990000220', '2019-04-04', 'LS9 7HE'],
      ['9990000298', '2019-04-04', 'BS2 8JQ'],
    ]);
    for (const j of jacks) expect(j.role).toMatch(/same name and date of birth.*refine/);
  });
});
