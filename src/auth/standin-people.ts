/**
 * The people of the demo's stand-in for NHS CIS2 (src/auth/standin-idp.ts): fictional NHS staff,
 * each with the role profiles CIS2 would report for them (`nhsid_nrbac_roles`). Pure data and the
 * claims builder; no I/O.
 *
 * The organisations are in the demo directory (src/demo/world-directory.ts), read from there by name.
 */
import type { JWTPayload } from 'jose';
import { DEMO_LOCAL_AUTHORITIES, DEMO_ORGANISATIONS } from '../demo/world-directory.ts';
import { type NrbacRole, roleProfileIdFor } from './claims.ts';

export interface StandInPerson {
  /** SDS user id: 12 digits; also the subject (`sub`) and `nhsid_useruid`. */
  sdsUserId: string;
  name: string;
  givenName: string;
  familyName: string;
  /** One line for the persona picker. */
  summary: string;
  roles: NrbacRole[];
}

/** The name of an organisation or LA in the demo's directory, or a stated fallback for any other code. */
export function standInOrganisationName(code: string): string {
  return (
    DEMO_ORGANISATIONS.find((o) => o.odsCode === code)?.name ??
    DEMO_LOCAL_AUTHORITIES.find((l) => l.laCode === code)?.name ??
    `Organisation ${code}`
  );
}

/** The demo's LA teams (children in the demo's uploads name them). */
export const STAFFORDSHIRE_TEAM = 'Stafford North Child Protection';

function role(
  sdsUserId: string,
  odsCode: string,
  roleCode: string,
  roleName: string,
  activities: string[],
  team?: string,
) {
  return {
    person_roleid: roleProfileIdFor(sdsUserId, odsCode),
    org_code: odsCode,
    role_code: roleCode,
    role_name: roleName,
    activity_codes: activities,
    ...(team ? { workgroups: [team] } : {}),
  } satisfies NrbacRole;
}

export const STANDIN_PEOPLE: readonly StandInPerson[] = deepFreeze([
  {
    sdsUserId: '555000000903',
    name: 'Grace Adeyemi',
    givenName: 'Grace',
    familyName: 'Adeyemi',
    summary: 'Midwife, who is also a named midwife for safeguarding (2 role profiles)',
    roles: [
      role('555000000903', 'R1HKH', 'R8012', 'Midwife', ['B0107']),
      role('555000000903', 'R1H', 'R8012', 'Named midwife for safeguarding', ['B0170']),
    ],
  },
  {
    sdsUserId: '555000000302',
    name: 'Sam Patel',
    givenName: 'Sam',
    familyName: 'Patel',
    summary: 'Registration clerk in an emergency department',
    roles: [role('555000000302', 'R1H12', 'R8016', 'Registration clerk', ['B0107'])],
  },
  {
    sdsUserId: '555000000303',
    name: 'Dr Helen Marsh',
    givenName: 'Helen',
    familyName: 'Marsh',
    summary: 'GP at a general practice',
    roles: [role('555000000303', 'A81001', 'R0260', 'General medical practitioner', ['B0170'])],
  },
  {
    sdsUserId: '555000000304',
    name: 'Chris Doyle',
    givenName: 'Chris',
    familyName: 'Doyle',
    summary: 'Health care support worker with no CP-IS activity (the portal should refuse them)',
    roles: [role('555000000304', 'R1H12', 'R8003', 'Health care support worker', [])],
  },
  // Local authority staff (role codes: src/auth/la-roles.ts).
  {
    sdsUserId: '555000000910',
    name: 'Priya Shah',
    givenName: 'Priya',
    familyName: 'Shah',
    summary: 'Safeguarding admin at Staffordshire County Council (triage, settings, uploads)',
    roles: [role('555000000910', 'E10000028', 'CPIS-LA-ADMIN', 'Safeguarding admin', [])],
  },
  {
    sdsUserId: '555000000911',
    name: 'Tom Baker',
    givenName: 'Tom',
    familyName: 'Baker',
    summary: `Social worker, Staffordshire, in ${STAFFORDSHIRE_TEAM}`,
    roles: [role('555000000911', 'E10000028', 'CPIS-LA-SW', 'Social worker', [], STAFFORDSHIRE_TEAM)],
  },
  {
    sdsUserId: '555000000912',
    name: 'Angela Reid',
    givenName: 'Angela',
    familyName: 'Reid',
    summary: `Team manager, Staffordshire, of ${STAFFORDSHIRE_TEAM}`,
    roles: [role('555000000912', 'E10000028', 'CPIS-LA-TM', 'Team manager', [], STAFFORDSHIRE_TEAM)],
  },
  {
    sdsUserId: '555000000913',
    name: 'Dev Kumar',
    givenName: 'Dev',
    familyName: 'Kumar',
    summary: 'Social worker in Staffordshire’s Emergency Duty Team (out of hours)',
    roles: [role('555000000913', 'E10000028', 'CPIS-LA-SW', 'Social worker', [], 'Emergency Duty Team')],
  },
  {
    sdsUserId: '555000000914',
    name: 'Mark Ellis',
    givenName: 'Mark',
    familyName: 'Ellis',
    summary: 'Safeguarding admin at Birmingham City Council',
    roles: [role('555000000914', 'E08000025', 'CPIS-LA-ADMIN', 'Safeguarding admin', [])],
  },
]);

export function findStandInPerson(sub: string): StandInPerson | undefined {
  return STANDIN_PEOPLE.find((p) => p.sdsUserId === sub);
}

/**
 * The claims CIS2 would release for the person with scopes `openid profile nationalrbacaccess`.
 * Every role profile is listed and none is selected (no `selected_roleid`): the portal asks which
 * role the person is working in.
 */
export function standInClaims(person: StandInPerson): JWTPayload {
  return {
    sub: person.sdsUserId,
    nhsid_useruid: person.sdsUserId,
    name: person.name,
    given_name: person.givenName,
    family_name: person.familyName,
    nhsid_nrbac_roles: person.roles.map((r) => ({ ...r, activity_codes: [...r.activity_codes] })),
    authentication_assurance_level: '3',
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
