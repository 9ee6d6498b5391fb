import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from './db.ts';
import { acquireDirLock, DataDirLockedError, LOCK_FILE } from './lock.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cpis-lock-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('one process per data directory', () => {
  it('refuses a second lock while the first is held, and allows it once released', () => {
    const dir = tempDir();
    const first = acquireDirLock(dir);
    expect(() => acquireDirLock(dir)).toThrow(DataDirLockedError);
    first.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    acquireDirLock(dir).release();
  });

  it('takes over a lock left by a process that no longer exists', () => {
    const dir = tempDir();
    // A pid far above any this machine will have handed out.
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: 4_000_000, host: hostname(), startedAt: '2026-01-01T00:00:00Z' }),
    );
    const lock = acquireDirLock(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('makes a second process on the same embedded store fail at once with a clear message', async () => {
    const dir = tempDir();
    const store = await openStore({ engine: 'pglite', dataDir: dir });
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'migrate'], {
        env: { ...process.env, CPIS_DATA_DIR: dir, DATABASE_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code).toBe(1);
      expect(stderr).toMatch(/is in use by process \d+/);
      expect(stderr).toMatch(/Only one process may open an embedded store/);
    } finally {
      await store.close();
    }
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});
