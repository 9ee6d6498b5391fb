/**
 * The patient reference in portal URLs (`/patient/<ref>`): the NHS number sealed with AES-256-GCM,
 * bound to the person who searched, the role they searched in and their session, and to the time
 * they did. NHS numbers so stay out of URLs, browser history and access logs; a reference shared
 * with someone else, kept after signing out or used in another role opens nothing.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { FindNote } from '../query/portal.ts';
import { keyFromDataDir } from '../store/key-file.ts';

export interface PatientRefContent {
  nhsNumber: string;
  /** What finding them noted (a merged number, an unconfirmed identity), shown on the page. */
  note: FindNote | null;
}

export class PatientRefs {
  readonly #key: Buffer;
  readonly #maxAgeMs: number;

  constructor(key: Buffer, maxAgeMs: number) {
    if (key.length !== 32) throw new Error('a patient reference key is 32 bytes');
    this.#key = key;
    this.#maxAgeMs = maxAgeMs;
  }

  /** A key from a configured secret (several processes share it), or one kept in the data directory. */
  static async open(secret: string | null, dataDir: string, maxAgeMs: number): Promise<PatientRefs> {
    if (secret) return new PatientRefs(createHash('sha256').update(secret).digest(), maxAgeMs);
    return new PatientRefs(keyFromDataDir(dataDir, 'portal-ref.key'), maxAgeMs);
  }

  seal(content: PatientRefContent, binding: string, nowMs: number): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(binding));
    // Compact, to keep URLs short: number, how found, when (base 36), and the note if any.
    const note = content.note?.kind === 'superseded' ? `s${content.note.current}` : content.note ? 'u' : '';
    const plain = Buffer.from(`${content.nhsNumber}.${nowMs.toString(36)}.${note}`);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The content, or null for anything not sealed by this service for this binding, or too old. */
  open(ref: string, binding: string, nowMs: number): PatientRefContent | null {
    if (!/^[A-Za-z0-9_-]{40,100}$/.test(ref)) return null;
    const raw = Buffer.from(ref, 'base64url');
    if (raw.length < 12 + 16 + 1) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(binding));
      decipher.setAuthTag(raw.subarray(12, 28));
      const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
      const m = /^(\d{10})\.([0-9a-z]{1,12})\.(u|s\d{10})?$/.exec(plain.toString('utf8'));
      if (!m) return null;
      const t = Number.parseInt(m[2]!, 36);
      if (nowMs - t > this.#maxAgeMs || t - nowMs > 60_000) return null;
      const flag = m[3];
      const note: FindNote | null = !flag
        ? null
        : flag === 'u'
          ? { kind: 'unconfirmed' }
          : { kind: 'superseded', current: flag.slice(1) };
      return { nhsNumber: m[1]!, note };
    } catch {
      return null;
    }
  }
}
