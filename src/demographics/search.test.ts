import { describe, expect, it } from 'vitest';
import {
  type DemographicsFormInput,
  normalisePostcode,
  normalisePostcodeQuery,
  parseDemographicsForm,
} from './search.ts';

const TODAY = '2026-11-20';
const JACK: DemographicsFormInput = {
  familyName: 'Williams',
  givenName: 'Jack',
  day: '4',
  month: '4',
  year: '2019',
};

function errorsOf(input: DemographicsFormInput, today = TODAY) {
  const r = parseDemographicsForm(input, today);
  if (r.ok) throw new Error(`expected errors, got ${JSON.stringify(r.query)}`);
  return r.errors;
}

function queryOf(input: DemographicsFormInput, today = TODAY) {
  const r = parseDemographicsForm(input, today);
  if (!r.ok) throw new Error(`expected a query, got ${JSON.stringify(r.errors)}`);
  return r.query;
}

describe('parseDemographicsForm', () => {
  it('makes a query of a complete form, trimmed, with a zero-padded date', () => {
    expect(
      queryOf({
        familyName: '  Williams ',
        givenName: ' Jack',
        day: ' 4 ',
        month: '04',
        year: '2019 ',
        gender: 'male',
        postcode: ' ls9 7he ',
      }),
    ).toEqual({
      familyName: 'Williams',
      givenName: 'Jack',
      birthDate: '2019-04-04',
      gender: 'male',
      postcode: 'LS9 7HE',
    });
  });

  it('leaves gender and postcode out when they are empty or absent', () => {
    expect(queryOf({ ...JACK, gender: '', postcode: '   ' })).toEqual({
      familyName: 'Williams',
      givenName: 'Jack',
      birthDate: '2019-04-04',
    });
    expect(queryOf(JACK)).not.toHaveProperty('gender');
  });

  it('asks for each missing name', () => {
    expect(errorsOf({ ...JACK, familyName: '' })).toEqual([
      { field: 'familyName', message: 'Enter the family name' },
    ]);
    expect(errorsOf({ ...JACK, givenName: '   ' })).toEqual([
      { field: 'givenName', message: 'Enter the given name' },
    ]);
  });

  it('lists every problem at once, in form order', () => {
    expect(
      errorsOf({
        familyName: '',
        givenName: 'J4ck',
        day: '',
        month: '',
        year: '',
        gender: 'M',
        postcode: 'nowhere',
      }),
    ).toEqual([
      { field: 'familyName', message: 'Enter the family name' },
      {
        field: 'givenName',
        message: 'Given name must only include letters, spaces, hyphens and apostrophes',
      },
      { field: 'birthDate', message: 'Enter a date of birth' },
      { field: 'gender', message: 'Select a gender' },
      {
        field: 'postcode',
        message: 'Enter a real postcode, like B15 2TT, or the start of one followed by *',
      },
    ]);
  });

  it('takes letters of any script, spaces, hyphens and apostrophes, and collapses inner spaces', () => {
    expect(queryOf({ ...JACK, familyName: "O'Brien", givenName: 'Zoë' })).toMatchObject({
      familyName: "O'Brien",
      givenName: 'Zoë',
    });
    expect(queryOf({ ...JACK, familyName: 'Kociński', givenName: 'Anne-Marie' })).toMatchObject({
      familyName: 'Kociński',
      givenName: 'Anne-Marie',
    });
    expect(queryOf({ ...JACK, familyName: 'Smith   Jones', givenName: 'Mary Ann' })).toMatchObject({
      familyName: 'Smith Jones',
      givenName: 'Mary Ann',
    });
    expect(queryOf({ ...JACK, familyName: 'D’Souza' }).familyName).toBe('D’Souza');
  });

  it('refuses digits and symbols in names', () => {
    for (const bad of ['Smith2', 'Smith!', '<b>', 'Sm*th', 'Smith**', '*', ' - ', "'"]) {
      expect(errorsOf({ ...JACK, familyName: bad })).toEqual([
        {
          field: 'familyName',
          message: 'Family name must only include letters, spaces, hyphens and apostrophes',
        },
      ]);
    }
  });

  it('takes a trailing * as a wildcard, with at least one letter before it', () => {
    expect(queryOf({ ...JACK, familyName: 'Wil*', givenName: 'J*' })).toMatchObject({
      familyName: 'Wil*',
      givenName: 'J*',
    });
    expect(queryOf({ ...JACK, familyName: 'Smith- *' }).familyName).toBe('Smith-*');
    expect(errorsOf({ ...JACK, givenName: '*' })).toEqual([
      {
        field: 'givenName',
        message: 'Given name must only include letters, spaces, hyphens and apostrophes',
      },
    ]);
  });

  it('refuses names longer than 100 characters', () => {
    expect(queryOf({ ...JACK, familyName: 'A'.repeat(100) }).familyName).toHaveLength(100);
    expect(errorsOf({ ...JACK, familyName: 'A'.repeat(101), givenName: 'B'.repeat(101) })).toEqual([
      { field: 'familyName', message: 'Family name must be 100 characters or fewer' },
      { field: 'givenName', message: 'Given name must be 100 characters or fewer' },
    ]);
  });

  it('refuses values that are not text (a repeated form field arrives as a list)', () => {
    expect(errorsOf({ ...JACK, familyName: ['A', 'B'], gender: { x: 1 }, postcode: ['B15 2TT'] })).toEqual([
      {
        field: 'familyName',
        message: 'Family name must only include letters, spaces, hyphens and apostrophes',
      },
      { field: 'gender', message: 'Select a gender' },
      {
        field: 'postcode',
        message: 'Enter a real postcode, like B15 2TT, or the start of one followed by *',
      },
    ]);
  });

  describe('date of birth', () => {
    const dob = (day: unknown, month: unknown, year: unknown, today = TODAY) =>
      parseDemographicsForm({ ...JACK, day, month, year }, today);

    it('asks for a date when none is given', () => {
      expect(dob('', '', '')).toEqual({
        ok: false,
        errors: [{ field: 'birthDate', message: 'Enter a date of birth' }],
      });
      expect(dob(undefined, null, ' ')).toEqual({
        ok: false,
        errors: [{ field: 'birthDate', message: 'Enter a date of birth' }],
      });
    });

    it('names the missing parts', () => {
      expect(errorsOf({ ...JACK, month: '' })).toEqual([
        { field: 'birthDate', part: 'month', message: 'Date of birth must include a month' },
      ]);
      expect(errorsOf({ ...JACK, day: '' })).toEqual([
        { field: 'birthDate', part: 'day', message: 'Date of birth must include a day' },
      ]);
      expect(errorsOf({ ...JACK, year: '' })).toEqual([
        { field: 'birthDate', part: 'year', message: 'Date of birth must include a year' },
      ]);
      expect(errorsOf({ ...JACK, month: '', year: '' })).toEqual([
        { field: 'birthDate', part: 'month', message: 'Date of birth must include a month and year' },
      ]);
    });

    it('refuses dates that do not exist', () => {
      expect(errorsOf({ ...JACK, day: '32' })).toEqual([
        { field: 'birthDate', part: 'day', message: 'Date of birth must be a real date' },
      ]);
      expect(errorsOf({ ...JACK, month: '13' })).toEqual([
        { field: 'birthDate', part: 'month', message: 'Date of birth must be a real date' },
      ]);
      expect(errorsOf({ ...JACK, day: 'x' })).toEqual([
        { field: 'birthDate', part: 'day', message: 'Date of birth must be a real date' },
      ]);
      expect(errorsOf({ ...JACK, day: '31', month: '4' })).toEqual([
        { field: 'birthDate', part: 'day', message: 'Date of birth must be a real date' },
      ]);
      expect(errorsOf({ ...JACK, year: '20x9' })).toEqual([
        { field: 'birthDate', part: 'year', message: 'Date of birth must be a real date' },
      ]);
    });

    it('takes 29 February in a leap year only', () => {
      expect(dob('29', '2', '2024')).toMatchObject({ ok: true, query: { birthDate: '2024-02-29' } });
      expect(dob('29', '2', '2023')).toEqual({
        ok: false,
        errors: [{ field: 'birthDate', part: 'day', message: 'Date of birth must be a real date' }],
      });
    });

    it('wants a 4-digit year', () => {
      for (const year of ['19', '219', '20190']) {
        expect(errorsOf({ ...JACK, year })).toEqual([
          { field: 'birthDate', part: 'year', message: 'Year must include 4 numbers' },
        ]);
      }
    });

    it('refuses a date in the future, and takes today (the London date passed in)', () => {
      expect(dob('21', '11', '2026')).toEqual({
        ok: false,
        errors: [{ field: 'birthDate', message: 'Date of birth must be today or in the past' }],
      });
      expect(dob('20', '11', '2026')).toMatchObject({ ok: true, query: { birthDate: '2026-11-20' } });
    });

    it('takes a month by name and numbers typed as numbers', () => {
      expect(dob('4', 'April', '2019')).toMatchObject({ ok: true, query: { birthDate: '2019-04-04' } });
      expect(dob('4', 'apr', '2019')).toMatchObject({ ok: true, query: { birthDate: '2019-04-04' } });
      expect(dob(4, 4, 2019)).toMatchObject({ ok: true, query: { birthDate: '2019-04-04' } });
    });
  });

  it('takes the four PDS genders, in any case, and nothing else', () => {
    for (const g of ['male', 'female', 'other', 'unknown']) {
      expect(queryOf({ ...JACK, gender: g }).gender).toBe(g);
    }
    expect(queryOf({ ...JACK, gender: 'Female' }).gender).toBe('female');
    expect(errorsOf({ ...JACK, gender: 'm' })).toEqual([{ field: 'gender', message: 'Select a gender' }]);
  });

  it('normalises a full postcode and takes the start of one followed by *', () => {
    expect(queryOf({ ...JACK, postcode: 'b152tt' }).postcode).toBe('B15 2TT');
    expect(queryOf({ ...JACK, postcode: 'SW1A 1AA' }).postcode).toBe('SW1A 1AA');
    expect(queryOf({ ...JACK, postcode: 'b*' }).postcode).toBe('B*');
    expect(queryOf({ ...JACK, postcode: 'B15*' }).postcode).toBe('B15*');
    expect(queryOf({ ...JACK, postcode: 'ls1 *' }).postcode).toBe('LS1*');
    for (const bad of ['B15', '*', 'B15 2T', '152TT', 'B15 2TT*', 'B1*5', 'ABC*', 'B15 2TTT']) {
      expect(errorsOf({ ...JACK, postcode: bad })).toEqual([
        {
          field: 'postcode',
          message: 'Enter a real postcode, like B15 2TT, or the start of one followed by *',
        },
      ]);
    }
  });
});

describe('normalisePostcode', () => {
  it('upper-cases and puts one space before the inward code', () => {
    expect(normalisePostcode('b15 2tt')).toBe('B15 2TT');
    expect(normalisePostcode('B152TT')).toBe('B15 2TT');
    expect(normalisePostcode('  e1   1bb ')).toBe('E1 1BB');
    expect(normalisePostcode('ec1a1bb')).toBe('EC1A 1BB');
    expect(normalisePostcode('W1A 0AX')).toBe('W1A 0AX');
  });

  it('answers null for anything but a full postcode', () => {
    for (const bad of ['', 'B15', 'B15*', 'B15 2T', '75001', 'B15-2TT', 'BB15 2TT X']) {
      expect(normalisePostcode(bad)).toBeNull();
    }
  });

  it('is what the form uses for full postcodes; prefixes need the *', () => {
    expect(normalisePostcodeQuery('ls97he')).toBe('LS9 7HE');
    expect(normalisePostcodeQuery('LS*')).toBe('LS*');
    expect(normalisePostcodeQuery('LS')).toBeNull();
  });
});
