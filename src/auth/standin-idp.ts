/**
 * The demo's stand-in for NHS CIS2: an OpenID Connect provider (oidc-provider) that signs in the
 * fictional people of src/auth/standin-people.ts with a persona picker instead of a smartcard.
 * Demo only: keys, sessions and codes live in memory and are lost on restart.
 *
 * What it does, as CIS2 does for a confidential web client:
 * - authorisation code flow only (`response_type=code`), PKCE with S256 required for every client;
 * - client authentication `client_secret_basic` or `client_secret_post`;
 * - scopes `openid profile nationalrbacaccess`; the claims are in the ID token as well as at
 *   userinfo (`conformIdTokenClaims: false`), so a relying party can read them without a userinfo call;
 * - RP-initiated logout (`end_session` with `id_token_hint` and `post_logout_redirect_uri`).
 *
 * What it does differently: it asks who you are at every authorisation request (the persona
 * picker, even with a live stand-in session), so a demo can switch people by signing out of the
 * portal and in again; consent is granted automatically (the only clients are the service itself).
 *
 * Pages (no JavaScript, no inline styles, NHS design system classes, stylesheet at
 * `/assets/nhsuk-frontend.min.css`): `<issuer>/interaction/:uid` (GET: the picker),
 * `<issuer>/interaction/:uid/login` (POST `sub`: sign in as that person),
 * `<issuer>/interaction/:uid/abort` (POST: cancel; the client gets `error=access_denied`), the
 * sign-out page with one "Sign out" button, the signed-out page and error pages.
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { laRoleOf } from './la-roles.ts';
import {
  findStandInPerson,
  STANDIN_PEOPLE,
  type StandInPerson,
  standInClaims,
  standInOrganisationName,
} from './standin-people.ts';

export interface StandInClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
}

export interface StandInIdpOptions {
  /** The issuer identifier, e.g. `http://127.0.0.1:8080/cis2`; its path is where the app mounts it. */
  issuer: string;
  clients: StandInClient[];
  /** Where unexpected errors go (default: console.error). Client errors (bad requests) are not reported. */
  onError?: (err: unknown) => void;
}

export interface StandInIdp {
  readonly issuer: string;
  /** A Node request handler; the request's `url` must be relative to the issuer path (see mountStandInIdp). */
  callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
  close(): Promise<void>;
}

/** The Fastify path prefix the service mounts the stand-in at (the issuer's path). */
export const STANDIN_PREFIX = '/cis2';

const STYLESHEET = '/assets/nhsuk-frontend.min.css';
const SERVICE_NAME = 'NHS CIS2 (demo stand-in)';
const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'";

const SECONDS = { minute: 60, hour: 3600 } as const;

// ---------------------------------------------------------------------------------------------
// The few parts of oidc-provider (untyped JavaScript) this file uses.

interface OidcGrant {
  accountId: string;
  clientId: string;
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(ttl?: number): Promise<string>;
}

interface OidcGrantClass {
  new (init: { accountId: string; clientId: string }): OidcGrant;
  find(id: string): Promise<OidcGrant | undefined>;
}

interface OidcInteraction {
  uid: string;
  /** Expiry, epoch seconds. */
  exp: number;
  prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
  params: Record<string, unknown>;
  /** The stand-in session the request came with, if any. */
  session?: { accountId?: string; uid?: string };
  grantId?: string;
  save(ttlSeconds: number): Promise<unknown>;
}

interface OidcSession {
  authorizations?: Record<string, { grantId?: string }>;
  destroy(): Promise<void>;
}

interface OidcContext {
  session: { accountId?: string; grantIdFor(clientId: string): string | undefined };
  client?: { clientId: string; clientName?: string };
  result?: { login?: unknown; consent?: { grantId?: string } };
  requestParamOIDCScopes: Set<string>;
  requestParamClaims: Set<string>;
  provider: { Grant: OidcGrantClass };
}

interface KoaContext {
  type: string;
  body: unknown;
  status: number;
  set(field: string, value: string): void;
  oidc: OidcContext;
}

interface OidcProvider {
  issuer: string;
  Grant: OidcGrantClass & { adapter: { destroy(id: string): Promise<void> } };
  Session: { findByUid(uid: string): Promise<OidcSession | undefined> };
  callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    opts?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): void;
}

interface InteractionCheck {
  readonly REQUEST_PROMPT: boolean;
  readonly NO_NEED_TO_PROMPT: boolean;
  new (reason: string, description: string, check: (ctx: KoaContext) => boolean): unknown;
}

interface OidcProviderModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
  interactionPolicy: {
    Check: InteractionCheck;
    base(): { get(name: string): { checks: { add(check: unknown): void } } };
  };
}

// A string, not a literal, so TypeScript does not look for the (absent) type declarations.
const OIDC_PROVIDER_MODULE: string = 'oidc-provider';

// ---------------------------------------------------------------------------------------------

export async function createStandInIdp(opts: StandInIdpOptions): Promise<StandInIdp> {
  const issuerUrl = new URL(opts.issuer);
  if (issuerUrl.search || issuerUrl.hash)
    throw new Error('the stand-in issuer must not have a query or fragment');
  const issuerPath = issuerUrl.pathname.replace(/\/+$/, '');
  const onError = opts.onError ?? ((err: unknown) => console.error('CIS2 stand-in error:', err));

  const mod = (await import(OIDC_PROVIDER_MODULE)) as OidcProviderModule;
  const { Check } = mod.interactionPolicy;

  // Ask who you are at every authorisation request (the persona picker is the point of the
  // stand-in), unless this request is the one resuming from the picker.
  const policy = mod.interactionPolicy.base();
  policy
    .get('login')
    .checks.add(
      new Check('standin_pick_person', 'the stand-in asks who is signing in every time', (ctx) =>
        ctx.oidc.result?.login ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT,
      ),
    );

  const store = new MemoryStore();
  const provider = new mod.default(opts.issuer, {
    adapter: (model: string) => new MemoryAdapter(model, store),
    jwks: { keys: [await signingKey()] },
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // oidc-provider accepts client_secret_basic for a client registered with _post, and vice versa.
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
    })),
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'nationalrbacaccess'],
    claims: {
      openid: ['sub', 'authentication_assurance_level'],
      profile: ['name', 'given_name', 'family_name'],
      nationalrbacaccess: ['nhsid_useruid', 'nhsid_nrbac_roles'],
    },
    conformIdTokenClaims: false,
    findAccount: async (_ctx: unknown, sub: string) => {
      const person = findStandInPerson(sub);
      if (!person) return undefined;
      return { accountId: person.sdsUserId, claims: async () => standInClaims(person) };
    },
    loadExistingGrant: autoConsentGrant,
    interactions: {
      policy,
      url: (_ctx: unknown, interaction: { uid: string }) => `${issuerPath}/interaction/${interaction.uid}`,
    },
    cookies: {
      keys: [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')],
      names: {
        session: 'cis2_standin_session',
        interaction: 'cis2_standin_interaction',
        resume: 'cis2_standin_resume',
      },
      // `Secure` is added by oidc-provider only when the request itself is HTTPS.
      long: { httpOnly: true, sameSite: 'lax', path: issuerPath || '/' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    ttl: {
      AccessToken: 10 * SECONDS.minute,
      AuthorizationCode: SECONDS.minute,
      IdToken: 10 * SECONDS.minute,
      Interaction: 10 * SECONDS.minute,
      Session: 8 * SECONDS.hour,
      Grant: 8 * SECONDS.hour,
      RefreshToken: 8 * SECONDS.hour,
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      dPoP: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      resourceIndicators: { enabled: false },
    },
    clientBasedCORS: () => false,
    renderError,
  });

  provider.on('server_error', (_ctx, err) => onError(err));

  const oidcHandler = provider.callback();
  const interactionPrefix = '/interaction/';

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/interaction' || path.startsWith(interactionPrefix)) {
      try {
        await handleInteraction(req, res, path);
      } catch (err) {
        onError(err);
        if (!res.headersSent) sendPage(res, 500, errorPage('Sorry, there is a problem with the service', []));
        else res.end();
      }
      return;
    }
    await oidcHandler(req, res);
  };

  async function handleInteraction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|abort))?\/?$/.exec(path);
    if (!m) return sendPage(res, 404, errorPage('Page not found', []));
    const uid = m[1]!;
    const action = m[2];
    const method = req.method ?? 'GET';
    const allowed = action ? ['POST'] : ['GET', 'HEAD'];
    if (!allowed.includes(method)) {
      res.setHeader('Allow', allowed.join(', '));
      return sendPage(res, 405, errorPage('Sorry, that did not work', ['Go back and try again.']));
    }

    let interaction: OidcInteraction;
    try {
      interaction = await provider.interactionDetails(req, res);
    } catch (err) {
      if (isSessionNotFound(err)) return sendPage(res, 400, expiredPage());
      throw err;
    }
    if (interaction.uid !== uid) return sendPage(res, 400, expiredPage());

    if (interaction.prompt.name !== 'login') {
      // Only consent can be left (auto-consent normally grants it before this): grant it now.
      return finishConsent(req, res, interaction);
    }

    if (!action) {
      return sendPage(
        res,
        200,
        pickerPage(issuerPath, uid, null, signedInAs(interaction)),
        method === 'HEAD',
      );
    }

    const form = await readForm(req);
    if (action === 'abort') {
      return provider.interactionFinished(
        req,
        res,
        {
          error: 'access_denied',
          error_description: 'The user cancelled signing in at the NHS CIS2 stand-in',
        },
        { mergeWithLastSubmission: false },
      );
    }
    const person = findStandInPerson(form?.get('sub') ?? '');
    if (!person) {
      return sendPage(
        res,
        400,
        pickerPage(issuerPath, uid, 'Choose who to sign in as', signedInAs(interaction)),
      );
    }
    if (interaction.session?.accountId && interaction.session.accountId !== person.sdsUserId) {
      await endPreviousSession(interaction);
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: person.sdsUserId } },
      { mergeWithLastSubmission: false },
    );
  }

  /**
   * Someone else is signing in on a browser with a stand-in session: end that session (and revoke
   * what was granted in it) first. oidc-provider would otherwise answer the switch with a page that
   * needs JavaScript to sign the previous person out.
   */
  async function endPreviousSession(interaction: OidcInteraction): Promise<void> {
    const sessionUid = interaction.session?.uid;
    interaction.session = undefined;
    await interaction.save(Math.max(1, interaction.exp - Math.floor(Date.now() / 1000)));
    const session = sessionUid ? await provider.Session.findByUid(sessionUid) : undefined;
    if (!session) return;
    for (const { grantId } of Object.values(session.authorizations ?? {})) {
      if (grantId) await provider.Grant.adapter.destroy(grantId);
    }
    await session.destroy();
  }

  async function finishConsent(
    req: IncomingMessage,
    res: ServerResponse,
    interaction: OidcInteraction,
  ): Promise<void> {
    const accountId = interaction.session?.accountId;
    const clientId = interaction.params.client_id;
    if (!accountId || typeof clientId !== 'string') return sendPage(res, 400, expiredPage());
    const existing = interaction.grantId ? await provider.Grant.find(interaction.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId, clientId });
    const details = interaction.prompt.details;
    const scopes = details.missingOIDCScope;
    if (Array.isArray(scopes) && scopes.length) grant.addOIDCScope(scopes.join(' '));
    const claims = details.missingOIDCClaims;
    if (Array.isArray(claims) && claims.length) grant.addOIDCClaims(claims);
    const resources = details.missingResourceScopes;
    if (resources && typeof resources === 'object') {
      for (const [indicator, s] of Object.entries(resources)) {
        if (Array.isArray(s)) grant.addResourceScope(indicator, s.join(' '));
      }
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  return {
    issuer: opts.issuer,
    callback: () => handler,
    close: async () => store.clear(),
  };
}

/**
 * Fastify mounting: every method on `/cis2` and `/cis2/*` goes to the provider untouched (Fastify
 * does not parse the body: the provider reads its own form bodies), with `/cis2` stripped from
 * `req.url` and the full path left in `req.originalUrl` (how oidc-provider finds its mount path).
 * The reply is hijacked, so Fastify's onSend hooks do not apply to these answers.
 */
export function mountStandInIdp(app: FastifyInstance, getIdp: () => Promise<StandInIdp>): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

    const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
      let idp: StandInIdp;
      try {
        idp = await getIdp();
      } catch (err) {
        req.log.error({ err }, 'the CIS2 stand-in could not start');
        reply
          .code(503)
          .header('content-type', 'text/html; charset=utf-8')
          .header('cache-control', 'no-store')
          .send(
            errorPage('Sorry, the sign-in service is not available', [
              'The demo stand-in for NHS CIS2 could not start. Try again later.',
            ]),
          );
        return;
      }
      reply.hijack();
      const raw = req.raw as IncomingMessage & { originalUrl?: string };
      const url = raw.url ?? STANDIN_PREFIX;
      let rest = url.slice(STANDIN_PREFIX.length);
      if (!rest.startsWith('/')) rest = `/${rest}`;
      raw.originalUrl = url;
      raw.url = rest;
      try {
        await idp.callback()(raw, reply.raw);
      } catch (err) {
        req.log.error({ err }, 'the CIS2 stand-in failed');
        if (!reply.raw.headersSent)
          sendPage(reply.raw, 500, errorPage('Sorry, there is a problem with the service', []));
        else reply.raw.end();
      }
    };

    scope.all(STANDIN_PREFIX, { config: { allow: 'public' } }, handler);
    scope.all(`${STANDIN_PREFIX}/*`, { config: { allow: 'public' } }, handler);
  });
}

// ---------------------------------------------------------------------------------------------
// Provider configuration helpers

/**
 * Consent without a consent page: the grant covers every scope and claim the client asked for
 * (the stand-in's clients are the service itself, as a first-party CIS2 client would be).
 */
async function autoConsentGrant(ctx: KoaContext): Promise<OidcGrant | undefined> {
  const { oidc } = ctx;
  const accountId = oidc.session.accountId;
  const clientId = oidc.client?.clientId;
  if (!accountId || !clientId) return undefined;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) {
    grant = new oidc.provider.Grant({ accountId, clientId });
  }
  const scopes = [...oidc.requestParamOIDCScopes].join(' ');
  if (scopes) grant.addOIDCScope(scopes);
  const claims = [...oidc.requestParamClaims];
  if (claims.length) grant.addOIDCClaims(claims);
  await grant.save();
  return grant;
}

async function signingKey(): Promise<Record<string, unknown>> {
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

function isSessionNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'SessionNotFound';
}

async function readForm(req: IncomingMessage, limit = 8 * 1024): Promise<URLSearchParams | null> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (!type.startsWith('application/x-www-form-urlencoded')) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limit) return null;
    chunks.push(buf);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// ---------------------------------------------------------------------------------------------
// Pages

function setPageHeaders(set: (name: string, value: string) => void): void {
  set('Content-Type', 'text/html; charset=utf-8');
  set('Cache-Control', 'no-store');
  set('Content-Security-Policy', PAGE_CSP);
  set('X-Content-Type-Options', 'nosniff');
  set('Referrer-Policy', 'no-referrer');
}

function sendPage(res: ServerResponse, status: number, html: string, headOnly = false): void {
  res.statusCode = status;
  setPageHeaders((n, v) => res.setHeader(n, v));
  const body = Buffer.from(html, 'utf8');
  res.setHeader('Content-Length', String(body.length));
  res.end(headOnly ? undefined : body);
}

function koaPage(ctx: KoaContext, html: string): void {
  setPageHeaders((n, v) => ctx.set(n, v));
  ctx.type = 'html';
  ctx.body = html;
}

async function logoutSource(ctx: KoaContext, form: string): Promise<void> {
  const accountId = ctx.oidc.session?.accountId;
  const person = accountId ? findStandInPerson(accountId) : undefined;
  // `form` is oidc-provider's own markup: an empty form (id "op.logoutForm") carrying its CSRF
  // token. The button below submits it by its `form` attribute, which needs no JavaScript.
  koaPage(
    ctx,
    page(
      'Sign out',
      `<h1 class="nhsuk-heading-l">Sign out</h1>
${person ? `<p>You are signed in to the demo stand-in for NHS CIS2 as ${esc(person.name)}.</p>` : ''}
<p>Sign out here to end that sign-in and go back to the service.</p>
${form}
<button class="nhsuk-button" data-module="nhsuk-button" type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>`,
    ),
  );
}

async function postLogoutSuccessSource(ctx: KoaContext): Promise<void> {
  koaPage(
    ctx,
    page(
      'You have signed out',
      `<h1 class="nhsuk-heading-l">You have signed out</h1>
<p>You have signed out of the demo stand-in for NHS CIS2. You can close this window.</p>`,
    ),
  );
}

async function renderError(ctx: KoaContext, out: Record<string, unknown>): Promise<void> {
  const error = typeof out.error === 'string' ? out.error : 'server_error';
  const description = typeof out.error_description === 'string' ? out.error_description : '';
  koaPage(
    ctx,
    errorPage('Sorry, there is a problem signing you in', [
      'The request to the demo stand-in for NHS CIS2 could not be completed. Go back to the service and sign in again.',
      `Details for support: ${error}${description ? ` (${description})` : ''}.`,
    ]),
  );
}

function expiredPage(): string {
  return errorPage('This sign-in has expired', [
    'Signing in took too long, or was started in another browser or tab. Go back to the service and sign in again.',
  ]);
}

function errorPage(title: string, paragraphs: string[]): string {
  return page(
    title,
    `<h1 class="nhsuk-heading-l">${esc(title)}</h1>
${paragraphs.map((p) => `<p>${esc(p)}</p>`).join('\n')}`,
  );
}

function signedInAs(interaction: OidcInteraction): StandInPerson | undefined {
  const accountId = interaction.session?.accountId;
  return accountId ? findStandInPerson(accountId) : undefined;
}

/** The persona picker (`error`: the message when nobody was chosen; `current`: who the stand-in session is for). */
function pickerPage(issuerPath: string, uid: string, error: string | null, current?: StandInPerson): string {
  const base = `${issuerPath}/interaction/${encodeURIComponent(uid)}`;
  const items = STANDIN_PEOPLE.map((p, i) => personItem(p, i)).join('\n');
  const errorSummary = error
    ? `<div class="nhsuk-error-summary" data-module="nhsuk-error-summary">
  <div role="alert">
    <h2 class="nhsuk-error-summary__heading">There is a problem</h2>
    <div class="nhsuk-error-summary__body">
      <ul class="nhsuk-list nhsuk-error-summary__list"><li><a href="#sub">${esc(error)}</a></li></ul>
    </div>
  </div>
</div>`
    : '';
  const describedBy = error ? 'sub-hint sub-error' : 'sub-hint';
  return page(
    `${error ? 'Error: ' : ''}Sign in`,
    `${errorSummary}
<h1 class="nhsuk-heading-l">Sign in to the demo</h1>
<div class="nhsuk-inset-text">
  <span class="nhsuk-u-visually-hidden">Information: </span>
  <p>This is the demo's stand-in for NHS CIS2 (Care Identity Service 2). There is no smartcard or password: choose who to sign in as. Everyone listed is fictional.</p>
</div>
${current ? `<p>You are already signed in to the stand-in as ${esc(current.name)}. Choosing someone else signs ${esc(current.name)} out of it.</p>` : ''}
<form method="post" action="${esc(`${base}/login`)}" novalidate>
  <div class="nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}">
    <fieldset class="nhsuk-fieldset" aria-describedby="${describedBy}">
      <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">
        <h2 class="nhsuk-fieldset__heading">Who are you?</h2>
      </legend>
      <div class="nhsuk-hint" id="sub-hint">Each role profile is shown as role, organisation and CP-IS activity codes.</div>
      ${error ? `<span class="nhsuk-error-message" id="sub-error"><span class="nhsuk-u-visually-hidden">Error: </span>${esc(error)}</span>` : ''}
      <div class="nhsuk-radios" data-module="nhsuk-radios">
${items}
      </div>
    </fieldset>
  </div>
  <button class="nhsuk-button" data-module="nhsuk-button" type="submit">Sign in</button>
</form>
<form method="post" action="${esc(`${base}/abort`)}">
  <button class="nhsuk-button nhsuk-button--secondary" data-module="nhsuk-button" type="submit">Cancel signing in</button>
</form>`,
  );
}

function personItem(person: StandInPerson, index: number): string {
  const id = index === 0 ? 'sub' : `sub-${index + 1}`;
  const roles = person.roles
    .map((r) => {
      const la = laRoleOf(r);
      const activities = r.activity_codes.length
        ? r.activity_codes.join(', ')
        : la
          ? `local authority role ${r.role_code}${la.team ? `, team: ${la.team}` : ''}`
          : 'no activity codes';
      return `<li>${esc(r.role_name)} — ${esc(standInOrganisationName(r.org_code))} (${esc(activities)})</li>`;
    })
    .join('');
  return `        <div class="nhsuk-radios__item">
          <input class="nhsuk-radios__input" id="${id}" name="sub" type="radio" value="${esc(person.sdsUserId)}" aria-describedby="${id}-item-hint">
          <label class="nhsuk-label nhsuk-radios__label" for="${id}">${esc(person.name)}</label>
          <div class="nhsuk-hint nhsuk-radios__hint" id="${id}-item-hint">
            <p class="nhsuk-body-s nhsuk-u-margin-bottom-1">${esc(person.summary)}</p>
            <ul class="nhsuk-list nhsuk-list--bullet nhsuk-body-s nhsuk-u-margin-bottom-0">${roles}</ul>
          </div>
        </div>`;
}

function page(title: string, content: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${esc(title)} – ${esc(SERVICE_NAME)}</title>
  <link rel="stylesheet" href="${STYLESHEET}">
</head>
<body>
  <a class="nhsuk-skip-link" href="#maincontent">Skip to main content</a>
  <header class="nhsuk-header">
    <div class="nhsuk-header__container nhsuk-width-container">
      <div class="nhsuk-header__service">
        <svg class="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80" height="40" width="100" focusable="false" role="img" aria-label="NHS"><title>NHS</title><path fill="currentcolor" d="M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119.5 32h-20l5-24.5Z"/></svg>
        <span class="nhsuk-header__service-name">${esc(SERVICE_NAME)}</span>
      </div>
    </div>
  </header>
  <div class="nhsuk-width-container">
    <main class="nhsuk-main-wrapper" id="maincontent">
      <div class="nhsuk-grid-row">
        <div class="nhsuk-grid-column-two-thirds">
${content}
        </div>
      </div>
    </main>
  </div>
  <footer class="nhsuk-footer">
    <div class="nhsuk-width-container">
      <p class="nhsuk-body-s">A demo stand-in for NHS CIS2. The people here are fictional.</p>
    </div>
  </footer>
</body>
</html>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---------------------------------------------------------------------------------------------
// Storage: in memory, per stand-in (demo only). oidc-provider's own memory adapter would do, but
// it warns at start-up and shares one store between providers.

class MemoryStore {
  private readonly entries = new Map<string, { value: unknown; expiresAt: number }>();
  private writes = 0;

  get<T>(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value as T;
  }

  set(key: string, value: unknown, expiresInSeconds: number | undefined): void {
    const expiresAt =
      expiresInSeconds === undefined ? Number.POSITIVE_INFINITY : Date.now() + expiresInSeconds * 1000;
    this.entries.set(key, { value, expiresAt });
    if (++this.writes % 500 === 0) this.sweep();
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
  }
}

type Payload = Record<string, unknown> & { uid?: string; grantId?: string; consumed?: number };

class MemoryAdapter {
  constructor(
    private readonly model: string,
    private readonly store: MemoryStore,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    this.store.set(key, payload, expiresIn);
    if (this.model === 'Session' && payload.uid) this.store.set(`sessionUid:${payload.uid}`, id, expiresIn);
    if (payload.grantId) {
      const gk = `grant:${payload.grantId}`;
      const members = this.store.get<Set<string>>(gk) ?? new Set<string>();
      members.add(key);
      this.store.set(gk, members, 24 * SECONDS.hour);
    }
  }

  async find(id: string): Promise<Payload | undefined> {
    return this.store.get<Payload>(this.key(id));
  }

  async findByUid(uid: string): Promise<Payload | undefined> {
    const id = this.store.get<string>(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(): Promise<undefined> {
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = this.store.get<Payload>(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    const payload = this.store.get<Payload>(this.key(id));
    if (payload?.uid && this.model === 'Session') this.store.delete(`sessionUid:${payload.uid}`);
    this.store.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const gk = `grant:${grantId}`;
    for (const key of this.store.get<Set<string>>(gk) ?? []) this.store.delete(key);
    this.store.delete(gk);
  }
}
