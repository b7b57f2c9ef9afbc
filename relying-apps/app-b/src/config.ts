/**
 * App B's server configuration: read from the environment once, at start-up, into one typed
 * object. A bad value stops the process with a message that names the variable. The browser part
 * learns what it needs from `/config.json`.
 */

export interface AppBConfig {
  /** App B's own origin, without a trailing slash: `http://app-b.localhost:4002`. Also its resource identifier (RFC 8707). */
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

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** A duration as the issuer writes them: `900`, `15m`, `1h`. */
function duration(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+)(s|m|h|d)?$/.exec(raw.trim());
  if (!match) throw new ConfigError(name, `expected a duration such as 900, 15m or 1h, got ${JSON.stringify(raw)}`);
  const seconds = Number(match[1]) * UNIT_SECONDS[(match[2] ?? 's') as keyof typeof UNIT_SECONDS];
  if (seconds < min || seconds > max) throw new ConfigError(name, `must be between ${min} s and ${max} s, got ${seconds} s`);
  return seconds;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === 'true') return true;
  if (raw === 'off' || raw === 'false') return false;
  throw new ConfigError(name, `must be on or off, got ${JSON.stringify(raw)}`);
}

/** Reads and validates the whole configuration; throws ConfigError naming the bad variable. */
export function loadConfig(env: Env = process.env): AppBConfig {
  const { url, origin } = appOrigin(env, 'APP_B_URL', 'http://app-b.localhost:4002');
  return {
    appUrl: origin,
    host: '127.0.0.1',
    port: port(env, 'APP_B_PORT', url),
    issuer: issuerIdentifier(env),
    clientId: clientId(env, 'APP_B_CLIENT_ID', 'app-b'),
    // 15 minutes: three times the issuer's default access-token lifetime (TESSERA_ACCESS_TOKEN_TTL).
    revocationWindowSec: duration(env, 'APP_B_REVOCATION_WINDOW', 900, 30, 86_400),
    checkStatusList: onOff(env, 'APP_B_STATUS_LIST', true),
  };
}
