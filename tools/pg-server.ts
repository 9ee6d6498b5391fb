/**
 * A throwaway PostgreSQL 15 server on loopback for tests and benchmarks: initdb into a temporary
 * directory, start on a free port, stop and delete at the end. As root, the server runs as the
 * `postgres` user (PostgreSQL refuses to run as root).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface PgServer {
  /** A URL for the `postgres` superuser database; create per-test databases from it. */
  readonly adminUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

export function findPgBin(): string | null {
  const explicit = process.env.PG_BIN;
  if (explicit && existsSync(join(explicit, 'initdb'))) return explicit;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  // Production is PostgreSQL 15: prefer it when several are installed.
  const pick = versions.includes('15') ? '15' : versions[0];
  return pick ? join(root, pick, 'bin') : null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startPgServer(opts: { fsync?: boolean } = {}): Promise<PgServer> {
  const bin = findPgBin();
  if (!bin) {
    throw new Error(
      'PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin; set PG_BIN to override). ' +
        'Install them with: apt-get install -y postgresql',
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'cpis-pg-'));
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    chownSync(dir, pgUid(), pgGid());
    chmodSync(dir, 0o700);
  }
  const run = (cmd: string, args: string[]) => {
    const file = join(bin, cmd);
    if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', file, ...args], { stdio: 'pipe' });
    else execFileSync(file, args, { stdio: 'pipe' });
  };
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    `-c fsync=${opts.fsync ? 'on' : 'off'}`,
    '-c max_connections=200',
    '-c shared_buffers=128MB',
  ];
  if (!opts.fsync) settings.push('-c synchronous_commit=off', '-c full_page_writes=off');
  try {
    run('pg_ctl', ['-D', data, '-w', '-t', '60', '-l', join(dir, 'log'), '-o', settings.join(' '), 'start']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${(err as Error).message}`);
  }
  let stopped = false;
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-w', '-m', 'fast', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function pgUid(): number {
  return Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
}
function pgGid(): number {
  return Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
}
