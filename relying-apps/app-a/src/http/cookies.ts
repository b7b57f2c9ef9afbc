/** App A's cookies: HttpOnly (scripts never see them) and SameSite=Lax. */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

export interface CookieNames {
  session: string;
  login: string;
  /**
   * A FedCM sign-in's transaction key: its own cookie, so that a page's background attempt
   * (passive FedCM on the home page) never replaces the key of a redirect sign-in started meanwhile.
   */
  fedcmLogin: string;
  logout: string;
}

/**
 * On https the `__Host-` prefix (RFC 6265bis §4.1.3.2) pins a cookie to this exact host, path `/`
 * and Secure, so a sibling subdomain cannot plant one. Plain http (local demo) cannot use it.
 */
export function cookieNames(appUrl: string): CookieNames {
  const prefix = appUrl.startsWith('https:') ? '__Host-' : '';
  return {
    session: `${prefix}app_a_session`,
    login: `${prefix}app_a_login`,
    fedcmLogin: `${prefix}app_a_fedcm_login`,
    logout: `${prefix}app_a_logout`,
  };
}

const options = (appUrl: string, maxAgeSec?: number) => ({
  path: '/',
  httpOnly: true,
  // Lax: the cookie comes along on the top-level GET back from the issuer, but not on a
  // cross-site POST (a first CSRF defence; the sign-out form has a token as well).
  sameSite: 'Lax' as const,
  secure: appUrl.startsWith('https:'),
  ...(maxAgeSec !== undefined ? { maxAge: maxAgeSec } : {}),
});

export const readCookie = (c: Context, name: string): string | undefined => getCookie(c, name) || undefined;

/**
 * Without `maxAgeSec`, a browser-session cookie: it goes when the browser closes, or earlier with
 * the server session.
 */
export const writeCookie = (c: Context, appUrl: string, name: string, value: string, maxAgeSec?: number): void =>
  setCookie(c, name, value, options(appUrl, maxAgeSec));

export const clearCookie = (c: Context, appUrl: string, name: string): void => {
  deleteCookie(c, name, options(appUrl));
};
