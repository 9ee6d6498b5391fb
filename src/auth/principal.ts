/**
 * Who is calling. Health users carry NHS CIS2-shaped claims (user id, selected role profile, job
 * role, organisation, RBAC activity codes); systems carry client-credential claims. Authorisation
 * decisions are made from a Principal only, never from raw claims.
 */

export type PrincipalKind = 'health-user' | 'health-system' | 'local-authority' | 'admin';
export const PRINCIPAL_KINDS: readonly PrincipalKind[] = [
  'health-user',
  'health-system',
  'local-authority',
  'admin',
];

export interface JobRole {
  code: string;
  display: string;
}

/** RBAC activity codes of the national RBAC database that CP-IS reads. */
export const ACTIVITY_VIEW_FLAG = 'B0107'; // View CP-IS flag (unscheduled: recorded and notified)
export const ACTIVITY_VIEW_FLAG_SILENT = 'B0170'; // View CP-IS flag without sending a notification

export interface HealthUser {
  kind: 'health-user';
  /** SDS user id (CIS2 `nhsid_useruid`). */
  sdsUserId: string;
  name: string;
  /** The role profile the user selected at sign-in (CIS2 `selected_roleid` / `person_roleid`). */
  roleProfileId: string;
  jobRole: JobRole;
  orgCode: string;
  activities: string[];
}

export interface HealthSystem {
  kind: 'health-system';
  clientId: string;
  /** Spine accredited system id. */
  asid: string;
  orgCode: string;
  /** The person on whose behalf the system queries, as configured for the system's token. */
  responsiblePerson: { name: string; jobRole: JobRole } | null;
  activities: string[];
}

export interface LocalAuthoritySystem {
  kind: 'local-authority';
  clientId: string;
  laCode: string;
}

export interface Admin {
  kind: 'admin';
  clientId: string;
}

export type Principal = HealthUser | HealthSystem | LocalAuthoritySystem | Admin;

/** A short, stable description of the caller for the audit trail. */
export function auditActor(p: Principal | null): Record<string, unknown> {
  if (!p) return { kind: 'anonymous' };
  switch (p.kind) {
    case 'health-user':
      return {
        kind: p.kind,
        sdsUserId: p.sdsUserId,
        name: p.name,
        roleProfileId: p.roleProfileId,
        jobRole: p.jobRole,
        orgCode: p.orgCode,
      };
    case 'health-system':
      return {
        kind: p.kind,
        clientId: p.clientId,
        asid: p.asid,
        orgCode: p.orgCode,
        responsiblePerson: p.responsiblePerson,
      };
    case 'local-authority':
      return { kind: p.kind, clientId: p.clientId, laCode: p.laCode };
    case 'admin':
      return { kind: p.kind, clientId: p.clientId };
  }
}
