import { describe, expect, it } from 'vitest';
import { checkNhsNumber } from '../domain/nhs-number.ts';
import { generatePopulation, STORY_BABY_NHS_NUMBER, STORY_PEOPLE, storyRows } from './population.ts';

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
});
