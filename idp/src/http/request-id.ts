/**
 * A request id per HTTP request: in the `X-Request-Id` response header and in the log lines
 * written for the request (request-context.ts), so an operator can follow one request through the
 * log and a client can quote it. A proxy we trust (TESSERA_TRUST_PROXY, client-address.ts) may
 * have given the request its id already, which is then kept, so its log and ours line up; from
 * anyone else the header is ignored — a client could otherwise make lines of other requests look
 * like its own.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Logger } from '@tessera/shared';
import { isTrustedProxy, type TrustedProxies } from './client-address.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * What an incoming id may be: the characters of a UUID, a trace id or a base64 token, and no more
 * than a log field should carry. Anything else (spaces, quotes, control characters that could
 * forge a log line) is replaced by an id of ours.
 */
const ACCEPTED_ID = /^[A-Za-z0-9._:+=/~-]{1,128}$/;

/**
 * The id of each request being served, by its Node request: found from the request's Hono context
 * (`c.env.incoming`). An AsyncLocalStorage would find it from anywhere, but on Node 20 it runs a
 * hook on every promise of every request: about a tenth of a token request's CPU.
 */
const served = new WeakMap<IncomingMessage, string>();

/** The request id of `req`: the trusted proxy's when it sent a well-formed one, else a new one. */
export function requestIdOf(req: IncomingMessage, trusted: TrustedProxies): string {
  const given = req.headers[REQUEST_ID_HEADER];
  if (typeof given === 'string' && ACCEPTED_ID.test(given) && isTrustedProxy(req.socket.remoteAddress, trusted))
    return given;
  return randomUUID();
}

/** Serves each request under its id: the response header set first, the id kept for its logger. */
export function withRequestIds(trusted: TrustedProxies, listener: RequestListener): RequestListener {
  return function requestIds(req, res) {
    const id = requestIdOf(req, trusted);
    res.setHeader(REQUEST_ID_HEADER, id);
    served.set(req, id);
    listener(req, res);
  };
}

/** The id `withRequestIds` gave `req`; none for a request it did not serve (a test's `app.request`). */
export function servedRequestId(req: IncomingMessage | undefined): string | undefined {
  return req && served.get(req);
}

/** `log`, with the request id `id` in each line as `request_id`. */
export function withRequestId(log: Logger, id: string): Logger {
  return {
    info: (event, fields) => log.info(event, { request_id: id, ...fields }),
    warn: (event, fields) => log.warn(event, { request_id: id, ...fields }),
    error: (event, fields) => log.error(event, { request_id: id, ...fields }),
  };
}
