import { describe, expect, it } from 'vitest';
import { childPattern, DEFAULT_THRESHOLDS, invalidThreshold, type Sighting } from './patterns.ts';

const asOf = new Date('2026-11-20T22:00:00Z');
const daysBefore = (d: number, area: string | null = 'Stoke-on-Trent'): Sighting => ({
  at: new Date(asOf.getTime() - d * 86_400_000),
  area,
});
const codes = (s: Sighting[]) => childPattern(s, asOf, 12, DEFAULT_THRESHOLDS).concerns.map((c) => c.code);

describe('patterns of concern', () => {
  it.each([
    ['one episode', [daysBefore(0)], []],
    [
      'a flood of five accesses in one night is one episode',
      [0, 0.05, 0.1, 0.2, 0.3].map((d) => daysBefore(d)),
      [],
    ],
    ['two episodes in six months', [daysBefore(0), daysBefore(100)], []],
    ['three episodes in six months', [daysBefore(0), daysBefore(40), daysBefore(182)], ['REPEAT_EPISODES']],
    [
      'the third episode 183 days ago has left the window',
      [daysBefore(0), daysBefore(40), daysBefore(183)],
      [],
    ],
    [
      'three towns within a week',
      [daysBefore(0, 'Stafford'), daysBefore(2, 'Stoke-on-Trent'), daysBefore(6.9, 'Birmingham')],
      ['REPEAT_EPISODES', 'SEVERAL_AREAS'],
    ],
    [
      'three towns, but one eight days ago',
      [daysBefore(0, 'Stafford'), daysBefore(2, 'Stoke-on-Trent'), daysBefore(8, 'Birmingham')],
      ['REPEAT_EPISODES'],
    ],
    [
      'three towns in one episode (a transfer chain) still counts as areas',
      [daysBefore(0, 'Stafford'), daysBefore(0.1, 'Stoke-on-Trent'), daysBefore(0.2, 'Birmingham')],
      ['SEVERAL_AREAS'],
    ],
    [
      'unknown areas are not counted',
      [daysBefore(0, null), daysBefore(0.1, null), daysBefore(0.2, 'Leeds')],
      [],
    ],
  ] as [string, Sighting[], string[]][])('%s', (_name, sightings, expected) => {
    expect(codes(sightings)).toEqual(expected);
  });

  it('ignores sightings after the moment asked about, and says what it counted', () => {
    const later = { at: new Date(asOf.getTime() + 3_600_000), area: 'Leeds' };
    const p = childPattern(
      [daysBefore(0, 'Stafford'), daysBefore(1, 'Stoke-on-Trent'), later],
      asOf,
      12,
      DEFAULT_THRESHOLDS,
    );
    expect(p.episodes).toEqual({ count: 2, withinDays: 183 });
    expect(p.areas).toEqual({ names: ['Stoke-on-Trent', 'Stafford'], withinDays: 7 });
  });

  it('uses the LA’s own thresholds', () => {
    const two = { episodes: 2, episodeDays: 30, areas: 2, areaDays: 2 };
    const p = childPattern([daysBefore(0, 'Stafford'), daysBefore(1, 'Leeds')], asOf, 12, two);
    expect(p.concerns.map((c) => c.text)).toEqual([
      '2 separate episodes in the last 30 days',
      'seen in 2 areas within 2 days: Leeds, Stafford',
    ]);
  });

  it('names the first threshold out of range', () => {
    expect(invalidThreshold({ ...DEFAULT_THRESHOLDS })).toBeNull();
    expect(invalidThreshold({ ...DEFAULT_THRESHOLDS, episodes: 1 })).toBe('episodes');
    expect(invalidThreshold({ ...DEFAULT_THRESHOLDS, areaDays: 2.5 })).toBe('areaDays');
    expect(invalidThreshold({ episodes: 3 })).toBe('episodeDays');
  });
});
