/**
 * The storyboard children as their LAs upload them, and the LA's side of a look-up, for the tests
 * that play the stories (the portal's inject and browser tests, and the merged-number case).
 */
import { sql } from 'kysely';
import { expect } from 'vitest';
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
