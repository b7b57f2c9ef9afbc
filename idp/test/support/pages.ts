/** Reaching each page of the issuer in the state that shows it, for the hardening tests. */
import { expect } from 'vitest';
import { createCookieJarClient, formValue, type CookieJarClient } from '@tessera/shared/testing';
import type { Fixtures, RunningIssuer } from './fixture.js';
import { authorizeQuery, getAuthorize, locationOf, signInAndRedeem, submitSignIn } from './browser.js';

export interface Page {
  res: Response;
  html: string;
  jar: CookieJarClient;
  csrfToken?: string;
  interaction?: string;
}

async function read(jar: CookieJarClient, url: string | URL): Promise<Page> {
  const res = await jar.fetch(url, { headers: { accept: 'text/html' } });
  const html = await res.text();
  const csrfToken = formValue(html, 'csrf_token');
  const interaction = formValue(html, 'interaction');
  return { res, html, jar, ...(csrfToken ? { csrfToken } : {}), ...(interaction ? { interaction } : {}) };
}

/** The sign-in page of an authorization request from `clientId`, in a new browser. */
export async function signInPage(
  idp: RunningIssuer,
  fx: Fixtures,
  clientId = fx.confidential.id,
): Promise<Page & { location: URL }> {
  const jar = createCookieJarClient();
  const location = locationOf(
    await getAuthorize(idp.url, authorizeQuery({ clientId, redirectUri: fx.redirectUri }), jar),
    idp.url,
  )!;
  expect(location.pathname).toBe('/sign-in');
  return { ...(await read(jar, location)), location };
}

/** Alice's browser, signed in at the issuer (and at the confidential client). */
export async function signedIn(idp: RunningIssuer, fx: Fixtures): Promise<{ jar: CookieJarClient; idToken: string }> {
  const { tokens, jar } = await signInAndRedeem(idp.url, {
    clientId: fx.confidential.id,
    redirectUri: fx.redirectUri,
    auth: fx.confidential,
  });
  return { jar, idToken: tokens.id_token as string };
}

/** The consent page of the third-party client, for alice signed in. */
export async function consentPage(idp: RunningIssuer, fx: Fixtures): Promise<Page> {
  const { jar } = await signedIn(idp, fx);
  const location = locationOf(
    await getAuthorize(idp.url, authorizeQuery({ clientId: fx.thirdParty.id, redirectUri: fx.redirectUri }), jar),
    idp.url,
  )!;
  expect(location.pathname).toBe('/consent');
  return read(jar, location);
}

export async function accountPage(idp: RunningIssuer, fx: Fixtures): Promise<Page> {
  const { jar } = await signedIn(idp, fx);
  return read(jar, `${idp.url}/account`);
}

/** The page asking to confirm a sign-out requested without an id_token_hint. */
export async function logoutConfirmPage(idp: RunningIssuer, fx: Fixtures): Promise<Page> {
  const { jar } = await signedIn(idp, fx);
  const query = new URLSearchParams({
    client_id: fx.confidential.id,
    post_logout_redirect_uri: 'http://127.0.0.1:9/',
    state: 'st',
  });
  return read(jar, `${idp.url}/logout?${query}`);
}

/** Every kind of page the issuer shows, each reached in a fresh state. */
export function everyPage(idp: RunningIssuer, fx: Fixtures): Record<string, () => Promise<Page>> {
  const fresh = createCookieJarClient;
  return {
    'sign-in': () => signInPage(idp, fx),
    'sign-in started at the issuer': () => read(fresh(), `${idp.url}/sign-in`),
    'sign-in after a wrong password': async () => {
      const page = await signInPage(idp, fx);
      const res = await submitSignIn(page.jar, idp.url, page.location, 'alice@example.com', 'not the password');
      expect(res.status).toBe(401);
      return { res, html: await res.text(), jar: page.jar };
    },
    consent: () => consentPage(idp, fx),
    account: () => accountPage(idp, fx),
    'add a passkey': async () => read((await signedIn(idp, fx)).jar, `${idp.url}/account/passkeys/new`),
    'account signed out': () => read(fresh(), `${idp.url}/account/signed-out`),
    'logout confirmation': () => logoutConfirmPage(idp, fx),
    'signed out': () => read(fresh(), `${idp.url}/logout`),
    home: () => read(fresh(), `${idp.url}/`),
    'home signed in': async () => read((await signedIn(idp, fx)).jar, `${idp.url}/`),
    'authorization error': () => read(fresh(), `${idp.url}/authorize?client_id=nobody`),
    'expired interaction': () => read(fresh(), `${idp.url}/sign-in?interaction=gone`),
    'not found': () => read(fresh(), `${idp.url}/no/such/page`),
    'bad request (root handler)': () => read(fresh(), `${idp.url}/sign-in?interaction=%zz`),
  };
}

/** The nonce of a page's CSP header. */
export function headerNonce(res: Response): string {
  const m = /'nonce-([A-Za-z0-9+/_-]+={0,2})'/.exec(res.headers.get('content-security-policy') ?? '');
  if (!m) throw new Error(`no nonce in ${res.headers.get('content-security-policy')}`);
  return m[1]!;
}

/** The CSP directives as a map: name → source list. */
export function directives(res: Response): Map<string, string[]> {
  const csp = res.headers.get('content-security-policy') ?? '';
  return new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...sources]) => [name!, sources]),
  );
}

/** The error code an HTML error page or a JSON error names. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const body = await res.text();
  expect(body).not.toMatch(/\bat \S+ \(|\.ts:\d+|Error: /); // never a stack trace
  if ((res.headers.get('content-type') ?? '').startsWith('application/json'))
    return (JSON.parse(body) as { error?: string }).error;
  return /<code>([a-z_]+)<\/code>/.exec(body)?.[1];
}

/**
 * The headers every HTML page of the issuer and of the apps carries: a CSP that loads and frames
 * nothing by default and allows no inline code, no MIME sniffing, no Referer, no caching.
 */
export function expectPageSecurityHeaders(res: Response): void {
  const csp = res.headers.get('content-security-policy')!;
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('cache-control')).toBe('no-store');
}

/** An attribute value as the issuer's pages escape it (& < > " '), unescaped. */
const unescapeAttribute = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/**
 * The WebAuthn options a page's passkey form carries in `data-options`, the form marked `marker`
 * (`data-passkey-sign-in`, `data-passkey-registration`, `data-passkey-factor`).
 */
export function passkeyOptionsIn<T = Record<string, unknown>>(html: string, marker: string): T {
  const found = new RegExp(`<form[^>]*${marker}[^>]*data-options="([^"]*)"`).exec(html);
  if (!found) throw new Error(`no form marked ${marker} on the page`);
  return JSON.parse(unescapeAttribute(found[1]!)) as T;
}
