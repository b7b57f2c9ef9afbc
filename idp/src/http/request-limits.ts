/**
 * Limits every request meets before a route reads it, whatever the endpoint: header values of
 * bounded size, and a query string of well-formed percent-encoded UTF-8 within the parameter
 * limits. Anything else is an invalid_request (400) shaped by the root handler: never a 500, never
 * a stack trace (OWASP ASVS V5.1 input validation; RFC 6749 §5.2).
 */
import type { MiddlewareHandler } from 'hono';
import { OAuthError } from '@tessera/shared';
import { readParams } from '../protocol/params.js';
import { parseUrlencoded } from './urlencoded.js';

/**
 * Longest value of any one request header. Browsers cap a cookie at 4 KiB; Node refuses a whole
 * header block over 16 KiB itself (431, RFC 6585 §5) before the app sees it.
 */
export const HEADER_VALUE_LIMIT = 8 * 1024;

export function requestLimits(): MiddlewareHandler {
  return async function requestLimits(c, next) {
    for (const [, value] of c.req.raw.headers) {
      if (value.length > HEADER_VALUE_LIMIT) throw new OAuthError('invalid_request', 'a request header is too large');
    }
    const url = c.req.url;
    const query = url.indexOf('?');
    // readParams applies the count and length limits; duplicates are each endpoint's to judge
    // (the authorization endpoint sends them back to a trusted redirect URI: RFC 6749 §4.1.2.1).
    if (query !== -1) readParams(parseUrlencoded(url.slice(query + 1)));
    await next();
  };
}
