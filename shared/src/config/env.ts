/**
 * Reading a server's configuration from environment variables: each reader takes the variable's
 * name, returns a typed value and, on a bad one, throws a ConfigError that names the variable, so
 * a process stops at start-up with a message the operator can act on. Browser-safe (no `node:`).
 */

import { base64url } from 'jose';
import { isLoopbackHost } from '../http/loopback-host.js';

/** Environment variables as `process.env` holds them. */
export type EnvVariables = Record<string, string | undefined>;

/**
 * A configuration error that names the variable at fault: `message` is `NAME: what is wrong`.
 *
 * @example
 * ```ts
 * try {
 *   config = loadConfig();
 * } catch (error) {
 *   if (error instanceof ConfigError) process.exit(2); // error.variable is the one to fix
 *   throw error;
 * }
 * ```
 */
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

// Unset and empty are the same: a launcher that passes `NAME=` means "the default".
const given = (env: EnvVariables, name: string): string | undefined => (env[name] === '' ? undefined : env[name]);

/** An http(s) URL; plain http only on a loopback host (RFC 8252 §7.3, RFC 6761 §6.3). No query or fragment. */
export function envWebUrl(env: EnvVariables, name: string, fallback: string): URL {
  const raw = given(env, name) ?? fallback;
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
 * An app's origin (a trailing slash is allowed). It is also the redirect URI's base and the
 * resource identifier the issuer has registered, both compared as exact strings, so it must
 * already be in canonical form: lower case, no path, no default port.
 */
export function envAppOrigin(env: EnvVariables, name: string, fallback: string): { url: URL; origin: string } {
  const url = envWebUrl(env, name, fallback);
  const raw = (given(env, name) ?? fallback).replace(/\/+$/, '');
  if (raw !== url.origin)
    throw new ConfigError(
      name,
      `must be an origin such as ${fallback} (lower case, no path, no default port), got ${JSON.stringify(env[name])}`,
    );
  return { url, origin: url.origin };
}

/**
 * An issuer identifier as configured, without trailing slashes, as the issuer itself writes it;
 * it is compared exactly with `iss` (OIDC Core §3.1.3.7, RFC 9207 §2.4).
 */
export function envIssuerIdentifier(env: EnvVariables, name: string, fallback: string): string {
  envWebUrl(env, name, fallback);
  return (given(env, name) ?? fallback).replace(/\/+$/, '');
}

/**
 * A TCP port, 0–65535. Unset: `fallback`, or when that is a URL, its port (its scheme's default
 * when it names none).
 */
export function envPort(env: EnvVariables, name: string, fallback: URL | number): number {
  const raw = given(env, name);
  if (raw === undefined) {
    if (typeof fallback === 'number') return fallback;
    return Number(fallback.port || (fallback.protocol === 'https:' ? 443 : 80));
  }
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535)
    throw new ConfigError(name, `not a port number: ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** A `client_id` as Tessera registers them. */
export function envClientId(env: EnvVariables, name: string, fallback: string): string {
  const raw = given(env, name) ?? fallback;
  // RFC 6749 Appendix A.1: client_id is VSCHAR; Tessera's registration allows unreserved characters.
  if (!/^[A-Za-z0-9._~-]{1,64}$/.test(raw)) throw new ConfigError(name, 'must be 1–64 letters, digits or ._~-');
  return raw;
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** A duration in seconds, written as the issuer's are: `900`, `15m`, `1h`, `1d`; within `min`–`max` seconds. */
export function envDuration(env: EnvVariables, name: string, fallback: number, min: number, max: number): number {
  const raw = given(env, name);
  if (raw === undefined) return fallback;
  const match = /^(\d+)(s|m|h|d)?$/.exec(raw.trim());
  if (!match) throw new ConfigError(name, `expected a duration such as 900, 15m or 1h, got ${JSON.stringify(raw)}`);
  const seconds = Number(match[1]) * UNIT_SECONDS[(match[2] ?? 's') as keyof typeof UNIT_SECONDS];
  if (seconds < min || seconds > max)
    throw new ConfigError(name, `must be between ${min} s and ${max} s, got ${seconds} s`);
  return seconds;
}

/** Free text, such as a host name or a file path; unset or empty, `fallback`. */
export function envString(env: EnvVariables, name: string, fallback: string): string {
  return given(env, name) ?? fallback;
}

/** One of a fixed set of words, spelled exactly. */
export function envOneOf<T extends string>(env: EnvVariables, name: string, allowed: readonly T[], fallback: T): T {
  const raw = given(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

const BOOLEAN_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
  ['on', true],
  ['off', false],
  ['yes', true],
  ['no', false],
]);

/**
 * A switch, spelled the same for every variable of every Tessera server: `true`/`false`, `1`/`0`,
 * `on`/`off` or `yes`/`no`, in any case.
 */
export function envBoolean(env: EnvVariables, name: string, fallback: boolean): boolean {
  const raw = given(env, name);
  if (raw === undefined) return fallback;
  const value = BOOLEAN_WORDS.get(raw.toLowerCase());
  if (value === undefined)
    throw new ConfigError(name, `must be on or off (true/false, 1/0, on/off, yes/no), got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * A secret of exactly `length` bytes, written in base64url without padding (RFC 4648 §5), or
 * undefined when unset: whether a missing secret is allowed is the caller's rule.
 */
export function envBase64urlBytes(env: EnvVariables, name: string, length: number): Uint8Array | undefined {
  const raw = given(env, name);
  if (raw === undefined) return undefined;
  const characters = Math.ceil((length * 4) / 3);
  if (raw.length !== characters || !/^[A-Za-z0-9_-]*$/.test(raw))
    throw new ConfigError(name, `must be ${length} bytes encoded as base64url (${characters} characters)`);
  return base64url.decode(raw);
}
