import { describe, expect, it } from 'vitest';
import type { AccessSummary } from './access.ts';
import { accessPattern } from './portal.ts';

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
