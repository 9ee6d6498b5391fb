import { describe, expect, it } from 'vitest';
import { isAdultOn, isVisibleOn, type PlanDates, type SubjectDates, visibleUntil } from './plans.ts';

const child: SubjectDates = { birthDate: '2015-06-10', expectedDeliveryDate: null };

describe('visibility of CPP and LAC (CPIS.md §5)', () => {
  const ended: PlanDates = { type: 'CPP', startDate: '2025-01-01', endDate: '2026-02-01' };

  it.each([
    ['the day before the start date', '2024-12-31', false],
    ['the start date', '2025-01-01', true],
    ['the end date', '2026-02-01', true],
    ['end date + 365 days (the last visible day)', '2027-02-01', true],
    ['end date + 366 days', '2027-02-02', false],
  ])('an ended plan on %s: visible %s', (_w, today, visible) => {
    expect(isVisibleOn(ended, child, today)).toBe(visible);
  });

  it('stays visible with no end date, until the subject turns 18', () => {
    const open: PlanDates = { type: 'LAC', startDate: '2020-01-01', endDate: null };
    expect(visibleUntil(open, child)).toBe('2033-06-09');
    expect(isVisibleOn(open, child, '2030-01-01')).toBe(true);
    expect(isVisibleOn(open, child, '2033-06-09')).toBe(true); // the day before the 18th birthday
    expect(isVisibleOn(open, child, '2033-06-10')).toBe(false); // the 18th birthday
  });

  it('stops at 18 even when end date + 365 would be later', () => {
    const p: PlanDates = { type: 'CPP', startDate: '2032-01-01', endDate: '2033-01-01' };
    expect(visibleUntil(p, child)).toBe('2033-06-09');
  });

  it('counts a 29 February birthday as 1 March in common years', () => {
    const leapling: SubjectDates = { birthDate: '2008-02-29', expectedDeliveryDate: null };
    const p: PlanDates = { type: 'CPP', startDate: '2020-01-01', endDate: null };
    expect(visibleUntil(p, leapling)).toBe('2026-02-28');
    expect(isAdultOn('2008-02-29', '2026-02-28')).toBe(false);
    expect(isAdultOn('2008-02-29', '2026-03-01')).toBe(true);
  });
});

describe('visibility of UCPP', () => {
  const mother: SubjectDates = { birthDate: '2007-03-14', expectedDeliveryDate: '2027-01-20' };
  const ucpp: PlanDates = { type: 'UCPP', startDate: '2026-09-12', endDate: null };

  it("is visible until 28 days after the expected delivery date, whatever the mother's age", () => {
    expect(visibleUntil(ucpp, mother)).toBe('2027-02-17');
    expect(isVisibleOn(ucpp, mother, '2027-02-17')).toBe(true);
    expect(isVisibleOn(ucpp, mother, '2027-02-18')).toBe(false);
  });

  it('ends earlier at end date + 365 when that comes first', () => {
    const m: SubjectDates = { birthDate: '2000-01-01', expectedDeliveryDate: '2028-06-01' };
    const p: PlanDates = { type: 'UCPP', startDate: '2026-01-01', endDate: '2026-03-01' };
    expect(visibleUntil(p, m)).toBe('2027-03-01');
  });
});
