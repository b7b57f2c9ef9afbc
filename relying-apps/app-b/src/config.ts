/**
 * App B's server configuration: read from the environment once, at start-up, into one typed
 * object. A bad value stops the process with a message that names the variable. The browser part
 * learns what it needs from `/config.json`.
 */
import {
  DEFAULT_CLOCK_TOLERANCE_SEC,
  MAX_CLOCK_TOLERANCE_SEC,
  envAppOrigin,
  envClientId,
  envDuration,
  envIssuerIdentifier,
  envBoolean,
  envPort,
  envString,
  type EnvVariables,
} from '@tessera/shared';

// The tests catch the shared ConfigError as this module's.
export { ConfigError } from '@tessera/shared';

export interface AppBConfig {
  /**
   * App B's own origin, without a trailing slash: `http://app-b.localhost:4002`. Also its resource
   * identifier (RFC 8707).
   */
  appUrl: string;
  /** Where the HTTP server listens. */
  host: string;
  port: number;
  /** The issuer identifier, compared exactly with `iss`. */
  issuer: string;
  /** The public client the browser part signs in as. */
  clientId: string;
  /**
   * How long an ended session's `sid` is remembered, in seconds: at least the access-token
   * lifetime, since an access token of that session stays otherwise valid until it expires.
   */
  revocationWindowSec: number;
  /**
   * Whether the API checks each access token's entry in the issuer's token status list
   * (draft-ietf-oauth-status-list): a revoked token is refused within the list's ttl even when no
   * back-channel logout arrives. On unless APP_B_STATUS_LIST=off.
   */
  checkStatusList: boolean;
  /**
   * The leeway of every time check of what the issuer signed (access, logout, status list and, in
   * the browser, ID tokens), in seconds: clocks on two machines never agree exactly. 0 is strict.
   */
  clockToleranceSec: number;
  /**
   * Where app B keeps its revoked sessions and used logout-token `jti`s: a SQLite file, or a
   * `postgres://` URL (the issuer's TESSERA_DATABASE convention).
   */
  database: string;
}

/** Reads and validates the whole configuration; throws ConfigError naming the bad variable. */
export function loadConfig(env: EnvVariables = process.env): AppBConfig {
  const { url, origin } = envAppOrigin(env, 'APP_B_URL', 'http://app-b.localhost:4002');
  return {
    appUrl: origin,
    host: '127.0.0.1',
    port: envPort(env, 'APP_B_PORT', url),
    issuer: envIssuerIdentifier(env, 'TESSERA_ISSUER', 'http://idp.localhost:4000'),
    clientId: envClientId(env, 'APP_B_CLIENT_ID', 'app-b'),
    // 15 minutes: three times the issuer's default access-token lifetime (TESSERA_ACCESS_TOKEN_TTL).
    revocationWindowSec: envDuration(env, 'APP_B_REVOCATION_WINDOW', 900, 30, 86_400),
    checkStatusList: envBoolean(env, 'APP_B_STATUS_LIST', true),
    clockToleranceSec: envDuration(
      env,
      'APP_B_CLOCK_TOLERANCE_SEC',
      DEFAULT_CLOCK_TOLERANCE_SEC,
      0,
      MAX_CLOCK_TOLERANCE_SEC,
    ),
    database: envString(env, 'APP_B_DATABASE', './data/app-b.db'),
  };
}
