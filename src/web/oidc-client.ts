/**
 * The health portal's OpenID Connect relying party: sign-in by authorisation code flow with PKCE
 * (S256), state and nonce, as NHS CIS2 expects of a confidential web client (client_secret_post).
 * The same client talks to the demo's stand-in (src/auth/standin-idp.ts, through `injectFetch`)
 * and to a real CIS2 issuer.
 *
 * The identity is read from the ID token's claims (`nhsid_useruid`, `name`, `nhsid_nrbac_roles`),
 * or from userinfo when the ID token does not carry the roles. Anything wrong (an error from the
 * identity provider, a state or nonce mismatch, a bad code, claims that do not fit) throws a
 * `SignInError`: there is never a partial or assumed sign-in.
 */
import type { FastifyInstance, InjectOptions } from 'fastify';
import * as client from 'openid-client';
import type { NrbacRole } from '../auth/claims.ts';

export interface SignInClientOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Space-separated, e.g. `openid profile nationalrbacaccess`. */
  scopes: string;
  postLogoutRedirectUri?: string;
  /** Custom transport (the demo routes the calls into the same Fastify app, see `injectFetch`). */
  fetch?: typeof fetch;
  /** Allow plain-HTTP issuer and endpoints (demo on loopback only). */
  allowHttp?: boolean;
}

export interface SignInStart {
  /** Where to send the browser. */
  url: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface SignedInIdentity {
  sub: string;
  sdsUserId: string;
  name: string;
  roles: NrbacRole[];
  idToken: string;
}

export interface SignInClient {
  /** A new authorisation request; keep state, nonce and codeVerifier (server side) for `finish`. */
  start(): Promise<SignInStart>;
  /** Complete the sign-in from the callback URL (with its query); throws `SignInError` on any failure. */
  finish(
    callbackUrl: URL,
    expected: { state: string; nonce: string; codeVerifier: string },
  ): Promise<SignedInIdentity>;
  /**
   * Where to send the browser to end the session at the identity provider (RP-initiated logout),
   * or null when the provider has no end-session endpoint or cannot be reached (sign out locally anyway).
   */
  endSessionUrl(idToken: string | undefined): Promise<string | null>;
}

export type SignInErrorKind =
  /** The identity provider answered the authorisation request with an error (e.g. `access_denied`). */
  | 'idp-error'
  /** The identity provider could not be reached or its metadata is unusable. */
  | 'unavailable'
  /** The callback or token response failed a check (state, code, PKCE, ID token). */
  | 'invalid-response'
  /** The identity's claims do not fit (no SDS user id, no name, no role list). */
  | 'invalid-claims';

export class SignInError extends Error {
  override readonly name = 'SignInError';
  constructor(
    readonly kind: SignInErrorKind,
    message: string,
    /** The identity provider's `error` code when `kind` is `idp-error`. */
    readonly idpError?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function createSignInClient(opts: SignInClientOptions): SignInClient {
  let pending: Promise<client.Configuration> | null = null;

  // Discovery on first use; a failure is not kept, so the next sign-in tries again.
  function configuration(): Promise<client.Configuration> {
    if (!pending) {
      pending = discover().catch((err: unknown) => {
        pending = null;
        throw new SignInError(
          'unavailable',
          `could not read the identity provider's metadata at ${opts.issuer}: ${messageOf(err)}`,
          undefined,
          { cause: err },
        );
      });
    }
    return pending;
  }

  async function discover(): Promise<client.Configuration> {
    const options: client.DiscoveryRequestOptions = { timeout: 15 };
    if (opts.fetch) options[client.customFetch] = opts.fetch as client.CustomFetch;
    // The ID token's signature is checked against the issuer's JWKS (from discovery), not only
    // trusted for having come over TLS from the token endpoint.
    options.execute = [client.enableNonRepudiationChecks];
    if (opts.allowHttp) options.execute.push(client.allowInsecureRequests);
    return client.discovery(
      new URL(opts.issuer),
      opts.clientId,
      { client_secret: opts.clientSecret },
      client.ClientSecretPost(opts.clientSecret),
      options,
    );
  }

  return {
    async start() {
      const config = await configuration();
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        response_type: 'code',
        redirect_uri: opts.redirectUri,
        scope: opts.scopes,
        state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
      });
      return { url: url.href, state, nonce, codeVerifier };
    },

    async finish(callbackUrl, expected) {
      const config = await configuration();
      let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
      try {
        tokens = await client.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: expected.codeVerifier,
          expectedState: expected.state,
          expectedNonce: expected.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        if (err instanceof client.AuthorizationResponseError) {
          const desc = err.error_description ? ` (${err.error_description})` : '';
          throw new SignInError(
            'idp-error',
            `the identity provider did not sign the user in: ${err.error}${desc}`,
            err.error,
            { cause: err },
          );
        }
        throw new SignInError(
          'invalid-response',
          `sign-in could not be completed: ${messageOf(err)}`,
          undefined,
          {
            cause: err,
          },
        );
      }

      const idClaims = tokens.claims();
      const idToken = tokens.id_token;
      if (!idClaims || !idToken)
        throw new SignInError('invalid-response', 'the token response has no ID token');

      let claims: Record<string, unknown> = { ...idClaims };
      if (!('nhsid_nrbac_roles' in idClaims)) {
        try {
          const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
          // The ID token's claims stand; userinfo adds what the ID token does not carry.
          claims = { ...info, ...idClaims };
        } catch (err) {
          throw new SignInError(
            'invalid-response',
            `could not read the user's details: ${messageOf(err)}`,
            undefined,
            {
              cause: err,
            },
          );
        }
      }
      return identityFromClaims(claims, idToken);
    },

    async endSessionUrl(idToken) {
      let config: client.Configuration;
      try {
        config = await configuration();
      } catch {
        return null;
      }
      if (!config.serverMetadata().end_session_endpoint) return null;
      const params: Record<string, string> = { client_id: opts.clientId };
      if (idToken) params.id_token_hint = idToken;
      if (opts.postLogoutRedirectUri) params.post_logout_redirect_uri = opts.postLogoutRedirectUri;
      return client.buildEndSessionUrl(config, params).href;
    },
  };
}

/** Read and check CIS2 claims; malformed role profiles are dropped, anything else wrong throws. */
export function identityFromClaims(claims: Record<string, unknown>, idToken: string): SignedInIdentity {
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.length === 0)
    throw new SignInError('invalid-claims', 'the identity has no subject');
  const sdsUserId = claims.nhsid_useruid;
  if (typeof sdsUserId !== 'string' || !/^\d{1,32}$/.test(sdsUserId)) {
    throw new SignInError(
      'invalid-claims',
      'the identity has no valid SDS user id (nhsid_useruid must be digits)',
    );
  }
  const name = nameOf(claims);
  if (!name) throw new SignInError('invalid-claims', 'the identity has no name');
  const rawRoles = claims.nhsid_nrbac_roles;
  if (!Array.isArray(rawRoles)) {
    throw new SignInError(
      'invalid-claims',
      'the identity has no role profiles (nhsid_nrbac_roles is missing)',
    );
  }
  const roles = rawRoles.flatMap((r) => {
    const role = roleOf(r);
    return role ? [role] : [];
  });
  return { sub, sdsUserId, name, roles, idToken };
}

function nameOf(claims: Record<string, unknown>): string {
  const name = typeof claims.name === 'string' ? claims.name.trim() : '';
  if (name) return name;
  return [claims.given_name, claims.family_name]
    .filter((s): s is string => typeof s === 'string')
    .map((s) => s.trim())
    .filter(Boolean)
    .join(' ');
}

function roleOf(value: unknown): NrbacRole | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const r = value as Record<string, unknown>;
  const text = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;
  if (!text(r.person_roleid) || !text(r.org_code) || !text(r.role_code) || !text(r.role_name)) return null;
  // A role profile without activities carries no CP-IS access; a malformed list is not trusted at all.
  const activities = r.activity_codes ?? [];
  if (!Array.isArray(activities) || !activities.every(text)) return null;
  const workgroups = Array.isArray(r.workgroups) ? r.workgroups.filter(text).slice(0, 10) : [];
  return {
    person_roleid: r.person_roleid,
    org_code: r.org_code,
    role_code: r.role_code,
    role_name: r.role_name,
    activity_codes: [...activities],
    ...(workgroups.length ? { workgroups } : {}),
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A `fetch` answered by `app.inject`: the request (method, path and query, headers with `host`
 * taken from the URL, body) goes through the app's routing and hooks without a socket.
 */
export function injectFetch(app: FastifyInstance): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    if (request.signal.aborted) throw request.signal.reason ?? new Error('aborted');
    const url = new URL(request.url);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => {
      headers[key] = value;
    });
    headers.host = url.host;
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null;
    const payload = hasBody ? Buffer.from(await request.arrayBuffer()) : undefined;
    const res = await app.inject({
      method: request.method as InjectOptions['method'],
      url: url.pathname + url.search,
      headers,
      ...(payload ? { payload } : {}),
    });
    const out = new Headers();
    for (const [key, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) out.append(key, v);
      else out.set(key, String(value));
    }
    const nullBody = request.method === 'HEAD' || [101, 103, 204, 205, 304].includes(res.statusCode);
    return new Response(nullBody ? null : res.rawPayload, {
      status: res.statusCode,
      statusText: res.statusMessage,
      headers: out,
    });
  };
}
