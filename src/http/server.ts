/**
 * The HTTP front: Fastify with validation that never coerces types or silently drops unknown
 * fields, one error handler, authorisation declared per route, and logs that never carry an
 * NHS number or a token.
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerAuth } from './auth.ts';
import type { HttpDeps } from './deps.ts';
import { registerErrorHandling } from './errors.ts';
import { adminRoutes } from './routes/admin.ts';
import { devRoutes } from './routes/dev.ts';
import { laRoutes } from './routes/la.ts';
import { systemRoutes } from './routes/system.ts';

export interface HttpOptions {
  logger: Logger;
  isReady: () => boolean;
  /** Further route groups from later capabilities (uploads, FHIR, mailbox...), registered in order. */
  routes?: ReadonlyArray<(app: FastifyInstance, deps: HttpDeps) => void>;
}

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export async function buildHttp(deps: HttpDeps, opts: HttpOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // The caller's X-Request-ID (a UUID) becomes the request id in logs, so calls can be traced end to end.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && UUID_RE.test(given) ? given : randomUUID();
    },
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
        allowUnionTypes: true,
      },
    },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: true,
  });

  app.addContentTypeParser(
    'application/fhir+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );

  app.addHook('onSend', async (req, reply) => {
    const given = req.headers['x-request-id'];
    if (typeof given === 'string' && given.length <= 200) reply.header('x-request-id', given);
    // Safeguarding data must not sit in shared caches or browser history.
    // (Static assets of the portal say their own caching; nothing else may.)
    if (!req.routeOptions.config?.cacheableAsset || !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'no-store');
    }
    reply.header('x-content-type-options', 'nosniff');
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Open CP-IS',
        version: '0.1.0',
        description:
          'Child Protection - Information Sharing: local authority uploads, health queries (FHIR R4), mailbox.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
  });

  registerErrorHandling(app);
  registerAuth(app, deps.verifier);

  systemRoutes(app, deps, opts.isReady);
  if (deps.mode === 'demo') devRoutes(app, deps);
  adminRoutes(app, deps);
  laRoutes(app, deps);
  for (const routes of opts.routes ?? []) routes(app, deps);

  await app.ready();
  return app;
}
