/**
 * `npm run trials -- [--engines pglite,postgres] [--flows upload,query,dispatch,webhook,retention]
 *   [--per-flow 20] [--seed N]`: crash trials against a real service process, killed with SIGKILL at
 * a random point and started again on the same data. Prints each trial (its seed and where the kill
 * fell), then a table of flow × engine, and exits 1 on any violation. PostgreSQL runs on a
 * throwaway server of its own (tools/pg-server.ts).
 */
import { Command } from 'commander';
import type { Engine } from '../src/store/db.ts';
import { startPgServer } from '../tools/pg-server.ts';
import { FLOWS } from './flows.ts';
import { runTrials, table } from './run.ts';

const program = new Command()
  .name('trials')
  .option('--engines <list>', 'pglite, postgres or both', 'pglite,postgres')
  .option('--flows <list>', 'which flows', FLOWS.map((f) => f.name).join(','))
  .option('--per-flow <n>', 'trials per flow and engine', '20')
  .option('--seed <n>', 'run seed (default: from the time, printed)')
  .parse();
const opts = program.opts<{ engines: string; flows: string; perFlow: string; seed?: string }>();

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const engines = list(opts.engines) as Engine[];
for (const e of engines) if (e !== 'pglite' && e !== 'postgres') throw new Error(`unknown engine ${e}`);
const perFlow = Number(opts.perFlow);
if (!Number.isInteger(perFlow) || perFlow < 1) throw new Error('--per-flow must be a positive whole number');
const seed = opts.seed === undefined ? Date.now() % 2 ** 31 : Number(opts.seed);
if (!Number.isInteger(seed)) throw new Error('--seed must be a whole number');

console.log(`crash trials: seed ${seed}, engines ${engines.join(',')}, ${perFlow} per flow`);
const started = Date.now();
const server = engines.includes('postgres') ? await startPgServer() : null;
let failed = true;
try {
  const results = await runTrials({
    engines,
    flows: list(opts.flows),
    perFlow,
    seed,
    pg: { pgAdminUrl: server?.adminUrl ?? null },
  });
  console.log(`\n${table(results)}`);
  const violations = results.reduce((n, r) => n + r.violations.length, 0);
  console.log(
    `\n${violations} violation(s) in ${results.reduce((n, r) => n + r.trials, 0)} trials; wall time ${((Date.now() - started) / 1000).toFixed(0)} s; seed ${seed}`,
  );
  failed = violations > 0;
} finally {
  await server?.stop();
}
process.exit(failed ? 1 : 0);
