/**
 * One process per data directory. PGlite takes no lock of its own and two processes writing one
 * directory corrupt it, so the store creates `cpis.lock` with O_EXCL before opening PGlite. A lock
 * left by a process that has died (same host, pid no longer running) is taken over; a live one
 * makes the second process fail at once with a message saying what to do instead.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockInfo,
  ) {
    super(
      `The data directory ${dataDir} is in use by process ${holder.pid} on ${holder.host} (since ${holder.startedAt}). ` +
        'Only one process may open an embedded store. Stop that process first, or use the cpis CLI against the ' +
        'running service (it talks to it over HTTP), or give this process its own CPIS_DATA_DIR.',
    );
    this.name = 'DataDirLockedError';
  }
}

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

export interface DirLock {
  readonly path: string;
  release(): void;
}

export const LOCK_FILE = 'cpis.lock';

export function acquireDirLock(dataDir: string): DirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(info)}\n`);
      } finally {
        closeSync(fd);
      }
      return makeLock(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(path);
      if (holder && isAlive(holder)) throw new DataDirLockedError(dataDir, holder);
      // Stale (its process is gone) or unreadable half-written lock: remove and try once more.
      rmSync(path, { force: true });
    }
  }
  const holder = readHolder(path);
  throw new DataDirLockedError(dataDir, holder ?? { pid: -1, host: 'unknown', startedAt: 'unknown' });
}

function makeLock(path: string): DirLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    // Only remove the lock if it is still ours.
    const holder = readHolder(path);
    if (holder && holder.pid === process.pid && holder.host === hostname()) rmSync(path, { force: true });
    process.off('exit', release);
  };
  // A normal exit (including process.exit) releases the lock; a SIGKILL leaves a stale one that the
  // next start recognises by its dead pid.
  process.on('exit', release);
  return { path, release };
}

function readHolder(path: string): LockInfo | null {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockInfo>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return null;
    return { pid: parsed.pid, host: parsed.host, startedAt: String(parsed.startedAt ?? 'unknown') };
  } catch {
    return null;
  }
}

function isAlive(holder: LockInfo): boolean {
  // A lock from another host (a shared volume) cannot be checked: treat it as live.
  if (holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return true;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
