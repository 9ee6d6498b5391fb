import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchIdentity, normaliseName } from './matching.ts';

const registered = { familyName: "O'Brien-Smith", givenNames: ['Mary', 'Ann'], birthDate: '2014-07-09' };

describe('matching a submitted identity against demographics', () => {
  it.each([
    ['exact', registered],
    ['upper case', { ...registered, familyName: "O'BRIEN-SMITH", givenNames: ['MARY'] }],
    ['no apostrophe or hyphen', { ...registered, familyName: 'OBRIEN SMITH' }],
    ['a curly apostrophe', { ...registered, familyName: 'O’Brien-Smith' }],
    ['spaces around', { ...registered, familyName: ' o brien smith ' }],
    ['the second given name only', { ...registered, givenNames: ['Ann'] }],
    ['one matching name among others', { ...registered, givenNames: ['Polly', 'Ann'] }],
    ['given names written together', { ...registered, givenNames: ['Mary Ann'] }],
  ])('matches with %s', (_what, submitted) => {
    expect(matchIdentity(submitted, registered)).toEqual({ ok: true });
  });

  it('folds accents: Zoë is Zoe', () => {
    expect(
      matchIdentity({ ...registered, givenNames: ['Zoe'] }, { ...registered, givenNames: ['Zoë'] }),
    ).toEqual({ ok: true });
  });

  it.each([
    ['a different family name', { ...registered, familyName: 'Brien' }, 'familyName', /family name/],
    ['no matching given name', { ...registered, givenNames: ['Maria'] }, 'givenNames', /given name/],
    [
      'a given name that is only a prefix',
      { ...registered, givenNames: ['Mar'] },
      'givenNames',
      /given name/,
    ],
    ['a date of birth a day out', { ...registered, birthDate: '2014-07-08' }, 'birthDate', /date of birth/],
    ['an empty given name list', { ...registered, givenNames: [] }, 'givenNames', /given name/],
  ])('fails with %s, naming the field', (_what, submitted, field, reason) => {
    const r = matchIdentity(submitted, registered);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.mismatches[0]!.field).toBe(field);
    expect(r.mismatches[0]!.reason).toMatch(reason);
  });

  it('reports every field that fails, and never what demographics holds', () => {
    const r = matchIdentity(
      { familyName: 'Jones', givenNames: ['Tracy'], birthDate: '2007-03-14' },
      registered,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.mismatches.map((m) => m.field)).toEqual(['familyName', 'givenNames', 'birthDate']);
    const text = JSON.stringify(r);
    for (const secret of ['Brien', 'Mary', 'Ann', '2014']) expect(text).not.toContain(secret);
  });

  it('normalises names the same way everywhere', () => {
    expect(normaliseName("D'Souza-Khan")).toBe(normaliseName('DSOUZA KHAN'));
  });

  it('normalises a plain name as it would the same name with an apostrophe, an accent or a hyphen in it', () => {
    // Plain letters take a shorter path; adding any of these sends the name down the full one.
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z]{0,24}$/),
        fc.nat(24),
        fc.constantFrom("'", '’', '\u0301', '-', ' ', '.'),
        (name, at, extra) => {
          const i = Math.min(at, name.length);
          expect(normaliseName(name)).toBe(normaliseName(name.slice(0, i) + extra + name.slice(i)));
        },
      ),
    );
    expect(normaliseName('ÉMILIE')).toBe('emilie');
    expect(normaliseName('Zoë')).toBe('zoe');
  });
});
