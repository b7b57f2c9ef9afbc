/** Response headers every answer of app A carries (OWASP HTTP Headers Cheat Sheet). */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

// The nonce belongs to the response, not to a page's data: page() takes it from here, so no view
// can forget it or reuse another response's.
const currentNonce = new AsyncLocalStorage<string>();

/** The CSP nonce of the response being built (128 random bits, base64). */
export function cspNonce(): string {
  const nonce = currentNonce.getStore();
  if (nonce === undefined) throw new TypeError('cspNonce() is only available while securityHeaders() handles a request');
  return nonce;
}

/**
 * The CSP allows our own stylesheet and whatever carries this response's nonce (CSP Level 3
 * §6.7.2.3), and no script at all: app A works without JavaScript. Forms may post to ourselves,
 * and the sign-out form's redirect goes on to the issuer's end-session endpoint (`form-action`
 * applies to the redirects after a form submission, CSP Level 3 §6.5.1).
 */
function pagePolicy(nonce: string, issuerOrigin: string): string {
  return [
    "default-src 'none'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self'",
    `form-action 'self' ${issuerOrigin}`,
    "base-uri 'none'",
    "frame-ancestors 'none'", // no framing: clickjacking of the sign-out button (OWASP Clickjacking Defense)
  ].join('; ');
}

export function securityHeaders(options: { issuerOrigin: string }): MiddlewareHandler {
  const { issuerOrigin } = options;
  return async function securityHeaders(c, next) {
    const nonce = randomBytes(16).toString('base64');
    await currentNonce.run(nonce, next);
    c.header('Content-Security-Policy', pagePolicy(nonce, issuerOrigin));
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    // The callback URL carries the authorization code: it must never leak in a Referer (RFC 9700 §4.2.4).
    c.header('Referrer-Policy', 'no-referrer');
    // Every page depends on the session cookie: no shared or browser cache may keep one.
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}
