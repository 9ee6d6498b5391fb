/**
 * Secrets the service keeps in its store (an LA's webhook signing secret) are encrypted at rest:
 * AES-256-GCM under a key from configuration (`CPIS_SECRET_KEY`) or, without one, a key kept in
 * the data directory. Each sealed value is bound to where it belongs (e.g. the LA's code), so a
 * value copied into another row does not open. A database dump or backup alone gives no secret.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Executor } from './db.ts';
import { keyFromDataDir } from './key-file.ts';

const PREFIX = 'enc:v1:';

export class SecretUnreadable extends Error {
  constructor(what: string) {
    super(`${what} cannot be decrypted: it was sealed under another key (check CPIS_SECRET_KEY)`);
    this.name = 'SecretUnreadable';
  }
}

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('a secret box key is 32 bytes');
    this.#key = key;
  }

  /** The configured key (stretched to 32 bytes), or the data directory's. */
  static async open(secret: string | null, dataDir: string): Promise<SecretBox> {
    if (secret) {
      const key = hkdfSync('sha256', secret, 'open-cpis', 'secrets at rest v1', 32);
      return new SecretBox(Buffer.from(key));
    }
    return new SecretBox(keyFromDataDir(dataDir, 'secret-box.key'));
  }

  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  seal(plain: string, binding: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(binding));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  /** The plain value; throws SecretUnreadable if it was not sealed by this key for this binding. */
  open(sealed: string, binding: string): string {
    if (!SecretBox.isSealed(sealed)) throw new SecretUnreadable(`the secret for ${binding}`);
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(binding));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretUnreadable(`the secret for ${binding}`);
    }
  }
}

/** What a webhook secret is bound to: the LA it signs for. */
export const webhookSecretBinding = (laCode: string) => `local_authority.webhook_secret:${laCode}`;

/**
 * Seal webhook secrets stored in plain text (by a version before secrets were encrypted). Run at
 * start-up after migrations; returns how many were sealed. Idempotent.
 */
export async function sealPlainSecrets(db: Executor, box: SecretBox): Promise<number> {
  const plain = await db
    .selectFrom('local_authority')
    .select(['la_code', 'webhook_secret'])
    .where('webhook_secret', 'is not', null)
    .where(sql<boolean>`webhook_secret not like ${`${PREFIX}%`}`)
    .execute();
  for (const row of plain) {
    await db
      .updateTable('local_authority')
      .set({ webhook_secret: box.seal(row.webhook_secret!, webhookSecretBinding(row.la_code)) })
      .where('la_code', '=', row.la_code)
      .where('webhook_secret', '=', row.webhook_secret)
      .execute();
  }
  return plain.length;
}
