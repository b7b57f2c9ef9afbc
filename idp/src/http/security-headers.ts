/**
 * The issuer's security headers, set once for every response (OWASP HTTP Headers Cheat Sheet,
 * OWASP Clickjacking Defense). Pages get a Content-Security-Policy with a fresh nonce per response
 * (CSP Level 3 §6.7.2.3): only the `<style>` the page shell wrote with that nonce applies, so
 * markup injected into a page can neither style nor script it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiddlewareHandler } from 'hono';
import { randomSecret } from '../crypto/random.js';

/** What the page being rendered may use: its nonce, and where its forms may end up. */
/** One response's page policy. The nonce is made when first asked for: JSON answers need none. */
class PagePolicy {
  #nonce: string | undefined;
  readonly formTargets = new Set<string>();
  get nonce(): string {
    // 16 bytes: 128 bits (CSP Level 3 §7.2 asks for at least 128), base64url — a base64 variant
    // the nonce-source grammar accepts (§2.3.1 base64-value).
    this.#nonce ??= randomSecret(16);
    return this.#nonce;
  }
}

// The nonce belongs to the response, not to a view's data: page() takes it from here, so no view
// can forget it, reuse another response's, or need it threaded through every signature.
const currentPage = new AsyncLocalStorage<PagePolicy>();

function policyInScope(caller: string): PagePolicy {
  const policy = currentPage.getStore();
  if (policy === undefined)
    throw new TypeError(`${caller} is only available while securityHeaders() handles a request`);
  return policy;
}

/** The CSP nonce of the response being built (128 random bits). */
export function cspNonce(): string {
  return policyInScope('cspNonce()').nonce;
}

/**
 * Lets this response's forms end on `url`'s origin: a POST answered with a redirect to a client's
 * redirect URI. Browsers check `form-action` against every redirect that follows a form
 * submission (CSP Level 3 §6.5.1; Chrome enforces it), and compare only the origin once
 * redirected (§6.7.2.8), so the origin is the exact target.
 */
export function allowFormRedirectTo(url: string): void {
  policyInScope('allowFormRedirectTo()').formTargets.add(new URL(url).origin);
}

/**
 * `form-action` is listed, not omitted: a sign-in page is where an injected `<form action=…>`
 * would collect passwords (a password manager fills it in). So forms may post to the issuer
 * itself and, after the redirect, reach only the one client origin this page's request was
 * validated for (routes call allowFormRedirectTo with it).
 */
function pagePolicy(policy: PagePolicy): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${policy.nonce}'`,
    "img-src 'self'",
    `form-action 'self'${[...policy.formTargets].map((origin) => ` ${origin}`).join('')}`,
    "base-uri 'none'",
    // The sign-in and consent pages can never be framed: clickjacking (OWASP Clickjacking Defense).
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Whatever is not a page (JSON, JWTs) loads nothing and is never framed either. */
const NOT_A_PAGE = "default-src 'none'; frame-ancestors 'none'";

/**
 * Sets, after the route has answered: CSP, `X-Frame-Options: DENY` (for browsers without
 * `frame-ancestors`) on pages; `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`
 * on everything (pages carry interaction ids, redirects carry codes: RFC 9700 §4.2.4); and
 * `Cache-Control: no-store` wherever a route did not choose a cache policy itself (only public
 * metadata does: discovery, JWKS, status lists), so a response with a token, a code or a session
 * is never cached by default (RFC 6749 §5.1, RFC 6750 §5.3).
 */
export function securityHeaders(): MiddlewareHandler {
  return async function securityHeaders(c, next) {
    const policy = new PagePolicy();
    await currentPage.run(policy, next);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
    if (c.res.headers.get('content-type')?.startsWith('text/html')) {
      c.header('Content-Security-Policy', pagePolicy(policy));
      c.header('X-Frame-Options', 'DENY');
    } else {
      c.header('Content-Security-Policy', NOT_A_PAGE);
    }
  };
}
