/**
 * Where an upload's body waits on disk while it is checked and applied. A spool is named after the
 * process that wrote it, so a process killed mid-upload leaves a file that the next start on this
 * machine recognises as orphaned and removes (a live process's spools are left alone, also when
 * several service processes share one machine).
 */
import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'cpis-upload-';
const SPOOL_NAME = new RegExp(`^${PREFIX}(\\d+)-`);

export function newSpoolPath(dir: string = tmpdir()): string {
  return join(dir, `${PREFIX}${process.pid}-${randomUUID()}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes spools whose writing process is gone; returns how many. */
export async function sweepOrphanSpools(dir: string = tmpdir()): Promise<number> {
  let removed = 0;
  for (const name of await readdir(dir)) {
    const m = SPOOL_NAME.exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    await rm(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}
