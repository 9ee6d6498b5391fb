import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, ageOn, birthdayOf, isIsoDate, londonDateOf, londonTime } from './dates.ts';

describe('calendar dates', () => {
  it.each([
    ['2024-02-29', true],
    ['2027-02-29', false],
    ['2027-02-30', false],
    ['2026-13-01', false],
    ['2026-04-31', false],
    ['2026-4-1', false],
    ['2026-11-22T00:00:00Z', false],
    ['', false],
  ])('%s is a real date: %s', (s, ok) => {
    expect(isIsoDate(s)).toBe(ok);
  });

  it('adds days across month, year and leap boundaries', () => {
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2026-12-31', 365)).toBe('2027-12-31');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });

  it('counts ages and birthdays, including 29 February', () => {
    expect(ageOn('2009-12-02', '2027-12-01')).toBe(17);
    expect(ageOn('2009-12-02', '2027-12-02')).toBe(18);
    expect(birthdayOf('2008-02-29', 18)).toBe('2026-03-01');
    expect(birthdayOf('2008-02-29', 16)).toBe('2024-02-29');
  });

  it('knows the day in England, in winter and in summer time', () => {
    expect(londonDateOf(new Date('2026-11-22T23:30:00Z'))).toBe('2026-11-22');
    expect(londonDateOf(new Date('2026-07-01T23:30:00Z'))).toBe('2026-07-02');
    expect(londonTime('2026-07-02', 6, 0).toISOString()).toBe('2026-07-02T05:00:00.000Z');
    expect(londonTime('2026-12-02', 6, 0).toISOString()).toBe('2026-12-02T06:00:00.000Z');
  });

  it('gives the day in England for any instant, in any order, around the clocks changing too', () => {
    const england = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', dateStyle: 'short' });
    // Instants near midnight and the changes of the clocks, where the day turns; and anywhere.
    const edges = [
      '2026-03-29T00:00:00Z',
      '2026-03-29T01:00:00Z',
      '2026-10-24T23:00:00Z',
      '2026-10-25T01:00:00Z',
    ];
    const instant = fc.oneof(
      fc.date({
        min: new Date('1900-01-01T00:00:00Z'),
        max: new Date('2100-01-01T00:00:00Z'),
        noInvalidDate: true,
      }),
      fc
        .tuple(fc.constantFrom(...edges), fc.integer({ min: -3_600_000, max: 3_600_000 }))
        .map(([edge, ms]) => new Date(Date.parse(edge) + ms)),
    );
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 20 }), (instants) => {
        for (const at of instants) expect(londonDateOf(at)).toBe(england.format(at));
      }),
      { numRuns: 300 },
    );
  });
});
