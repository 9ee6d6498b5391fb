/**
 * Calendar dates as 'YYYY-MM-DD' strings (what the contract and both database drivers use), with
 * strict parsing: 2027-02-30 is not a date. Arithmetic is done in UTC days so no zone can shift it.
 */

export type IsoDate = string;

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

export function isIsoDate(s: unknown): s is IsoDate {
  if (typeof s !== 'string') return false;
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (y < 1800 || mo < 1 || mo > 12 || d < 1) return false;
  return d <= daysInMonth(y, mo);
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function addDays(date: IsoDate, days: number): IsoDate {
  return fromUtcMs(toUtcMs(date) + days * DAY_MS);
}

/** Calendar-aware years (29 February + 1 year -> 28 February, as English law counts a birthday). */
export function addYears(date: IsoDate, years: number): IsoDate {
  const [y, m, d] = parts(date);
  const ty = y + years;
  const day = Math.min(d, daysInMonth(ty, m));
  return `${String(ty).padStart(4, '0')}-${pad(m)}-${pad(day)}`;
}

/** Age in completed years on a date. A person born on 29 February turns a year older on 1 March in common years. */
export function ageOn(birthDate: IsoDate, on: IsoDate): number {
  const [by, bm, bd] = parts(birthDate);
  const [y, m, d] = parts(on);
  let age = y - by;
  if (m < bm || (m === bm && d < bd)) age--;
  return age;
}

/** The date someone turns `years` old (a 29 February birthday falls on 1 March in common years). */
export function birthdayOf(birthDate: IsoDate, years: number): IsoDate {
  const [by, bm, bd] = parts(birthDate);
  const ty = by + years;
  if (bm === 2 && bd === 29 && daysInMonth(ty, 2) === 28) return `${String(ty).padStart(4, '0')}-03-01`;
  return `${String(ty).padStart(4, '0')}-${pad(bm)}-${pad(bd)}`;
}

const londonDate = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/**
 * Since 1972 London's offset from UTC has been whole hours, changed on the hour: within one UTC hour
 * the London date is one date, so the last hour's is kept (formatting a date costs ~30 µs, and
 * every health query asks).
 */
const WHOLE_HOUR_OFFSETS_SINCE = Date.UTC(1972, 0, 1);
let lastHour = Number.NaN;
let lastHourDate = '' as IsoDate;

/** The calendar date in England at an instant: the day that "today" means to the people using the service. */
export function londonDateOf(instant: Date): IsoDate {
  const ms = instant.getTime();
  const hour = Math.floor(ms / 3_600_000);
  if (hour === lastHour) return lastHourDate;
  const date = londonDate.format(instant) as IsoDate;
  if (ms >= WHOLE_HOUR_OFFSETS_SINCE) {
    lastHour = hour;
    lastHourDate = date;
  }
  return date;
}

/** The instant a London calendar date begins at (handles GMT/BST). */
export function londonMidnight(date: IsoDate): Date {
  return londonTime(date, 0, 0);
}

/** The instant of a London wall-clock time on a date (for a time skipped by the clocks going forward, the next valid instant). */
export function londonTime(date: IsoDate, hour: number, minute: number): Date {
  const guess = toUtcMs(date) + (hour * 60 + minute) * 60_000;
  // London is UTC+0 or UTC+1: try both offsets and keep the one that reads back as the wall time asked for.
  for (const offsetH of [0, 1]) {
    const instant = new Date(guess - offsetH * 3_600_000);
    if (londonDateOf(instant) === date && londonHourMinute(instant) === hour * 60 + minute) return instant;
  }
  return new Date(guess);
}

const londonClock = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function londonHourMinute(instant: Date): number {
  const [h, m] = londonClock.format(instant).split(':');
  return Number(h) * 60 + Number(m);
}

export function toUtcMs(date: IsoDate): number {
  const [y, m, d] = parts(date);
  return Date.UTC(y, m - 1, d);
}

function fromUtcMs(ms: number): IsoDate {
  return new Date(ms).toISOString().slice(0, 10);
}

function parts(date: IsoDate): [number, number, number] {
  const m = DATE_RE.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
