/** Response headers every answer of app A carries. */
import type { MiddlewareHandler } from 'hono';

/**
 * Sets the security headers once, for every route. The CSP allows only our own stylesheet and
 * no script at all (app A works without JavaScript); forms may post to ourselves, and the
 * sign-out form's redirect goes on to the issuer (CSP 3 `form-action` applies to redirects).
 */
export function securityHeaders(options: { issuerOrigin: string }): MiddlewareHandler {
  const csp = [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    `form-action 'self' ${options.issuerOrigin}`,
    "base-uri 'none'",
    "frame-ancestors 'none'", // no framing: clickjacking of the sign-out button
  ].join('; ');
  return async function securityHeaders(c, next) {
    await next();
    c.header('Content-Security-Policy', csp);
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    // The callback URL carries the authorization code: it must never leak in a Referer (RFC 9700 §4.2.4).
    c.header('Referrer-Policy', 'no-referrer');
    // Every page depends on the session cookie: no shared or browser cache may keep one.
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}
