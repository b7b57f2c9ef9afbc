/** HTTP details every issuer route shares: cookies, forms, and cross-site checks. */
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { OAuthError, parseUrlencoded } from '@tessera/shared';
import type { Config } from '../config/config.js';
import { LIMITS, readParams, refuseDuplicates, type Params } from '../protocol/params.js';
import type { Env } from '../http/env.js';

export type { Env };

/** Cookie names: the `__Host-` prefix (RFC 6265bis §4.1.3.2) whenever the issuer is https. */
export function cookieNames(config: Config): { session: string; browser: string } {
  const https = config.issuer.startsWith('https:');
  return https
    ? { session: '__Host-tessera_session', browser: '__Host-tessera_browser' }
    : { session: 'tessera_session', browser: 'tessera_browser' };
}

function cookieOptions(config: Config, maxAge?: number) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'Lax' as const,
    secure: config.issuer.startsWith('https:'),
    ...(maxAge !== undefined ? { maxAge } : {}),
  };
}

export function readSessionCookie(c: Context<Env>, config: Config): string | undefined {
  return getCookie(c, cookieNames(config).session);
}

export function setSessionCookie(c: Context<Env>, config: Config, secret: string): void {
  setCookie(c, cookieNames(config).session, secret, cookieOptions(config, config.sessionAbsoluteTtl));
}

export function clearSessionCookie(c: Context<Env>, config: Config): void {
  setCookie(c, cookieNames(config).session, '', cookieOptions(config, 0));
}

/** The browser-binding cookie: interactions may be finished only by the browser that began them. */
export function readBrowserCookie(c: Context<Env>, config: Config): string | undefined {
  const v = getCookie(c, cookieNames(config).browser);
  return v && /^[A-Za-z0-9_-]{43}$/.test(v) ? v : undefined;
}

export function setBrowserCookie(c: Context<Env>, config: Config, secret: string): void {
  setCookie(c, cookieNames(config).browser, secret, cookieOptions(config, 400 * 86400));
}

/**
 * Reads an application/x-www-form-urlencoded body with the shared limits: well-formed UTF-8 and
 * percent-encoding, and each parameter at most once (RFC 6749 §3.1). Only the authorization
 * endpoint keeps duplicates, to send its invalid_request to a trusted redirect URI (§4.1.2.1).
 */
export async function readForm(c: Context<Env>, options: { duplicates?: 'refuse' | 'keep' } = {}): Promise<Params> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.byteLength > LIMITS.bodyBytes)
    throw new OAuthError('invalid_request', 'the request body is too large', { status: 413 });
  // The count and length limits are readParams' own (its errors name the parameter).
  const params = readParams(parseUrlencoded(body, { limits: false }));
  if (options.duplicates !== 'keep') refuseDuplicates(params);
  return params;
}

/**
 * A state-changing form must come from the issuer's own pages: checked by `Origin` and
 * `Sec-Fetch-Site` here, and by the CSRF token by the caller (OWASP CSRF Prevention).
 */
export function isSameOriginForm(c: Context<Env>, config: Config): boolean {
  const origin = c.req.header('origin');
  if (origin !== undefined && origin !== 'null') return origin === new URL(config.issuer).origin;
  // Our Referrer-Policy: no-referrer makes browsers send `Origin: null` even on same-origin POSTs (Fetch, "append a request Origin header").
  if (origin === 'null') return c.req.header('sec-fetch-site') === 'same-origin';
  const site = c.req.header('sec-fetch-site');
  return site === undefined || site === 'same-origin' || site === 'none';
}

/** RFC 6749 §5.1, RFC 6750 §5.3: responses carrying tokens, codes or sessions are never cached. */
export function noStore(c: Context<Env>): void {
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
}
