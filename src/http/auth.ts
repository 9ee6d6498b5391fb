/**
 * Authorisation on the server for every route. Each route must declare who may call it
 * (`config.allow`): registering a route without a declaration fails at start-up, so no endpoint is
 * ever open by accident. No or a bad token: 401. A valid token of the wrong kind: 403. Both are
 * OperationOutcomes with Spine code ACCESS_DENIED.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal, PrincipalKind } from '../auth/principal.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import { forbidden, unauthenticated } from '../domain/outcomes.ts';

/** `session`: a portal page; the portal checks its signed-in session (src/web), not a bearer token. */
export type Allow = 'public' | 'session' | readonly PrincipalKind[];

declare module 'fastify' {
  interface FastifyContextConfig {
    allow?: Allow;
    /** A static asset that may be cached (every other answer is `no-store`). */
    cacheableAsset?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function registerAuth(app: FastifyInstance, verifier: TokenVerifier): void {
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    const allow = (route.config as { allow?: Allow } | undefined)?.allow;
    if (allow === undefined && !route.url.startsWith('/documentation')) {
      throw new Error(`route ${route.method} ${route.url} does not declare who may call it (config.allow)`);
    }
  });

  app.addHook('onRequest', async (req) => {
    const allow = req.routeOptions.config.allow;
    if (allow === undefined || allow === 'public' || allow === 'session') return;
    req.principal = await authenticate(req, verifier);
    if (!allow.includes(req.principal.kind)) {
      throw forbidden(
        `this endpoint is not available to a ${req.principal.kind} (allowed: ${allow.join(', ')})`,
      );
    }
  });
}

async function authenticate(req: FastifyRequest, verifier: TokenVerifier): Promise<Principal> {
  const header = req.headers.authorization;
  if (!header) throw unauthenticated('an Authorization: Bearer token is required');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthenticated('the Authorization header must be "Bearer <token>"');
  return verifier.verify(m[1]!);
}

/** The authenticated caller of a route that is not public. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw unauthenticated();
  return req.principal;
}
