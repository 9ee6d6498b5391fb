/**
 * What the portal needs from the running service, built once at start-up: its session timings,
 * the key that seals patient references, and sign-in — through the configured CIS2 issuer, or in
 * demo mode through the stand-in mounted at /cis2, which the portal calls in-process (so it works
 * before and without listening). The stand-in and the relying party are made on first use, when
 * the address browsers use is known.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createStandInIdp, STANDIN_PREFIX, type StandInIdp } from '../auth/standin-idp.ts';
import { type Config, DEFAULT_OIDC_SCOPES, isLoopbackHost } from '../config.ts';
import { createSignInClient, injectFetch, type SignInClient } from './oidc-client.ts';
import { PatientRefs } from './patient-ref.ts';
import type { PortalDeps } from './portal.ts';

const STAND_IN_CLIENT_ID = 'open-cpis-portal';

export async function createPortalDeps(
  config: Config,
  publicUrl: () => string,
  http: () => FastifyInstance,
): Promise<PortalDeps> {
  const idleMs = config.portal.idleSeconds * 1000;
  const maxMs = config.portal.maxSessionHours * 3_600_000;
  const refs = await PatientRefs.open(config.portal.secret, config.dataDir, maxMs);
  const demo = config.mode === 'demo';
  // The stand-in's client secret lives as long as the process: the portal is its only client.
  const standInSecret = randomBytes(32).toString('base64url');
  const callback = () => `${publicUrl()}/sign-in/callback`;
  const signedOut = () => `${publicUrl()}/signed-out`;
  let standIn: Promise<StandInIdp> | null = null;
  const getStandIn = () => {
    standIn ??= createStandInIdp({
      issuer: `${publicUrl()}${STANDIN_PREFIX}`,
      clients: [
        {
          clientId: STAND_IN_CLIENT_ID,
          clientSecret: standInSecret,
          redirectUris: [callback()],
          postLogoutRedirectUris: [signedOut()],
        },
      ],
    });
    return standIn;
  };
  let client: SignInClient | null = null;
  const oidc = config.portal.oidc;
  return {
    idleMs,
    maxMs,
    refs,
    publicUrl,
    now: Date.now,
    standIn: demo ? getStandIn : null,
    formOrigins: oidc ? [new URL(oidc.issuer).origin] : [],
    signIn: () => {
      if (client) return client;
      const common = {
        redirectUri: callback(),
        postLogoutRedirectUri: signedOut(),
      };
      if (demo) {
        client = createSignInClient({
          ...common,
          issuer: `${publicUrl()}${STANDIN_PREFIX}`,
          clientId: STAND_IN_CLIENT_ID,
          clientSecret: standInSecret,
          scopes: DEFAULT_OIDC_SCOPES,
          fetch: injectFetch(http()),
          allowHttp: true,
        });
      } else if (oidc) {
        // Plain HTTP only to an issuer on this machine (a local test identity provider).
        const issuer = new URL(oidc.issuer);
        client = createSignInClient({
          ...common,
          ...oidc,
          allowHttp: issuer.protocol === 'http:' && isLoopbackHost(issuer.hostname),
        });
      }
      return client;
    },
  };
}
