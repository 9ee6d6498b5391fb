/**
 * Local authority staff in the portals. They sign in through the same OpenID Connect relying party
 * as NHS staff; their role profiles arrive in the same claim (`nhsid_nrbac_roles`), each naming the
 * LA as its organisation (`org_code`, the LA's code), one of CP-IS's LA role codes below as its
 * `role_code`, and, for social workers and team managers, their team as the profile's first
 * `workgroups` entry. An identity provider serving LA staff must release these; the demo's stand-in
 * CIS2 does (src/auth/standin-people.ts). An LA role profile carries no health activity codes, so it
 * can never read a flag, and a health role profile is never an LA one.
 */
import type { NrbacRole } from './claims.ts';

export type LaStaffRole = 'safeguarding-admin' | 'social-worker' | 'team-manager';

export const LA_ROLE_CODES: Readonly<Record<string, LaStaffRole>> = Object.freeze({
  'CPIS-LA-ADMIN': 'safeguarding-admin',
  'CPIS-LA-SW': 'social-worker',
  'CPIS-LA-TM': 'team-manager',
});

export const LA_ROLE_LABELS: Record<LaStaffRole, string> = {
  'safeguarding-admin': 'Safeguarding admin',
  'social-worker': 'Social worker',
  'team-manager': 'Team manager',
};

export interface LaRoleProfile {
  laCode: string;
  role: LaStaffRole;
  /** Null for a safeguarding admin, who works the whole LA's inbox. */
  team: string | null;
}

const LA_CODE = /^[EW][0-9]{8}$/;

/** The LA role a role profile gives, or null when it is not a usable LA role profile. */
export function laRoleOf(r: NrbacRole): LaRoleProfile | null {
  const role = LA_ROLE_CODES[r.role_code];
  if (!role || !LA_CODE.test(r.org_code) || r.activity_codes.length > 0) return null;
  const team = r.workgroups?.[0]?.trim() || null;
  // A social worker or team manager works in a team; without one they would see nothing.
  if (role !== 'safeguarding-admin' && !team) return null;
  return { laCode: r.org_code, role, team: role === 'safeguarding-admin' ? null : team };
}
