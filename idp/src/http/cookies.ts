/**
 * The issuer's cookies: the SSO session secret, and the browser binding that lets only the browser
 * that began an interaction finish it, both HttpOnly, SameSite=Lax, Path=/; and the FedCM cookie,
 * derived from the session secret, SameSite=None so that the browser's FedCM fetches from an app's
 * page carry it, honoured by the FedCM endpoints alone (docs/architecture.md, "FedCM").
 */
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { Config } from '../config/config.js';
import { digest, fedcmSecret } from '../crypto/digest.js';
import { randomSecret } from '../crypto/random.js';
import type { Env } from './env.js';

/** Cookie names: the `__Host-` prefix (RFC 6265bis §4.1.3.2) whenever the issuer is https. */
export function cookieNames(config: Config): { session: string; browser: string; fedcm: string } {
  const https = config.issuer.startsWith('https:');
  return https
    ? { session: '__Host-tessera_session', browser: '__Host-tessera_browser', fedcm: '__Host-tessera_fedcm' }
    : { session: 'tessera_session', browser: 'tessera_browser', fedcm: 'tessera_fedcm' };
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

/**
 * The FedCM cookie's attributes: SameSite=None, or the browser would leave it off the FedCM fetches,
 * which an app's page causes; Secure, which SameSite=None requires (browsers accept it on
 * http://localhost and *.localhost, secure contexts).
 */
function fedcmCookieOptions(maxAge: number) {
  return { path: '/', httpOnly: true, sameSite: 'None' as const, secure: true, maxAge };
}

/**
 * Starts (or renews) the session in this browser: the session cookie, the FedCM cookie derived from
 * the same secret, and the Login Status API's `Set-Login: logged-in` (FedCM §"login status"), so
 * the browser offers this issuer's accounts in FedCM dialogs. Every sign-in path goes through here.
 */
export function setSessionCookie(c: Context<Env>, config: Config, secret: string): void {
  const names = cookieNames(config);
  setCookie(c, names.session, secret, cookieOptions(config, config.sessionAbsoluteTtl));
  setCookie(c, names.fedcm, fedcmSecret(secret), fedcmCookieOptions(config.sessionAbsoluteTtl));
  c.header('Set-Login', 'logged-in');
}

/** Ends the session in this browser: both cookies, and `Set-Login: logged-out`. Every sign-out path. */
export function clearSessionCookie(c: Context<Env>, config: Config): void {
  const names = cookieNames(config);
  setCookie(c, names.session, '', cookieOptions(config, 0));
  setCookie(c, names.fedcm, '', fedcmCookieOptions(0));
  c.header('Set-Login', 'logged-out');
}

/**
 * The FedCM cookie, for the FedCM endpoints only: every other route reads the Lax session cookie
 * alone, so a cross-site request that carries this cookie is a session nowhere else.
 */
export function readFedcmCookie(c: Context<Env>, config: Config): string | undefined {
  const v = getCookie(c, cookieNames(config).fedcm);
  return v && /^[A-Za-z0-9_-]{43}$/.test(v) ? v : undefined;
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
