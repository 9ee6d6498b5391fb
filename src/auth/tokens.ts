/**
 * Issuing and verifying bearer tokens.
 *
 * Demo mode: the service is its own issuer. It signs persona tokens with an ES256 key kept in the
 * data directory (created on first start, readable only by its owner) and publishes the public
 * half at /.well-known/jwks.json.
 * Production mode: tokens are verified against the configured issuer's JWKS; the demo key is never
 * loaded, so a demo token is refused (wrong issuer and unknown key).
 *
 * Token lifetimes are security controls and are checked against real time, not the service clock
 * (the service clock moves CP-IS rules in tests and demos; it must not make a stolen token valid).
 */

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose';
import { unauthenticated } from '../domain/outcomes.ts';
import { readKeyFile, readOrCreateKeyFile } from '../store/key-file.ts';
import { claimsToPrincipal, type Persona, personaToClaims } from './claims.ts';
import type { Principal } from './principal.ts';

export const DEMO_ISSUER = 'urn:open-cpis:demo-issuer';
export const DEFAULT_AUDIENCE = 'open-cpis';
export const TOKEN_LIFETIME_S = 3600;
const CLOCK_TOLERANCE_S = 30;
type SigningKey = Awaited<ReturnType<typeof importJWK>>;

export interface TokenVerifier {
  /** The caller, or an OutcomeError (401) saying why the token was refused. */
  verify(token: string): Promise<Principal>;
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

interface VerifierOptions {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
  algorithms: string[];
}

function makeVerifier(opts: VerifierOptions): TokenVerifier {
  return {
    async verify(token) {
      let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
      try {
        ({ payload } = await jwtVerify(token, opts.keys, {
          issuer: opts.issuer,
          audience: opts.audience,
          algorithms: opts.algorithms,
          clockTolerance: CLOCK_TOLERANCE_S,
          requiredClaims: ['exp', 'iat'],
        }));
      } catch (err) {
        throw unauthenticated(describeJoseError(err));
      }
      const result = claimsToPrincipal(payload);
      if (!result.ok) throw unauthenticated(`token refused: ${result.reason}`);
      return result.principal;
    },
  };
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token has expired';
  if (err instanceof errors.JWTClaimValidationFailed)
    return `token refused: ${err.claim} claim is not acceptable`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature is not valid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'token was not signed by a trusted key';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'token is malformed';
  if (err instanceof errors.JWKSTimeout) return 'token issuer keys could not be fetched (timeout)';
  return 'token could not be verified';
}

/** Production: verify against a configured issuer and its JWKS URL. */
export function remoteVerifier(cfg: { issuer: string; jwksUrl: string; audience: string }): TokenVerifier {
  return makeVerifier({
    issuer: cfg.issuer,
    audience: cfg.audience,
    keys: createRemoteJWKSet(new URL(cfg.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 }),
    algorithms: ['RS256', 'PS256', 'ES256', 'RS512', 'ES384'],
  });
}

/** Demo mode: the service's own signing key and the personas of INTERFACE §1. */
export class DemoTokenService {
  private constructor(
    private readonly privateKey: SigningKey,
    private readonly publicJwk: JWK,
    readonly verifier: TokenVerifier,
  ) {}

  static async fromJwk(privateJwk: JWK): Promise<DemoTokenService> {
    const { d: _d, ...publicJwk } = privateJwk;
    const privateKey = await importJWK(privateJwk, 'ES256');
    const jwks: JSONWebKeySet = { keys: [publicJwk] };
    const verifier = makeVerifier({
      issuer: DEMO_ISSUER,
      audience: DEFAULT_AUDIENCE,
      keys: createLocalJWKSet(jwks),
      algorithms: ['ES256'],
    });
    return new DemoTokenService(privateKey, publicJwk, verifier);
  }

  /** Load the key from `<dataDir>/keys/`, creating it on first use. */
  static async open(dataDir: string): Promise<DemoTokenService> {
    return DemoTokenService.fromJwk(
      await loadOrCreateKey(join(dataDir, 'keys', 'demo-signing-key.jwk.json')),
    );
  }

  /** A key that lives only in memory (tests). */
  static async ephemeral(): Promise<DemoTokenService> {
    return DemoTokenService.fromJwk(await newSigningJwk());
  }

  jwks(): JSONWebKeySet {
    return { keys: [this.publicJwk] };
  }

  async issue(persona: Persona, lifetimeS = TOKEN_LIFETIME_S): Promise<IssuedToken> {
    const token = await this.sign(personaToClaims(persona), { lifetimeS });
    return { access_token: token, token_type: 'Bearer', expires_in: lifetimeS };
  }

  /** Sign arbitrary claims with the demo key (tests use it to make expired or odd tokens). */
  async sign(
    claims: Record<string, unknown>,
    opts: { lifetimeS?: number; issuer?: string; audience?: string; issuedAt?: number } = {},
  ): Promise<string> {
    const iat = opts.issuedAt ?? Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: this.publicJwk.kid!, typ: 'JWT' })
      .setIssuer(opts.issuer ?? DEMO_ISSUER)
      .setAudience(opts.audience ?? DEFAULT_AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + (opts.lifetimeS ?? TOKEN_LIFETIME_S))
      .setJti(randomUUID())
      .sign(this.privateKey);
  }
}

async function newSigningJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = 'ES256';
  jwk.use = 'sig';
  return jwk;
}

async function loadOrCreateKey(path: string): Promise<JWK> {
  const existing = readKeyFile(path);
  if (existing !== null) return JSON.parse(existing) as JWK;
  const jwk = await newSigningJwk();
  // If another process made one meanwhile, theirs is kept and used.
  return JSON.parse(readOrCreateKeyFile(path, () => JSON.stringify(jwk))) as JWK;
}
