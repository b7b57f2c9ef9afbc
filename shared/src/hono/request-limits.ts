/**
 * Limits every request meets before a route reads it: header values of bounded size, and a query
 * string of well-formed percent-encoded UTF-8 within URLENCODED_LIMITS. Node itself refuses a
 * header block over 16 KiB (431, RFC 6585 §5) before the app sees it.
 */
import type { MiddlewareHandler } from 'hono';
import { MalformedRequestError } from '../http/malformed-request-error.js';
import { parseUrlencoded } from '../http/urlencoded.js';

/** Longest value of one request header: browsers cap a cookie at 4 KiB. */
export const HEADER_VALUE_LIMIT = 8 * 1024;

/**
 * Hono middleware that refuses, with MalformedRequestError, an oversized header value or a
 * malformed query string. The root handler shapes the 400.
 *
 * @example
 * ```ts
 * app.use('*', requestLimits());
 * app.onError((error, c) => error instanceof MalformedRequestError ? c.json({ error: error.error }, error.status) : c.json({ error: 'server_error' }, 500));
 * ```
 */
export function requestLimits(): MiddlewareHandler {
  return async function requestLimits(c, next) {
    for (const [, value] of c.req.raw.headers) {
      if (value.length > HEADER_VALUE_LIMIT) throw new MalformedRequestError('a request header is too large');
    }
    const url = c.req.url;
    const query = url.indexOf('?');
    if (query !== -1) parseUrlencoded(url.slice(query + 1));
    await next();
  };
}
