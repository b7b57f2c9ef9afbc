/**
 * Response headers every answer of app B carries: the shared set (OWASP HTTP Headers Cheat
 * Sheet, a fresh CSP nonce per response), with app B's own Content-Security-Policy.
 */
import type { MiddlewareHandler } from 'hono';
import { securityHeaders as commonSecurityHeaders } from '@tessera/shared/node';

export { cspNonce } from '@tessera/shared/node';

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

/** App B's response headers; its CSP lets the page's script reach the issuer at `issuerOrigin`. */
export function securityHeaders(options: { issuerOrigin: string }): MiddlewareHandler {
  const { issuerOrigin } = options;
  return commonSecurityHeaders({ contentSecurityPolicy: (nonce) => contentSecurityPolicy(issuerOrigin, nonce) });
}
