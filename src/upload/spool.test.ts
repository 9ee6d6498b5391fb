import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newSpoolPath, sweepOrphanSpools } from './spool.ts';

describe('upload spools', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpis-spool-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('removes the spool of a process that died mid-upload and keeps a live process’s and other files', async () => {
    const mine = newSpoolPath(dir);
    // A pid far above any this machine hands out: the writer is gone.
    const orphan = join(dir, 'cpis-upload-4000000-0b0e4bde-4a8e-4d6b-9d55-3c1f0c3b5a11');
    const other = join(dir, 'notes.txt');
    for (const f of [mine, orphan, other]) writeFileSync(f, 'x');
    expect(await sweepOrphanSpools(dir)).toBe(1);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(mine)).toBe(true);
    expect(existsSync(other)).toBe(true);
  });
});
