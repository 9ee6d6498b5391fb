/**
 * Authorisation on the server for every route. Each route must declare who may call it
 * (`config.allow`): registering a route without a declaration fails at start-up, so no endpoint is
 * ever open by accident. No or a bad token: 401. A valid token of the wrong kind: 403, written to the
 * audit trail as `access-denied` (unless the route's scope audits every refusal itself, as the FHIR
 * API does). Both are OperationOutcomes with Spine code ACCESS_DENIED.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal, PrincipalKind } from '../auth/principal.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import { forbidden, unauthenticated } from '../domain/outcomes.ts';
import type { RequestRecord } from '../query/service.ts';

/** `session`: a portal page; the portal checks its signed-in session (src/web), not a bearer token. */
export type Allow = 'public' | 'session' | readonly PrincipalKind[];

declare module 'fastify' {
  interface FastifyContextConfig {
    allow?: Allow;
    /** The route's scope writes every refusal to the audit trail itself; the check here does not. */
    auditsRefusals?: boolean;
    /** A static asset that may be cached (every other answer is `no-store`). */
    cacheableAsset?: boolean;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** Every route registered so far, in every plugin scope, with who may call it (tests enumerate it). */
    declaredRoutes(): readonly DeclaredRoute[];
  }
}

/**
 * One registered route. `method` is one HTTP method, or `ALL` for a route registered with `all()`.
 * The HEAD routes Fastify adds by itself for each GET are left out: they answer as the GET does.
 */
export interface DeclaredRoute {
  method: string;
  url: string;
  allow: Allow | undefined;
}

export interface AuthDeps {
  verifier: TokenVerifier;
  /** Where refusals are audited (the group-committed audit writer the FHIR API uses too). */
  query: { record(rec: RequestRecord): Promise<void> };
}

export function registerAuth(app: FastifyInstance, deps: AuthDeps): void {
  app.decorateRequest('principal', null);

  // Kept by the root instance; the onRoute hook is inherited by every child scope, so routes that
  // plugins register (the portal's pages, the CIS2 stand-in) are recorded as well.
  const routes: DeclaredRoute[] = [];
  app.decorate('declaredRoutes', () => routes);

  app.addHook('onRoute', (route) => {
    const allow = (route.config as { allow?: Allow } | undefined)?.allow;
    if (allow === undefined && !route.url.startsWith('/documentation')) {
      throw new Error(`route ${route.method} ${route.url} does not declare who may call it (config.allow)`);
    }
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const all = methods.length > 1 && app.supportedMethods.every((m) => methods.includes(m));
    for (const method of all ? ['ALL'] : methods) {
      const automaticHead =
        method === 'HEAD' && routes.some((r) => r.method === 'GET' && r.url === route.url);
      if (!automaticHead) routes.push({ method, url: route.url, allow });
    }
  });

  app.addHook('onRequest', async (req) => {
    const config = req.routeOptions.config;
    const allow = config.allow;
    if (allow === undefined || allow === 'public' || allow === 'session') return;
    req.principal = await authenticate(req, deps.verifier);
    if (!allow.includes(req.principal.kind)) {
      const message = `this endpoint is not available to a ${req.principal.kind} (allowed: ${allow.join(', ')})`;
      if (!config.auditsRefusals) {
        await deps.query
          .record({
            action: 'api.access',
            principal: req.principal,
            status: 403,
            code: 'ACCESS_DENIED',
            message,
            http: { method: req.method, url: req.url, ip: req.ip, requestId: req.id },
            detail: { route: `${req.method} ${req.routeOptions.url}` },
          })
          // The caller is refused either way; a refusal that could not be written is logged.
          .catch((err: unknown) => req.log.error({ err }, 'could not audit a refused request'));
      }
      throw forbidden(message);
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
