/**
 * Keys kept in the data directory when configuration gives none (one process, or the demo): made
 * on first use, readable by the service's user only. The key is written to a private temporary
 * file and linked into place, so a reader never sees half a key, and a key another process made
 * first is kept (never overwritten), so every process sharing the directory agrees.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The key file's content, or null if there is none yet. */
export function readKeyFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return null;
  }
}

/** The key file's content, writing `make()` there first if there is none. */
export function readOrCreateKeyFile(path: string, make: () => string): string {
  const existing = readKeyFile(path);
  if (existing !== null) return existing;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const content = make();
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path); // fails if the key appeared meanwhile: never overwrite an existing key
    return content;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFileSync(path, 'utf8');
  } finally {
    unlinkSync(tmp);
  }
}

/** 32 random bytes kept as `<dataDir>/keys/<name>`. */
export function keyFromDataDir(dataDir: string, name: string): Buffer {
  const text = readOrCreateKeyFile(join(dataDir, 'keys', name), () => randomBytes(32).toString('base64url'));
  return Buffer.from(text.trim(), 'base64url');
}
