/** How the portal writes dates, times and plan types (NHS style: "14 March 2007", London time). */
import type { PlanType } from '../domain/plans.ts';

export const PLAN_LABELS: Record<PlanType, string> = {
  CPP: 'Child protection plan',
  LAC: 'Looked after child',
  UCPP: "Unborn child – child protection plan (held on the mother's record)",
};

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** `2007-03-14` → `14 March 2007`. */
export function formatLongDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return iso;
  return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
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
