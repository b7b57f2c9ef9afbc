/**
 * App A's configuration: read from the environment once, at start-up, into one typed object. A
 * bad value stops the process with a message that names the variable.
 */

export interface AppAConfig {
  /** App A's own origin, without a trailing slash: `http://app-a.localhost:4001`. Also its resource identifier (RFC 8707). */
  appUrl: string;
  /** Where the HTTP server listens. */
  host: string;
  port: number;
  /** The issuer identifier, compared exactly with `iss` (OIDC Core §3.1.3.7, RFC 9207 §2.4). */
  issuer: string;
  clientId: string;
  /** The confidential client's secret, sent with client_secret_basic (RFC 6749 §2.3.1). */
  clientSecret: string;
}

/** A configuration error that names the variable at fault. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const isLoopbackHost = (hostname: string): boolean =>
  hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '127.0.0.1' || hostname === '[::1]';

/** An http(s) URL; plain http only on a loopback host (RFC 8252 §7.3, RFC 6761 §6.3). No query or fragment. */
function webUrl(env: Env, name: string, fallback: string): URL {
  const raw = env[name] || fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new ConfigError(name, 'must use https (http is allowed only on a loopback host)');
  }
  if (raw.includes('?') || raw.includes('#')) throw new ConfigError(name, 'must not have a query or fragment');
  return url;
}

/**
 * The app's origin. It is also the redirect URI's base and the resource identifier the issuer has
 * registered, both compared as exact strings, so it must already be in canonical form.
 */
function appOrigin(env: Env, name: string, fallback: string): { url: URL; origin: string } {
  const url = webUrl(env, name, fallback);
  const given = (env[name] || fallback).replace(/\/+$/, '');
  if (given !== url.origin) throw new ConfigError(name, `must be an origin such as ${fallback} (lower case, no path, no default port), got ${JSON.stringify(env[name])}`);
  return { url, origin: url.origin };
}

/** The issuer identifier as configured, without trailing slashes, as the issuer itself does. */
function issuerIdentifier(env: Env): string {
  const name = 'TESSERA_ISSUER';
  webUrl(env, name, 'http://idp.localhost:4000');
  return (env[name] || 'http://idp.localhost:4000').replace(/\/+$/, '');
}

function port(env: Env, name: string, url: URL): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new ConfigError(name, `not a port number: ${JSON.stringify(raw)}`);
  return Number(raw);
}

function clientId(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  // RFC 6749 Appendix A.1: client_id is VSCHAR; Tessera's registration allows unreserved characters.
  if (!/^[A-Za-z0-9._~-]{1,64}$/.test(raw)) throw new ConfigError(name, 'must be 1–64 letters, digits or ._~-');
  return raw;
}

/** Reads and validates the whole configuration; throws ConfigError naming the bad variable. */
export function loadConfig(env: Env = process.env): AppAConfig {
  const { url, origin } = appOrigin(env, 'APP_A_URL', 'http://app-a.localhost:4001');
  const clientSecret = env.APP_A_CLIENT_SECRET;
  if (clientSecret === undefined || clientSecret === '') {
    throw new ConfigError('APP_A_CLIENT_SECRET', 'is required: the client secret the issuer gave app A (the demo launcher passes the one it seeded)');
  }
  return {
    appUrl: origin,
    host: '127.0.0.1',
    port: port(env, 'APP_A_PORT', url),
    issuer: issuerIdentifier(env),
    clientId: clientId(env, 'APP_A_CLIENT_ID', 'app-a'),
    clientSecret,
  };
}
