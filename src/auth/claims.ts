/**
 * Token claims, both ways. People's tokens mirror NHS CIS2 (`nhsid_useruid`, `selected_roleid`,
 * `nhsid_nrbac_roles[]` with `person_roleid`, `org_code`, `role_code`, `role_name`,
 * `activity_codes`); systems' tokens are client-credential style (`client_id`, `scope`) with the
 * few extra claims CP-IS needs (ASID and organisation, LA code).
 */
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { HealthUser, JobRole, Principal } from './principal.ts';

export const SCOPE_HEALTH_SYSTEM = 'cpis:health-system';
export const SCOPE_LOCAL_AUTHORITY = 'cpis:local-authority';
export const SCOPE_ADMIN = 'cpis:admin';

/** A demo persona, as `POST /dev/token` accepts it (INTERFACE §1). */
export type Persona =
  | {
      kind: 'health-user';
      sdsUserId: string;
      name: string;
      jobRole: JobRole;
      organisation: { odsCode: string };
      activities: string[];
    }
  | {
      kind: 'health-system';
      asid: string;
      organisation: { odsCode: string };
      responsiblePerson?: { name: string; jobRole: JobRole };
      activities: string[];
    }
  | { kind: 'local-authority'; laCode: string }
  | { kind: 'admin' };

export interface NrbacRole {
  person_roleid: string;
  org_code: string;
  role_code: string;
  role_name: string;
  activity_codes: string[];
  /** CIS2 workgroups of the role profile; for LA staff the first is their team (src/auth/la-roles.ts). */
  workgroups?: string[];
}

/** A stable 12-digit role profile id for a user at an organisation (CIS2 role ids are 12 digits). */
export function roleProfileIdFor(sdsUserId: string, odsCode: string): string {
  const h = createHash('sha256').update(`${sdsUserId}|${odsCode}`).digest();
  return String((h.readBigUInt64BE(0) % 900_000_000_000n) + 100_000_000_000n);
}

export function personaToClaims(persona: Persona): JWTPayload {
  switch (persona.kind) {
    case 'health-user': {
      const roleId = roleProfileIdFor(persona.sdsUserId, persona.organisation.odsCode);
      const role: NrbacRole = {
        person_roleid: roleId,
        org_code: persona.organisation.odsCode,
        role_code: persona.jobRole.code,
        role_name: persona.jobRole.display,
        activity_codes: [...persona.activities],
      };
      return {
        sub: persona.sdsUserId,
        nhsid_useruid: persona.sdsUserId,
        name: persona.name,
        selected_roleid: roleId,
        nhsid_nrbac_roles: [role],
        authentication_assurance_level: '3',
      };
    }
    case 'health-system':
      return {
        sub: `asid:${persona.asid}`,
        client_id: `asid:${persona.asid}`,
        scope: SCOPE_HEALTH_SYSTEM,
        asid: persona.asid,
        org_code: persona.organisation.odsCode,
        activity_codes: [...persona.activities],
        ...(persona.responsiblePerson
          ? {
              responsible_person: {
                name: persona.responsiblePerson.name,
                role_code: persona.responsiblePerson.jobRole.code,
                role_name: persona.responsiblePerson.jobRole.display,
              },
            }
          : {}),
      };
    case 'local-authority':
      return {
        sub: `la:${persona.laCode}`,
        client_id: `la:${persona.laCode}`,
        scope: SCOPE_LOCAL_AUTHORITY,
        la_code: persona.laCode,
      };
    case 'admin':
      return { sub: 'admin', client_id: 'cpis-admin', scope: SCOPE_ADMIN };
  }
}

export type ClaimsResult = { ok: true; principal: Principal } | { ok: false; reason: string };

/** Read a verified token's claims into a Principal; anything that does not fit is refused with the reason. */
export function claimsToPrincipal(c: JWTPayload): ClaimsResult {
  if (typeof c.nhsid_useruid === 'string') return healthUser(c);
  const scopes = typeof c.scope === 'string' ? c.scope.split(' ') : [];
  const clientId = str(c.client_id) ?? str(c.sub);
  if (!clientId) return { ok: false, reason: 'token has neither nhsid_useruid nor client_id' };
  if (scopes.includes(SCOPE_ADMIN)) return { ok: true, principal: { kind: 'admin', clientId } };
  if (scopes.includes(SCOPE_LOCAL_AUTHORITY)) {
    const laCode = str(c.la_code);
    if (!laCode) return { ok: false, reason: 'local authority token has no la_code' };
    return { ok: true, principal: { kind: 'local-authority', clientId, laCode } };
  }
  if (scopes.includes(SCOPE_HEALTH_SYSTEM)) {
    const asid = str(c.asid);
    const orgCode = str(c.org_code);
    if (!asid || !orgCode) return { ok: false, reason: 'health system token needs asid and org_code' };
    const rp = c.responsible_person as Record<string, unknown> | undefined;
    const rpName = rp ? str(rp.name) : undefined;
    return {
      ok: true,
      principal: {
        kind: 'health-system',
        clientId,
        asid,
        orgCode,
        responsiblePerson: rpName
          ? { name: rpName, jobRole: { code: str(rp?.role_code) ?? '', display: str(rp?.role_name) ?? '' } }
          : null,
        activities: strings(c.activity_codes),
      },
    };
  }
  return { ok: false, reason: 'token carries no CP-IS scope' };
}

function healthUser(c: JWTPayload): ClaimsResult {
  const roles = Array.isArray(c.nhsid_nrbac_roles) ? (c.nhsid_nrbac_roles as Partial<NrbacRole>[]) : [];
  const selected = str(c.selected_roleid);
  // Authorisation comes from the role the user selected at sign-in, never from any other role they hold.
  const role = selected
    ? roles.find((r) => r.person_roleid === selected)
    : roles.length === 1
      ? roles[0]
      : undefined;
  if (!role) return { ok: false, reason: 'token has no selected role in nhsid_nrbac_roles' };
  const orgCode = str(role.org_code);
  if (!orgCode) return { ok: false, reason: 'selected role has no org_code' };
  return {
    ok: true,
    principal: healthUserOf(
      {
        sdsUserId: c.nhsid_useruid as string,
        name: str(c.name) ?? [str(c.given_name), str(c.family_name)].filter(Boolean).join(' '),
      },
      {
        person_roleid: str(role.person_roleid) ?? '',
        org_code: orgCode,
        role_code: str(role.role_code) ?? '',
        role_name: str(role.role_name) ?? '',
        activity_codes: strings(role.activity_codes),
      },
    ),
  };
}

/** A person working in one of their role profiles, as a token or a portal session names them. */
export function healthUserOf(person: { sdsUserId: string; name: string }, role: NrbacRole): HealthUser {
  return {
    kind: 'health-user',
    sdsUserId: person.sdsUserId,
    name: person.name,
    roleProfileId: role.person_roleid,
    jobRole: { code: role.role_code, display: role.role_name },
    orgCode: role.org_code,
    activities: [...role.activity_codes],
  };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
