/**
 * Start-up on an existing data directory: `cpis serve` spawned as `npm start` spawns it (the command
 * after `npm start`'s own prestart build), timed from spawn to the first 200 from /healthz. The first
 * start on a fresh store (migrations, demo world) is preparation and is not counted. Each child
 * reports its steps (CPIS_STARTUP_TIMING) so the time can be broken down.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Engine, openStore } from '../src/store/db.ts';
import { freePort } from '../tools/pg-server.ts';
import { benchStore } from './engines.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface StartupRun {
  /** Spawn to the first 200 from /healthz, ms. */
  readyMs: number;
  /** Each step the child reported, ms after spawn (`process` is when its Node process began). */
  steps: Record<string, number>;
}

export interface StartupFigures {
  runs: StartupRun[];
  medianMs: number;
  maxMs: number;
  /** Median of each step, ms after spawn. */
  steps: Record<string, number>;
}

export interface StartupOptions {
  /** Timed starts per engine (default 5). */
  runs?: number;
  /** Print figures (default true). */
  print?: boolean;
  /** More environment for the service (the smoke test makes a small demo world). */
  env?: Record<string, string>;
  /** A migrated PGlite data directory image (a tar file) to start from instead of initdb (tests have one). */
  pgliteImage?: string;
  /** Also time `npm start` itself (npm, its prestart build, then the service), as someone typing it waits. */
  npmStart?: boolean;
}

/**
 * The command `npm start` runs, from package.json: its prestart is run once here (it is a build,
 * not part of serving), and its own binary (tsx, node) is resolved as npm would resolve it.
 */
export function startCommand(): { file: string; args: string[]; prestart: string | null } {
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<
    string,
    string
  >;
  const [bin, ...args] = scripts.start!.split(/\s+/);
  const local = join(ROOT, 'node_modules', '.bin', bin!);
  const file = bin === 'node' ? process.execPath : existsSync(local) ? local : bin!;
  return { file, args, prestart: scripts.prestart ?? null };
}

/** Run `npm start`'s prestart (the bundle build), if it has one. */
export function runPrestart(): void {
  const { prestart } = startCommand();
  if (prestart) execFileSync('npm', ['run', '--silent', 'prestart'], { cwd: ROOT, stdio: 'inherit' });
}

interface Spawned {
  child: ChildProcess;
  url: string;
  spawnedAt: number;
  stderr: () => string;
  /** `npm start`: npm and the service under it, in their own process group. */
  viaNpm: boolean;
}

function spawnServe(env: Record<string, string>, port: number, viaNpm = false): Spawned {
  const { file, args } = viaNpm ? { file: 'npm', args: ['start', '--silent'] } : startCommand();
  const spawnedAt = performance.timeOrigin + performance.now();
  const child = spawn(file, args, {
    cwd: ROOT,
    detached: viaNpm,
    env: {
      ...process.env,
      ...env,
      HOST: '127.0.0.1',
      PORT: String(port),
      CPIS_MODE: 'demo',
      CPIS_LOG_LEVEL: 'warn',
      CPIS_STARTUP_TIMING: '1',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    err += chunk;
  });
  return { child, url: `http://127.0.0.1:${port}`, spawnedAt, stderr: () => err, viaNpm };
}

/** Poll /healthz every 20 ms until it answers 200; ms after spawn. */
async function untilHealthy(s: Spawned, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) {
      throw new Error(
        `cpis serve exited (${s.child.exitCode ?? s.child.signalCode}) before /healthz:\n${s.stderr()}`,
      );
    }
    try {
      const res = await fetch(`${s.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.timeOrigin + performance.now() - s.spawnedAt;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`cpis serve did not answer /healthz within ${timeoutMs} ms:\n${s.stderr()}`);
}

/** SIGTERM, and wait for a clean exit (the lock released, the store closed). */
async function stop(s: Spawned): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = once(s.child, 'exit');
  if (s.viaNpm) {
    // npm and the service both get the signal, as from Ctrl-C; the service must stop listening.
    process.kill(-s.child.pid!, 'SIGTERM');
    await exited;
    for (let i = 0; i < 1500; i++) {
      const up = await fetch(`${s.url}/healthz`).then(
        () => true,
        () => false,
      );
      if (!up) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`the service under npm start did not stop:\n${s.stderr()}`);
  }
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 30_000);
  const [code, signal] = (await exited) as [number | null, string | null];
  clearTimeout(timer);
  if (code !== 0) throw new Error(`cpis serve stopped with ${code ?? signal}:\n${s.stderr()}`);
}

/** Steps from the child's `startup <step> <epoch ms>` lines, ms after spawn. */
function stepsOf(s: Spawned): Record<string, number> {
  const steps: Record<string, number> = {};
  for (const m of s.stderr().matchAll(/^startup (\S+) (\d+)$/gm)) {
    steps[m[1]!] = Number(m[2]) - s.spawnedAt;
  }
  return steps;
}

/** One start on the data: spawn, time to /healthz, stop. */
export async function timeStart(
  env: Record<string, string>,
  timeoutMs = 60_000,
  viaNpm = false,
): Promise<StartupRun> {
  const s = spawnServe(env, await freePort(), viaNpm);
  try {
    const readyMs = await untilHealthy(s, timeoutMs);
    return { readyMs, steps: stepsOf(s) };
  } finally {
    await stop(s);
  }
}

/** A store that has been started once (migrated, demo world loaded) and stopped: the environment for `cpis serve`. */
export async function existingData(
  engine: Engine,
  opts: Pick<StartupOptions, 'env' | 'pgliteImage'> = {},
): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const b =
    engine === 'pglite' && opts.pgliteImage ? await fromImage(opts.pgliteImage) : await benchStore(engine);
  await b.store.close();
  const env: Record<string, string> = { ...opts.env, CPIS_DATA_DIR: b.dataDir };
  if (b.url) env.DATABASE_URL = b.url;
  try {
    // First start: the demo world is loaded on the empty store. Not timed.
    await timeStart(env, 300_000);
  } catch (err) {
    await b.cleanup();
    throw err;
  }
  return { env, cleanup: b.cleanup };
}

/** A PGlite data directory made from an image. */
async function fromImage(image: string) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cpis-bench-'));
  const store = await openStore({
    engine: 'pglite',
    dataDir,
    loadDataDir: new Blob([readFileSync(image)]),
  });
  return {
    store,
    url: null,
    dataDir,
    cleanup: async () => {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function benchStartup(
  engines: Engine[],
  opts: StartupOptions = {},
): Promise<Partial<Record<Engine, StartupFigures>>> {
  const runs = opts.runs ?? 5;
  const print = opts.print ?? true;
  const { file, args } = startCommand();
  if (print) console.log(`command: ${[file.replace(`${ROOT}/`, ''), ...args].join(' ')}`);
  const built = performance.now();
  runPrestart();
  if (print && startCommand().prestart)
    console.log(`prestart (the build npm start runs first): ${(performance.now() - built).toFixed(0)} ms`);
  const out: Partial<Record<Engine, StartupFigures>> = {};
  for (const engine of engines) {
    const data = await existingData(engine, opts);
    try {
      const all: StartupRun[] = [];
      for (let i = 0; i < runs; i++) all.push(await timeStart(data.env));
      const ready = all.map((r) => r.readyMs);
      const names = [...new Set(all.flatMap((r) => Object.keys(r.steps)))];
      const steps = Object.fromEntries(
        names
          .map(
            (n) =>
              [n, median(all.map((r) => r.steps[n]).filter((v): v is number => v !== undefined))] as const,
          )
          .sort((a, b) => a[1] - b[1]),
      );
      out[engine] = { runs: all, medianMs: median(ready), maxMs: Math.max(...ready), steps };
      if (print) {
        console.log(
          `startup ${engine}: median ${median(ready).toFixed(0)} ms, max ${Math.max(...ready).toFixed(0)} ms ` +
            `over ${runs} starts (${ready.map((v) => v.toFixed(0)).join(', ')})`,
        );
        let prev = 0;
        const parts = Object.entries(steps).map(([n, t]) => {
          const part = `${n} +${(t - prev).toFixed(0)}`;
          prev = t;
          return part;
        });
        parts.push(`healthz 200 +${(median(ready) - prev).toFixed(0)}`);
        console.log(`  median steps, ms after the previous: ${parts.join(', ')}`);
      }
      if (opts.npmStart) {
        const npm: number[] = [];
        for (let i = 0; i < runs; i++) npm.push((await timeStart(data.env, 60_000, true)).readyMs);
        if (print)
          console.log(
            `  npm start (npm, prestart build, service) ${engine}: median ${median(npm).toFixed(0)} ms, ` +
              `max ${Math.max(...npm).toFixed(0)} ms (${npm.map((v) => v.toFixed(0)).join(', ')})`,
          );
      }
    } finally {
      await data.cleanup();
    }
  }
  return out;
}
