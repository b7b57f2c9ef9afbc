/**
 * The issuer's two cookies: the SSO session secret, and the browser binding that lets only the
 * browser that began an interaction finish it. Both HttpOnly, SameSite=Lax, Path=/.
 */
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { Config } from '../config/config.js';
import { digest } from '../crypto/digest.js';
import { randomSecret } from '../crypto/random.js';
import type { Env } from './env.js';

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

/** The digest of this browser's binding secret, the cookie being set on its first visit. */
export function browserBinding(c: Context<Env>, config: Config): string {
  let browser = readBrowserCookie(c, config);
  if (!browser) {
    browser = randomSecret();
    setBrowserCookie(c, config, browser);
  }
  return digest(browser);
}
