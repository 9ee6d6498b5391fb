import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretBox, SecretUnreadable } from './secret-box.ts';

const SECRET = 'webhook-secret-of-at-least-32-characters';

describe('secrets at rest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpis-box-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens what it sealed, for the same binding only', async () => {
    const box = await SecretBox.open('a configured key of more than thirty-two characters', dir);
    const sealed = box.seal(SECRET, 'la:E08000025');
    expect(sealed).toMatch(/^enc:v1:/);
    expect(sealed).not.toContain(SECRET);
    expect(box.seal(SECRET, 'la:E08000025')).not.toBe(sealed); // a fresh IV each time
    expect(box.open(sealed, 'la:E08000025')).toBe(SECRET);
    expect(() => box.open(sealed, 'la:E08000035')).toThrow(SecretUnreadable);
  });

  it('refuses a value altered, in plain text, or sealed under another key', async () => {
    const box = await SecretBox.open('a configured key of more than thirty-two characters', dir);
    const sealed = box.seal(SECRET, 'b');
    const flipped = `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}${sealed.slice(-1)}`;
    expect(() => box.open(flipped, 'b')).toThrow(SecretUnreadable);
    expect(() => box.open(SECRET, 'b')).toThrow(SecretUnreadable);
    const other = await SecretBox.open('another configured key, also over thirty-two characters', dir);
    expect(() => other.open(sealed, 'b')).toThrow(/CPIS_SECRET_KEY/);
  });

  it('shares a configured key between processes, and keeps one in the data directory otherwise', async () => {
    const a = await SecretBox.open('a configured key of more than thirty-two characters', join(dir, 'a'));
    const b = await SecretBox.open('a configured key of more than thirty-two characters', join(dir, 'b'));
    expect(b.open(a.seal(SECRET, 'x'), 'x')).toBe(SECRET);
    const kept = await SecretBox.open(null, join(dir, 'c'));
    const again = await SecretBox.open(null, join(dir, 'c'));
    expect(again.open(kept.seal(SECRET, 'x'), 'x')).toBe(SECRET);
    expect(statSync(join(dir, 'c', 'keys', 'secret-box.key')).mode & 0o077).toBe(0);
    const elsewhere = await SecretBox.open(null, join(dir, 'd'));
    expect(() => elsewhere.open(kept.seal(SECRET, 'x'), 'x')).toThrow(SecretUnreadable);
  });
});
