/**
 * Episodes (CPIS.md §8, ours): accesses to the same child close together in time are one event for
 * the social worker — the 111 call, the ambulance, the crew, A&E and the ward. An episode runs from
 * its first access until a gap with no access reaches the LA's episode gap (default 12 hours): an
 * access less than that after the previous one joins the episode; one at least that long after
 * starts a new one.
 */

export interface Timed {
  at: Date;
}

/** Split accesses to one child into episodes. Input in any order; output oldest first. */
export function groupIntoEpisodes<T extends Timed>(accesses: readonly T[], gapHours: number): T[][] {
  const sorted = [...accesses].sort((a, b) => a.at.getTime() - b.at.getTime());
  const gapMs = gapHours * 3_600_000;
  const episodes: T[][] = [];
  let current: T[] = [];
  for (const a of sorted) {
    const last = current.at(-1);
    if (last && a.at.getTime() - last.at.getTime() >= gapMs) {
      episodes.push(current);
      current = [];
    }
    current.push(a);
  }
  if (current.length) episodes.push(current);
  return episodes;
}
