import { describe, expect, it } from 'vitest';
import { type AccessSummary, collapseAccesses } from './access.ts';

const H = 3_600_000;
const t0 = Date.parse('2026-11-20T10:00:00Z');

function access(id: string, personKey: string, hoursAgo: number): AccessSummary {
  return {
    id,
    accessedAt: new Date(t0 - hoursAgo * H),
    personKey,
    kind: 'health-user',
    name: personKey,
    jobRole: { code: 'R8000', display: 'Clinical Practitioner Access Role' },
    userId: personKey,
    roleProfileId: null,
    asid: null,
    orgCode: 'R1H12',
    orgName: null,
  };
}

function collapse(rows: AccessSummary[], limit?: number): string[] {
  const kept: AccessSummary[] = [];
  collapseAccesses(rows, kept, new Map(), limit);
  return kept.map((a) => a.id);
}

describe('the access history collapse', () => {
  it('shows a person once within 24 hours, keeping the newest', () => {
    expect(
      collapse([access('a3', 'a', 0), access('b1', 'b', 1), access('a2', 'a', 5), access('a1', 'a', 23)]),
    ).toEqual(['a3', 'b1']);
  });

  it('shows them again for an access more than 24 hours before the one shown', () => {
    expect(collapse([access('a3', 'a', 0), access('a2', 'a', 20), access('a1', 'a', 25)])).toEqual([
      'a3',
      'a1',
    ]);
  });

  it('measures the window from the access shown, not from the ones hidden', () => {
    // 0 h shown; 20 h hidden (within 24 h of 0 h); 40 h is 40 h from the one shown: shown.
    expect(collapse([access('x0', 'x', 0), access('x20', 'x', 20), access('x40', 'x', 40)])).toEqual([
      'x0',
      'x40',
    ]);
  });

  it('stops at the limit', () => {
    const rows = Array.from({ length: 40 }, (_, i) => access(`p${i}`, `person${i}`, i));
    expect(collapse(rows)).toHaveLength(25);
    expect(collapse(rows).at(-1)).toBe('p24');
  });
});
