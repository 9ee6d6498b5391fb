/**
 * How an LA routes its episodes (issue: LA portal §4): a child with a team in the LA's uploads goes
 * to that team's queue, any other child to the LA's screening queue; an episode that begins out of
 * the LA's office hours (its own hours, weekends and bank holidays in England) can go to the
 * emergency duty team's queue as well. Null in the store means these defaults.
 */
import { DEFAULT_OFFICE_HOURS, invalidOfficeHours, type OfficeHours } from '../domain/office-hours.ts';

export interface LaRouting {
  officeHours: OfficeHours;
  /** Episodes that begin out of hours also go to the EDT queue. */
  outOfHoursToEdt: boolean;
  /** The queue for children with no team in the LA's records (closed cases, or not yet allocated). */
  screeningTeam: string;
  /** The emergency duty team's queue. */
  edtTeam: string;
}

export const DEFAULT_ROUTING: LaRouting = {
  officeHours: DEFAULT_OFFICE_HOURS,
  outOfHoursToEdt: true,
  screeningTeam: 'Screening',
  edtTeam: 'Emergency Duty Team',
};

export function routingOf(stored: unknown): LaRouting {
  const s = (stored ?? {}) as Partial<LaRouting>;
  return {
    officeHours: s.officeHours ?? DEFAULT_ROUTING.officeHours,
    outOfHoursToEdt: s.outOfHoursToEdt ?? DEFAULT_ROUTING.outOfHoursToEdt,
    screeningTeam: s.screeningTeam ?? DEFAULT_ROUTING.screeningTeam,
    edtTeam: s.edtTeam ?? DEFAULT_ROUTING.edtTeam,
  };
}

const TEAM = /^[\p{L}\p{N} &'(),./-]{1,60}$/u;

/** The first field of a routing that is not usable (its name), or null. */
export function invalidRouting(r: Record<string, unknown>): string | null {
  const hours = invalidOfficeHours(r.officeHours);
  if (hours) return `officeHours.${hours}`;
  if (typeof r.outOfHoursToEdt !== 'boolean') return 'outOfHoursToEdt';
  for (const k of ['screeningTeam', 'edtTeam'] as const) {
    if (typeof r[k] !== 'string' || !TEAM.test((r[k] as string).trim())) return k;
  }
  if ((r.screeningTeam as string).trim() === (r.edtTeam as string).trim()) return 'edtTeam';
  return null;
}
