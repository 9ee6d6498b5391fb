/**
 * The FHIR R4 shapes of health query answers, wire-compatible with NHS England's CP-IS FHIR API:
 * a searchset Bundle of CareTeams (one per visible plan), of AuditEvents (the access history, with
 * the agents' PractitionerRoles when `_include`d), or a Patient Flags API style `Flag` with the
 * CareTeams as its detail. Only what CPIS.md §6 allows health to see: plan type, start, end, the LA's
 * name and phone numbers, the subject's current NHS number; nothing else about the plan or child.
 */
import { createHash, randomUUID } from 'node:crypto';
import type {
  AuditEvent,
  AuditEventAgent,
  Bundle,
  BundleEntry,
  CapabilityStatement,
  CareTeam,
  CodeableConcept,
  Coding,
  ContactPoint,
  FhirResource,
  Flag,
  PractitionerRole,
} from 'fhir/r4.js';
import { PLAN_CODES, PLAN_LABELS, SNOMED_SYSTEM } from '../domain/plans.ts';
import type { AccessSummary } from './access.ts';
import type { VisiblePlan } from './lookup.ts';
import { HEADERS, NHS_NUMBER_SYSTEM } from './request.ts';
import type { HistorySearchResult, PlanSearchResult } from './service.ts';

export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
export const SDS_USER_SYSTEM = 'https://fhir.nhs.uk/Id/sds-user-id';
export const SDS_ROLE_PROFILE_SYSTEM = 'https://fhir.nhs.uk/Id/sds-role-profile-id';
export const ASID_SYSTEM = 'https://fhir.nhs.uk/Id/nhsSpineASID';
export const JOB_ROLE_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName';
export const FLAG_CATEGORY_SYSTEM = 'https://fhir.nhs.uk/England/CodeSystem/England-FlagCategoryPatient';
export const CPIS_FLAG_CODE = 'child-protection-information-system-flag';
export const FLAG_DETAIL_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/flag-detail';
export const SERVICE_NAME = 'Open CP-IS';

const CPIS_FLAG: Coding = {
  system: FLAG_CATEGORY_SYSTEM,
  code: CPIS_FLAG_CODE,
  display: 'Child Protection Information System Flag',
};

/** A stable UUID for a resource, so `fullUrl`s and references inside a Bundle agree between answers. */
export function resourceUuid(type: string, id: string): string {
  const h = createHash('sha256').update(`${type}/${id}`).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function fullUrlOf(r: FhirResource & { id?: string }): string {
  return `urn:uuid:${resourceUuid(r.resourceType, r.id ?? '')}`;
}

function nhsIdentifier(nhsNumber: string) {
  return { system: NHS_NUMBER_SYSTEM, value: nhsNumber };
}

export function unknownLaName(laCode: string): string {
  return `Unknown local authority (code ${laCode})`;
}

export function careTeam(plan: VisiblePlan, nhsNumber: string, today: string): CareTeam {
  const code = PLAN_CODES[plan.planType];
  const name = plan.laName ?? unknownLaName(plan.laCode);
  const telecom: ContactPoint[] = [];
  if (plan.officeHoursPhone) telecom.push({ system: 'phone', value: plan.officeHoursPhone, use: 'work' });
  if (plan.emergencyDutyPhone)
    telecom.push({ system: 'phone', value: plan.emergencyDutyPhone, use: 'mobile' });
  const ended = plan.endDate !== null && plan.endDate < today;
  return {
    resourceType: 'CareTeam',
    id: `${plan.planType.toLowerCase()}-${plan.laCode}-${nhsNumber}`,
    status: ended ? 'inactive' : 'active',
    category: [{ coding: [{ system: SNOMED_SYSTEM, code: code.code, display: code.display }] }],
    name,
    subject: { identifier: nhsIdentifier(nhsNumber) },
    period: { start: plan.startDate, ...(plan.endDate ? { end: plan.endDate } : {}) },
    managingOrganization: [{ identifier: { system: ODS_SYSTEM, value: plan.laCode }, display: name }],
    ...(telecom.length ? { telecom } : {}),
  };
}

function searchset(selfUrl: string, at: Date, total: number, entries: BundleEntry[]): Bundle {
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: at.toISOString() },
    type: 'searchset',
    total,
    link: [{ relation: 'self', url: selfUrl }],
    // FHIR JSON never carries an empty array: no match, no `entry`.
    ...(entries.length ? { entry: entries } : {}),
  };
}

function entry(resource: FhirResource, mode: 'match' | 'include'): BundleEntry {
  return { fullUrl: fullUrlOf(resource), resource, search: { mode } };
}

/** CareTeam search: one CareTeam per visible plan; `total: 0` when there is none. */
export function careTeamBundle(r: PlanSearchResult, selfUrl: string, today: string): Bundle {
  const teams = r.plans.map((p) => careTeam(p, r.subject.current, today));
  return searchset(
    selfUrl,
    r.at,
    teams.length,
    teams.map((t) => entry(t, 'match')),
  );
}

/**
 * Flag search, shaped like the Patient Flags API: one `Flag` coded
 * `child-protection-information-system-flag` when the subject has a visible plan, pointing at the
 * CareTeams (included in the Bundle) through the standard `flag-detail` extension.
 */
export function flagBundle(r: PlanSearchResult, selfUrl: string, today: string): Bundle {
  if (r.plans.length === 0) return searchset(selfUrl, r.at, 0, []);
  const nhsNumber = r.subject.current;
  const teams = r.plans.map((p) => careTeam(p, nhsNumber, today));
  const starts = r.plans.map((p) => p.startDate).sort();
  const ends = r.plans.map((p) => p.endDate);
  const allEnded = ends.every((e) => e !== null);
  const flag: Flag = {
    resourceType: 'Flag',
    id: `cpis-${nhsNumber}`,
    extension: teams.map((t, i) => ({
      url: FLAG_DETAIL_EXTENSION,
      valueReference: {
        reference: fullUrlOf(t),
        type: 'CareTeam',
        display: `${PLAN_LABELS[r.plans[i]!.planType]}: ${t.name}`,
      },
    })),
    status: 'active',
    category: [{ coding: [CPIS_FLAG] }],
    code: { coding: [CPIS_FLAG], text: CPIS_FLAG.display! },
    subject: { identifier: nhsIdentifier(nhsNumber) },
    period: {
      start: starts[0]!,
      ...(allEnded ? { end: (ends as string[]).sort().at(-1)! } : {}),
    },
  };
  return searchset(selfUrl, r.at, 1, [entry(flag, 'match'), ...teams.map((t) => entry(t, 'include'))]);
}

function roleConcept(role: { code: string; display: string }): CodeableConcept {
  const display = role.display || role.code || 'Role not stated';
  return role.code
    ? { coding: [{ system: JOB_ROLE_SYSTEM, code: role.code, display }], text: display }
    : { text: display };
}

function orgDisplay(a: AccessSummary): string {
  return a.orgName ?? `Unknown organisation (code ${a.orgCode})`;
}

function practitionerRoleId(a: AccessSummary): string {
  const h = createHash('sha256').update(`${a.personKey}|${a.orgCode}|${a.jobRole.code}|${a.jobRole.display}`);
  return `pr-${h.digest('hex').slice(0, 32)}`;
}

export function practitionerRole(a: AccessSummary): PractitionerRole {
  return {
    resourceType: 'PractitionerRole',
    id: practitionerRoleId(a),
    ...(a.roleProfileId ? { identifier: [{ system: SDS_ROLE_PROFILE_SYSTEM, value: a.roleProfileId }] } : {}),
    practitioner: {
      ...(a.userId ? { identifier: { system: SDS_USER_SYSTEM, value: a.userId } } : {}),
      display: a.name,
    },
    organization: { identifier: { system: ODS_SYSTEM, value: a.orgCode }, display: orgDisplay(a) },
    code: [roleConcept(a.jobRole)],
  };
}

/** One access in the history: when, and agents naming who (and their role) and their organisation. */
export function accessAuditEvent(a: AccessSummary, nhsNumber: string, roleRef: string | null): AuditEvent {
  const agents: AuditEventAgent[] = [
    {
      type: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
            code: 'IRCP',
            display: 'information recipient',
          },
        ],
      },
      role: [roleConcept(a.jobRole)],
      who: {
        ...(roleRef ? { reference: roleRef, type: 'PractitionerRole' } : {}),
        ...(a.userId ? { identifier: { system: SDS_USER_SYSTEM, value: a.userId } } : {}),
        display: a.name,
      },
      name: a.name,
      requestor: true,
    },
    {
      type: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/v3-RoleClass',
            code: 'PROV',
            display: 'healthcare provider',
          },
        ],
      },
      who: { identifier: { system: ODS_SYSTEM, value: a.orgCode }, display: orgDisplay(a) },
      name: orgDisplay(a),
      requestor: false,
    },
  ];
  if (a.asid) {
    agents.push({
      type: {
        coding: [
          {
            system: 'http://dicom.nema.org/resources/ontology/DCM',
            code: '110153',
            display: 'Source Role ID',
          },
        ],
      },
      who: { identifier: { system: ASID_SYSTEM, value: a.asid }, display: `Health system (ASID ${a.asid})` },
      requestor: false,
    });
  }
  return {
    resourceType: 'AuditEvent',
    id: a.id,
    type: {
      system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
      code: 'rest',
      display: 'Restful Operation',
    },
    subtype: [
      { system: 'http://hl7.org/fhir/restful-interaction', code: 'search-type', display: 'search-type' },
    ],
    action: 'E',
    recorded: a.accessedAt.toISOString(),
    outcome: '0',
    agent: agents,
    source: {
      site: SERVICE_NAME,
      observer: { display: SERVICE_NAME },
      type: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/security-source-type',
          code: '4',
          display: 'Application Server',
        },
      ],
    },
    entity: [
      {
        what: { identifier: nhsIdentifier(nhsNumber) },
        type: {
          system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
          code: '1',
          display: 'Person',
        },
        role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
      },
    ],
  };
}

/**
 * AuditEvent search: the (at most 25) accesses, newest first. With `_include=AuditEvent:…` (as NHS
 * England's consumers send it) the agents' PractitionerRoles come too, as `include` entries.
 */
export function auditEventBundle(r: HistorySearchResult, selfUrl: string, includeRoles: boolean): Bundle {
  const roles = new Map<string, PractitionerRole>();
  const events = r.accesses.map((a) => {
    let ref: string | null = null;
    if (includeRoles) {
      const role = practitionerRole(a);
      if (!roles.has(role.id!)) roles.set(role.id!, role);
      ref = fullUrlOf(role);
    }
    return accessAuditEvent(a, r.subject.current, ref);
  });
  return searchset(selfUrl, r.at, events.length, [
    ...events.map((e) => entry(e, 'match')),
    ...[...roles.values()].map((p) => entry(p, 'include')),
  ]);
}

const SEARCH_DOC =
  `Only with the :identifier modifier and the NHS number system: ` +
  `patient:identifier=${NHS_NUMBER_SYSTEM}|{nhsNumber}. One NHS number per search.`;

const HEADERS_DOC =
  `Headers: Authorization: Bearer <token> (NHS CIS2 user or health system); ${HEADERS.requestId}: <UUID> (required); ` +
  `${HEADERS.unscheduled}: true|false (absent means true). Health systems name the person they query for with ` +
  `${HEADERS.responsiblePerson} and ${HEADERS.responsiblePersonRole} (code|display) unless their token carries it; ` +
  `anyone may send ${HEADERS.patientLocation} (an ODS code) and ${HEADERS.safeguardingLead}, ` +
  `${HEADERS.safeguardingLeadRole}, ${HEADERS.safeguardingLeadPhone}. RBAC: B0107 records and notifies an ` +
  `unscheduled access (unless ${HEADERS.unscheduled}: false); B0170 is a silent read.`;

/** What this server serves, and nothing more (GET /FHIR/R4/metadata). */
export function capabilityStatement(version: string, date: string, baseUrl: string): CapabilityStatement {
  const patientParam = (definition: string) => ({
    name: 'patient',
    definition,
    type: 'reference' as const,
    documentation: SEARCH_DOC,
  });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date,
    publisher: SERVICE_NAME,
    kind: 'instance',
    software: { name: SERVICE_NAME, version },
    implementation: {
      description: 'Child Protection - Information Sharing: health query API (FHIR R4)',
      url: baseUrl,
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation: HEADERS_DOC,
        security: {
          cors: false,
          service: [
            {
              coding: [
                {
                  system: 'http://terminology.hl7.org/CodeSystem/restful-security-service',
                  code: 'OAuth',
                  display: 'OAuth',
                },
              ],
            },
          ],
          description:
            'Bearer tokens: NHS CIS2 user tokens carrying RBAC activity codes, or health system tokens.',
        },
        resource: [
          {
            type: 'CareTeam',
            documentation:
              'One CareTeam per visible child protection plan (CPP, LAC, UCPP), from every local authority.',
            interaction: [{ code: 'search-type' }],
            searchParam: [patientParam('http://hl7.org/fhir/SearchParameter/clinical-patient')],
          },
          {
            type: 'AuditEvent',
            documentation:
              'The 25 most recent unscheduled accesses to the subject, newest first; repeat accesses by the same ' +
              'person within 24 hours are shown once. _include=AuditEvent:agent adds the PractitionerRoles.',
            interaction: [{ code: 'search-type' }],
            searchInclude: ['AuditEvent:agent'],
            searchParam: [patientParam('http://hl7.org/fhir/SearchParameter/AuditEvent-patient')],
          },
          {
            type: 'Flag',
            documentation:
              'A Patient Flags API style CP-IS flag (code child-protection-information-system-flag) with the ' +
              'CareTeams as included resources.',
            interaction: [{ code: 'search-type' }],
            searchParam: [patientParam('http://hl7.org/fhir/SearchParameter/clinical-patient')],
          },
        ],
      },
    ],
  };
}
