/**
 * A request id per HTTP request: in the `X-Request-Id` response header and in every log line
 * written while the request is served, so an operator can follow one request through the log and
 * a client can quote it. A proxy we trust (TESSERA_TRUST_PROXY, client-address.ts) may have given
 * the request its id already, which is then kept, so its log and ours line up; from anyone else
 * the header is ignored — a client could otherwise make lines of other requests look like its own.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
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

const current = new AsyncLocalStorage<string>();

/** The request id of `req`: the trusted proxy's when it sent a well-formed one, else a new one. */
export function requestIdOf(req: IncomingMessage, trusted: TrustedProxies): string {
  const given = req.headers[REQUEST_ID_HEADER];
  if (typeof given === 'string' && ACCEPTED_ID.test(given) && isTrustedProxy(req.socket.remoteAddress, trusted))
    return given;
  return randomUUID();
}

/** Serves each request under its id: the response header set first, the id known to the logger. */
export function withRequestIds(trusted: TrustedProxies, listener: RequestListener): RequestListener {
  return function requestIds(req, res) {
    const id = requestIdOf(req, trusted);
    res.setHeader(REQUEST_ID_HEADER, id);
    current.run(id, listener, req, res);
  };
}

/** `log`, with the id of the request being served (if any) in each line as `request_id`. */
export function requestScopedLogger(log: Logger): Logger {
  const withId = (fields: Record<string, unknown> | undefined) => {
    const id = current.getStore();
    return id === undefined ? fields : { request_id: id, ...fields };
  };
  return {
    info: (event, fields) => log.info(event, withId(fields)),
    warn: (event, fields) => log.warn(event, withId(fields)),
    error: (event, fields) => log.error(event, withId(fields)),
  };
}
