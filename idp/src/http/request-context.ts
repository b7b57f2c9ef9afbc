/**
 * The issuer's context as one request's code is given it: the same, with a logger whose lines carry
 * the request's id (request-id.ts). Routes hand it to the protocol code that logs for a request.
 */
import type { Context } from 'hono';
import type { IssuerContext } from '../context.js';
import type { Env } from './env.js';
import { servedRequestId, withRequestId } from './request-id.js';

export function requestContext(c: Context<Env>, ctx: IssuerContext): IssuerContext {
  const id = servedRequestId(c.env?.incoming);
  return id === undefined ? ctx : { ...ctx, log: withRequestId(ctx.log, id) };
}
