import { describe, expect, it } from 'vitest';
import {
  DEFAULT_OFFICE_HOURS,
  describeOfficeHours,
  englandBankHolidays,
  invalidOfficeHours,
  isEnglandBankHoliday,
  isOutOfHours,
} from './office-hours.ts';

describe('England bank holidays', () => {
  it('lists 2025 exactly', () => {
    expect(englandBankHolidays(2025)).toEqual([
      '2025-01-01',
      '2025-04-18',
      '2025-04-21',
      '2025-05-05',
      '2025-05-26',
      '2025-08-25',
      '2025-12-25',
      '2025-12-26',
    ]);
  });

  it('substitutes weekend holidays', () => {
    // 2026: Boxing Day Saturday -> Monday 28th.
    expect(englandBankHolidays(2026).slice(-2)).toEqual(['2026-12-25', '2026-12-28']);
    // 2027 and 2021: Christmas Saturday, Boxing Day Sunday -> 27th and 28th.
    expect(englandBankHolidays(2027).slice(-2)).toEqual(['2027-12-27', '2027-12-28']);
    expect(englandBankHolidays(2021).slice(-2)).toEqual(['2021-12-27', '2021-12-28']);
    expect(englandBankHolidays(2021)[0]).toBe('2021-01-01');
    // 2022: Christmas Sunday -> Boxing Day Monday 26th, Christmas substitute Tuesday 27th.
    expect(englandBankHolidays(2022).slice(-2)).toEqual(['2022-12-26', '2022-12-27']);
    // New Year Saturday (2028) and Sunday (2023).
    expect(englandBankHolidays(2028)[0]).toBe('2028-01-03');
    expect(englandBankHolidays(2023)[0]).toBe('2023-01-02');
  });

  it('applies the one-off changes', () => {
    const y2022 = englandBankHolidays(2022);
    expect(y2022).toEqual(expect.arrayContaining(['2022-06-02', '2022-06-03', '2022-09-19']));
    expect(y2022).not.toContain('2022-05-30');
    expect(y2022).toHaveLength(10);
    expect(englandBankHolidays(2023)).toContain('2023-05-08');
    expect(englandBankHolidays(2020)).toContain('2020-05-08');
    expect(englandBankHolidays(2020)).not.toContain('2020-05-04');
  });

  it('answers for a single date', () => {
    expect(isEnglandBankHoliday('2026-04-03')).toBe(true); // Good Friday 2026
    expect(isEnglandBankHoliday('2026-04-06')).toBe(true); // Easter Monday 2026
    expect(isEnglandBankHoliday('2026-04-07')).toBe(false);
  });
});

describe('isOutOfHours', () => {
  const h = DEFAULT_OFFICE_HOURS;
  const at = (s: string) => new Date(s);

  it('uses the opening times on a winter (GMT) weekday', () => {
    expect(isOutOfHours(at('2026-01-13T10:00:00Z'), h)).toBe(false); // Tuesday
    expect(isOutOfHours(at('2026-01-13T09:00:00Z'), h)).toBe(false);
    expect(isOutOfHours(at('2026-01-13T08:59:00Z'), h)).toBe(true);
    expect(isOutOfHours(at('2026-01-13T17:00:00Z'), h)).toBe(true);
  });

  it('is out of hours at weekends and on bank holidays', () => {
    expect(isOutOfHours(at('2026-01-17T10:00:00Z'), h)).toBe(true); // Saturday
    expect(isOutOfHours(at('2025-12-25T10:00:00Z'), h)).toBe(true); // Christmas Day
    // 23:30 UTC on Sunday 3 May 2026 is 00:30 BST on the early May bank holiday.
    expect(
      isOutOfHours(at('2026-05-03T23:30:00Z'), { ...h, days: [1, 2, 3, 4, 5, 6, 7], open: '00:00' }),
    ).toBe(true);
  });

  it('reads the clock in BST in summer', () => {
    expect(isOutOfHours(at('2026-07-14T08:30:00Z'), h)).toBe(false); // 09:30 BST
    expect(isOutOfHours(at('2026-07-14T07:30:00Z'), h)).toBe(true); // 08:30 BST
    expect(isOutOfHours(at('2026-07-14T16:30:00Z'), h)).toBe(true); // 17:30 BST
    const everyDay = { ...h, days: [1, 2, 3, 4, 5, 6, 7] };
    expect(isOutOfHours(at('2026-03-28T08:30:00Z'), everyDay)).toBe(true); // 08:30 GMT
    expect(isOutOfHours(at('2026-03-29T08:30:00Z'), everyDay)).toBe(false); // 09:30 BST, clocks changed
  });

  it('honours custom days', () => {
    expect(isOutOfHours(at('2026-01-16T10:00:00Z'), { ...h, days: [1, 2, 3, 4] })).toBe(true); // Friday
    expect(isOutOfHours(at('2026-01-15T10:00:00Z'), { ...h, days: [1, 2, 3, 4] })).toBe(false);
  });
});

describe('invalidOfficeHours', () => {
  it.each([
    [DEFAULT_OFFICE_HOURS, null],
    [{ days: [6, 7], open: '00:00', close: '23:59' }, null],
    [null, 'days'],
    [{ days: [], open: '09:00', close: '17:00' }, 'days'],
    [{ days: [1, 1], open: '09:00', close: '17:00' }, 'days'],
    [{ days: [0], open: '09:00', close: '17:00' }, 'days'],
    [{ days: [1.5], open: '09:00', close: '17:00' }, 'days'],
    [{ days: ['1'], open: '09:00', close: '17:00' }, 'days'],
    [{ days: [1], open: '9:00', close: '17:00' }, 'open'],
    [{ days: [1], open: '24:00', close: '17:00' }, 'open'],
    [{ days: [1], open: '09:00', close: '17:60' }, 'close'],
    [{ days: [1], open: '09:00', close: '09:00' }, 'close'],
    [{ days: [1], open: '09:00', close: '08:00' }, 'close'],
  ])('%j -> %s', (v, bad) => {
    expect(invalidOfficeHours(v)).toBe(bad);
  });
});

describe('describeOfficeHours', () => {
  it('names runs and lists', () => {
    expect(describeOfficeHours(DEFAULT_OFFICE_HOURS)).toBe('Monday to Friday, 09:00 to 17:00');
    expect(describeOfficeHours({ days: [5, 1, 3], open: '10:00', close: '16:00' })).toBe(
      'Monday, Wednesday and Friday, 10:00 to 16:00',
    );
    expect(describeOfficeHours({ days: [1, 2, 3, 5], open: '09:00', close: '17:00' })).toBe(
      'Monday to Wednesday and Friday, 09:00 to 17:00',
    );
  });
});
