/** Response headers every answer of app B carries. */
import type { MiddlewareHandler } from 'hono';

/**
 * The CSP lets the page run only our own bundled script (no inline script: an injected one cannot
 * run) and talk only to our API and the issuer (discovery, JWKS, token endpoint): an injected
 * script could not send tokens anywhere else. No form posts, no framing.
 */
export function contentSecurityPolicy(issuerOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `connect-src 'self' ${issuerOrigin}`,
    "style-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function securityHeaders(options: { issuerOrigin: string }): MiddlewareHandler {
  const csp = contentSecurityPolicy(options.issuerOrigin);
  return async function securityHeaders(c, next) {
    await next();
    c.header('Content-Security-Policy', csp);
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    // The page's URL carries the authorization code on the way back: never in a Referer (RFC 9700 §4.2.4).
    c.header('Referrer-Policy', 'no-referrer');
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}
