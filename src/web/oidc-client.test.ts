/**
 * The relying party against the demo's stand-in for NHS CIS2, end to end inside one Fastify app:
 * the RP's back-channel calls go through `injectFetch`, the browser is played by following
 * redirects with `app.inject` and a small cookie jar.
 */
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleProfileIdFor } from '../auth/claims.ts';
import { createStandInIdp, mountStandInIdp, type StandInIdp } from '../auth/standin-idp.ts';
import { findStandInPerson, STANDIN_PEOPLE, standInClaims } from '../auth/standin-people.ts';
import {
  createSignInClient,
  identityFromClaims,
  injectFetch,
  type SignInClient,
  SignInError,
} from './oidc-client.ts';

const ORIGIN = 'http://127.0.0.1:8080';
const ISSUER = `${ORIGIN}/cis2`;
const CALLBACK = `${ORIGIN}/sign-in/callback`;
const SIGNED_OUT = `${ORIGIN}/signed-out`;
const CLIENT = { clientId: 'cpis-portal', clientSecret: 'not-a-real-secret' };
const GRACE = '555000000903'; // the midwife of the storyboard (as in `cpis demo`)

let app: FastifyInstance;
let idp: Promise<StandInIdp>;
let rp: SignInClient;

beforeAll(async () => {
  app = Fastify();
  idp = createStandInIdp({
    issuer: ISSUER,
    clients: [{ ...CLIENT, redirectUris: [CALLBACK], postLogoutRedirectUris: [SIGNED_OUT] }],
  });
  mountStandInIdp(app, () => idp);
  await app.ready();
  rp = client('openid profile nationalrbacaccess');
});

afterAll(async () => {
  await (await idp).close();
  await app.close();
});

function client(scopes: string): SignInClient {
  return createSignInClient({
    issuer: ISSUER,
    ...CLIENT,
    redirectUri: CALLBACK,
    scopes,
    postLogoutRedirectUri: SIGNED_OUT,
    fetch: injectFetch(app),
    allowHttp: true,
  });
}

/** A browser: cookies by name (paths ignored), requests by app.inject. */
class Browser {
  readonly cookies = new Map<string, string>();

  async request(url: string, form?: Record<string, string>): Promise<LightMyRequestResponse> {
    const u = new URL(url, ORIGIN);
    expect(u.origin).toBe(ORIGIN);
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await app.inject({
      method: form ? 'POST' : 'GET',
      url: u.pathname + u.search,
      headers: {
        host: u.host,
        ...(cookie ? { cookie } : {}),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    });
    const set = res.headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const [pair = '', ...attrs] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || pair.slice(i + 1) === '') this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(i + 1));
    }
    return res;
  }

  /** Follow redirects from `url` until the app's callback (returned) or a page (returned as a response). */
  async follow(url: string, form?: Record<string, string>): Promise<URL | LightMyRequestResponse> {
    let res = await this.request(url, form);
    for (let hops = 0; hops < 10; hops++) {
      if (res.statusCode < 300 || res.statusCode >= 400) return res;
      const next = new URL(String(res.headers.location), ORIGIN);
      if (next.href.startsWith(CALLBACK) || next.href.startsWith(SIGNED_OUT)) return next;
      res = await this.request(next.href);
    }
    throw new Error('too many redirects');
  }
}

function page(r: URL | LightMyRequestResponse): LightMyRequestResponse {
  if (r instanceof URL) throw new Error(`expected a page, was redirected to ${r.href}`);
  return r;
}

function landed(r: URL | LightMyRequestResponse): URL {
  if (!(r instanceof URL))
    throw new Error(`expected a redirect to the app, got ${r.statusCode}: ${r.body.slice(0, 300)}`);
  return r;
}

/** Sign in as `sub` from a fresh start; returns the start and the callback URL the browser lands on. */
async function signIn(sub: string, browser = new Browser(), via = rp) {
  const start = await via.start();
  const picker = page(await browser.follow(start.url));
  const action = /<form method="post" action="([^"]+\/login)"/.exec(picker.body)?.[1];
  expect(action).toBeDefined();
  const callback = landed(await browser.follow(action!, { sub }));
  return { start, callback, browser, picker: picker.body };
}

describe('sign-in with the CIS2 stand-in', () => {
  it('plays the whole flow: picker, login, callback, identity from the ID token', async () => {
    const browser = new Browser();
    const start = await rp.start();
    const auth = new URL(start.url);
    expect(auth.href.startsWith(`${ISSUER}/auth`)).toBe(true);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('state')).toBe(start.state);

    const picker = page(await browser.follow(start.url));
    expect(picker.statusCode).toBe(200);
    expect(picker.headers['content-type']).toMatch(/text\/html/);
    const html = picker.body;
    expect(html).toContain('<html lang="en">');
    expect(html).toMatch(/<title>[^<]+<\/title>/);
    expect(html).toContain('<main class="nhsuk-main-wrapper" id="maincontent">');
    expect(html).toContain('href="#maincontent"');
    expect(html).toContain('/assets/nhsuk-frontend.min.css');
    expect(html.match(/<h1/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script|style=/);
    expect(html).toContain('fictional');
    expect(html).toContain('Grace Adeyemi');
    expect(html).toContain('Midwife — Whipps Cross University Hospital Maternity Unit (B0107)');
    expect(html).toContain('Named midwife for safeguarding — Barts Health NHS Trust (B0170)');
    expect(html).toContain(
      'Health care support worker — The Royal London Hospital Emergency Department (no activity codes)',
    );
    expect(html).toContain(
      '<button class="nhsuk-button" data-module="nhsuk-button" type="submit">Sign in</button>',
    );

    // Nobody chosen: the picker again, with the error.
    const action = /<form method="post" action="([^"]+\/login)"/.exec(html)![1]!;
    const none = page(await browser.follow(action, {}));
    expect(none.statusCode).toBe(400);
    expect(none.body).toContain('nhsuk-error-summary');
    expect(none.body).toContain('<title>Error: ');

    const callback = landed(await browser.follow(action, { sub: GRACE }));
    expect(callback.origin + callback.pathname).toBe(CALLBACK);
    expect(callback.searchParams.get('code')).toBeTruthy();
    expect(callback.searchParams.get('state')).toBe(start.state);

    const who = await rp.finish(callback, start);
    expect(who.sub).toBe(GRACE);
    expect(who.sdsUserId).toBe(GRACE);
    expect(who.name).toBe('Grace Adeyemi');
    // The CIS2 claims are in the ID token itself (no userinfo call needed), with no role selected.
    const idClaims = decodeJwt(who.idToken);
    expect(idClaims.iss).toBe(ISSUER);
    expect(idClaims.nhsid_useruid).toBe(GRACE);
    expect(idClaims.nhsid_nrbac_roles).toHaveLength(2);
    expect(idClaims.authentication_assurance_level).toBe('3');
    expect(idClaims).not.toHaveProperty('selected_roleid');
    expect(who.roles).toEqual([
      {
        person_roleid: roleProfileIdFor(GRACE, 'R1HKH'),
        org_code: 'R1HKH',
        role_code: 'R8012',
        role_name: 'Midwife',
        activity_codes: ['B0107'],
      },
      {
        person_roleid: roleProfileIdFor(GRACE, 'R1H'),
        org_code: 'R1H',
        role_code: 'R8012',
        role_name: 'Named midwife for safeguarding',
        activity_codes: ['B0170'],
      },
    ]);

    // The code is single use.
    await expect(rp.finish(callback, start)).rejects.toBeInstanceOf(SignInError);

    // Signed in at the stand-in already: the picker is still shown (to switch people), and someone
    // else can be chosen.
    const again = await signIn('555000000304', browser);
    expect(again.picker).toContain('already signed in to the stand-in as Grace Adeyemi');
    const chris = await rp.finish(again.callback, again.start);
    expect(chris.sdsUserId).toBe('555000000304');
    expect(chris.roles).toHaveLength(1);
    expect(chris.roles[0]!.activity_codes).toEqual([]);
  });

  it('refuses a callback whose state does not match', async () => {
    const { start, callback } = await signIn(GRACE);
    await expect(rp.finish(callback, { ...start, state: 'not-the-state' })).rejects.toThrow(SignInError);
  });

  it('refuses a tampered code, and a wrong code verifier', async () => {
    const { start, callback } = await signIn(GRACE);
    const tampered = new URL(callback);
    tampered.searchParams.set('code', `${callback.searchParams.get('code')}x`);
    await expect(rp.finish(tampered, start)).rejects.toThrow(SignInError);

    const second = await signIn(GRACE);
    await expect(
      rp.finish(second.callback, { ...second.start, codeVerifier: 'a'.repeat(43) }),
    ).rejects.toThrow(SignInError);
  });

  it('requires PKCE: an authorisation request without code_challenge is refused', async () => {
    const start = await rp.start();
    const url = new URL(start.url);
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const back = landed(await new Browser().follow(url.href));
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('code')).toBeNull();
    await expect(rp.finish(back, start)).rejects.toMatchObject({
      kind: 'idp-error',
      idpError: 'invalid_request',
    });
  });

  it('turns a cancelled sign-in into access_denied, never a sign-in', async () => {
    const browser = new Browser();
    const start = await rp.start();
    const picker = page(await browser.follow(start.url));
    const abort = /<form method="post" action="([^"]+\/abort)"/.exec(picker.body)![1]!;
    const back = landed(await browser.follow(abort, {}));
    expect(back.searchParams.get('error')).toBe('access_denied');
    await expect(rp.finish(back, start)).rejects.toMatchObject({
      kind: 'idp-error',
      idpError: 'access_denied',
    });
  });

  it('reads userinfo when the ID token has no roles, and refuses an identity without CIS2 claims', async () => {
    // Without the nationalrbacaccess scope neither the ID token nor userinfo has the CIS2 claims:
    // the userinfo call succeeds (else the error would be about reading the user's details) and
    // the identity is refused.
    const narrow = client('openid profile');
    const { start, callback } = await signIn(GRACE, new Browser(), narrow);
    await expect(narrow.finish(callback, start)).rejects.toMatchObject({
      kind: 'invalid-claims',
      message: expect.stringMatching(/nhsid_useruid/),
    });
  });

  it('ends the session at the stand-in (RP-initiated logout) with one Sign out button', async () => {
    const { start, callback, browser } = await signIn(GRACE);
    const who = await rp.finish(callback, start);
    const endUrl = await rp.endSessionUrl(who.idToken);
    expect(endUrl).not.toBeNull();
    const end = new URL(endUrl!);
    expect(end.href.startsWith(`${ISSUER}/`)).toBe(true);
    expect(end.searchParams.get('id_token_hint')).toBe(who.idToken);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(SIGNED_OUT);

    const confirm = page(await browser.follow(end.href));
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).not.toMatch(/<script|style=/);
    expect(confirm.body).toContain('Grace Adeyemi');
    const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(confirm.body)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.body)![1]!;
    expect(confirm.body).toMatch(
      /<button[^>]*form="op.logoutForm"[^>]*name="logout" value="yes"[^>]*>Sign out<\/button>/,
    );
    const out = landed(await browser.follow(action, { xsrf, logout: 'yes' }));
    expect(out.href).toBe(SIGNED_OUT);
    expect(browser.cookies.has('cis2_standin_session')).toBe(false);
  });
});

describe('the stand-in people', () => {
  it('have 12-digit ids and role profile ids, and claims with every role and none selected', () => {
    expect(STANDIN_PEOPLE.map((p) => p.sdsUserId)).toEqual([
      '555000000903',
      '555000000302',
      '555000000303',
      '555000000304',
      '555000000910',
      '555000000911',
      '555000000912',
      '555000000913',
      '555000000914',
    ]);
    for (const p of STANDIN_PEOPLE) {
      expect(p.sdsUserId).toMatch(/^\d{12}$/);
      for (const r of p.roles) expect(r.person_roleid).toMatch(/^\d{12}$/);
      const c = standInClaims(p);
      expect(c).toMatchObject({ sub: p.sdsUserId, nhsid_useruid: p.sdsUserId, name: p.name });
      expect(c.nhsid_nrbac_roles).toEqual(p.roles);
      expect(c).not.toHaveProperty('selected_roleid');
    }
    expect(findStandInPerson('555000000303')?.roles[0]?.org_code).toBe('A81001');
    expect(findStandInPerson('nobody')).toBeUndefined();
  });
});

describe('claims checks', () => {
  const base = {
    sub: '1',
    nhsid_useruid: '555000000903',
    name: 'A Person',
    nhsid_nrbac_roles: [] as unknown[],
  };

  it('drops malformed role profiles and keeps good ones', () => {
    const good = {
      person_roleid: '1',
      org_code: 'R1H',
      role_code: 'R8012',
      role_name: 'Midwife',
      activity_codes: ['B0107'],
    };
    const who = identityFromClaims(
      {
        ...base,
        nhsid_nrbac_roles: [good, { ...good, org_code: '' }, { ...good, activity_codes: [1] }, 'x', null],
      },
      't',
    );
    expect(who.roles).toEqual([good]);
  });

  it('refuses an identity without digits for nhsid_useruid, without a name or without a role list', () => {
    expect(() => identityFromClaims({ ...base, nhsid_useruid: 'abc' }, 't')).toThrow(/nhsid_useruid/);
    expect(() => identityFromClaims({ ...base, name: ' ' }, 't')).toThrow(/name/);
    expect(() => identityFromClaims({ ...base, nhsid_nrbac_roles: undefined }, 't')).toThrow(/role profiles/);
    expect(
      identityFromClaims({ ...base, name: undefined, given_name: 'A', family_name: 'B' }, 't').name,
    ).toBe('A B');
  });

  it('retries discovery after a failure', async () => {
    let calls = 0;
    const failing: typeof fetch = async (input, init) => {
      calls++;
      if (calls === 1) throw new TypeError('connection refused');
      return injectFetch(app)(input, init);
    };
    const c = createSignInClient({
      issuer: ISSUER,
      ...CLIENT,
      redirectUri: CALLBACK,
      scopes: 'openid',
      fetch: failing,
      allowHttp: true,
    });
    await expect(c.start()).rejects.toMatchObject({ kind: 'unavailable' });
    await expect(c.start()).resolves.toMatchObject({ url: expect.stringContaining(`${ISSUER}/auth?`) });
  });
});

describe('ID token signature', () => {
  it('refuses an ID token not signed by a key in the issuer’s JWKS, however right its claims', async () => {
    // A lookalike issuer: discovery and JWKS name key A; its token endpoint signs with key B.
    const { generateKeyPair, exportJWK, SignJWT } = await import('jose');
    const published = await generateKeyPair('RS256');
    const forger = await generateKeyPair('RS256');
    const issuer = 'http://127.0.0.1:9/fake';
    const fake = Fastify();
    fake.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) =>
      done(null, body),
    );
    let signer = forger.privateKey;
    fake.get('/fake/.well-known/openid-configuration', async () => ({
      issuer,
      authorization_endpoint: `${issuer}/auth`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      code_challenge_methods_supported: ['S256'],
    }));
    fake.get('/fake/jwks', async () => ({
      keys: [{ ...(await exportJWK(published.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }],
    }));
    let nonce = '';
    fake.post('/fake/token', async () => ({
      access_token: 'at',
      token_type: 'Bearer',
      expires_in: 60,
      id_token: await new SignJWT({ ...standInClaims(findStandInPerson(GRACE)!), nonce })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience(CLIENT.clientId)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(signer),
    }));
    await fake.ready();
    const rpOfFake = createSignInClient({
      issuer,
      ...CLIENT,
      redirectUri: CALLBACK,
      scopes: 'openid profile nationalrbacaccess',
      fetch: injectFetch(fake),
      allowHttp: true,
    });
    const attempt = async () => {
      const started = await rpOfFake.start();
      nonce = started.nonce;
      return rpOfFake.finish(new URL(`${CALLBACK}?code=c0de&state=${started.state}`), started);
    };
    const forged = await attempt().catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(SignInError);
    const cause = (forged as SignInError).cause as { cause?: unknown };
    expect(String(cause.cause)).toMatch(/signature verification failed/);
    // The same answer signed with the published key is accepted: only the signature was wrong.
    signer = published.privateKey;
    expect((await attempt()).sdsUserId).toBe(GRACE);
    await fake.close();
  });
});
