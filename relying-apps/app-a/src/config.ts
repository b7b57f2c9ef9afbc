/**
 * App A's configuration: read from the environment once, at start-up, into one typed object. A
 * bad value stops the process with a message that names the variable.
 */
import {
  ConfigError,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  MAX_CLOCK_TOLERANCE_SEC,
  envAppOrigin,
  envClientId,
  envDuration,
  envIssuerIdentifier,
  envPort,
  envString,
  type EnvVariables,
} from '@tessera/shared';

// The tests catch the shared ConfigError as this module's.
export { ConfigError };

export interface AppAConfig {
  /**
   * App A's own origin, without a trailing slash: `http://app-a.localhost:4001`. Also its resource
   * identifier (RFC 8707).
   */
  appUrl: string;
  /** Where the HTTP server listens. */
  host: string;
  port: number;
  /** The issuer identifier, compared exactly with `iss` (OIDC Core §3.1.3.7, RFC 9207 §2.4). */
  issuer: string;
  clientId: string;
  /** The confidential client's secret, sent with client_secret_basic (RFC 6749 §2.3.1). */
  clientSecret: string;
  /**
   * The leeway of every time check of what the issuer signed (ID, access and logout tokens), in
   * seconds: clocks on two machines never agree exactly. 0 is strict.
   */
  clockToleranceSec: number;
  /**
   * App B's origin: its API's resource identifier (RFC 8707), which app A exchanges the person's
   * access token for (RFC 8693), and where it calls that API. Read from APP_B_URL, as app B reads it.
   */
  appBUrl: string;
  /**
   * Where app A keeps its sessions, login transactions and used logout-token `jti`s: a SQLite file,
   * or a `postgres://` URL (the issuer's TESSERA_DATABASE convention).
   */
  database: string;
}

/** Reads and validates the whole configuration; throws ConfigError naming the bad variable. */
export function loadConfig(env: EnvVariables = process.env): AppAConfig {
  const { url, origin } = envAppOrigin(env, 'APP_A_URL', 'http://app-a.localhost:4001');
  const clientSecret = env.APP_A_CLIENT_SECRET;
  if (clientSecret === undefined || clientSecret === '') {
    throw new ConfigError(
      'APP_A_CLIENT_SECRET',
      'is required: the client secret the issuer gave app A (the demo launcher passes the one it seeded)',
    );
  }
  return {
    appUrl: origin,
    host: '127.0.0.1',
    port: envPort(env, 'APP_A_PORT', url),
    issuer: envIssuerIdentifier(env, 'TESSERA_ISSUER', 'http://idp.localhost:4000'),
    clientId: envClientId(env, 'APP_A_CLIENT_ID', 'app-a'),
    clientSecret,
    appBUrl: envAppOrigin(env, 'APP_B_URL', 'http://app-b.localhost:4002').origin,
    clockToleranceSec: envDuration(
      env,
      'APP_A_CLOCK_TOLERANCE_SEC',
      DEFAULT_CLOCK_TOLERANCE_SEC,
      0,
      MAX_CLOCK_TOLERANCE_SEC,
    ),
    database: envString(env, 'APP_A_DATABASE', './data/app-a.db'),
  };
}
