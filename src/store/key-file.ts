/**
 * Keys kept in the data directory when configuration gives none (one process, or the demo): 32
 * random bytes made on first use, readable by the service's user only. Two processes starting at
 * once both end up with the one that was written first.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function keyFromDataDir(dataDir: string, name: string): Promise<Buffer> {
  const dir = join(dataDir, 'keys');
  const file = join(dir, name);
  const read = async () => Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
  try {
    return await read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, key.toString('base64url'), { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    // Another process made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return read();
  }
}
