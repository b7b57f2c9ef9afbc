/**
 * The issuer's configuration as protocol code sees it: one typed object, read once at start-up
 * by `load-config.ts`. This module only describes it (the type, the defaults and the bounds of
 * each lifetime), so code that takes a `Config` imports no environment reading.
 */
import type { SigningAlgorithm } from '@tessera/shared';
import type { TrustedProxies } from '../http/client-address.js';

/** The issuer identifier when TESSERA_ISSUER is unset: the demo's. */
export const DEFAULT_ISSUER = 'http://idp.localhost:4000';

/** The demo key-encryption key. Allowed outside production only, with a warning. */
export const DEMO_KEY_ENCRYPTION_KEY = 'ZGVtby1vbmx5LWtleS1lbmNyeXB0aW9uLWtleS0zMmI';

export interface Config {
  /** The issuer identifier (OIDC Discovery §3): https, or http on a loopback host. */
  issuer: string;
  /** Where the HTTP server listens. */
  host: string;
  port: number;
  /**
   * Where the store is (TESSERA_DATABASE): a `postgres://` or `postgresql://` URL for PostgreSQL,
   * anything else a SQLite file path. Only the store looks at which (store/index.ts, openStore).
   */
  database: string;
  /** Connections each process keeps to PostgreSQL (TESSERA_DATABASE_POOL); unused on SQLite. */
  databasePool: number;
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
  /** How recent a sign-in must be to change how the person signs in (protocol/sso-session.ts). */
  freshSignInWindow: number;
  /** How long a pushed authorization request's request_uri may be used (RFC 9126 §2.2 `expires_in`). */
  pushedAuthorizationRequestTtl: number;
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
  /** Which proxies' X-Forwarded-For entries tell the client IP (http/client-address.ts). */
  trustProxy: TrustedProxies;
  /**
   * How many processes serve the port (TESSERA_WORKERS): 1 is one process that serves itself;
   * more, a primary that prepares the database and keeps that many workers (cluster.ts).
   */
  workers: number;
  /** How many days audit events are kept before the expiry sweep deletes them. */
  auditRetentionDays: number;
  /** Where `/metrics` is served (metrics/metrics-server.ts); undefined: not served at all. */
  metrics: MetricsEndpoint | undefined;
  /** How the issuer's mail leaves (mail/mailer.ts). */
  mail: MailSettings;
  /** Who may create an account at /sign-up (TESSERA_SIGN_UP): anyone, the invited, or nobody. */
  signUp: SignUpPolicy;
}

export const SIGN_UP_POLICIES = ['open', 'invite', 'closed'] as const;
export type SignUpPolicy = (typeof SIGN_UP_POLICIES)[number];

/**
 * Mail: through SMTP (TESSERA_SMTP_URL), or, outside production only, into an outbox directory the
 * development mail viewer (`/dev/mail`) reads, so the demo needs no mail server.
 */
export interface MailSettings {
  /** The sender (TESSERA_MAIL_FROM): an address, optionally with a display name. */
  from: string;
  transport: { kind: 'smtp'; url: string } | { kind: 'outbox'; directory: string };
}

/**
 * The metrics listener: its own port, never the issuer's, so that what the issuer's port serves to
 * the internet can never include it; loopback unless told otherwise, and a bearer secret if set.
 */
export interface MetricsEndpoint {
  host: string;
  port: number;
  /** TESSERA_METRICS_TOKEN: when set, a scrape must send `Authorization: Bearer <token>`. */
  token: string | undefined;
}

/** The shortest TESSERA_METRICS_TOKEN accepted: a secret, not a password. */
export const MIN_METRICS_TOKEN_LENGTH = 32;

/**
 * PostgreSQL connections per process by default: a node's requests wait on the database a few
 * milliseconds each, so ten keep its event loop busy; N processes hold N × this of the server's connections.
 */
export const DEFAULT_DATABASE_POOL = 10;
/** A ceiling that keeps a typo from exhausting the server's max_connections (100 by default). */
export const MAX_DATABASE_POOL = 100;

/** The most worker processes TESSERA_WORKERS may ask for: SQLite takes one writer at a time. */
export const MAX_WORKERS = 64;

/** The audit trail's retention when TESSERA_AUDIT_RETENTION_DAYS is unset, and its bounds, in days. */
export const AUDIT_RETENTION_DAYS = { fallback: 90, min: 1, max: 3650 } as const;

/** A lifetime setting: its variable, its default and the bounds it must stay within, in seconds. */
export interface DurationSetting {
  variable: string;
  fallback: number;
  min: number;
  max: number;
}

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/** Every lifetime in `Config`, as README.md's configuration table lists them. */
export const DURATION_SETTINGS = {
  accessTokenTtl: { variable: 'TESSERA_ACCESS_TOKEN_TTL', fallback: 5 * MINUTE, min: 30, max: DAY },
  idTokenTtl: { variable: 'TESSERA_ID_TOKEN_TTL', fallback: 5 * MINUTE, min: 30, max: DAY },
  // RFC 6749 §4.1.2: a maximum code lifetime of 10 minutes is recommended; we allow at most 60 s.
  authorizationCodeTtl: { variable: 'TESSERA_CODE_TTL', fallback: 60, min: 5, max: 60 },
  refreshTokenIdleTtl: { variable: 'TESSERA_REFRESH_TOKEN_IDLE_TTL', fallback: 7 * DAY, min: MINUTE, max: 365 * DAY },
  refreshTokenAbsoluteTtl: {
    variable: 'TESSERA_REFRESH_TOKEN_ABSOLUTE_TTL',
    fallback: 30 * DAY,
    min: MINUTE,
    max: 365 * DAY,
  },
  sessionIdleTtl: { variable: 'TESSERA_SESSION_IDLE_TTL', fallback: HOUR, min: MINUTE, max: 30 * DAY },
  sessionAbsoluteTtl: { variable: 'TESSERA_SESSION_ABSOLUTE_TTL', fallback: 12 * HOUR, min: MINUTE, max: 90 * DAY },
  interactionTtl: { variable: 'TESSERA_INTERACTION_TTL', fallback: 10 * MINUTE, min: MINUTE, max: HOUR },
  freshSignInWindow: { variable: 'TESSERA_FRESH_SIGN_IN', fallback: 5 * MINUTE, min: MINUTE, max: HOUR },
  // RFC 9126 §2.2: "relatively short (e.g., between 5 and 600 seconds)".
  pushedAuthorizationRequestTtl: { variable: 'TESSERA_PAR_TTL', fallback: 60, min: 5, max: 600 },
  jwksMaxAge: { variable: 'TESSERA_JWKS_MAX_AGE', fallback: 5 * MINUTE, min: 0, max: DAY },
  statusListTtl: { variable: 'TESSERA_STATUS_LIST_TTL', fallback: 60, min: 1, max: HOUR },
  keyRotationPeriod: { variable: 'TESSERA_KEY_ROTATION_PERIOD', fallback: 30 * DAY, min: MINUTE, max: 365 * DAY },
  keyCheckInterval: { variable: 'TESSERA_KEY_CHECK_INTERVAL', fallback: 10, min: 1, max: 300 },
} as const satisfies Record<string, DurationSetting>;

/** The `Config` fields that are lifetimes. */
export type DurationField = keyof typeof DURATION_SETTINGS;
