/**
 * The callers the access matrix and the token attack tests play, and a token issuer of the tests' own
 * for production-mode services: a key served as a JWKS over loopback HTTP, as NHS CIS2 or an API
 * gateway would serve theirs, so a production service verifies real signatures against it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Persona, personaToClaims } from '../src/auth/claims.ts';
import type { PrincipalKind } from '../src/auth/principal.ts';
import { DemoTokenService } from '../src/auth/tokens.ts';
import { admin, clinician, la, pasSystem } from './helper.ts';

/** The LA whose records, messages and episodes the matrix reads, and another LA. */
export const OWN_LA = 'E09000030'; // Tower Hamlets
export const OTHER_LA = 'E08000025'; // Birmingham

export type PersonaName =
  | 'none'
  | 'garbage'
  | 'expired'
  | 'admin'
  | 'la-own'
  | 'la-other'
  | 'user-B0107'
  | 'user-B0170'
  | 'user-no-activity'
  | 'system-B0107';

/** Callers holding a valid token, by name. */
export const TOKEN_PERSONAS: Record<Exclude<PersonaName, 'none' | 'garbage' | 'expired'>, Persona> = {
  admin,
  'la-own': la(OWN_LA),
  'la-other': la(OTHER_LA),
  'user-B0107': clinician(),
  'user-B0170': clinician({ sdsUserId: '555000000303', name: 'Dr Helen Marsh', activities: ['B0170'] }),
  'user-no-activity': clinician({ sdsUserId: '555000000304', name: 'Chris Doyle', activities: [] }),
  'system-B0107': pasSystem(),
};

export const PERSONA_NAMES: readonly PersonaName[] = [
  'none',
  'garbage',
  'expired',
  ...(Object.keys(TOKEN_PERSONAS) as PersonaName[]),
];

/** A persona of each kind, for an expired token of the kind a route is for. */
export const PERSONA_OF_KIND: Record<PrincipalKind, Persona> = {
  admin,
  'local-authority': la(OWN_LA),
  'health-user': clinician(),
  'health-system': pasSystem(),
};

/** Signs tokens for a service; `expiredFor` makes one that ran out an hour ago. */
export interface Signer {
  tokenFor(persona: Persona): Promise<string>;
  expiredFor(persona: Persona): Promise<string>;
}

/** Tokens from a service's own issuer: the demo key, or a local issuer's. */
export function signerOf(tokens: DemoTokenService, issuer?: string): Signer {
  const cache = new Map<string, string>();
  const opts = issuer ? { issuer } : {};
  return {
    async tokenFor(p) {
      const key = JSON.stringify(p);
      let t = cache.get(key);
      if (!t) {
        t = await tokens.sign(personaToClaims(p), opts);
        cache.set(key, t);
      }
      return t;
    },
    expiredFor: (p) =>
      tokens.sign(personaToClaims(p), {
        ...opts,
        issuedAt: Math.floor(Date.now() / 1000) - 7200,
        lifetimeS: 3600,
      }),
  };
}

/** The Authorization header a persona sends (none for `none`). */
export async function authorizationFor(
  name: PersonaName,
  signer: Signer,
  allowed: readonly PrincipalKind[],
): Promise<Record<string, string>> {
  switch (name) {
    case 'none':
      return {};
    case 'garbage':
      return { authorization: 'Bearer not.a.token' };
    case 'expired':
      // Expired, and of a kind the route is for: the lifetime alone must refuse it.
      return { authorization: `Bearer ${await signer.expiredFor(PERSONA_OF_KIND[allowed[0] ?? 'admin'])}` };
    default:
      return { authorization: `Bearer ${await signer.tokenFor(TOKEN_PERSONAS[name])}` };
  }
}

export const LOCAL_ISSUER = 'https://auth.example.nhs.uk';

/** A token issuer on loopback: its JWKS at `jwksUrl`, its tokens signed with `tokens`. */
export interface LocalIssuer {
  issuer: string;
  jwksUrl: string;
  tokens: DemoTokenService;
  signer: Signer;
  close(): Promise<void>;
}

export async function localIssuer(issuer = LOCAL_ISSUER): Promise<LocalIssuer> {
  const tokens = await DemoTokenService.ephemeral();
  const server: Server = createServer((req, res) => {
    if (req.url !== '/jwks') {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(tokens.jwks()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    issuer,
    jwksUrl: `http://127.0.0.1:${port}/jwks`,
    tokens,
    signer: signerOf(tokens, issuer),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
