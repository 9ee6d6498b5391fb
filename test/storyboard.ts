/**
 * The storyboard children as their LAs upload them, and the LA's side of a look-up, for the tests
 * that play the stories (the portal's inject and browser tests, and the merged-number case).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Persona } from '../src/auth/claims.ts';
import { la, type TestApp } from './helper.ts';

export const BIRMINGHAM = 'E08000025';
export const TOWER_HAMLETS = 'E09000030';

/** Tracy, 19: an unborn child protection plan on her own record (Birmingham). */
export const tracyUcpp = {
  subject: 'unborn',
  nhsNumber: '9990000026',
  localId: 'B-U33',
  familyName: 'JONES',
  givenNames: ['Tracy'],
  birthDate: '2007-03-14',
  expectedDeliveryDate: '2026-12-20',
  plans: [{ type: 'UCPP', startDate: '2026-10-01' }],
};

/** Johnny, 5: a child protection plan (Tower Hamlets). */
export const johnnyCpp = {
  subject: 'child',
  nhsNumber: '9990000018',
  familyName: 'SMITH',
  givenNames: ['Johnny'],
  birthDate: '2021-05-02',
  plans: [{ type: 'CPP', startDate: '2026-09-01' }],
};

let sequence = 0;

/** Upload these records as the LA, and see them accepted. */
export async function uploadAs(t: TestApp, laCode: string, records: unknown[]): Promise<void> {
  const res = await t.as(la(laCode)).post('/la/v1/uploads', { sequence: ++sequence, records });
  expect(res.json().fileCode).toBe('CPF02');
}

export interface NotifiedAccess {
  nhsNumber: string;
  accessedBy: unknown;
  organisation: unknown;
}

/** The accesses of every access notification in the LA's mailbox. */
export async function notifiedAccesses(t: TestApp, laCode: string): Promise<NotifiedAccess[]> {
  const list = (await t.as(la(laCode)).get('/la/v1/mailbox')).json().messages as {
    id: string;
    type: string;
  }[];
  const messages = await Promise.all(
    list
      .filter((m) => m.type === 'access-notification')
      .map(async (m) => (await t.as(la(laCode)).get(`/la/v1/mailbox/${m.id}`)).json()),
  );
  return messages.flatMap((m) => m.accesses as NotifiedAccess[]);
}

/** How many unscheduled accesses the store holds for this NHS number. */
export async function accessCount(t: TestApp, nhsNumber: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    select count(*) as n from access_event where nhs_number = ${nhsNumber}`.execute(t.service.store.db);
  return Number(rows[0]!.n);
}

export const STAFFORDSHIRE = 'E10000028';
export const STAFFORD_NORTH = 'Stafford North Child Protection';

/** Mason, 8: a child protection plan (Staffordshire), allocated to a team. */
export const masonCpp = {
  subject: 'child',
  nhsNumber: '9990000069',
  localId: 'S-MH',
  team: STAFFORD_NORTH,
  familyName: 'HUGHES',
  givenNames: ['Mason'],
  birthDate: '2018-09-23',
  plans: [{ type: 'CPP', startDate: '2026-09-01' }],
};

/** A doctor in Royal Stoke University Hospital's emergency department (B0107 unless told: look-ups are notified). */
export function stokeEdDoctor(sdsUserId: string, name: string, activities = ['B0107']): Persona {
  return {
    kind: 'health-user',
    sdsUserId,
    name,
    jobRole: { code: 'R8000', display: 'Emergency medicine doctor' },
    organisation: { odsCode: 'RJE01' },
    activities,
  };
}

/** One unscheduled CareTeam look-up of the child by this persona at this instant (service clock). */
export async function lookUp(
  t: TestApp,
  who: Parameters<TestApp['as']>[0],
  nhsNumber: string,
  at: Date,
  headers: Record<string, string> = {},
): Promise<void> {
  t.clock.set(at);
  const res = await t
    .as(who)
    .get(`/FHIR/R4/CareTeam?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|${nhsNumber}`, {
      'x-request-id': randomUUID(),
      ...headers,
    });
  expect(res.statusCode).toBe(200);
}

/**
 * The Staffordshire flood (seed 002): one incident, five look-ups — NHS 111, the ambulance service's
 * dispatcher, the crew, A&E and the ward — over about five and a half hours from `start`.
 */
export async function playFlood(t: TestApp, nhsNumber: string, start: Date): Promise<void> {
  const after = (minutes: number) => new Date(start.getTime() + minutes * 60_000);
  const system = (asid: string, odsCode: string, name: string, display: string): Persona => ({
    kind: 'health-system',
    asid,
    organisation: { odsCode },
    responsiblePerson: { name, jobRole: { code: 'R9001', display } },
    activities: ['B0107'],
  });
  const person = (sdsUserId: string, odsCode: string, name: string, display: string): Persona => ({
    kind: 'health-user',
    sdsUserId,
    name,
    jobRole: { code: 'R8000', display },
    organisation: { odsCode },
    activities: ['B0107'],
  });
  await lookUp(
    t,
    system('200000000111', 'NNJ', 'Chris Doyle', 'NHS 111 health adviser'),
    nhsNumber,
    after(0),
    {
      'nhsd-patient-location': 'RJE01',
    },
  );
  await lookUp(t, system('200000000222', 'RYA', 'Sam Reed', 'Emergency call handler'), nhsNumber, after(12));
  await lookUp(t, person('555000000888', 'RYA', 'Lee Cole', 'Paramedic'), nhsNumber, after(25));
  await lookUp(
    t,
    person('555000000889', 'RJE01', 'Dr Ann Roe', 'Emergency medicine doctor'),
    nhsNumber,
    after(68),
  );
  await lookUp(t, person('555000000890', 'RTG02', 'Kim Fry', 'Staff nurse'), nhsNumber, after(330));
}
