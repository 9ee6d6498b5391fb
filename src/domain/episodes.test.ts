import { describe, expect, it } from 'vitest';
import { groupIntoEpisodes } from './episodes.ts';

const at = (iso: string, label: string) => ({ at: new Date(iso), label });
const labels = (eps: { label: string }[][]) => eps.map((e) => e.map((a) => a.label));

describe('episodes', () => {
  it('groups the flood (111, ambulance, crew, A&E, ward) into one episode', () => {
    const flood = [
      at('2026-11-20T21:40:00Z', '111'),
      at('2026-11-20T21:52:00Z', 'ambulance'),
      at('2026-11-20T22:05:00Z', 'crew'),
      at('2026-11-20T22:48:00Z', 'A&E'),
      at('2026-11-21T03:10:00Z', 'ward'),
    ];
    expect(labels(groupIntoEpisodes(flood.reverse(), 12))).toEqual([
      ['111', 'ambulance', 'crew', 'A&E', 'ward'],
    ]);
  });

  it.each([
    ['11:59 apart: one episode', '2026-11-20T21:59:00Z', 1],
    ['exactly 12 hours apart: two', '2026-11-20T22:00:00Z', 2],
    ['12:01 apart: two', '2026-11-20T22:01:00Z', 2],
  ])('%s', (_w, second, count) => {
    expect(groupIntoEpisodes([at('2026-11-20T10:00:00Z', 'a'), at(second, 'b')], 12)).toHaveLength(count);
  });

  it('measures the gap from the latest access, so a long chain of close accesses stays one episode', () => {
    const chain = Array.from({ length: 6 }, (_, i) =>
      at(new Date(Date.UTC(2026, 10, 20, i * 10)).toISOString(), String(i)),
    );
    expect(groupIntoEpisodes(chain, 12)).toHaveLength(1);
    expect(groupIntoEpisodes(chain, 10)).toHaveLength(6);
  });

  it('has no episodes without accesses', () => {
    expect(groupIntoEpisodes([], 12)).toEqual([]);
  });
});
