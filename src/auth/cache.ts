/**
 * Remembering tokens already verified. A token is signed once and presented many times (a PAS
 * queries for every registration with the same token for an hour), and checking an ES256/RS256
 * signature costs more than the rest of a health query put together. So a token that verified is
 * remembered — keyed by the whole token string, signature included, so nothing but that exact
 * token can ever match — until it expires by real time; after that it is verified afresh (and
 * refused). Refusals are never remembered: a bad token costs its full check every time. The
 * principal handed out is frozen all the way down: every request with the token shares it, so no
 * request may change what the next one is allowed to do.
 */
import { decodeJwt } from 'jose';
import type { Principal } from './principal.ts';
import type { TokenVerifier } from './tokens.ts';

export interface CachingVerifierOptions {
  /** Most tokens remembered; the least recently used go first. */
  maxEntries?: number;
  /** Seconds of leeway on `exp`, as the verifier allows. */
  clockToleranceS?: number;
  now?: () => number;
}

interface Remembered {
  principal: Principal;
  /** Unix seconds after which the token must be checked again. */
  until: number;
}

export function cachingVerifier(inner: TokenVerifier, opts: CachingVerifierOptions = {}): TokenVerifier {
  const max = opts.maxEntries ?? 10_000;
  const tolerance = opts.clockToleranceS ?? 30;
  const now = opts.now ?? (() => Date.now() / 1000);
  const cache = new Map<string, Remembered>();
  return {
    async verify(token) {
      const hit = cache.get(token);
      if (hit) {
        cache.delete(token);
        if (now() <= hit.until) {
          cache.set(token, hit); // most recently used last
          return hit.principal;
        }
      }
      const principal = await inner.verify(token);
      const exp = decodeJwt(token).exp;
      if (typeof exp === 'number') {
        cache.set(token, { principal: deepFreeze(principal), until: exp + tolerance });
        if (cache.size > max) cache.delete(cache.keys().next().value!);
      }
      return principal;
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
