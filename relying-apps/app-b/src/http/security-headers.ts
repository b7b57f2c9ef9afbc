/** Response headers every answer of app B carries (OWASP HTTP Headers Cheat Sheet). */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

// The nonce belongs to the response: the shell takes it from here, fresh for each page served.
const currentNonce = new AsyncLocalStorage<string>();

/** The CSP nonce of the response being built (128 random bits, base64). */
export function cspNonce(): string {
  const nonce = currentNonce.getStore();
  if (nonce === undefined) throw new TypeError('cspNonce() is only available while securityHeaders() handles a request');
  return nonce;
}

/**
 * The page may run only our own bundled script, which the shell also marks with this response's
 * nonce (CSP Level 3 §6.7.2.3): an injected inline script has neither. It may talk only to our
 * API and the issuer (discovery, JWKS, token endpoint): an injected script could not send tokens
 * anywhere else. No form posts (sign-in and sign-out are navigations), no framing.
 */
export function contentSecurityPolicy(issuerOrigin: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' 'nonce-${nonce}'`,
    `connect-src 'self' ${issuerOrigin}`,
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'", // OWASP Clickjacking Defense
  ].join('; ');
}

export function securityHeaders(options: { issuerOrigin: string }): MiddlewareHandler {
  const { issuerOrigin } = options;
  return async function securityHeaders(c, next) {
    const nonce = randomBytes(16).toString('base64');
    await currentNonce.run(nonce, next);
    c.header('Content-Security-Policy', contentSecurityPolicy(issuerOrigin, nonce));
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    // The page's URL carries the authorization code on the way back: never in a Referer (RFC 9700 §4.2.4).
    c.header('Referrer-Policy', 'no-referrer');
    // Whatever did not choose a cache policy (the page, the API) is never stored (RFC 6750 §5.3).
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}
