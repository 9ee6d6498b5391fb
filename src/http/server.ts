/**
 * The HTTP front: Fastify with validation that never coerces types or silently drops unknown
 * fields, one error handler, authorisation declared per route, and logs that never carry an
 * NHS number or a token.
 */
import { randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.ts';
import type { LimitsConfig } from '../config.ts';
import { OutcomeError, outcome, unavailable } from '../domain/outcomes.ts';
import { registerAuth } from './auth.ts';
import type { HttpDeps } from './deps.ts';
import { frameworkErrorHandler, registerErrorHandling } from './errors.ts';
import { type LazyCompilers, lazyCompilers } from './lazy-compilers.ts';
import { adminRoutes } from './routes/admin.ts';
import { devRoutes } from './routes/dev.ts';
import { laRoutes } from './routes/la.ts';
import { systemRoutes } from './routes/system.ts';
import { securityHeadersHook } from './security-headers.ts';

export interface HttpOptions {
  logger: Logger;
  isReady: () => boolean;
  limits: LimitsConfig;
  /** Further route groups from later capabilities (uploads, FHIR, mailbox...), registered in order. */
  routes?: ReadonlyArray<(app: FastifyInstance, deps: HttpDeps) => void>;
  /** Route schemas compiled on first use (default: a fresh set; start-up compiles the rest once listening). */
  compilers?: LazyCompilers;
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
    // Each route's validators and serializers are compiled when first used (see lazy-compilers.ts).
    schemaController: { compilersFactory: (opts.compilers ?? lazyCompilers()).compilersFactory },
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // Fastify's own early refusals (a path that is not UTF-8, a parameter too long) as OperationOutcomes.
    frameworkErrors: frameworkErrorHandler,
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
  await registerProtection(app, deps, opts.limits);
  registerAuth(app, deps);

  systemRoutes(app, deps, opts.isReady);
  if (deps.mode === 'demo') devRoutes(app, deps);
  adminRoutes(app, deps);
  laRoutes(app, deps);
  for (const routes of opts.routes ?? []) routes(app, deps);

  await app.ready();
  return app;
}

/** Seconds a client is told to wait when the process is overloaded. */
const PRESSURE_RETRY_AFTER_S = 5;

/**
 * What protects the service from a flood, on every route: security headers (the portal sets its
 * own stricter page policy over these), back-pressure that answers 503 with Retry-After instead of
 * queueing without bound, and a per-client request rate answered 429 with Retry-After. The rate is
 * counted per verified caller (so one trust's busy system cannot use up another's allowance, and a
 * forged token cannot spend someone else's), per signed-in user on portal pages (staff behind one
 * trust's proxy share an address), and per address for anyone else.
 */
async function registerProtection(app: FastifyInstance, deps: HttpDeps, limits: LimitsConfig): Promise<void> {
  app.decorateReply('cspNonce', '');
  app.addHook(
    'onRequest',
    securityHeadersHook({
      // Answers of the API are data, never pages: nothing may load, frame or submit from them.
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          formAction: ["'none'"],
        },
      },
      // Browsers ignore HSTS over plain HTTP; in production TLS ends in front of the service and the
      // header tells browsers never to try plain HTTP for a year.
      strictTransportSecurity: deps.mode === 'production' ? { maxAge: 31_536_000 } : false,
      referrerPolicy: { policy: 'no-referrer' },
    }),
  );

  if (limits.maxEventLoopDelayMs > 0 || limits.maxHeapMb > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: limits.maxEventLoopDelayMs,
      maxHeapUsedBytes: limits.maxHeapMb * 1024 * 1024,
      retryAfter: PRESSURE_RETRY_AFTER_S,
      pressureHandler: async (req, reply, type) => {
        req.log.warn({ type }, 'refused a request: the service is overloaded');
        reply.header('retry-after', String(PRESSURE_RETRY_AFTER_S));
        throw unavailable(
          `the service is overloaded; try again in ${PRESSURE_RETRY_AFTER_S} seconds (the request was not carried out)`,
        );
      },
    });
  }

  if (limits.requestsPerMinute > 0) {
    await app.register(rateLimit, {
      global: true,
      max: limits.requestsPerMinute,
      timeWindow: 60_000,
      // After authentication, so the key is a verified caller.
      hook: 'preHandler',
      keyGenerator: (req) =>
        clientKey(
          req.principal,
          (req as { session?: { user?: { sdsUserId: string } } }).session?.user?.sdsUserId ?? null,
          req.ip,
        ),
      errorResponseBuilder: (_req, ctx) =>
        new OutcomeError(
          outcome(
            'throttled',
            `too many requests from this client: at most ${ctx.max} a minute; try again in ${ctx.after} (the request was not carried out)`,
          ),
        ),
    });
  }
}

function clientKey(p: Principal | null, portalUser: string | null, ip: string): string {
  if (!p) return portalUser ? `user:${portalUser}` : `ip:${ip}`;
  switch (p.kind) {
    case 'health-user':
      return `user:${p.sdsUserId}`;
    default:
      return `client:${p.kind}:${p.clientId}`;
  }
}
