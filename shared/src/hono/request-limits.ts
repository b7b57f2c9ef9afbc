/**
 * Limits every request meets before a route reads it, on every Tessera server: a body of bounded
 * size, header values of bounded size, and a query string of well-formed percent-encoded UTF-8
 * within the parameter limits. Node itself refuses a header block over 16 KiB (431, RFC 6585 §5)
 * before the app sees it. Anything else is a MalformedRequestError — an OAuth invalid_request
 * (RFC 6749 §5.2) — for the root handler to answer: never a 500 (OWASP ASVS V5.1).
 */
import type { Context, MiddlewareHandler, Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { MalformedRequestError } from '../http/malformed-request-error.js';
import { parseUrlencoded } from '../http/urlencoded.js';

/** Longest value of one request header: browsers cap a cookie at 4 KiB. */
export const HEADER_VALUE_LIMIT = 8 * 1024;

/** Options of {@link requestLimits}. */
export interface RequestLimitsOptions {
  /** Largest request body, in bytes: larger is refused with 413, whether announced or streamed. */
  bodyBytes: number;
  /**
   * Reads the query string (without its `?`) and throws on what the server will not take. By
   * default parseUrlencoded with URLENCODED_LIMITS; a server with parameter rules of its own
   * (the issuer's) applies them here, throwing an OAuthError of its choice.
   */
  readQuery?: (query: string) => unknown;
}

/**
 * Hono middleware that refuses, with MalformedRequestError (413 for the body, 400 otherwise), an
 * oversized body, an oversized header value or a malformed query string.
 *
 * @example
 * ```ts
 * app.use('*', requestLimits({ bodyBytes: 16 * 1024 }));
 * app.onError((error, c) =>
 *   error instanceof MalformedRequestError
 *     ? c.json(error.toJSON(), error.status)
 *     : c.json({ error: 'server_error' }, 500),
 * );
 * ```
 */
export function requestLimits(options: RequestLimitsOptions): MiddlewareHandler {
  const { bodyBytes, readQuery = parseUrlencoded } = options;
  if (!Number.isSafeInteger(bodyBytes) || bodyBytes < 0) throw new TypeError('bodyBytes must be a byte count');
  const limitBody = bodyLimit({
    maxSize: bodyBytes,
    // Thrown, so the root handler answers in the form the caller reads (page or JSON).
    onError: () => {
      throw new MalformedRequestError('the request body is too large', 413);
    },
  });
  const checkHeadersAndQuery = async (c: Context, next: Next) => {
    for (const [, value] of c.req.raw.headers) {
      if (value.length > HEADER_VALUE_LIMIT) throw new MalformedRequestError('a request header is too large');
    }
    const url = c.req.url;
    const query = url.indexOf('?');
    if (query !== -1) readQuery(url.slice(query + 1));
    await next();
  };
  return function requestLimits(c, next) {
    // The body first: an announced Content-Length over the limit is refused before anything is read.
    // A request that carries no body, or announces its length, is judged by bodyLimit's own rules
    // without asking for the Web body stream: on Node that stream is what makes @hono/node-server
    // build a full Request, where a route's arrayBuffer() reads the socket directly.
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return checkHeadersAndQuery(c, next);
    const length = c.req.raw.headers.get('content-length');
    if (length !== null && !c.req.raw.headers.has('transfer-encoding')) {
      if (Number.parseInt(length, 10) > bodyBytes)
        throw new MalformedRequestError('the request body is too large', 413);
      return checkHeadersAndQuery(c, next);
    }
    return limitBody(c, () => checkHeadersAndQuery(c, next));
  };
}
