/**
 * Configuration: read from the environment once, at start-up, into one typed object.
 * A bad value stops the process with a message that names the variable.
 */
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '@tessera/shared';

/** The demo key-encryption key. Allowed outside production only, with a warning. */
export const DEMO_KEY_ENCRYPTION_KEY = 'ZGVtby1vbmx5LWtleS1lbmNyeXB0aW9uLWtleS0zMmI';

export interface Config {
  /** The issuer identifier (OIDC Discovery §3): https, or http on a loopback host. */
  issuer: string;
  /** Where the HTTP server listens. */
  host: string;
  port: number;
  /** The SQLite database file. */
  databaseFile: string;
  /** 32 bytes that encrypt private signing keys at rest. */
  keyEncryptionKey: Uint8Array;
  /** True when the demo key-encryption key is in use (a warning is printed). */
  usingDemoKeyEncryptionKey: boolean;
  production: boolean;
  signingAlgorithm: SigningAlgorithm;
  /** Lifetimes, in seconds. */
  accessTokenTtl: number;
  idTokenTtl: number;
  authorizationCodeTtl: number;
  refreshTokenIdleTtl: number;
  refreshTokenAbsoluteTtl: number;
  sessionIdleTtl: number;
  sessionAbsoluteTtl: number;
  interactionTtl: number;
  jwksMaxAge: number;
  /**
   * How long a verifier may cache a token status list (its `ttl` and `Cache-Control: max-age`,
   * draft-ietf-oauth-status-list-21 §5.1): the longest a revoked access token can still pass a
   * stateless check.
   */
  statusListTtl: number;
  /** How long a key signs before the scheduler rotates to the next one. */
  keyRotationPeriod: number;
  /** How often the issuer re-reads the key ring (changes from the CLI) and runs due key transitions. */
  keyCheckInterval: number;
  /** Read the client IP from X-Forwarded-For (only behind a trusted proxy). */
  trustProxy: boolean;
}

/** A configuration error that names the variable at fault. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${variable}: ${message}`, options);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const DURATION = /^(\d+)(s|m|h|d)?$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

function duration(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const m = DURATION.exec(raw.trim());
  if (!m) throw new ConfigError(name, `expected a duration such as 300, 5m, 1h or 7d, got ${JSON.stringify(raw)}`);
  const seconds = Number(m[1]) * UNIT_SECONDS[(m[2] ?? 's') as keyof typeof UNIT_SECONDS];
  if (seconds < min || seconds > max)
    throw new ConfigError(name, `must be between ${min} s and ${max} s, got ${seconds} s`);
  return seconds;
}

function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '127.0.0.1' || hostname === '[::1]'
  );
}

function issuerUrl(env: Env): string {
  const name = 'TESSERA_ISSUER';
  const raw = env[name] ?? 'http://idp.localhost:4000';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a URL: ${JSON.stringify(raw)}`);
  }
  // OIDC Discovery §3: the issuer is an https URL with no query or fragment.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new ConfigError(name, 'must use https (http is allowed only on a loopback host)');
  }
  if (url.search || url.hash || raw.includes('#') || raw.includes('?'))
    throw new ConfigError(name, 'must not have a query or fragment');
  return raw.replace(/\/+$/, '');
}

function keyEncryptionKey(env: Env, production: boolean): { key: Uint8Array; demo: boolean } {
  const name = 'TESSERA_KEY_ENCRYPTION_KEY';
  const raw = env[name];
  if (raw === undefined || raw === '') {
    if (production) throw new ConfigError(name, 'is required when NODE_ENV=production (32 random bytes, base64url)');
    return { key: Buffer.from(DEMO_KEY_ENCRYPTION_KEY, 'base64url'), demo: true };
  }
  if (raw === DEMO_KEY_ENCRYPTION_KEY && production)
    throw new ConfigError(name, 'the demo key is refused when NODE_ENV=production');
  if (!/^[A-Za-z0-9_-]{43}$/.test(raw))
    throw new ConfigError(name, 'must be 32 bytes encoded as base64url (43 characters)');
  return { key: Buffer.from(raw, 'base64url'), demo: raw === DEMO_KEY_ENCRYPTION_KEY };
}

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535)
    throw new ConfigError(name, `not a port number: ${JSON.stringify(raw)}`);
  return Number(raw);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

function bool(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(raw)}`);
}

/** Reads and validates the whole configuration; throws ConfigError naming the bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const issuer = issuerUrl(env);
  const kek = keyEncryptionKey(env, production);
  const defaultPort = Number(new URL(issuer).port || 4000);
  return {
    issuer,
    host: env.TESSERA_HOST || '127.0.0.1',
    port: port(env, 'TESSERA_PORT', defaultPort),
    databaseFile: env.TESSERA_DATABASE || './data/tessera.db',
    keyEncryptionKey: kek.key,
    usingDemoKeyEncryptionKey: kek.demo,
    production,
    signingAlgorithm: oneOf(env, 'TESSERA_SIGNING_ALG', SIGNING_ALGORITHMS, 'ES256'),
    accessTokenTtl: duration(env, 'TESSERA_ACCESS_TOKEN_TTL', 300, 30, 86400),
    idTokenTtl: duration(env, 'TESSERA_ID_TOKEN_TTL', 300, 30, 86400),
    // RFC 6749 §4.1.2: a maximum code lifetime of 10 minutes is recommended; we allow at most 60 s.
    authorizationCodeTtl: duration(env, 'TESSERA_CODE_TTL', 60, 5, 60),
    refreshTokenIdleTtl: duration(env, 'TESSERA_REFRESH_TOKEN_IDLE_TTL', 7 * 86400, 60, 365 * 86400),
    refreshTokenAbsoluteTtl: duration(env, 'TESSERA_REFRESH_TOKEN_ABSOLUTE_TTL', 30 * 86400, 60, 365 * 86400),
    sessionIdleTtl: duration(env, 'TESSERA_SESSION_IDLE_TTL', 3600, 60, 30 * 86400),
    sessionAbsoluteTtl: duration(env, 'TESSERA_SESSION_ABSOLUTE_TTL', 12 * 3600, 60, 90 * 86400),
    interactionTtl: duration(env, 'TESSERA_INTERACTION_TTL', 600, 60, 3600),
    jwksMaxAge: duration(env, 'TESSERA_JWKS_MAX_AGE', 300, 0, 86400),
    statusListTtl: duration(env, 'TESSERA_STATUS_LIST_TTL', 60, 1, 3600),
    keyRotationPeriod: duration(env, 'TESSERA_KEY_ROTATION_PERIOD', 30 * 86400, 60, 365 * 86400),
    keyCheckInterval: duration(env, 'TESSERA_KEY_CHECK_INTERVAL', 10, 1, 300),
    trustProxy: bool(env, 'TESSERA_TRUST_PROXY'),
  };
}

/** True when `hostname` may use plain http (RFC 8252 §7.3, RFC 6761 §6.3). */
export { isLoopbackHost };
