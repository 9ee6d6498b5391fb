/**
 * The audit trail as FHIR R4 AuditEvents (NDJSON), in the shapes IHE Basic Audit Log Patterns
 * (BALP) describes:
 *
 * - a health search (CareTeam, Flag, AuditEvent) is a **PatientQuery**: type rest, subtype
 *   search-type, action E; agents for the client (Source Role ID, with its network address), this
 *   server (Destination Role ID) and the user (information recipient, requestor); entities for the
 *   patient (by NHS number), the query (the raw request base64-encoded, and the cleaned search) and
 *   the X-Request-ID. A refused or failed search keeps the shape but not the profile claim (BALP's
 *   profile is for successful queries) and says why in outcomeDesc.
 * - a search that disclosed child protection information is also a **PrivacyDisclosure.Source**:
 *   type Export (DCM 110106), subtype disclose, action R, purpose treatment; this service is the
 *   source and the health organisation the recipient.
 * - everything else (uploads, administration, mailbox) is a plain AuditEvent naming the actor and,
 *   when there is one, the patient.
 *
 * Each AuditEvent also names its audit log entry (seq, hash, previous hash), so an export can be
 * checked against the chain.
 */
import type {
  AuditEvent,
  AuditEventAgent,
  AuditEventEntity,
  AuditEventEntityDetail,
  CodeableConcept,
  Coding,
} from 'fhir/r4.js';
import type { Executor } from '../store/db.ts';
import type { AuditLogTable } from '../store/schema.ts';

const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const SDS_USER_SYSTEM = 'https://fhir.nhs.uk/Id/sds-user-id';
const ASID_SYSTEM = 'https://fhir.nhs.uk/Id/nhsSpineASID';
const JOB_ROLE_SYSTEM = 'https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';
export const AUDIT_ACTION_SYSTEM = 'urn:open-cpis:audit-action';
export const AUDIT_LOG_SYSTEM = 'urn:open-cpis:audit-log';
const SERVICE = 'Open CP-IS';

export const FHIR_NDJSON = 'application/fhir+ndjson';

const coding = (system: string, code: string, display: string): Coding => ({ system, code, display });
const concept = (system: string, code: string, display: string): CodeableConcept => ({
  coding: [coding(system, code, display)],
});

const SOURCE_ROLE = concept(DCM, '110153', 'Source Role ID');
const DESTINATION_ROLE = concept(DCM, '110152', 'Destination Role ID');
const INFORMATION_RECIPIENT = concept(
  'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  'IRCP',
  'information recipient',
);
const AUTHOR = concept(
  'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  'AUT',
  'author (originator)',
);

interface ActorJson {
  kind?: string;
  sdsUserId?: string;
  name?: string;
  roleProfileId?: string;
  jobRole?: { code?: string; display?: string };
  orgCode?: string;
  clientId?: string;
  asid?: string;
  laCode?: string;
  responsiblePerson?: { name?: string; jobRole?: { code?: string; display?: string } } | null;
}

interface DetailJson {
  requestId?: string | null;
  resource?: string;
  mode?: string;
  http?: { method?: string; url?: string; ip?: string; status?: number };
  visiblePlans?: number;
  laCodes?: string[];
  planTypes?: string[];
  code?: string;
  message?: string;
  [k: string]: unknown;
}

function outcomeCode(outcome: string): AuditEvent['outcome'] {
  return outcome === 'success' ? '0' : outcome === 'refused' ? '4' : '8';
}

function actionLetter(action: string): AuditEvent['action'] {
  const verb = action.split('.').at(-1) ?? '';
  if (/^(create|register|birth|upload)/.test(verb)) return 'C';
  if (/^(read|get|list|verify|export|download)/.test(verb)) return 'R';
  if (/^(update|put|supersede|invalidate|import|acknowledge)/.test(verb)) return 'U';
  if (/^(delete|remove|purge)/.test(verb)) return 'D';
  return 'E';
}

function roleOf(jobRole: ActorJson['jobRole']): CodeableConcept[] | undefined {
  if (!jobRole || (!jobRole.code && !jobRole.display)) return undefined;
  const display = jobRole.display || jobRole.code || '';
  return [
    jobRole.code
      ? { coding: [coding(JOB_ROLE_SYSTEM, jobRole.code, display)], text: display }
      : { text: display },
  ];
}

/** The person (or system, LA, administrator) who made the request. */
function userAgent(actor: ActorJson): AuditEventAgent {
  switch (actor.kind) {
    case 'health-user':
      return {
        type: INFORMATION_RECIPIENT,
        who: {
          ...(actor.sdsUserId ? { identifier: { system: SDS_USER_SYSTEM, value: actor.sdsUserId } } : {}),
          display: actor.name || actor.sdsUserId || 'health user',
        },
        ...(actor.name ? { name: actor.name } : {}),
        ...(roleOf(actor.jobRole) ? { role: roleOf(actor.jobRole) } : {}),
        requestor: true,
      };
    case 'health-system': {
      const rp = actor.responsiblePerson;
      return {
        type: INFORMATION_RECIPIENT,
        who: { display: rp?.name || `health system (ASID ${actor.asid ?? 'unknown'})` },
        ...(rp?.name ? { name: rp.name } : {}),
        ...(roleOf(rp?.jobRole) ? { role: roleOf(rp?.jobRole) } : {}),
        requestor: true,
      };
    }
    case 'local-authority':
      return {
        type: AUTHOR,
        who: {
          identifier: { system: ODS_SYSTEM, value: actor.laCode ?? 'unknown' },
          display: `local authority ${actor.laCode ?? ''}`.trim(),
        },
        requestor: true,
      };
    case 'admin':
      return {
        type: AUTHOR,
        who: { display: `administrator (${actor.clientId ?? 'unknown client'})` },
        requestor: true,
      };
    default:
      return { type: AUTHOR, who: { display: 'anonymous (no valid token)' }, requestor: true };
  }
}

function clientAgent(actor: ActorJson, ip: string | undefined): AuditEventAgent {
  const who =
    actor.kind === 'health-system' && actor.asid
      ? {
          identifier: { system: ASID_SYSTEM, value: actor.asid },
          display: `health system (ASID ${actor.asid})`,
        }
      : { display: actor.clientId ? `client ${actor.clientId}` : `client at ${ip ?? 'an unknown address'}` };
  return {
    type: SOURCE_ROLE,
    who,
    requestor: false,
    ...(ip ? { network: { address: ip, type: '2' as const } } : {}),
  };
}

function serverAgent(site: string): AuditEventAgent {
  return {
    type: DESTINATION_ROLE,
    who: { display: SERVICE },
    requestor: false,
    network: { address: site, type: '5' },
  };
}

function organisationAgent(actor: ActorJson): AuditEventAgent | null {
  if (!actor.orgCode) return null;
  return {
    type: concept('http://terminology.hl7.org/CodeSystem/v3-RoleClass', 'PROV', 'healthcare provider'),
    who: {
      identifier: { system: ODS_SYSTEM, value: actor.orgCode },
      display: `organisation ${actor.orgCode}`,
    },
    requestor: false,
  };
}

function patientEntity(nhsNumber: string): AuditEventEntity {
  return {
    what: { identifier: { system: NHS_NUMBER_SYSTEM, value: nhsNumber } },
    type: coding('http://terminology.hl7.org/CodeSystem/audit-entity-type', '1', 'Person'),
    role: coding('http://terminology.hl7.org/CodeSystem/object-role', '1', 'Patient'),
  };
}

function chainEntity(row: AuditLogTable): AuditEventEntity {
  const detail: AuditEventEntityDetail[] = [
    { type: 'seq', valueString: String(row.seq) },
    { type: 'hash', valueString: row.hash },
    { type: 'prev_hash', valueString: row.prev_hash },
  ];
  return {
    what: { identifier: { system: AUDIT_LOG_SYSTEM, value: String(row.seq) } },
    type: coding('http://terminology.hl7.org/CodeSystem/audit-entity-type', '4', 'Other'),
    role: coding('http://terminology.hl7.org/CodeSystem/object-role', '13', 'Security Resource'),
    description: `audit log entry ${row.seq}`,
    detail,
  };
}

function source(site: string): AuditEvent['source'] {
  return {
    site,
    observer: { display: SERVICE },
    type: [coding('http://terminology.hl7.org/CodeSystem/security-source-type', '4', 'Application Server')],
  };
}

const SEARCH_ACTIONS = /^(CareTeam|Flag|AuditEvent)\.search$/;

/** One audit log entry as one or two FHIR AuditEvents. */
export function toFhirAuditEvents(row: AuditLogTable, site: string): AuditEvent[] {
  const actor = (row.actor ?? {}) as ActorJson;
  const detail = (row.detail ?? {}) as DetailJson;
  const recorded = row.recorded_at.toISOString();
  const ours = coding(AUDIT_ACTION_SYSTEM, row.action, row.action);
  const ip = detail.http?.ip;
  const why = [detail.code, detail.message].filter(Boolean).join(': ');
  const outcomeDesc = row.outcome === 'success' ? undefined : why || row.outcome;
  const base = {
    resourceType: 'AuditEvent' as const,
    recorded,
    outcome: outcomeCode(row.outcome),
    ...(outcomeDesc ? { outcomeDesc } : {}),
    source: source(site),
  };

  if (SEARCH_ACTIONS.test(row.action)) {
    const resource = row.action.split('.')[0]!;
    // The query as written: recorded when it differed from the usual form, which is rebuilt otherwise.
    const searched = (detail.queriedNhsNumber as string | undefined) ?? row.nhs_number;
    const usual = searched
      ? `/FHIR/R4/${resource}?patient:identifier=${NHS_NUMBER_SYSTEM}|${searched}`
      : null;
    const raw = `${detail.http?.method ?? 'GET'} ${detail.http?.url ?? usual ?? `/FHIR/R4/${resource}`}`;
    const cleaned = usual ? `GET ${usual}` : undefined;
    const agents = [clientAgent(actor, ip), serverAgent(site)];
    if (actor.kind) agents.push(userAgent(actor));
    const entities: AuditEventEntity[] = [];
    if (row.nhs_number) entities.push(patientEntity(row.nhs_number));
    entities.push({
      type: coding('http://terminology.hl7.org/CodeSystem/audit-entity-type', '2', 'System Object'),
      role: coding('http://terminology.hl7.org/CodeSystem/object-role', '24', 'Query'),
      query: Buffer.from(raw, 'utf8').toString('base64'),
      ...(cleaned ? { description: cleaned } : {}),
    });
    if (detail.requestId) {
      entities.push({
        what: { identifier: { value: detail.requestId } },
        type: coding(
          'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType',
          'XrequestId',
          'transport specific unique identifier where http X-Request-Id is used',
        ),
      });
    }
    entities.push(chainEntity(row));
    const query: AuditEvent = {
      ...base,
      id: `cpis-audit-${row.seq}`,
      ...(row.outcome === 'success' && row.nhs_number
        ? { meta: { profile: [`${BALP}/IHE.BasicAudit.PatientQuery`] } }
        : {}),
      type: coding('http://terminology.hl7.org/CodeSystem/audit-event-type', 'rest', 'Restful Operation'),
      subtype: [coding('http://hl7.org/fhir/restful-interaction', 'search-type', 'search-type'), ours],
      action: 'E',
      agent: agents,
      entity: entities,
    };
    const out = [query];
    const disclosed =
      row.outcome === 'success' &&
      row.nhs_number &&
      resource !== 'AuditEvent' &&
      (detail.visiblePlans ?? 0) > 0;
    if (disclosed) {
      const org = organisationAgent(actor);
      const recipient: AuditEventAgent = {
        type: DESTINATION_ROLE,
        who: org?.who ?? { display: 'health requester' },
        requestor: false,
        ...(ip ? { network: { address: ip, type: '2' as const } } : {}),
      };
      const sourceAgent: AuditEventAgent = {
        type: SOURCE_ROLE,
        who: { display: SERVICE },
        requestor: false,
        network: { address: site, type: '5' },
      };
      const data: AuditEventEntity = {
        type: coding('http://hl7.org/fhir/resource-types', resource, resource),
        role: coding('http://terminology.hl7.org/CodeSystem/object-role', '3', 'Report'),
        description:
          `${detail.visiblePlans} visible plan(s) (${(detail.planTypes ?? []).join(', ')}) ` +
          `held by ${(detail.laCodes ?? []).join(', ')}; access ${detail.mode ?? 'unknown'}`,
      };
      out.push({
        ...base,
        id: `cpis-audit-${row.seq}-disclosure`,
        meta: { profile: [`${BALP}/IHE.BasicAudit.PrivacyDisclosure.Source`] },
        type: coding(DCM, '110106', 'Export'),
        subtype: [
          coding(
            'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle',
            'disclose',
            'Disclose Record Lifecycle Event',
          ),
          coding('http://hl7.org/fhir/restful-interaction', 'search-type', 'search-type'),
          ours,
        ],
        action: 'R',
        purposeOfEvent: [concept('http://terminology.hl7.org/CodeSystem/v3-ActReason', 'TREAT', 'treatment')],
        agent: [sourceAgent, recipient, userAgent(actor)],
        entity: [patientEntity(row.nhs_number!), data, chainEntity(row)],
      });
    }
    return out;
  }

  const agents = [userAgent(actor)];
  if (ip) agents.push(clientAgent(actor, ip));
  const entities: AuditEventEntity[] = [];
  if (row.nhs_number) entities.push(patientEntity(row.nhs_number));
  entities.push(chainEntity(row));
  return [
    {
      ...base,
      id: `cpis-audit-${row.seq}`,
      type: coding('http://terminology.hl7.org/CodeSystem/audit-event-type', 'rest', 'Restful Operation'),
      subtype: [ours],
      action: actionLetter(row.action),
      agent: agents,
      entity: entities,
    },
  ];
}

export interface ExportRange {
  /** Entries recorded at or after this instant. */
  since: Date | null;
  /** Entries recorded before this instant. */
  until: Date | null;
}

/** Entries in seq order, a page at a time (PGlite cannot stream), as NDJSON lines. */
export async function* exportAuditNdjson(
  db: Executor,
  range: ExportRange,
  site: string,
  pageSize = 1000,
): AsyncGenerator<string> {
  let after = 0;
  for (;;) {
    let q = db.selectFrom('audit_log').selectAll().where('seq', '>', after).orderBy('seq').limit(pageSize);
    if (range.since) q = q.where('recorded_at', '>=', range.since);
    if (range.until) q = q.where('recorded_at', '<', range.until);
    const rows = await q.execute();
    let chunk = '';
    for (const row of rows) for (const e of toFhirAuditEvents(row, site)) chunk += `${JSON.stringify(e)}\n`;
    if (chunk) yield chunk;
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1]!.seq);
  }
}
