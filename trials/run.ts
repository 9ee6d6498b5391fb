/**
 * Run crash trials: for each engine and flow, one world (data directory, database) shared by the
 * flow's trials, each trial with its own seed drawn from the run's seed. After every trial the
 * audit chain must verify. Used by `npm run trials` (trials/main.ts) and e2e/crash-trials.test.ts.
 */
import type { Engine } from '../src/store/db.ts';
import { FLOWS, type Flow } from './flows.ts';
import { type Engines, prng, trialSeed, World } from './harness.ts';

export interface RunOptions {
  engines: Engine[];
  flows: string[];
  perFlow: number;
  seed: number;
  pg: Engines;
  /** Smaller populations and files (the test suite's run). */
  small?: boolean;
  log?: (line: string) => void;
}

export interface CellResult {
  flow: string;
  engine: Engine;
  trials: number;
  violations: string[];
  seconds: number;
}

export async function runTrials(opts: RunOptions): Promise<CellResult[]> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const flows = opts.flows.map((name) => {
    const f = FLOWS.find((x) => x.name === name);
    if (!f) throw new Error(`unknown flow ${name} (flows: ${FLOWS.map((x) => x.name).join(', ')})`);
    return f;
  });
  const results: CellResult[] = [];
  for (const engine of opts.engines)
    for (const flow of flows) results.push(await runCell(flow, engine, opts, log));
  return results;
}

async function runCell(
  flow: Flow,
  engine: Engine,
  opts: RunOptions,
  log: (line: string) => void,
): Promise<CellResult> {
  const started = Date.now();
  const cell: CellResult = { flow: flow.name, engine, trials: 0, violations: [], seconds: 0 };
  const replay = `npm run trials -- --engines ${engine} --flows ${flow.name} --seed ${opts.seed} --per-flow`;
  const world = await World.create(engine, opts.pg, flow.env(!!opts.small));
  let state: unknown;
  try {
    await world.start();
    state = await flow.setup(world, !!opts.small);
    for (let i = 0; i < opts.perFlow; i++) {
      const seed = trialSeed(opts.seed, flow.name, engine, i);
      const t0 = Date.now();
      let violations: string[];
      let note: string;
      try {
        const out = await flow.trial(world, prng(seed), i, state);
        violations = out.violations;
        note = out.note;
        const audit = await world.auditProblem();
        if (audit) violations.push(audit);
      } catch (err) {
        // A trial that cannot go on (the service does not come back, an answer makes no sense) fails.
        violations = [
          `trial failed: ${(err as Error).stack ?? err}\n--- service output ---\n${world.tail()}`,
        ];
        note = 'aborted';
      }
      cell.trials++;
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      log(
        `${flow.name}/${engine} #${i} seed ${seed} (${secs} s): ${violations.length ? `${violations.length} VIOLATION(S)` : 'ok'}; ${note}`,
      );
      for (const v of violations) {
        log(`  ! ${v}`);
        log(`    replay: ${replay} ${i + 1}`);
      }
      if (violations.length && note !== 'aborted') log(`  service output (errors):\n${world.tail(40)}`);
      cell.violations.push(...violations.map((v) => `#${i} (seed ${seed}): ${v}`));
      if (violations.some((v) => v.startsWith('trial failed'))) break;
    }
    if (flow.finish && world.service) {
      const late = await flow.finish(world, state);
      for (const v of late) log(`  ! ${flow.name}/${engine} at the end: ${v}`);
      cell.violations.push(...late.map((v) => `end: ${v}`));
    }
  } finally {
    if (flow.close && state) await flow.close(state).catch(() => {});
    // TRIALS_KEEP=1 keeps a world that had violations, to look into.
    await world.close(!!process.env.TRIALS_KEEP && cell.violations.length > 0).catch(() => {});
  }
  cell.seconds = (Date.now() - started) / 1000;
  return cell;
}

export function table(results: CellResult[]): string {
  const rows = [['flow', 'engine', 'trials', 'violations', 'seconds']];
  for (const r of results)
    rows.push([r.flow, r.engine, String(r.trials), String(r.violations.length), r.seconds.toFixed(0)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n');
}
