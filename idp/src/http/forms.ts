/** Reading a form body (application/x-www-form-urlencoded) with the limits every endpoint shares. */
import type { Context } from 'hono';
import { OAuthError, parseUrlencoded } from '@tessera/shared';
import type { Env } from './env.js';
import { LIMITS, readParams, refuseDuplicates, type Params } from '../protocol/params.js';

/**
 * Reads an application/x-www-form-urlencoded body with the shared limits: well-formed UTF-8 and
 * percent-encoding, and each parameter at most once (RFC 6749 §3.1). Two endpoints keep
 * duplicates and refuse them in their own answer: authorization (an invalid_request sent to the
 * trusted redirect URI, §4.1.2.1) and end-session (the same sign-out page as for GET).
 */
export async function readForm(c: Context<Env>, options: { duplicates?: 'refuse' | 'keep' } = {}): Promise<Params> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  const body = new Uint8Array(await c.req.arrayBuffer());
  if (body.byteLength > LIMITS.bodyBytes)
    throw new OAuthError('invalid_request', 'the request body is too large', { status: 413 });
  // The count and length limits are readParams' own (its errors name the parameter).
  const params = readParams(parseUrlencoded(body, { limits: false }));
  if (options.duplicates !== 'keep') refuseDuplicates(params);
  return params;
}
