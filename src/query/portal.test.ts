import { describe, expect, it } from 'vitest';
import type { HealthUser } from '../auth/principal.ts';
import type { AccessSummary } from './access.ts';
import { accessPattern, readLookChoice } from './portal.ts';

const at = new Date('2026-11-20T10:00:00Z');
const access = (daysAgo: number, orgCode: string, orgName: string | null): AccessSummary => ({
  id: `${daysAgo}-${orgCode}`,
  accessedAt: new Date(at.getTime() - daysAgo * 86_400_000),
  personKey: `user:${daysAgo}`,
  kind: 'health-user',
  name: 'Someone',
  jobRole: { code: 'R8000', display: 'Doctor' },
  userId: null,
  roleProfileId: null,
  asid: null,
  orgCode,
  orgName,
});

describe('the access pattern beside the history', () => {
  it('counts the look-ups of the last 30 days and names each place once, most recent first', () => {
    const p = accessPattern(
      [
        access(0, 'R1H12', 'The Royal London Hospital Emergency Department'),
        access(2, 'RRV03', 'University College Hospital Emergency Department'),
        access(5, 'R1H12', 'The Royal London Hospital Emergency Department'),
        access(9, 'X99', null),
        access(31, 'RQXM1', 'Homerton University Hospital Emergency Department'),
      ],
      at,
    );
    expect(p).toEqual({
      days: 30,
      lookUps: 4,
      places: [
        'The Royal London Hospital Emergency Department',
        'University College Hospital Emergency Department',
        'X99',
      ],
    });
  });

  it('is empty when nothing was looked at lately', () => {
    expect(accessPattern([access(40, 'R1H12', 'A')], at)).toEqual({ days: 30, lookUps: 0, places: [] });
  });
});

describe('the choice on the confirm page', () => {
  const user = (activities: string[]): HealthUser => ({
    kind: 'health-user',
    sdsUserId: '555000000302',
    name: 'Sam Patel',
    roleProfileId: '1',
    jobRole: { code: 'R8016', display: 'Registration clerk' },
    orgCode: 'R1H12',
    activities,
  });

  it('makes someone with B0107 say whether the care is unscheduled, and give a listed reason not to notify', () => {
    const b0107 = user(['B0107']);
    expect(readLookChoice(b0107, {})).toMatchObject({ ok: false, field: 'notify' });
    expect(readLookChoice(b0107, { notify: 'yes' })).toEqual({ ok: true, notify: true, silentReason: null });
    expect(readLookChoice(b0107, { notify: 'no' })).toMatchObject({ ok: false, field: 'silentReason' });
    expect(readLookChoice(b0107, { notify: 'no', silentReason: 'constructor' })).toMatchObject({ ok: false });
    expect(readLookChoice(b0107, { notify: 'no', silentReason: 'planned-care' })).toEqual({
      ok: true,
      notify: false,
      silentReason: 'planned-care',
    });
  });

  it('gives B0170 alone a silent read whatever the form says', () => {
    expect(readLookChoice(user(['B0170']), { notify: 'yes' })).toEqual({
      ok: true,
      notify: false,
      silentReason: null,
    });
  });
});
