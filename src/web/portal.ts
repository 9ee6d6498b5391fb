/**
 * The health portal: CP-IS in a web browser, for NHS staff whose systems are not integrated.
 * Read this as the portal's table of contents: its static assets; then, for its pages, the form
 * parser, security headers (a nonce-based CSP), server-side sessions, CSRF protection, templates
 * and the HTML error page; then the pages themselves (sign-in, role choice, search, the person, the
 * flag). Routes stay thin: each calls one capability (src/query/portal.ts) and renders.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import view from '@fastify/view';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import nunjucks from 'nunjucks';
import { healthUserOf } from '../auth/claims.ts';
import { LA_ROLE_LABELS, laRoleOf } from '../auth/la-roles.ts';
import type { HealthUser } from '../auth/principal.ts';
import { mountStandInIdp, type StandInIdp } from '../auth/standin-idp.ts';
import { getLocalAuthority, getOrganisation } from '../directory/directory.ts';
import { formatNhsNumber } from '../domain/nhs-number.ts';
import { OutcomeError } from '../domain/outcomes.ts';
import type { HttpDeps } from '../http/deps.ts';
import { SCRIPT_NONCE, securityHeadersHook } from '../http/security-headers.ts';
import type { InboxViewer } from '../inbox/inbox.ts';
import type { HttpFacts } from '../query/service.ts';
import { formatDateTime, formatLongDate, PLAN_LABELS } from './format.ts';
import { laPageRoutes } from './la-pages.ts';
import type { SignInClient } from './oidc-client.ts';
import { pageRoutes } from './pages.ts';
import type { PatientRefs } from './patient-ref.ts';
import { registerSessions } from './session.ts';
import { signInRoutes } from './sign-in.ts';

/** What the portal needs beyond the HTTP layer's dependencies; src/app.ts builds it. */
export interface PortalDeps {
  idleMs: number;
  maxMs: number;
  /** The relying party (null: no identity provider configured, so nobody can sign in). */
  signIn: () => SignInClient | null;
  refs: PatientRefs;
  /** The address browsers reach the service at (sign-in redirects are built from it). */
  publicUrl: () => string;
  /** Demo mode: the service's own stand-in for NHS CIS2, mounted at /cis2 (null in production). */
  standIn: (() => Promise<StandInIdp>) | null;
  /** Origins besides our own that forms may lead to (the identity provider's, for sign-out). */
  formOrigins: string[];
  /** Real time in ms (session and reference ages); tests move it. */
  now: () => number;
}

/** The signed-in person in the role they chose, as pages show them. */
export interface Viewer {
  principal: HealthUser;
  name: string;
  roleName: string;
  orgName: string;
  roleCount: number;
}

/** A member of an LA's staff in the role they chose, as the LA pages show them. */
export interface LaViewer {
  inbox: InboxViewer;
  name: string;
  roleName: string;
  orgName: string;
  roleCount: number;
  isAdmin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    viewer: Viewer | null;
    laViewer: LaViewer | null;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const nhsukDist = join(here, '../../node_modules/nhsuk-frontend/dist');

export function portalRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const portal = deps.portal;
  if (!portal) return;
  assetRoutes(app);
  if (portal.standIn) mountStandInIdp(app, portal.standIn);
  app.register(async (scope) => {
    await scope.register(formbody, { bodyLimit: 16 * 1024 });
    // Pages: their own scripts, styles and images, scripts only with this answer's nonce.
    scope.addHook(
      'onRequest',
      securityHeadersHook({
        contentSecurityPolicy: {
          useDefaults: false,
          directives: {
            defaultSrc: ["'self'"],
            scriptSrc: ["'self'", SCRIPT_NONCE],
            styleSrc: ["'self'"],
            imgSrc: ["'self'", 'data:'],
            fontSrc: ["'self'"],
            connectSrc: ["'self'"],
            formAction: ["'self'", ...portal.formOrigins],
            frameAncestors: ["'none'"],
            baseUri: ["'none'"],
            objectSrc: ["'none'"],
          },
        },
        // Plain HTTP on loopback in the demo; production terminates TLS in front and sets HSTS there.
        strictTransportSecurity: false,
        referrerPolicy: { policy: 'same-origin' },
      }),
    );
    await scope.register(cookie);
    registerSessions(scope, { db: deps.db, idleMs: portal.idleMs, maxMs: portal.maxMs, now: portal.now });
    await scope.register(csrf, { sessionPlugin: '@fastify/session' });
    await scope.register(view, {
      engine: { nunjucks },
      templates: [join(here, 'views'), nhsukDist],
      options: { onConfigure: configureTemplates, autoescape: true, throwOnUndefined: false },
    });
    scope.decorateRequest('viewer', null);
    scope.decorateRequest('laViewer', null);
    if (portal.standIn) {
      // Demo: one address for the portal, so the session cookie set before sign-in is the one the
      // sign-in comes back to (http://localhost:8080 and http://127.0.0.1:8080 keep separate cookies).
      // Not in production, where a proxy in front may present another Host and redirects could loop.
      scope.addHook('onRequest', async (req, reply) => {
        const canonical = new URL(portal.publicUrl());
        if (req.method === 'GET' && req.headers.host && req.headers.host !== canonical.host) {
          return reply.redirect(`${canonical.origin}${req.url}`, 302);
        }
      });
    }
    scope.setErrorHandler((err: FastifyError, req, reply) => errorPage(err, req, reply));
    signInRoutes(scope, deps, portal);
    pageRoutes(scope, deps, portal);
    laPageRoutes(scope, deps);
  });
}

function configureTemplates(env: nunjucks.Environment): void {
  env.addFilter('nhsNumber', (n: string) => formatNhsNumber(n));
  env.addFilter('longDate', (d: string | null) => (d ? formatLongDate(d) : ''));
  env.addFilter('dateTime', (d: Date | string) => formatDateTime(new Date(d)));
  env.addFilter('number', (n: number) => n.toLocaleString('en-GB'));
  env.addFilter('percent', (x: number | null) =>
    x === null ? 'no uploads yet' : `${(x * 100).toFixed(1)}%`,
  );
  env.addFilter('planLabel', (t: keyof typeof PLAN_LABELS) => PLAN_LABELS[t] ?? t);
}

export type Form = Record<string, string>;

/**
 * A posted form's fields as strings, each cut to `max` characters; a field sent more than once
 * (checkboxes) is joined with commas. Anything else in the body is dropped.
 */
export function formOf(req: FastifyRequest, max = 200): Form {
  const out: Form = {};
  const body = req.body;
  if (body && typeof body === 'object') {
    for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
      if (typeof v === 'string') out[k] = v.slice(0, max);
      else if (Array.isArray(v))
        out[k] = v
          .filter((x) => typeof x === 'string')
          .join(',')
          .slice(0, max);
    }
  }
  return out;
}

/**
 * The request as the audit trail keeps it. A browser sends no X-Request-ID; if one is sent anyway it
 * is not trusted to name the access, which gets an id of the service's own.
 */
export function httpFacts(req: FastifyRequest): HttpFacts {
  const given = req.headers['x-request-id'] !== undefined;
  return { method: req.method, url: req.url, ip: req.ip, requestId: given ? randomUUID() : req.id };
}

/** Render a template with what every page needs: the CSP nonce, the viewer, a CSRF token. */
export async function render(
  req: FastifyRequest,
  reply: FastifyReply,
  template: string,
  data: Record<string, unknown>,
  status = 200,
): Promise<FastifyReply> {
  const csrfToken = req.session?.user ? reply.generateCsrf() : null;
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .view(template, {
      cspNonce: reply.cspNonce,
      viewer: req.viewer ?? req.laViewer,
      signedInName: req.session?.user?.name,
      csrfToken,
      ...data,
    });
}

export function messagePage(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  title: string,
  paragraphs: string[],
  link?: { href: string; text: string },
): Promise<FastifyReply> {
  return render(req, reply, 'message.njk', { title, paragraphs, link }, status);
}

/** Errors on portal pages are pages, not OperationOutcomes; nothing internal is shown. */
async function errorPage(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
  if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
    req.log.warn({ code: err.code, url: req.routeOptions.url }, 'portal form refused: CSRF token');
    // A stale sign-out button must not leave someone signed in at a shared workstation unawares.
    if (req.routeOptions.url === '/sign-out' && req.session.user) {
      return render(req, reply, 'sign-out.njk', {}, 403);
    }
    return messagePage(
      req,
      reply,
      403,
      'This form cannot be used',
      [
        'The form was out of date or did not come from this service, so nothing was done.',
        'Go back to the page, reload it and try again.',
      ],
      { href: '/search', text: 'Go to the search' },
    );
  }
  if (err instanceof OutcomeError && (err.status === 429 || err.status === 503)) {
    // Too many requests, or the service is overloaded: nothing was done, and saying when to try
    // again is more use than a generic error. Retry-After is already on the answer.
    const wait = String(reply.getHeader('retry-after') ?? '60');
    return messagePage(
      req,
      reply,
      err.status,
      err.status === 429 ? 'Too many requests' : 'The service is busy',
      [
        `Nothing was done. Wait ${wait} seconds, then try again.`,
        'If you need to know about a safeguarding concern now, call the local authority.',
      ],
      { href: '/search', text: 'Go to the search' },
    );
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status === 500) req.log.error({ err }, 'portal page failed');
  return messagePage(
    req,
    reply,
    status,
    status === 500 ? 'Sorry, there is a problem with the service' : 'Sorry, this request could not be used',
    status === 500
      ? ['Try again later. If you need to know about a safeguarding concern now, call the local authority.']
      : ['Check what you entered and try again.'],
    { href: '/search', text: 'Go to the search' },
  );
}

/**
 * Not signed in (or signed out by time): to sign-in, which says why, and then back to the page
 * asked for (a form cannot be replayed: after one, back to the search).
 */
export function toSignIn(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const to = req.method === 'GET' ? `&returnTo=${encodeURIComponent(req.url)}` : '';
  return reply.redirect(`/sign-in?timedOut=${req.session.expired ? 1 : 0}${to}`, 303);
}

/** The role profile the signed-in person chose, if any. */
function selectedRole(req: FastifyRequest) {
  const user = req.session.user;
  if (!user?.selectedRoleId) return null;
  return user.roles.find((r) => r.person_roleid === user.selectedRoleId) ?? null;
}

/** The chosen role is an LA staff role (its pages are under /la/). */
export function laRoleSelected(req: FastifyRequest): boolean {
  const role = selectedRole(req);
  return role !== null && laRoleOf(role) !== null;
}

/** The signed-in member of an LA's staff, in the LA role they chose (null otherwise). */
export async function laViewerOf(req: FastifyRequest, deps: HttpDeps): Promise<LaViewer | null> {
  const user = req.session.user;
  const role = selectedRole(req);
  const la = role ? laRoleOf(role) : null;
  if (!user || !role || !la) return null;
  const row = await getLocalAuthority(deps.db, la.laCode);
  return {
    inbox: {
      laCode: la.laCode,
      role: la.role,
      team: la.team,
      userId: user.sdsUserId,
      name: user.name,
      actor: {
        kind: 'la-staff',
        sdsUserId: user.sdsUserId,
        name: user.name,
        roleProfileId: role.person_roleid,
        role: la.role,
        team: la.team,
        laCode: la.laCode,
      },
    },
    name: user.name,
    roleName: la.team ? `${LA_ROLE_LABELS[la.role]}, ${la.team}` : LA_ROLE_LABELS[la.role],
    orgName: row?.name ?? la.laCode,
    roleCount: user.roles.length,
    isAdmin: la.role === 'safeguarding-admin',
  };
}

/** Who the signed-in person is, in the role they chose (null: not signed in, or no role chosen yet). */
export async function viewerOf(req: FastifyRequest, deps: HttpDeps): Promise<Viewer | null> {
  const user = req.session.user;
  const role = selectedRole(req);
  if (!user || !role) return null;
  const org = await getOrganisation(deps.db, role.org_code);
  return {
    principal: healthUserOf(user, role),
    name: user.name,
    roleName: role.role_name,
    orgName: org?.name ?? role.org_code,
    roleCount: user.roles.length,
  };
}

// ---------------------------------------------------------------- static assets

interface Asset {
  type: string;
  body: Buffer;
}

/**
 * The design system's stylesheet, script and images, and the portal's own; read once, served from
 * memory, cacheable (they carry no data). Outside the pages' scope: no session is read for them.
 */
function assetRoutes(app: FastifyInstance): void {
  const files = new Map<string, Asset>();
  const add = (name: string, path: string, type: string) =>
    files.set(name, { type, body: readFileSync(path) });
  add('nhsuk-frontend.min.css', join(nhsukDist, 'nhsuk/nhsuk-frontend.min.css'), 'text/css; charset=utf-8');
  add(
    'nhsuk-frontend.min.js',
    join(nhsukDist, 'nhsuk/nhsuk-frontend.min.js'),
    'text/javascript; charset=utf-8',
  );
  add('portal.css', join(here, 'assets/portal.css'), 'text/css; charset=utf-8');
  add('portal.js', join(here, 'assets/portal.js'), 'text/javascript; charset=utf-8');
  const images = join(nhsukDist, 'nhsuk/assets/images');
  const types: Record<string, string> = { svg: 'image/svg+xml', png: 'image/png', ico: 'image/x-icon' };
  for (const name of ['favicon.ico', 'favicon.svg', 'nhsuk-icon-mask.svg', 'nhsuk-icon-180.png']) {
    add(`images/${name}`, join(images, name), types[name.split('.').pop()!]!);
  }
  add('manifest.json', join(nhsukDist, 'nhsuk/assets/manifest.json'), 'application/manifest+json');
  app.get(
    '/assets/*',
    { config: { allow: 'public', cacheableAsset: true }, schema: { hide: true } },
    async (req, reply) => {
      const name = (req.params as { '*': string })['*'];
      const asset = files.get(name);
      if (!asset) return reply.status(404).type('text/plain').send('not found');
      return reply.header('cache-control', 'public, max-age=3600').type(asset.type).send(asset.body);
    },
  );
}
