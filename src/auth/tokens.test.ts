import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutcomeError } from '../domain/outcomes.ts';
import type { Persona } from './claims.ts';
import { DEMO_ISSUER, DemoTokenService, remoteVerifier } from './tokens.ts';

const nurse: Persona = {
  kind: 'health-user',
  sdsUserId: '555000000202',
  name: 'Alex Morgan',
  jobRole: { code: 'R8001', display: 'Nurse Access Role' },
  organisation: { odsCode: 'RRK15' },
  activities: ['B0107', 'B0170'],
};

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutcomeError);
  expect((err as OutcomeError).status).toBe(401);
  return (err as OutcomeError).message;
}

describe('demo tokens', () => {
  let demo: DemoTokenService;
  beforeAll(async () => {
    demo = await DemoTokenService.ephemeral();
  });

  it('issues a CIS2-shaped token for a health user and reads it back as the same person', async () => {
    const { access_token, token_type, expires_in } = await demo.issue(nurse);
    expect(token_type).toBe('Bearer');
    expect(expires_in).toBe(3600);
    const claims = decodeJwt(access_token) as Record<string, unknown>;
    expect(claims.iss).toBe(DEMO_ISSUER);
    expect(claims.nhsid_useruid).toBe('555000000202');
    const roles = claims.nhsid_nrbac_roles as Record<string, unknown>[];
    expect(roles[0]).toMatchObject({
      org_code: 'RRK15',
      role_code: 'R8001',
      role_name: 'Nurse Access Role',
      activity_codes: ['B0107', 'B0170'],
    });
    expect(claims.selected_roleid).toBe(roles[0]!.person_roleid);
    const p = await demo.verifier.verify(access_token);
    expect(p).toMatchObject({
      kind: 'health-user',
      sdsUserId: '555000000202',
      orgCode: 'RRK15',
      activities: ['B0107', 'B0170'],
    });
  });

  it('issues client-credential tokens for systems, local authorities and admins', async () => {
    const sys = await demo.verifier.verify(
      (
        await demo.issue({
          kind: 'health-system',
          asid: '200000001234',
          organisation: { odsCode: 'NNJ' },
          responsiblePerson: { name: 'Sam Reed', jobRole: { code: 'R8003', display: 'Health Professional' } },
          activities: ['B0107'],
        })
      ).access_token,
    );
    expect(sys).toMatchObject({
      kind: 'health-system',
      asid: '200000001234',
      orgCode: 'NNJ',
      responsiblePerson: { name: 'Sam Reed' },
    });
    const la = await demo.verifier.verify(
      (await demo.issue({ kind: 'local-authority', laCode: 'E08000025' })).access_token,
    );
    expect(la).toMatchObject({ kind: 'local-authority', laCode: 'E08000025' });
    expect((await demo.verifier.verify((await demo.issue({ kind: 'admin' })).access_token)).kind).toBe(
      'admin',
    );
  });

  it('refuses an expired token', async () => {
    const old = await demo.sign(
      { sub: 'admin', client_id: 'x', scope: 'cpis:admin' },
      { issuedAt: Math.floor(Date.now() / 1000) - 7200, lifetimeS: 3600 },
    );
    expect(await refusal(demo.verifier.verify(old))).toMatch(/expired/);
  });

  it('refuses a token signed with another key', async () => {
    const other = await DemoTokenService.ephemeral();
    const forged = (await other.issue({ kind: 'admin' })).access_token;
    expect(await refusal(demo.verifier.verify(forged))).toMatch(/trusted key|signature/);
  });

  it('refuses a wrong issuer or audience', async () => {
    const claims = { sub: 'admin', client_id: 'x', scope: 'cpis:admin' };
    expect(
      await refusal(demo.verifier.verify(await demo.sign(claims, { issuer: 'https://elsewhere' }))),
    ).toMatch(/iss/);
    expect(await refusal(demo.verifier.verify(await demo.sign(claims, { audience: 'another-api' })))).toMatch(
      /aud/,
    );
  });

  it('refuses a health user token with no selected role, and a token with no CP-IS scope', async () => {
    const noRole = await demo.sign({
      sub: 'u',
      nhsid_useruid: 'u',
      nhsid_nrbac_roles: [],
      selected_roleid: '1',
    });
    expect(await refusal(demo.verifier.verify(noRole))).toMatch(/selected role/);
    const noScope = await demo.sign({ sub: 'x', client_id: 'x', scope: 'openid' });
    expect(await refusal(demo.verifier.verify(noScope))).toMatch(/scope/);
  });

  it('refuses a tampered token', async () => {
    const t = (await demo.issue(nurse)).access_token;
    const [h, p, s] = t.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    payload.nhsid_nrbac_roles[0].activity_codes = ['B0170'];
    const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    expect(await refusal(demo.verifier.verify(tampered))).toMatch(/signature/);
  });
});

describe('production tokens (a configured issuer and JWKS URL)', () => {
  const issuer = 'https://cis2.example.nhs.uk';
  let server: Server;
  let jwksUrl: string;
  let sign: (claims: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'cis2-1', alg: 'RS256', use: 'sig' };
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    sign = (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'cis2-1' })
        .setIssuer(issuer)
        .setAudience('open-cpis')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("accepts the configured issuer's tokens and refuses demo tokens", async () => {
    const verifier = remoteVerifier({ issuer, jwksUrl, audience: 'open-cpis' });
    const real = await sign({
      sub: '555000000303',
      nhsid_useruid: '555000000303',
      name: 'Dr Real',
      selected_roleid: '123456789012',
      nhsid_nrbac_roles: [
        {
          person_roleid: '123456789012',
          org_code: 'R1H12',
          role_code: 'R8000',
          role_name: 'Clinical',
          activity_codes: ['B0107'],
        },
      ],
    });
    expect(await verifier.verify(real)).toMatchObject({ kind: 'health-user', orgCode: 'R1H12' });
    const demo = await DemoTokenService.ephemeral();
    expect(await refusal(verifier.verify((await demo.issue({ kind: 'admin' })).access_token))).toMatch(
      /iss|trusted key/,
    );
  });
});
