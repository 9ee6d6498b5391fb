/**
 * Forged, altered and out-of-date bearer tokens, against the real verifiers (the demo issuer's ES256
 * key and a production issuer's RS256 JWKS, each behind the caching verifier as the service runs
 * them) and through the HTTP front. Every one is refused with 401 and an OperationOutcome that says
 * no more than a short, fixed reason: never the token, the key, the expected issuer or audience, or
 * the library's own error. A genuine token of the wrong kind is 403.
 */
import { createHmac, createPublicKey, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { admin, buildTestApp, clinician, la, type TestApp } from '../../test/helper.ts';
import { OutcomeError } from '../domain/outcomes.ts';
import { cachingVerifier } from './cache.ts';
import { type Persona, personaToClaims } from './claims.ts';
import {
  DEFAULT_AUDIENCE,
  DEMO_ISSUER,
  DemoTokenService,
  remoteVerifier,
  type TokenVerifier,
} from './tokens.ts';

type Claims = Record<string, unknown>;
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** An issuer the service trusts, whose private key the test holds (so it can sign what a real one never would). */
interface Trusted {
  iss: string;
  alg: 'ES256' | 'RS256';
  kid: string;
  publicJwk: JWK;
  /** Sign exactly these claims and header fields (nothing added). */
  sign(claims: Claims, header?: Record<string, unknown>): Promise<string>;
}

async function trustedIssuer(iss: string, alg: 'ES256' | 'RS256', kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const trusted: Trusted = {
    iss,
    alg,
    kid,
    publicJwk,
    sign: (claims, header = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg, kid, typ: 'JWT', ...header }).sign(privateKey),
  };
  return { trusted, privateJwk };
}

/** Claims a good token of the issuer's would carry for this persona, valid for ten minutes. */
function claimsFor(t: Pick<Trusted, 'iss'>, persona: Persona, over: Claims = {}): Claims {
  return {
    ...personaToClaims(persona),
    iss: t.iss,
    aud: DEFAULT_AUDIENCE,
    iat: now(),
    exp: now() + 600,
    jti: randomUUID(),
    ...over,
  };
}

function unsigned(header: Claims, claims: Claims, signature = ''): string {
  return `${b64(header)}.${b64(claims)}.${signature}`;
}

function hs256(secret: string | Buffer, header: Claims, claims: Claims): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', ...header })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Replace the payload of a signed token, keeping its header and signature. */
function withPayload(token: string, change: (c: Claims) => Claims): string {
  const [h, p, s] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Claims;
  return `${h}.${b64(change(claims))}.${s}`;
}

const publicPem = (jwk: JWK) =>
  createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();

/**
 * Every attack, as a token made from what an attacker can see: the issuer's public key and kid, and
 * (for the ones that need a trusted signature) tokens the issuer really signed with some flaw.
 */
function attacks(t: Trusted): Record<string, () => Promise<string>> {
  const good = () => claimsFor(t, admin);
  const otherKey = async (header: Record<string, unknown>) => {
    const { trusted: attacker } = await trustedIssuer(t.iss, t.alg, t.kid);
    return attacker.sign(good(), header);
  };
  return {
    'alg none': async () => unsigned({ alg: 'none', typ: 'JWT' }, good()),
    'alg None, with the kid': async () => unsigned({ alg: 'None', typ: 'JWT', kid: t.kid }, good()),
    'alg none with a signature left on': async () =>
      unsigned({ alg: 'none', kid: t.kid }, good(), b64('signature')),
    "HS256 keyed with the issuer's public key (PEM)": async () =>
      hs256(publicPem(t.publicJwk), { kid: t.kid }, good()),
    "HS256 keyed with the issuer's public key (PEM, no trailing newline)": async () =>
      hs256(publicPem(t.publicJwk).trim(), { kid: t.kid }, good()),
    "HS256 keyed with the issuer's public key (JWK bytes)": async () =>
      hs256(JSON.stringify(t.publicJwk), { kid: t.kid }, good()),
    "HS256 keyed with the issuer's JWKS document": async () =>
      hs256(JSON.stringify({ keys: [t.publicJwk] }), { kid: t.kid }, good()),
    "another key, carrying the issuer's kid": () => otherKey({}),
    'another key, embedded in the header (jwk)': async () => {
      const { trusted: attacker } = await trustedIssuer(t.iss, t.alg, 'attacker');
      return attacker.sign(good(), { jwk: attacker.publicJwk, kid: undefined });
    },
    'another key, named by a URL in the header (jku)': () =>
      otherKey({ jku: 'https://attacker.example/jwks.json' }),
    'signature removed': async () => {
      const [h, p] = (await t.sign(good())).split('.');
      return `${h}.${p}.`;
    },
    'claims changed, signature kept (a local authority made admin)': async () =>
      withPayload(await t.sign(claimsFor(t, la('E08000025'))), (c) => ({ ...c, scope: 'cpis:admin' })),
    'claims changed, signature kept (lifetime extended)': async () =>
      withPayload(await t.sign({ ...good(), exp: now() - 120 }), (c) => ({ ...c, exp: now() + 3600 })),
    'header changed, signature kept (alg swapped)': async () => {
      const [, p, s] = (await t.sign(good())).split('.');
      return `${b64({ alg: t.alg === 'ES256' ? 'ES384' : 'RS512', kid: t.kid })}.${p}.${s}`;
    },
    'wrong audience': () => t.sign({ ...good(), aud: 'another-api' }),
    'wrong issuer': () => t.sign({ ...good(), iss: 'https://attacker.example' }),
    'no issuer': () => t.sign({ ...good(), iss: undefined }),
    'no audience': () => t.sign({ ...good(), aud: undefined }),
    expired: () => t.sign({ ...good(), iat: now() - 7200, exp: now() - 3600 }),
    'not yet valid (nbf an hour ahead)': () => t.sign({ ...good(), nbf: now() + 3600 }),
    'no exp': () => t.sign({ ...good(), exp: undefined }),
    'no iat': () => t.sign({ ...good(), iat: undefined }),
    'trailing junk after the signature': async () => `${await t.sign(good())}.e30`,
    'two tokens joined': async () => `${await t.sign(good())}${await t.sign(good())}`,
  };
}

/** What a refusal may say: a short fixed sentence, nothing from the token, the key or the library. */
function expectSafeText(text: string, token: string, t: Trusted): void {
  expect(text.length).toBeLessThan(100);
  expect(text).not.toMatch(/JWS|JWK|JOSE|jose|Error|\bat \S+ \(|stack|\{|BEGIN/);
  expectNothingOf(text, token, t);
}

/** Nothing of the token, the issuer's key, or the issuer and audience the service expects. */
function expectNothingOf(text: string, token: string, t: Trusted): void {
  const secrets = [
    ...token.split('.').filter((part) => part.length >= 8),
    t.kid,
    t.iss,
    DEFAULT_AUDIENCE,
    ...(['x', 'y', 'n'] as const).map((k) => t.publicJwk[k]).filter((v): v is string => !!v),
  ];
  for (const s of secrets) expect(text).not.toContain(s);
}

async function refusalOf(v: TokenVerifier, token: string): Promise<OutcomeError> {
  const err = await v.verify(token).then(
    (p) => new Error(`accepted as ${JSON.stringify(p)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutcomeError);
  return err as OutcomeError;
}

function expectHttpRefusal(res: LightMyRequestResponse, status: number, token: string, t: Trusted): void {
  expect(res.statusCode, res.body).toBe(status);
  const body = res.json();
  expect(body.resourceType).toBe('OperationOutcome');
  const issue = body.issue[0];
  expect(issue.code).toBe(status === 401 ? 'login' : 'forbidden');
  expect(issue.details.coding[0].code).toBe('ACCESS_DENIED');
  expectSafeText(issue.diagnostics, token, t);
  expectNothingOf(res.body, token, t);
}

describe('forged and flawed tokens, at the verifier', () => {
  let jwks: Server;
  const verifiers: { name: string; trusted: Trusted; verifier: TokenVerifier }[] = [];

  beforeAll(async () => {
    // Demo mode: the service's own ES256 key (the real DemoTokenService verifier).
    const demo = await trustedIssuer(DEMO_ISSUER, 'ES256', 'demo-key');
    const demoService = await DemoTokenService.fromJwk(demo.privateJwk);
    verifiers.push({
      name: 'demo issuer (ES256)',
      trusted: demo.trusted,
      verifier: cachingVerifier(demoService.verifier),
    });
    // Production: an issuer's RS256 key from its JWKS URL.
    const prod = await trustedIssuer('https://cis2.example.nhs.uk', 'RS256', 'cis2-1');
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [prod.trusted.publicJwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
    verifiers.push({
      name: 'production issuer (RS256 JWKS)',
      trusted: prod.trusted,
      verifier: cachingVerifier(
        remoteVerifier({ issuer: prod.trusted.iss, jwksUrl, audience: DEFAULT_AUDIENCE }),
      ),
    });
  });
  afterAll(() => new Promise<void>((r) => (jwks ? jwks.close(() => r()) : r())));

  it('accepts a good token from each issuer (so the refusals below are the attacks, not the set-up)', async () => {
    for (const { trusted, verifier } of verifiers) {
      expect(await verifier.verify(await trusted.sign(claimsFor(trusted, admin)))).toMatchObject({
        kind: 'admin',
      });
    }
  });

  it('refuses every attack with 401 and a safe reason', async () => {
    let checked = 0;
    for (const { name, trusted, verifier } of verifiers) {
      for (const [attack, make] of Object.entries(attacks(trusted))) {
        const token = await make();
        const err = await refusalOf(verifier, token);
        expect(err.status, `${name}: ${attack}`).toBe(401);
        expect(err.outcome.issue[0]?.code).toBe('login');
        expectSafeText(err.message, token, trusted);
        checked++;
      }
    }
    expect(checked).toBe(2 * Object.keys(attacks(verifiers[0]!.trusted)).length);
  });

  it('refuses a tampered copy of a token it has just accepted and remembered', async () => {
    for (const { trusted, verifier } of verifiers) {
      const token = await trusted.sign(claimsFor(trusted, la('E08000025')));
      expect(await verifier.verify(token)).toMatchObject({ kind: 'local-authority', laCode: 'E08000025' });
      const [h, p, s] = token.split('.') as [string, string, string];
      const forged = [
        withPayload(token, (c) => ({ ...c, scope: 'cpis:admin' })), // same header and signature
        withPayload(token, (c) => ({ ...c, la_code: 'E09000030' })),
        `${h}.${p}.${s.slice(0, -4)}${s.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`, // same header and claims
        `${b64({ alg: trusted.alg, kid: 'another' })}.${p}.${s}`, // same claims and signature
      ];
      for (const f of forged) expect((await refusalOf(verifier, f)).status).toBe(401);
      // The one it accepted is still the one it accepts.
      expect(await verifier.verify(token)).toMatchObject({ laCode: 'E08000025' });
    }
  });
});

describe('forged and flawed tokens, through the HTTP front', () => {
  let jwks: Server;
  let prod: TestApp;
  let demo: TestApp;
  let trusted: Trusted;
  const ADMIN_ROUTE = '/admin/v1/local-authorities';

  beforeAll(async () => {
    ({ trusted } = await trustedIssuer('https://cis2.example.nhs.uk', 'RS256', 'cis2-http'));
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [trusted.publicJwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    prod = await buildTestApp('pglite', {
      mode: 'production',
      scheduler: false,
      env: {
        CPIS_AUTH_ISSUER: trusted.iss,
        CPIS_AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
      },
    });
    demo = await buildTestApp('pglite', { scheduler: false });
  }, 60_000);
  afterAll(async () => {
    await prod?.close();
    await demo?.close();
    await new Promise<void>((r) => (jwks ? jwks.close(() => r()) : r()));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const call = (t: TestApp, token: string, url = ADMIN_ROUTE) =>
    t.service.http.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it("production mode: answers the issuer's good admin token, and refuses every attack with 401", async () => {
    expect((await call(prod, await trusted.sign(claimsFor(trusted, admin)))).statusCode).toBe(200);
    for (const [attack, make] of Object.entries(attacks(trusted))) {
      const token = await make();
      const res = await call(prod, token);
      expect(res.statusCode, attack).toBe(401);
      expectHttpRefusal(res, 401, token, trusted);
    }
  });

  it("demo mode: refuses forgeries made from the demo key's public half, and its own tokens with a flaw", async () => {
    const jwk = demo.tokens.jwks().keys[0]!;
    const seen: Trusted = {
      iss: DEMO_ISSUER,
      alg: 'ES256',
      kid: jwk.kid!,
      publicJwk: jwk,
      sign: async () => '',
    };
    const good = claimsFor(seen, admin);
    const adminClaims = personaToClaims(admin);
    const forged: Record<string, string> = {
      'alg none': unsigned({ alg: 'none', typ: 'JWT', kid: jwk.kid }, good),
      'HS256 keyed with the public key (PEM)': hs256(publicPem(jwk), { kid: jwk.kid }, good),
      'HS256 keyed with the public key (JWK bytes)': hs256(JSON.stringify(jwk), { kid: jwk.kid }, good),
      "another key with the demo key's kid": await (
        await trustedIssuer(DEMO_ISSUER, 'ES256', jwk.kid!)
      ).trusted.sign(good),
      'claims changed, signature kept': withPayload(await demo.tokenFor(la('E08000025')), (c) => ({
        ...c,
        scope: 'cpis:admin',
      })),
      'wrong audience': await demo.tokens.sign(adminClaims, { audience: 'another-api' }),
      'wrong issuer': await demo.tokens.sign(adminClaims, { issuer: 'https://attacker.example' }),
      expired: await demo.tokens.sign(adminClaims, { issuedAt: now() - 7200, lifetimeS: 3600 }),
      'not yet valid (nbf an hour ahead)': await demo.tokens.sign({ ...adminClaims, nbf: now() + 3600 }),
    };
    expect((await call(demo, await demo.tokenFor(admin))).statusCode).toBe(200);
    for (const [attack, token] of Object.entries(forged)) {
      const res = await call(demo, token);
      expect(res.statusCode, attack).toBe(401);
      expectHttpRefusal(res, 401, token, seen);
    }
  });

  it('answers a genuine token of a kind the route is not for with 403, naming no more than the kinds', async () => {
    const cases: [string, Persona, string][] = [
      ['a local authority on an admin route', la('E08000025'), ADMIN_ROUTE],
      ['a health user on a local authority route', clinician(), '/la/v1/mailbox'],
      ['an admin on the health query API', admin, '/FHIR/R4/CareTeam?patient:identifier=x'],
    ];
    for (const [what, persona, url] of cases) {
      const token = await trusted.sign(claimsFor(trusted, persona));
      const res = await call(prod, token, url);
      expect(res.statusCode, what).toBe(403);
      expectHttpRefusal(res, 403, token, trusted);
    }
  });

  it('does not let the demo clock revive an expired token, nor expire a good one', async () => {
    const expired = await demo.tokens.sign(personaToClaims(admin), {
      issuedAt: now() - 7200,
      lifetimeS: 3600,
    });
    const good = await demo.tokenFor(admin);
    const setClock = (at: string) =>
      demo.service.http.inject({ method: 'POST', url: '/dev/clock', payload: { now: at } });
    try {
      expect((await setClock('2020-01-01T00:00:00Z')).statusCode).toBe(200);
      expect((await call(demo, expired)).statusCode).toBe(401);
      expect((await setClock('2035-01-01T00:00:00Z')).statusCode).toBe(200);
      expect((await call(demo, good)).statusCode).toBe(200);
    } finally {
      demo.clock.set(new Date('2026-11-20T10:00:00Z'));
    }
  });

  it('remembers a verified token no longer than it is valid: an hour on, the same token is refused', async () => {
    const token = (await demo.tokens.issue(admin, 120)).access_token;
    expect((await call(demo, token)).statusCode).toBe(200);
    expect((await call(demo, token)).statusCode).toBe(200); // now answered from the cache
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 3600_000);
    const res = await call(demo, token);
    expect(res.statusCode).toBe(401);
    expect(res.json().issue[0].diagnostics).toMatch(/expired/);
  });

  it('serves a remembered principal that no request can change for the next', async () => {
    const token = await demo.tokenFor(clinician({ activities: ['B0170'] }));
    const first = await demo.service.deps.verifier.verify(token);
    if (first.kind !== 'health-user') throw new Error('expected a health user');
    expect(() => first.activities.push('B0107')).toThrow(TypeError);
    expect(() => {
      (first.jobRole as { code: string }).code = 'R0001';
    }).toThrow(TypeError);
    const again = await demo.service.deps.verifier.verify(token);
    expect(again).toMatchObject({ activities: ['B0170'], jobRole: { code: 'R8000' } });
  });
});
