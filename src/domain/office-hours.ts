/**
 * Bank holidays in England and a local authority's office hours, for the CP-IS LA portal: an episode
 * that starts out of hours (a bank holiday, a day the office is closed, or outside the opening times,
 * all in Europe/London local time) can be routed to the LA's emergency duty team. Pure rules, no I/O.
 *
 * Bank holidays follow the statutory pattern with weekend substitutes, plus the one-off changes
 * published on gov.uk (see ONE_OFFS); a future one-off must be added to that table when announced.
 */
import { addDays, type IsoDate, londonDateOf, londonTime, toUtcMs } from './dates.ts';

export interface OfficeHours {
  /** ISO weekdays the office is open: 1 = Monday .. 7 = Sunday. */
  days: number[];
  /** 'HH:MM', London local time. */
  open: string;
  /** 'HH:MM', London local time, later than `open`. */
  close: string;
}

export const DEFAULT_OFFICE_HOURS: OfficeHours = { days: [1, 2, 3, 4, 5], open: '09:00', close: '17:00' };

const DAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const TIME_RE = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

/** One-off changes to the usual pattern, from the gov.uk list. */
const ONE_OFFS: Record<number, { remove: IsoDate[]; add: IsoDate[] }> = {
  2020: { remove: ['2020-05-04'], add: ['2020-05-08'] }, // early May moved to VE day
  2022: { remove: ['2022-05-30'], add: ['2022-06-02', '2022-06-03', '2022-09-19'] }, // Platinum Jubilee, State Funeral
  2023: { remove: [], add: ['2023-05-08'] }, // Coronation
};

/** ISO weekday of a date: 1 = Monday .. 7 = Sunday. */
function isoWeekday(date: IsoDate): number {
  return new Date(toUtcMs(date)).getUTCDay() || 7;
}

function ymd(year: number, month: number, day: number): IsoDate {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Easter Sunday by the anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
function easterSunday(year: number): IsoDate {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return ymd(year, month, day);
}

/** The first (n = 1) or last (n = -1) Monday of a month. */
function monday(year: number, month: number, n: 1 | -1): IsoDate {
  if (n === 1) {
    const first = ymd(year, month, 1);
    return addDays(first, (8 - isoWeekday(first)) % 7);
  }
  const last = addDays(ymd(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1), -1);
  return addDays(last, -((isoWeekday(last) + 6) % 7));
}

/**
 * Fixed-date holidays with weekend substitutes: a holiday at a weekend moves to the next weekday that
 * is not already a holiday (Christmas Saturday -> Monday 27th, Boxing Day Sunday -> Tuesday 28th).
 */
function withSubstitutes(dates: IsoDate[]): IsoDate[] {
  const taken = new Set(dates.filter((d) => isoWeekday(d) <= 5));
  for (const date of dates) {
    if (isoWeekday(date) <= 5) continue;
    let sub = date;
    while (isoWeekday(sub) > 5 || taken.has(sub)) sub = addDays(sub, 1);
    taken.add(sub);
  }
  return [...taken];
}

/** The bank holidays of England and Wales in a year, sorted. */
export function englandBankHolidays(year: number): IsoDate[] {
  const easter = easterSunday(year);
  const dates = new Set<IsoDate>([
    ...withSubstitutes([ymd(year, 1, 1)]),
    addDays(easter, -2),
    addDays(easter, 1),
    monday(year, 5, 1),
    monday(year, 5, -1),
    monday(year, 8, -1),
    ...withSubstitutes([ymd(year, 12, 25), ymd(year, 12, 26)]),
  ]);
  const oneOff = ONE_OFFS[year];
  for (const d of oneOff?.remove ?? []) dates.delete(d);
  for (const d of oneOff?.add ?? []) dates.add(d);
  return [...dates].sort();
}

const byYear = new Map<number, Set<IsoDate>>();

export function isEnglandBankHoliday(date: IsoDate): boolean {
  const year = Number(date.slice(0, 4));
  let holidays = byYear.get(year);
  if (!holidays) {
    holidays = new Set(englandBankHolidays(year));
    byYear.set(year, holidays);
  }
  return holidays.has(date);
}

function hourMinute(hhmm: string): [number, number] {
  const [h, m] = hhmm.split(':');
  return [Number(h), Number(m)];
}

/** Whether an instant falls outside office hours in London: a bank holiday, a closed day, before open or from close. */
export function isOutOfHours(instant: Date, hours: OfficeHours): boolean {
  const date = londonDateOf(instant);
  if (isEnglandBankHoliday(date) || !hours.days.includes(isoWeekday(date))) return true;
  const open = londonTime(date, ...hourMinute(hours.open));
  const close = londonTime(date, ...hourMinute(hours.close));
  return instant.getTime() < open.getTime() || instant.getTime() >= close.getTime();
}

/** The first bad field of an OfficeHours-shaped value ('days', 'open' or 'close'), or null when it is valid. */
export function invalidOfficeHours(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'days';
  const { days, open, close } = v as Record<string, unknown>;
  if (
    !Array.isArray(days) ||
    days.length === 0 ||
    !days.every((d) => Number.isInteger(d) && d >= 1 && d <= 7) ||
    new Set(days).size !== days.length
  ) {
    return 'days';
  }
  if (typeof open !== 'string' || !TIME_RE.test(open)) return 'open';
  if (typeof close !== 'string' || !TIME_RE.test(close) || close <= open) return 'close';
  return null;
}

function listOf(items: string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** For example "Monday to Friday, 09:00 to 17:00" or "Monday, Wednesday and Friday, 10:00 to 16:00". */
export function describeOfficeHours(h: OfficeHours): string {
  const runs: number[][] = [];
  for (const d of [...new Set(h.days)].sort((a, b) => a - b)) {
    const run = runs.at(-1);
    if (run && run.at(-1) === d - 1) run.push(d);
    else runs.push([d]);
  }
  const name = (d: number) => DAY_NAMES[d - 1] ?? String(d);
  const parts = runs.flatMap((run) =>
    run.length >= 3 ? [`${name(run[0]!)} to ${name(run.at(-1)!)}`] : run.map(name),
  );
  return `${listOf(parts)}, ${h.open} to ${h.close}`;
}
