/**
 * `cpis demo`: the storyboards, played against a running service in demo mode over its HTTP API —
 * Johnny (CPP, A&E on a Friday night), Lucy (looked after, A&E), Tracy (an unborn child protection
 * plan on a 19-year-old from Birmingham, found by a midwife in London; then the birth) and the
 * Staffordshire flood (111, ambulance, crew, A&E, ward). It prints what the registration clerk,
 * the midwife and the social worker each see. It moves the service clock to the story's times and
 * gives it back to real time at the end.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle } from 'fhir/r4.js';
import type { Persona } from '../auth/claims.ts';
import { STAFFORDSHIRE_TEAM } from '../auth/standin-people.ts';
import { addDays, londonDateOf, londonTime } from '../domain/dates.ts';
import { nextValidNhsNumber } from '../domain/nhs-number.ts';
import { CliError, explain, type ServiceClient } from './client.ts';
import {
  type AccessMessage,
  renderAccessMessage,
  renderCareTeams,
  renderHistory,
  when,
} from './demo-render.ts';

const TOWER_HAMLETS = 'E09000030';
const WIGAN = 'E08000010';
const BIRMINGHAM = 'E08000025';
const STAFFORDSHIRE = 'E10000028';

type Out = (line?: string) => void;

interface Ack {
  fileCode: string;
  accepted: number;
  received: number;
  records: { code: string; message?: string }[];
}

export async function runDemo(client: ServiceClient, out: Out): Promise<void> {
  const admin: Persona = { kind: 'admin' };
  const clockRes = await client.raw('GET', '/dev/clock');
  if (clockRes.status === 404)
    throw new CliError('cpis demo needs a service in demo mode (it moves the clock and issues demo tokens)');
  const realNow = new Date(((await clockRes.json()) as { now: string }).now);

  // The story happens in the recent past, so moving the clock there and back changes nothing that
  // depends on today (no retention run or daily batch from the future): Johnny's Friday is at least
  // three days ago, Tracy is found a month ago and her baby born five days ago, the flood two days ago.
  const today = londonDateOf(realNow);
  let friday = addDays(today, -3);
  while (new Date(`${friday}T12:00:00Z`).getUTCDay() !== 5) friday = addDays(friday, -1);
  const at = async (date: string, hour: number, minute: number) => {
    const instant = londonTime(date, hour, minute);
    if (instant > realNow)
      throw new Error(`the demo would move the clock into the future (${instant.toISOString()})`);
    const res = await client.raw('POST', '/dev/clock', { body: { now: instant.toISOString() } });
    if (!res.ok) throw new CliError(`could not set the demo clock (HTTP ${res.status})`);
    return instant;
  };
  const sequence = () => Date.now() * 10 + Math.floor(Math.random() * 10);
  const upload = async (laCode: string, records: unknown[]): Promise<Ack> =>
    client.call<Ack>({ kind: 'local-authority', laCode }, 'POST', '/la/v1/uploads', {
      sequence: sequence(),
      records,
    });
  const fhir = async (
    persona: Persona,
    resource: string,
    nhsNumber: string,
    headers: Record<string, string> = {},
  ) => {
    const res = await client.raw(
      'GET',
      `/FHIR/R4/${resource}?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|${nhsNumber}`,
      {
        token: await client.token(persona),
        headers: { 'x-request-id': randomUUID(), ...headers },
      },
    );
    const body = await res.json();
    if (!res.ok) throw new CliError(`${resource} search failed (HTTP ${res.status}): ${explain(body)}`);
    return body as Bundle;
  };
  const mailbox = async (laCode: string, type: string) => {
    const la: Persona = { kind: 'local-authority', laCode };
    const { messages } = await client.call<{ messages: { id: string; type: string }[] }>(
      la,
      'GET',
      '/la/v1/mailbox',
    );
    const found = [];
    for (const m of messages) {
      if (m.type === type)
        found.push(await client.call<Record<string, unknown>>(la, 'GET', `/la/v1/mailbox/${m.id}`));
      await client.call(la, 'PUT', `/la/v1/mailbox/${m.id}/acknowledged`);
    }
    return found;
  };
  const clearMailboxes = async () => {
    for (const la of [TOWER_HAMLETS, WIGAN, BIRMINGHAM, STAFFORDSHIRE]) await mailbox(la, 'none');
  };
  const dispatchNow = () => client.call(admin, 'POST', '/admin/v1/notifications/dispatch', { force: true });
  const showMessages = async (laCode: string, who: string) => {
    const messages = (await mailbox(laCode, 'access-notification')) as unknown as AccessMessage[];
    out(`${who} sees in the mailbox:`);
    const withAccesses = messages.filter((m) => !m.heartbeat);
    if (withAccesses.length === 0) out('  (nothing yet)');
    // An immediate LA may get the same episode in several messages: show the latest, which has it whole.
    const last = withAccesses.at(-1);
    if (last) for (const line of renderAccessMessage(last)) out(line);
    if (withAccesses.length > 1)
      out(`  (${withAccesses.length} messages in all, as each look-up was delivered at once; one episode)`);
  };

  try {
    await clearMailboxes();

    // ---------------------------------------------------------------- Johnny
    out(`== Johnny, 5: a child protection plan; A&E on Friday ${friday} at 8 pm ==`);
    await at(addDays(friday, -30), 9, 0);
    const johnnyAck = await upload(TOWER_HAMLETS, [
      {
        subject: 'child',
        nhsNumber: '9990000018',
        localId: 'TH-1042',
        familyName: 'SMITH',
        givenNames: ['Johnny'],
        birthDate: '2021-05-02',
        plans: [{ type: 'CPP', startDate: addDays(friday, -31) }],
      },
    ]);
    out(
      `London Borough of Tower Hamlets uploads Johnny's plan: ${johnnyAck.fileCode} (${johnnyAck.accepted}/${johnnyAck.received} accepted)`,
    );
    await at(friday, 20, 4);
    const pas: Persona = {
      kind: 'health-system',
      asid: '200000000471',
      organisation: { odsCode: 'R1H12' },
      responsiblePerson: { name: 'Kim Patel', jobRole: { code: 'R8010', display: 'Registration clerk' } },
      activities: ['B0107'],
    };
    out(
      'The registration clerk at The Royal London Hospital Emergency Department registers Johnny; the PAS asks CP-IS and shows:',
    );
    for (const line of renderCareTeams(await fhir(pas, 'CareTeam', '9990000018'))) out(line);
    await at(friday, 20, 40);
    const consultant: Persona = {
      kind: 'health-user',
      sdsUserId: '555000000901',
      name: 'Dr Naomi Clarke',
      jobRole: { code: 'R8000', display: 'Consultant in emergency medicine' },
      organisation: { odsCode: 'R1H12' },
      activities: ['B0107'],
    };
    await fhir(consultant, 'CareTeam', '9990000018');
    out('The consultant looks too, and sees who else has looked:');
    for (const line of renderHistory(await fhir(consultant, 'AuditEvent', '9990000018'))) out(line);
    await dispatchNow();
    await showMessages(TOWER_HAMLETS, "Johnny's social worker (Tower Hamlets, immediate notifications)");
    out();

    // ---------------------------------------------------------------- Lucy
    const saturday = addDays(friday, 1);
    out(`== Lucy, 12: looked after; A&E on Saturday ${saturday} ==`);
    await at(addDays(friday, -1), 10, 0);
    const lucyAck = await upload(WIGAN, [
      {
        subject: 'child',
        nhsNumber: '9990000034',
        localId: 'W-2201',
        familyName: 'BROWN',
        givenNames: ['Lucy'],
        birthDate: '2014-07-09',
        plans: [{ type: 'LAC', startDate: addDays(friday, -60) }],
      },
    ]);
    out(`Wigan Council uploads Lucy's looked-after status: ${lucyAck.fileCode}`);
    await at(saturday, 11, 15);
    const edDoctor: Persona = {
      kind: 'health-user',
      sdsUserId: '555000000902',
      name: 'Dr Omar Haddad',
      jobRole: { code: 'R8000', display: 'Emergency department doctor' },
      organisation: { odsCode: 'RRF02' },
      activities: ['B0107'],
    };
    out("The ED doctor at the Royal Albert Edward Infirmary opens Lucy's record; CP-IS shows:");
    for (const line of renderCareTeams(await fhir(edDoctor, 'CareTeam', '9990000034'))) out(line);
    await dispatchNow();
    await showMessages(
      WIGAN,
      "Lucy's social worker (Wigan: the next morning's daily message, delivered now for the demo)",
    );
    out();

    // ---------------------------------------------------------------- Tracy
    const found = addDays(today, -30);
    const due = addDays(found, 28);
    out(
      `== Tracy, 19: an unborn child protection plan (Birmingham); found in east London on ${found}, due in four weeks ==`,
    );
    const tracy = {
      subject: 'unborn',
      nhsNumber: '9990000026',
      localId: 'B-U33',
      familyName: 'JONES',
      givenNames: ['Tracy'],
      birthDate: '2007-03-14',
      expectedDeliveryDate: due,
    };
    const ucppStart = addDays(found, -45);
    await at(addDays(found, -1), 10, 0);
    const tracyAck = await upload(BIRMINGHAM, [
      { ...tracy, plans: [{ type: 'UCPP', startDate: ucppStart }] },
    ]);
    out(
      `Birmingham City Council uploads the plan on Tracy's record (expected delivery ${due}): ${tracyAck.fileCode}`,
    );
    out(
      'The ambulance crew and the ED register Tracy: she is 19, so their systems do not ask CP-IS for a child.',
    );
    await at(found, 23, 20);
    const midwife: Persona = {
      kind: 'health-user',
      sdsUserId: '555000000903',
      name: 'Grace Adeyemi',
      jobRole: { code: 'R8012', display: 'Midwife' },
      organisation: { odsCode: 'R1HKH' },
      activities: ['B0107'],
    };
    out("The midwife at Whipps Cross follows the unit's protocol and searches CP-IS by hand:");
    for (const line of renderCareTeams(await fhir(midwife, 'CareTeam', '9990000026'))) out(line);
    out('  (the national service gave no phone number here; this one gives both)');
    await dispatchNow();
    await showMessages(
      BIRMINGHAM,
      "Tracy's social worker (Birmingham: the next morning's daily message, delivered now)",
    );

    const birthDay = addDays(due, -3);
    await at(birthDay, 14, 0);
    const baby = await freeNumber(client);
    await client.call(admin, 'POST', '/admin/v1/births', {
      motherNhsNumber: '9990000026',
      nhsNumber: baby,
      familyName: 'JONES',
      givenNames: ['Kyle'],
      birthDate: birthDay,
      gender: 'male',
    });
    out(`On ${birthDay} Tracy's baby is born and registered (${baby}).`);
    const [birth] = await mailbox(BIRMINGHAM, 'birth');
    out('Birmingham receives a birth message:');
    out(`  ${(birth as { message?: string } | undefined)?.message ?? '(none)'}`);
    await at(addDays(birthDay, 1), 10, 0);
    const after = await upload(BIRMINGHAM, [
      { ...tracy, plans: [{ type: 'UCPP', startDate: ucppStart, endDate: birthDay }] },
      {
        subject: 'child',
        nhsNumber: baby,
        localId: 'B-1177',
        familyName: 'JONES',
        givenNames: ['Kyle'],
        birthDate: birthDay,
        plans: [{ type: 'CPP', startDate: addDays(birthDay, 1) }],
      },
    ]);
    out(
      `Birmingham ends the UCPP and uploads a CPP for the baby: ${after.fileCode} (${after.accepted}/${after.received} accepted)`,
    );
    out();

    // ---------------------------------------------------------------- The Staffordshire flood
    const flood = addDays(today, -2);
    out(
      `== The Staffordshire flood: Mason, 8 (child protection plan), on ${flood}: 111, ambulance, crew, A&E, ward ==`,
    );
    await at(addDays(flood, -1), 9, 0);
    await upload(STAFFORDSHIRE, [
      {
        subject: 'child',
        nhsNumber: '9990000069',
        localId: 'S-MH',
        team: STAFFORDSHIRE_TEAM,
        familyName: 'HUGHES',
        givenNames: ['Mason', 'James'],
        birthDate: '2018-09-23',
        plans: [{ type: 'CPP', startDate: addDays(friday, -90) }],
      },
    ]);
    await mailbox(STAFFORDSHIRE, 'none');
    const steps: [number, number, Persona, Record<string, string>][] = [
      [
        21,
        40,
        {
          kind: 'health-system',
          asid: '200000000111',
          organisation: { odsCode: 'NNJ' },
          responsiblePerson: {
            name: 'Chris Doyle',
            jobRole: { code: 'R9002', display: 'NHS 111 health adviser' },
          },
          activities: ['B0107'],
        },
        {
          'nhsd-safeguarding-lead': 'Jo Bright',
          'nhsd-safeguarding-lead-role': 'Safeguarding lead, DHU 111',
          'nhsd-safeguarding-lead-phone': '01632 960 311',
        },
      ],
      [
        21,
        52,
        {
          kind: 'health-system',
          asid: '200000000222',
          organisation: { odsCode: 'RYA' },
          responsiblePerson: {
            name: 'Sam Reed',
            jobRole: { code: 'R9001', display: 'Emergency call handler' },
          },
          activities: ['B0107'],
        },
        {},
      ],
      [
        22,
        5,
        {
          kind: 'health-user',
          sdsUserId: '555000000904',
          name: 'Paramedic Lee Cole',
          jobRole: { code: 'R9003', display: 'Paramedic' },
          organisation: { odsCode: 'RYA' },
          activities: ['B0107'],
        },
        {},
      ],
      [
        22,
        48,
        {
          kind: 'health-system',
          asid: '200000000333',
          organisation: { odsCode: 'RJE01' },
          responsiblePerson: { name: 'Ann Roe', jobRole: { code: 'R8010', display: 'Registration clerk' } },
          activities: ['B0107'],
        },
        {},
      ],
    ];
    for (const [h, m, who, headers] of steps) {
      await at(flood, h, m);
      await fhir(who, 'CareTeam', '9990000069', headers);
    }
    await at(addDays(flood, 1), 3, 10);
    await fhir(
      {
        kind: 'health-user',
        sdsUserId: '555000000905',
        name: 'Nurse Kim Fry',
        jobRole: { code: 'R8001', display: 'Paediatric nurse' },
        organisation: { odsCode: 'RTG02' },
        activities: ['B0107'],
      },
      'CareTeam',
      '9990000069',
    );
    await dispatchNow();
    await showMessages(STAFFORDSHIRE, "Mason's social worker (Staffordshire)");
    out('  One incident, one episode: not five tasks, and every place named in full, never a bare code.');
    out(
      `  To work it as the team does, open ${client.baseUrl}/ and sign in as Tom Baker (social worker, Stafford North): it is one row in the inbox.`,
    );
  } finally {
    await client.raw('POST', '/dev/clock', { body: { now: null } });
    out();
    out(`(The service clock is back to real time: ${when(new Date().toISOString())}.)`);
  }
}

/** A valid NHS number in the test range that demographics does not hold yet (for the new baby). */
async function freeNumber(client: ServiceClient): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const { nhsNumber } = nextValidNhsNumber(999_000_200 + Math.floor(Math.random() * 90_000));
    const res = await client.raw('GET', `/admin/v1/demographics/${nhsNumber}`, {
      token: await client.token({ kind: 'admin' }),
    });
    if (res.status === 404) return nhsNumber;
  }
  throw new CliError('could not find a free test NHS number for the baby');
}
