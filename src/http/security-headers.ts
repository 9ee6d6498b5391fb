/**
 * Security headers on every answer, as helmet sets them, worked out once when a scope is set up:
 * helmet's middleware is synchronous and depends only on its options, and building it again for
 * every request (as @fastify/helmet does) cost about 4% of a health query's time. A page policy
 * may carry SCRIPT_NONCE in its script-src: each answer then gets a fresh nonce in its place, which
 * the page's own scripts carry (reply.cspNonce).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { onRequestHookHandler } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

declare module 'fastify' {
  interface FastifyReply {
    /** The nonce this answer's Content-Security-Policy allows scripts by ('' when it allows none). */
    cspNonce: string;
  }
}

const NONCE_MARK = 'cpis-nonce';
/** Where, in a policy's script-src, each answer's nonce goes. */
export const SCRIPT_NONCE = `'nonce-${NONCE_MARK}'`;

/** The headers helmet sets for these options, in the order it sets them. */
export function helmetHeaders(options: HelmetOptions): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name, String(value)]);
    },
    removeHeader() {},
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish at once: its headers cannot be worked out ahead');
  return headers;
}

/**
 * An onRequest hook setting those headers on the raw response, so a later scope's hook (the
 * portal's stricter page policy) replaces them by name, and an answer refused by a later hook (429,
 * 503, 401) carries them too.
 */
export function securityHeadersHook(options: HelmetOptions): onRequestHookHandler {
  const headers = helmetHeaders(options);
  const withNonce = headers.filter(([, value]) => value.includes(NONCE_MARK));
  const fixed = headers.filter(([, value]) => !value.includes(NONCE_MARK));
  return (_req, reply, done) => {
    const raw = reply.raw;
    for (const [name, value] of fixed) raw.setHeader(name, value);
    if (withNonce.length > 0) {
      reply.cspNonce = randomBytes(16).toString('hex');
      for (const [name, value] of withNonce) raw.setHeader(name, value.replace(NONCE_MARK, reply.cspNonce));
    }
    done();
  };
}
