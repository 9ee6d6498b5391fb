/** How the portal writes dates, times and plan types (NHS style: "14 March 2007", London time). */
import { isIsoDate } from '../domain/dates.ts';
import { PLAN_LABELS as NAMES, type PlanType } from '../domain/plans.ts';

/** The plan types' names, the unborn plan's saying where it is held (staff search the mother). */
export const PLAN_LABELS: Record<PlanType, string> = {
  ...NAMES,
  UCPP: "Unborn child – child protection plan (held on the mother's record)",
};

const longDate = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

/** `2007-03-14` → `14 March 2007` (a calendar date: no time zone to move it). */
export function formatLongDate(iso: string): string {
  return isIsoDate(iso) ? longDate.format(new Date(`${iso}T00:00:00Z`)) : iso;
}

const londonDateTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
});

/** An instant as London wall-clock time: `4 December 2026, 14:05`. */
export function formatDateTime(at: Date): string {
  const p = Object.fromEntries(londonDateTime.formatToParts(at).map((x) => [x.type, x.value]));
  return `${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute}`;
}
