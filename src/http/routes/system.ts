/** Health check, published keys and the OpenAPI description: open to anyone. */
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../deps.ts';

const PUBLIC = { allow: 'public' as const };
/** Load balancers and monitors poll the health check: it is never rate-limited (back-pressure still applies). */
const PROBE = { allow: 'public' as const, rateLimit: false as const };

export function systemRoutes(app: FastifyInstance, deps: HttpDeps, isReady: () => boolean): void {
  app.get('/healthz', { config: PROBE }, async (_req, reply) => {
    if (!isReady()) return reply.code(503).send({ status: 'starting', store: deps.engine });
    return { status: 'ok', store: deps.engine };
  });

  // The public half of the demo signing key; empty in production mode, where the service issues no tokens.
  app.get('/.well-known/jwks.json', { config: PUBLIC }, async () => deps.demoTokens?.jwks() ?? { keys: [] });

  app.get('/openapi.json', { config: PUBLIC }, async () => app.swagger());
}
