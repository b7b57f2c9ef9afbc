/**
 * Response headers every answer of app A carries: the shared set (OWASP HTTP Headers Cheat
 * Sheet, a fresh CSP nonce per response), with app A's own Content-Security-Policy.
 */
import type { MiddlewareHandler } from 'hono';
import { securityHeaders as commonSecurityHeaders } from '@tessera/shared/node';

export { cspNonce } from '@tessera/shared/node';

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

/** App A's response headers; its CSP lets the sign-out form go on to the issuer at `issuerOrigin`. */
export function securityHeaders(options: { issuerOrigin: string }): MiddlewareHandler {
  const { issuerOrigin } = options;
  return commonSecurityHeaders({ contentSecurityPolicy: (nonce) => pagePolicy(nonce, issuerOrigin) });
}
