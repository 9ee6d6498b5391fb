/**
 * Patterns of concern (CPIS.md §8, ours): instead of a task per access, an LA is told when a child's
 * recent history crosses its thresholds — several separate episodes within months (repeated
 * attendance), or being seen in several areas within days (moving between hospitals). Each child in
 * an access notification carries this summary, worked out from the accesses this LA was told of.
 */
import { groupIntoEpisodes } from './episodes.ts';

export interface PatternThresholds {
  /** This many episodes or more... */
  episodes: number;
  /** ...within this many days is a concern. */
  episodeDays: number;
  /** This many different areas (towns) or more... */
  areas: number;
  /** ...within this many days is a concern. */
  areaDays: number;
}

/** Three or more episodes in six months, or three or more areas within a week. */
export const DEFAULT_THRESHOLDS: PatternThresholds = { episodes: 3, episodeDays: 183, areas: 3, areaDays: 7 };

export const THRESHOLD_LIMITS: Record<keyof PatternThresholds, [number, number]> = {
  episodes: [2, 50],
  episodeDays: [1, 730],
  areas: [2, 20],
  areaDays: [1, 90],
};

/** One access to the child: when, and in which area the child was (null when that is not known). */
export interface Sighting {
  at: Date;
  area: string | null;
}

export interface Concern {
  code: 'REPEAT_EPISODES' | 'SEVERAL_AREAS';
  text: string;
}

export interface ChildPattern {
  /** Episodes that began or ran within the episode window ending at `asOf`. */
  episodes: { count: number; withinDays: number };
  /** Areas the child was seen in within the area window, in the order first seen. */
  areas: { names: string[]; withinDays: number };
  concerns: Concern[];
}

const DAY_MS = 86_400_000;

/**
 * The pattern in `sightings` (one child, any order) as of `asOf`: only sightings from the windows
 * ending then count; later ones are ignored.
 */
export function childPattern(
  sightings: readonly Sighting[],
  asOf: Date,
  gapHours: number,
  t: PatternThresholds,
): ChildPattern {
  const within = (days: number) =>
    sightings.filter(
      (s) => s.at.getTime() <= asOf.getTime() && s.at.getTime() > asOf.getTime() - days * DAY_MS,
    );
  const episodeCount = groupIntoEpisodes(within(t.episodeDays), gapHours).length;
  const areas: string[] = [];
  for (const s of [...within(t.areaDays)].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    if (s.area && !areas.includes(s.area)) areas.push(s.area);
  }
  const concerns: Concern[] = [];
  if (episodeCount >= t.episodes)
    concerns.push({
      code: 'REPEAT_EPISODES',
      text: `${episodeCount} separate episodes in the last ${t.episodeDays} days`,
    });
  if (areas.length >= t.areas)
    concerns.push({
      code: 'SEVERAL_AREAS',
      text: `seen in ${areas.length} areas within ${t.areaDays} days: ${areas.join(', ')}`,
    });
  return {
    episodes: { count: episodeCount, withinDays: t.episodeDays },
    areas: { names: areas, withinDays: t.areaDays },
    concerns,
  };
}

/** Checks thresholds an admin sent; returns the name of the first bad field, or null. */
export function invalidThreshold(t: Record<string, unknown>): keyof PatternThresholds | null {
  for (const [k, [lo, hi]] of Object.entries(THRESHOLD_LIMITS) as [
    keyof PatternThresholds,
    [number, number],
  ][]) {
    const v = t[k];
    if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) return k;
  }
  return null;
}
