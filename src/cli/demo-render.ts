/**
 * What each person in the storyboards sees, as text: the registration clerk or midwife reading a
 * FHIR answer, and the social worker reading an LA message. Pure functions over the wire formats.
 */
import type { AuditEvent, Bundle, CareTeam } from 'fhir/r4.js';
import type { EpisodeOut } from '../notify/dispatch.ts';

const london = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

export function when(iso: string): string {
  return london.format(new Date(iso));
}

export function renderCareTeams(bundle: Bundle): string[] {
  const teams = (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is CareTeam => r?.resourceType === 'CareTeam');
  if (teams.length === 0) return ['  No child protection information held for this NHS number.'];
  return teams.flatMap((t) => {
    const plan = t.category?.[0]?.coding?.[0]?.display ?? 'Plan';
    const period = `from ${t.period?.start ?? '?'}${t.period?.end ? ` to ${t.period.end}` : ''}`;
    const office = t.telecom?.find((c) => c.use === 'work')?.value;
    const edt = t.telecom?.find((c) => c.use === 'mobile')?.value;
    return [
      `  ! ${plan.toUpperCase()} ${period}`,
      `    ${t.name ?? 'Unknown local authority'}: office hours ${office ?? 'not given'}, out of hours (EDT) ${edt ?? 'not given'}`,
    ];
  });
}

export function renderHistory(bundle: Bundle): string[] {
  const events = (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is AuditEvent => r?.resourceType === 'AuditEvent');
  if (events.length === 0) return ['  No earlier unscheduled look-ups.'];
  return events.map((e) => {
    const who = e.agent?.[0];
    const org = e.agent?.[1]?.who?.display ?? 'unknown organisation';
    const role = who?.role?.[0]?.text ?? '';
    return `  - ${when(e.recorded)}: ${who?.name ?? who?.who?.display ?? 'someone'}${role ? ` (${role})` : ''}, ${org}`;
  });
}

interface OrgOut {
  odsCode: string;
  name: string;
  settingLabel?: string;
  parentName?: string;
  town?: string;
  phone?: string;
  known: boolean;
}

interface AccessOut {
  nhsNumber: string;
  child: { familyName: string | null; givenNames: string[] | null; birthDate: string | null };
  accessedAt: string;
  accessedBy: {
    kind: string;
    name?: string;
    jobRole?: { display: string };
    asid?: string;
    responsiblePerson?: { name: string; jobRole: { display: string } };
  };
  organisation: OrgOut;
  patientLocation?: OrgOut;
  safeguardingLead?: { name?: string; role?: string; phone?: string };
  planTypes: string[];
  episodeId: string | null;
}

/** The parts of an episode the social worker's view prints. */
type EpisodeView = Pick<EpisodeOut, 'id' | 'nhsNumber' | 'start' | 'end' | 'accessCount' | 'timeline'>;

export interface AccessMessage {
  laName?: string;
  delivery: string;
  heartbeat: boolean;
  summary: string;
  accesses: AccessOut[];
  episodes: EpisodeView[];
  /** Absent from messages made before patterns of concern existed. */
  children?: { nhsNumber: string; concerns: { text: string }[] }[];
  unknownOrganisations: string[];
}

function place(o: OrgOut): string {
  if (!o.known) return `${o.name} (not in the directory)`;
  return [o.name, o.settingLabel, o.parentName, o.town, o.phone && `tel ${o.phone}`]
    .filter(Boolean)
    .join(', ');
}

export function renderAccessMessage(m: AccessMessage): string[] {
  const lines = [`  ${m.laName ?? 'Local authority'} (${m.delivery} message): ${m.summary}`];
  for (const ep of m.episodes) {
    const first = m.accesses.find((a) => a.nhsNumber === ep.nhsNumber);
    const name = first
      ? `${(first.child.givenNames ?? []).join(' ')} ${first.child.familyName ?? ''}`.trim()
      : ep.nhsNumber;
    lines.push(
      `  Episode: ${name} (${ep.nhsNumber}), ${ep.accessCount} look-up${ep.accessCount === 1 ? '' : 's'} from ${when(ep.start)} to ${when(ep.end)}`,
    );
    for (const step of ep.timeline)
      lines.push(`    ${when(step.at)}  ${step.organisation} [${step.setting}]: ${step.who}`);
  }
  for (const a of m.accesses) {
    const by =
      a.accessedBy.kind === 'system'
        ? `system ASID ${a.accessedBy.asid} for ${a.accessedBy.responsiblePerson?.name} (${a.accessedBy.responsiblePerson?.jobRole.display})`
        : `${a.accessedBy.name} (${a.accessedBy.jobRole?.display})`;
    lines.push(`  - ${when(a.accessedAt)}: ${by}`);
    lines.push(`    at ${place(a.organisation)}`);
    if (a.patientLocation) lines.push(`    patient physically at ${place(a.patientLocation)}`);
    if (a.safeguardingLead) {
      const s = a.safeguardingLead;
      lines.push(`    safeguarding lead there: ${[s.name, s.role, s.phone].filter(Boolean).join(', ')}`);
    }
  }
  for (const c of m.children ?? [])
    for (const concern of c.concerns) lines.push(`  Pattern of concern for ${c.nhsNumber}: ${concern.text}`);
  if (m.unknownOrganisations.length)
    lines.push(`  Unknown organisation codes: ${m.unknownOrganisations.join(', ')}`);
  return lines;
}
