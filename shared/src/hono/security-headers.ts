/**
 * Response headers every answer of a Tessera web app carries (OWASP HTTP Headers Cheat Sheet),
 * with a Content-Security-Policy nonce fresh for each response. Node-only (AsyncLocalStorage,
 * node:crypto): exported from `@tessera/shared/node`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

// The nonce belongs to the response, not to a page's data: views take it from here, so none can
// forget it or reuse another response's.
const currentNonce = new AsyncLocalStorage<string>();

/** The CSP nonce of the response being built (128 random bits, base64). */
export function cspNonce(): string {
  const nonce = currentNonce.getStore();
  if (nonce === undefined)
    throw new TypeError('cspNonce() is only available while securityHeaders() handles a request');
  return nonce;
}

/** Options of {@link securityHeaders}. */
export interface SecurityHeadersOptions {
  /** The app's Content-Security-Policy for a response whose nonce is `nonce` (CSP Level 3 §6.7.2.3). */
  contentSecurityPolicy: (nonce: string) => string;
}

/**
 * Hono middleware that gives each response a fresh CSP nonce (read with {@link cspNonce} while
 * the response is built) and sets Content-Security-Policy, X-Frame-Options: DENY,
 * X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and, unless the route chose its
 * own, Cache-Control: no-store.
 *
 * @example
 * ```ts
 * app.use('*', securityHeaders({ contentSecurityPolicy: (nonce) => `default-src 'none'; style-src 'nonce-${nonce}'` }));
 * app.get('/', (c) => c.html(`<link rel="stylesheet" href="/styles.css" nonce="${cspNonce()}">`));
 * ```
 */
export function securityHeaders(options: SecurityHeadersOptions): MiddlewareHandler {
  const { contentSecurityPolicy } = options;
  if (typeof contentSecurityPolicy !== 'function')
    throw new TypeError('contentSecurityPolicy must be a function of the nonce');
  return async function securityHeaders(c, next) {
    const nonce = randomBytes(16).toString('base64');
    await currentNonce.run(nonce, next);
    c.header('Content-Security-Policy', contentSecurityPolicy(nonce));
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    // A redirect URI carries the authorization code: it must never leak in a Referer (RFC 9700 §4.2.4).
    c.header('Referrer-Policy', 'no-referrer');
    // What did not choose a cache policy is never stored: pages depend on a session, API answers
    // on a bearer token (RFC 6750 §5.3).
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}
