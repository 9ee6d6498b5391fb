/**
 * Portal sessions, kept on the server. The browser holds only a random id in a
 * `__Host-` cookie (`HttpOnly; Secure; SameSite=Lax; Path=/`, no expiry: it goes when the browser
 * closes); the store keeps the SHA-256 of that id and the session's data, so a copy of the table
 * does not let anyone take a session over. A session ends:
 *
 * - after `idleMs` without a request (15 minutes by default), checked on the server at every
 *   request, whatever the cookie says;
 * - `maxMs` after it began (12 hours by default), however active;
 * - at once on sign-out (the row is deleted; the old cookie then names nothing).
 *
 * Signing in replaces the session id (no fixation). Times are real time, like token lifetimes:
 * moving the demo clock must not sign anyone out or keep a session alive.
 *
 * Why not `@fastify/session`: it declines to set a `Secure` cookie on a plain-HTTP request, and
 * the demo serves plain HTTP on loopback (where browsers accept `Secure` cookies). This is the
 * part of it the portal needs, with idle expiry enforced by the store rather than the cookie.
 * `@fastify/csrf-protection` (sessionPlugin '@fastify/session') keeps its secret in `_csrf` here.
 */
import { createHash, randomBytes } from 'node:crypto';
import '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { NrbacRole } from '../auth/claims.ts';
import type { Job } from '../scheduler.ts';
import type { Executor } from '../store/db.ts';

export const SESSION_COOKIE = '__Host-cpis-session';
/** A sign-in must come back within this long of starting (a session with no one signed in lasts no longer). */
export const SIGN_IN_WINDOW_MS = 10 * 60 * 1000;

/** Who is signed in, as the identity provider said (CIS2 claims), and the role they chose. */
export interface SignedInUser {
  /** The identity provider's subject. */
  sub: string;
  /** SDS user id (CIS2 `nhsid_useruid`). */
  sdsUserId: string;
  name: string;
  /** Every role profile the person holds (CIS2 `nhsid_nrbac_roles`). */
  roles: NrbacRole[];
  /** The role profile chosen for this session (`person_roleid`); null until chosen. */
  selectedRoleId: string | null;
  /** Real time, ms. */
  signedInAt: number;
  /** The ID token, to end the session at the identity provider on sign-out. */
  idToken?: string;
}

/** A sign-in in progress: what the callback must find to accept the identity provider's answer. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  startedAt: number;
}

interface SessionData {
  user?: SignedInUser;
  signIn?: PendingSignIn;
  csrf?: string;
}

export class PortalSession {
  #data: SessionData;
  #dirty = false;
  #idHash: string | null;
  #regenerated = false;
  #destroyed = false;
  /** A signed-in session that ended by time, found at this request (for "you were signed out"). */
  readonly expired: boolean;

  constructor(idHash: string | null, data: SessionData, expired = false) {
    this.#idHash = idHash;
    this.#data = data;
    this.expired = expired;
  }

  get user(): SignedInUser | undefined {
    return this.#data.user;
  }
  set user(user: SignedInUser | undefined) {
    this.#data.user = user;
    this.#dirty = true;
  }

  get signIn(): PendingSignIn | undefined {
    return this.#data.signIn;
  }
  set signIn(pending: PendingSignIn | undefined) {
    if (pending === undefined && this.#data.signIn === undefined) return;
    this.#data.signIn = pending;
    this.#dirty = true;
  }

  /** The CSRF secret (@fastify/csrf-protection reads and writes `session._csrf`). */
  get _csrf(): string | undefined {
    return this.#data.csrf;
  }
  set _csrf(secret: string | undefined) {
    if (secret === this.#data.csrf) return;
    this.#data.csrf = secret;
    this.#dirty = true;
  }

  /** Names this session (and no other) for references that must die with it; null before it is stored. */
  get bindingId(): string | null {
    return this.#idHash;
  }

  /** Give the session a new id (at sign-in), keeping its data; the old id stops working. */
  regenerate(): void {
    this.#regenerated = true;
    this.#dirty = true;
  }

  /** End the session now (sign-out). */
  destroy(): void {
    this.#destroyed = true;
    this.#data = {};
  }

  /** @internal */
  get state() {
    return {
      idHash: this.#idHash,
      data: this.#data,
      dirty: this.#dirty,
      regenerated: this.#regenerated,
      destroyed: this.#destroyed,
    };
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    session: PortalSession;
  }
}

export interface SessionOptions {
  db: Executor;
  idleMs: number;
  maxMs: number;
  /** Real time in ms (tests move it). */
  now?: () => number;
}

const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');

interface Row {
  data: SessionData;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

/**
 * Sessions for the routes of the plugin this is registered in (the portal), not for the API.
 * A request that only reads changes nothing in the store, except to note it was seen (at most
 * once per `idleMs / 10`, so a busy user costs one write a minute and idle expiry stays exact
 * to a tenth of the timeout).
 */
export function registerSessions(app: FastifyInstance, opts: SessionOptions): void {
  const now = opts.now ?? Date.now;
  const touchEveryMs = Math.max(1000, Math.floor(opts.idleMs / 10));
  const seen = new WeakMap<FastifyRequest, number>();

  app.decorateRequest('session', null as unknown as PortalSession);

  app.addHook('onRequest', async (req) => {
    const id = req.cookies[SESSION_COOKIE];
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) {
      req.session = new PortalSession(null, {});
      return;
    }
    const idHash = hashOf(id);
    const row = (await opts.db
      .selectFrom('web_session')
      .select(['data', 'created_at', 'last_seen_at', 'expires_at'])
      .where('id_hash', '=', idHash)
      .executeTakeFirst()) as Row | undefined;
    const t = now();
    if (!row) {
      req.session = new PortalSession(null, {});
      return;
    }
    if (t - row.last_seen_at.getTime() >= opts.idleMs || t >= row.expires_at.getTime()) {
      await opts.db.deleteFrom('web_session').where('id_hash', '=', idHash).execute();
      req.session = new PortalSession(null, {}, row.data.user !== undefined);
      return;
    }
    seen.set(req, row.last_seen_at.getTime());
    req.session = new PortalSession(idHash, row.data);
  });

  app.addHook('onSend', async (req, reply) => {
    const session = req.session;
    if (!session) return;
    const { idHash, data, dirty, regenerated, destroyed } = session.state;
    const t = new Date(now());
    if (destroyed) {
      if (idHash) await opts.db.deleteFrom('web_session').where('id_hash', '=', idHash).execute();
      clearCookie(reply);
      return;
    }
    if (idHash && !regenerated) {
      if (dirty) {
        await opts.db
          .updateTable('web_session')
          .set({ data: JSON.stringify(data), user_key: userKey(data), last_seen_at: t })
          .where('id_hash', '=', idHash)
          .execute();
      } else if (t.getTime() - (seen.get(req) ?? 0) >= touchEveryMs) {
        await opts.db
          .updateTable('web_session')
          .set({ last_seen_at: t })
          .where('id_hash', '=', idHash)
          .execute();
      }
      return;
    }
    // An anonymous visit that stored nothing leaves nothing behind.
    if (!dirty || (!data.user && !data.signIn && !data.csrf)) return;
    const id = randomBytes(32).toString('base64url');
    await opts.db
      .insertInto('web_session')
      .values({
        id_hash: hashOf(id),
        data: JSON.stringify(data),
        user_key: userKey(data),
        created_at: t,
        last_seen_at: t,
        // A sign-in that has not finished is worth keeping for ten minutes, not a working day.
        expires_at: new Date(
          t.getTime() + (data.user ? opts.maxMs : Math.min(opts.maxMs, SIGN_IN_WINDOW_MS)),
        ),
      })
      .execute();
    if (idHash) await opts.db.deleteFrom('web_session').where('id_hash', '=', idHash).execute();
    reply.setCookie(SESSION_COOKIE, id, { path: '/', httpOnly: true, secure: true, sameSite: 'lax' });
  });
}

function clearCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, secure: true, sameSite: 'lax' });
}

function userKey(data: SessionData): string | null {
  return data.user ? `user:${data.user.sdsUserId}` : null;
}

/** Remove sessions that ended by time (run by the scheduler; real time). */
export async function purgeEndedSessions(db: Executor, idleMs: number, at = Date.now()): Promise<number> {
  const res = await sql`delete from web_session
    where last_seen_at <= ${new Date(at - idleMs)} or expires_at <= ${new Date(at)}`.execute(db);
  return Number(res.numAffectedRows ?? 0);
}

/** The scheduler's job: sessions that ended by time leave the store (their cookies already open nothing). */
export function sessionPurgeJob(db: Executor, idleMs: number, now: () => number = Date.now): Job {
  return {
    name: 'portal-sessions',
    async run() {
      const removed = await purgeEndedSessions(db, idleMs, now());
      return removed ? { removed } : null;
    },
  };
}
