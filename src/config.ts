/**
 * Configuration from the environment: every variable the service reads is listed here (and in the
 * README's table). Invalid configuration stops the service at start-up with a message naming the
 * variable, rather than surfacing later as odd behaviour.
 */
import { resolve } from 'node:path';

export type Mode = 'demo' | 'production';

export interface Config {
  mode: Mode;
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | null;
  dbPoolSize: number;
  auth: { issuer: string; jwksUrl: string; audience: string } | null;
  demographics: { kind: 'local' } | { kind: 'pds'; baseUrl: string; token: string | null };
  demoPeople: number;
  demoSeed: number;
  logLevel: string;
  portal: PortalConfig;
  limits: LimitsConfig;
  /** Encrypts secrets kept in the store (LA webhook secrets); null: a key kept in the data directory. */
  secretKey: string | null;
  /** PEM (PKCS#8) Ed25519 key that signs audit checkpoints; null: demo mode keeps one in the data directory. */
  checkpointKeyFile: string | null;
}

/** Protection against floods: per-client request rates and back-pressure when the process is overloaded. */
export interface LimitsConfig {
  /** Requests a minute from one client (a token's client or user; an address without one); 0: no limit. */
  requestsPerMinute: number;
  /** Answer 503 with Retry-After instead of queueing when the event loop lags this much (ms); 0: never. */
  maxEventLoopDelayMs: number;
  /** Answer 503 with Retry-After when the JavaScript heap holds more than this (MB); 0: never. */
  maxHeapMb: number;
}

/** The web portal: where it is reached, how people sign in, how long a session lasts. */
export interface PortalConfig {
  /** The address browsers use (http://HOST:PORT unless set); null: the listening address, once known. */
  publicUrl: string | null;
  /** Production: the OpenID Connect issuer (NHS CIS2). Null in demo mode: the stand-in is used. */
  oidc: { issuer: string; clientId: string; clientSecret: string; scopes: string } | null;
  /** Sign out after this long without a request. */
  idleSeconds: number;
  /** Sign out this long after signing in, however active. */
  maxSessionHours: number;
  /** Encrypts the opaque patient references in portal URLs; null: a key kept in the data directory. */
  secret: string | null;
}

/** A host name that can only mean this machine (plain HTTP to it is acceptable). */
export function isLoopbackHost(hostname: string): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Every variable, with what it does: printed by `cpis serve --help` and mirrored in the README. */
/** The scopes that release CIS2's identity and role profiles (`nhsid_useruid`, `nhsid_nrbac_roles`). */
export const DEFAULT_OIDC_SCOPES = 'openid profile nationalrbacaccess';

export const ENVIRONMENT: ReadonlyArray<[string, string, string]> = [
  ['CPIS_MODE', 'demo', '`demo` (dev helpers under /dev/, demo world on an empty store) or `production`'],
  ['HOST', '127.0.0.1', 'interface to listen on'],
  ['PORT', '8080', 'port to listen on'],
  ['CPIS_DATA_DIR', './.cpis-data', 'data directory: embedded database, lock file, demo signing key'],
  [
    'DATABASE_URL',
    '(unset)',
    'PostgreSQL 15 URL (`postgres://user:pass@host:5432/db`); unset means the embedded store',
  ],
  ['CPIS_DB_POOL_SIZE', '10', 'PostgreSQL connections per process'],
  ['CPIS_AUTH_ISSUER', '(unset)', 'production: the trusted token issuer (`iss`)'],
  ['CPIS_AUTH_JWKS_URL', '(unset)', "production: the issuer's JWKS URL"],
  ['CPIS_AUTH_AUDIENCE', 'open-cpis', 'expected token audience (`aud`)'],
  ['CPIS_DEMOGRAPHICS', 'local', '`local` (the register in the store) or `pds` (the PDS FHIR API)'],
  [
    'CPIS_PDS_BASE_URL',
    '(unset)',
    'with `pds`: e.g. https://sandbox.api.service.nhs.uk/personal-demographics/FHIR/R4',
  ],
  ['CPIS_PDS_TOKEN', '(unset)', 'with `pds`: bearer token sent to PDS (optional for the sandbox)'],
  ['CPIS_DEMO_PEOPLE', '5000', 'demo mode: size of the synthetic population loaded on an empty store'],
  ['CPIS_DEMO_SEED', '20261122', 'demo mode: seed of the synthetic population (same seed, same people)'],
  ['CPIS_LOG_LEVEL', 'info', 'fatal, error, warn, info, debug, trace or silent'],
  [
    'CPIS_PUBLIC_URL',
    'http://HOST:PORT',
    'the address browsers reach the portal at (sign-in redirects are built from it)',
  ],
  [
    'CPIS_OIDC_ISSUER',
    '(unset)',
    "production: the portal's OpenID Connect issuer (NHS CIS2), read by discovery; unset turns portal sign-in off",
  ],
  ['CPIS_OIDC_CLIENT_ID', '(unset)', "production: the portal's client id at that issuer"],
  ['CPIS_OIDC_CLIENT_SECRET', '(unset)', "production: the portal's client secret at that issuer"],
  [
    'CPIS_OIDC_SCOPES',
    DEFAULT_OIDC_SCOPES,
    'scopes asked for at sign-in (CIS2: add `selectedrole` to have CIS2 ask for the role)',
  ],
  ['CPIS_SESSION_IDLE_SECONDS', '900', 'portal: sign out after this many seconds without a request'],
  ['CPIS_SESSION_MAX_HOURS', '12', 'portal: sign out this many hours after signing in'],
  [
    'CPIS_PORTAL_SECRET',
    '(unset)',
    'portal: at least 32 characters; encrypts patient references in URLs. Unset: a key in the data directory (set it when several processes share PostgreSQL)',
  ],
  [
    'CPIS_SECRET_KEY',
    '(unset)',
    'at least 32 characters; encrypts LA webhook secrets in the store. Unset: a key in the data directory (set it when several processes share PostgreSQL)',
  ],
  [
    'CPIS_RATE_LIMIT_PER_MINUTE',
    '6000',
    'requests a minute from one client (token or, without one, address) before 429 with Retry-After; 0: no limit',
  ],
  [
    'CPIS_MAX_EVENT_LOOP_DELAY_MS',
    '1000 (demo: 0)',
    'answer 503 with Retry-After while the event loop lags more than this; 0: never (the demo is off: the embedded store runs queries on the event loop)',
  ],
  ['CPIS_MAX_HEAP_MB', '0', 'answer 503 with Retry-After while the heap holds more than this; 0: never'],
  [
    'CPIS_CHECKPOINT_KEY_FILE',
    '(unset)',
    'PEM Ed25519 private key that signs audit checkpoints; unset: demo mode keeps one in the data directory (set it when several processes share PostgreSQL), production publishes none',
  ],
  ['CPIS_URL', 'http://HOST:PORT', 'CLI: the running service to talk to'],
  [
    'CPIS_TOKEN',
    '(unset)',
    'CLI: a bearer token to use instead of asking /dev/token (needed in production mode)',
  ],
];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const mode = (env.CPIS_MODE ?? 'demo') as Mode;
  if (mode !== 'demo' && mode !== 'production')
    throw new ConfigError('CPIS_MODE', 'must be demo or production');

  const issuer = env.CPIS_AUTH_ISSUER || null;
  const jwksUrl = env.CPIS_AUTH_JWKS_URL || null;
  const audience = env.CPIS_AUTH_AUDIENCE || 'open-cpis';
  if (mode === 'production' && (!issuer || !jwksUrl)) {
    throw new ConfigError(
      'CPIS_AUTH_ISSUER/CPIS_AUTH_JWKS_URL',
      'are required in production mode: tokens must come from a real issuer',
    );
  }
  if (jwksUrl) url('CPIS_AUTH_JWKS_URL', jwksUrl);

  const demographicsKind = env.CPIS_DEMOGRAPHICS ?? 'local';
  let demographics: Config['demographics'];
  if (demographicsKind === 'local') demographics = { kind: 'local' };
  else if (demographicsKind === 'pds') {
    const baseUrl = env.CPIS_PDS_BASE_URL;
    if (!baseUrl) throw new ConfigError('CPIS_PDS_BASE_URL', 'is required when CPIS_DEMOGRAPHICS=pds');
    url('CPIS_PDS_BASE_URL', baseUrl);
    demographics = { kind: 'pds', baseUrl: baseUrl.replace(/\/+$/, ''), token: env.CPIS_PDS_TOKEN || null };
  } else throw new ConfigError('CPIS_DEMOGRAPHICS', 'must be local or pds');

  const oidcIssuer = env.CPIS_OIDC_ISSUER || null;
  let oidc: PortalConfig['oidc'] = null;
  if (oidcIssuer) {
    if (mode === 'demo') {
      throw new ConfigError(
        'CPIS_OIDC_ISSUER',
        'is for production mode; demo mode signs in with its stand-in',
      );
    }
    url('CPIS_OIDC_ISSUER', oidcIssuer);
    const issuerUrl = new URL(oidcIssuer);
    if (issuerUrl.protocol !== 'https:' && !isLoopbackHost(issuerUrl.hostname)) {
      throw new ConfigError('CPIS_OIDC_ISSUER', 'must be https (plain http only on this machine)');
    }
    const clientId = env.CPIS_OIDC_CLIENT_ID;
    const clientSecret = env.CPIS_OIDC_CLIENT_SECRET;
    if (!clientId) throw new ConfigError('CPIS_OIDC_CLIENT_ID', 'is required with CPIS_OIDC_ISSUER');
    if (!clientSecret) throw new ConfigError('CPIS_OIDC_CLIENT_SECRET', 'is required with CPIS_OIDC_ISSUER');
    oidc = {
      issuer: oidcIssuer,
      clientId,
      clientSecret,
      scopes: env.CPIS_OIDC_SCOPES || DEFAULT_OIDC_SCOPES,
    };
  }
  const publicUrl = env.CPIS_PUBLIC_URL ? env.CPIS_PUBLIC_URL.replace(/\/+$/, '') : null;
  if (publicUrl) url('CPIS_PUBLIC_URL', publicUrl);
  const portalSecret = env.CPIS_PORTAL_SECRET || null;
  if (portalSecret !== null && portalSecret.length < 32) {
    throw new ConfigError('CPIS_PORTAL_SECRET', 'must be at least 32 characters');
  }

  const secretKey = env.CPIS_SECRET_KEY || null;
  if (secretKey !== null && secretKey.length < 32) {
    throw new ConfigError('CPIS_SECRET_KEY', 'must be at least 32 characters');
  }

  const databaseUrl = env.DATABASE_URL || null;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// URL');
  }

  return {
    mode,
    host: env.HOST || '127.0.0.1',
    port: int('PORT', env.PORT, 8080, 0, 65535),
    dataDir: resolve(env.CPIS_DATA_DIR || './.cpis-data'),
    databaseUrl,
    dbPoolSize: int('CPIS_DB_POOL_SIZE', env.CPIS_DB_POOL_SIZE, 10, 1, 200),
    auth: mode === 'production' ? { issuer: issuer!, jwksUrl: jwksUrl!, audience } : null,
    demographics,
    demoPeople: int('CPIS_DEMO_PEOPLE', env.CPIS_DEMO_PEOPLE, 5000, 0, 2_000_000),
    demoSeed: int('CPIS_DEMO_SEED', env.CPIS_DEMO_SEED, 20261122, 0, 2 ** 31 - 1),
    logLevel: env.CPIS_LOG_LEVEL || 'info',
    portal: {
      publicUrl,
      oidc,
      idleSeconds: int('CPIS_SESSION_IDLE_SECONDS', env.CPIS_SESSION_IDLE_SECONDS, 900, 1, 86_400),
      maxSessionHours: int('CPIS_SESSION_MAX_HOURS', env.CPIS_SESSION_MAX_HOURS, 12, 1, 24),
      secret: portalSecret,
    },
    limits: {
      requestsPerMinute: int(
        'CPIS_RATE_LIMIT_PER_MINUTE',
        env.CPIS_RATE_LIMIT_PER_MINUTE,
        6000,
        0,
        10_000_000,
      ),
      maxEventLoopDelayMs: int(
        'CPIS_MAX_EVENT_LOOP_DELAY_MS',
        env.CPIS_MAX_EVENT_LOOP_DELAY_MS,
        mode === 'production' ? 1000 : 0,
        0,
        600_000,
      ),
      maxHeapMb: int('CPIS_MAX_HEAP_MB', env.CPIS_MAX_HEAP_MB, 0, 0, 1_000_000),
    },
    secretKey,
    checkpointKeyFile: env.CPIS_CHECKPOINT_KEY_FILE ? resolve(env.CPIS_CHECKPOINT_KEY_FILE) : null,
  };
}

function int(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number (got ${JSON.stringify(raw)})`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return n;
}

function url(name: string, raw: string): void {
  try {
    new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a URL (got ${JSON.stringify(raw)})`);
  }
}
