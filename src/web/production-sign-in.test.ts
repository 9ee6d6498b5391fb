/**
 * Production mode: the portal is a relying party of an identity provider elsewhere (NHS CIS2 in
 * life; here the stand-in, run as a separate site on its own port). The service finds it by
 * discovery over real HTTP, checks the ID token against its JWKS, and has no stand-in of its own.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestBrowser, textOf } from '../../test/browser.ts';
import { buildTestApp, type TestApp } from '../../test/helper.ts';
import { freePort } from '../../tools/pg-server.ts';
import { createStandInIdp, mountStandInIdp } from '../auth/standin-idp.ts';

const PUBLIC = 'http://127.0.0.1:8080';

describe('portal sign-in in production mode', () => {
  let idp: FastifyInstance;
  let issuerOrigin: string;
  let t: TestApp;

  beforeAll(async () => {
    const port = await freePort();
    issuerOrigin = `http://127.0.0.1:${port}`;
    idp = Fastify();
    const standIn = createStandInIdp({
      issuer: `${issuerOrigin}/cis2`,
      clients: [
        {
          clientId: 'cpis-portal-prod',
          clientSecret: 'a-client-secret-of-the-portal-at-cis2',
          redirectUris: [`${PUBLIC}/sign-in/callback`],
          postLogoutRedirectUris: [`${PUBLIC}/signed-out`],
        },
      ],
      onError: () => {},
    });
    mountStandInIdp(idp, () => standIn);
    await idp.listen({ host: '127.0.0.1', port });
    t = await buildTestApp('pglite', {
      mode: 'production',
      env: {
        CPIS_PUBLIC_URL: PUBLIC,
        CPIS_OIDC_ISSUER: `${issuerOrigin}/cis2`,
        CPIS_OIDC_CLIENT_ID: 'cpis-portal-prod',
        CPIS_OIDC_CLIENT_SECRET: 'a-client-secret-of-the-portal-at-cis2',
        CPIS_PORTAL_SECRET: 'a-portal-secret-of-at-least-32-characters',
      },
      demoWorld: false,
    });
    // Production starts with an empty directory: the clerk's organisation is known by code only.
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it('signs in through the configured issuer, and serves no stand-in of its own', async () => {
    const b = new TestBrowser(t.service.http, PUBLIC, { [issuerOrigin]: idp });
    const start = await b.request('GET', '/sign-in/start');
    expect(start.status).toBe(303);
    expect(String(start.headers.location)).toMatch(new RegExp(`^${issuerOrigin}/cis2/auth\\?`));
    expect(String(start.headers.location)).toContain('code_challenge_method=S256');
    const search = await b.signIn('555000000302');
    expect(search.url).toBe(`${PUBLIC}/search`);
    expect(textOf(search.html)).toContain('Sam Patel');
    expect((await b.request('GET', '/cis2/.well-known/openid-configuration')).status).toBe(404);
  });

  it('refuses an issuer that is neither https nor on this machine', async () => {
    await expect(
      buildTestApp('pglite', {
        mode: 'production',
        env: {
          CPIS_OIDC_ISSUER: 'http://cis2.example.nhs.uk/openam',
          CPIS_OIDC_CLIENT_ID: 'x',
          CPIS_OIDC_CLIENT_SECRET: 'y',
        },
      }),
    ).rejects.toThrow(/CPIS_OIDC_ISSUER/);
  });
});
