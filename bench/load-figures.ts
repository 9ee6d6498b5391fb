/** Figures from load-generator runs: kept apart from bench/loadgen.ts, which runs as a forked process when imported. */
import type { LoadResult } from './loadgen.ts';

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs of the same load put together: their answers over their time, their latencies as one. */
export function combined(runs: readonly LoadResult[]): LoadResult {
  const latencies = runs.flatMap((r) => r.latencies);
  const sorted = Float64Array.from(latencies).sort();
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [s, n] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  return {
    requests,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    statuses,
    seconds,
    qps: requests / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : 0,
    perSecond: runs.flatMap((r) => r.perSecond),
    latencies,
  };
}
