/**
 * Pushed authorization requests (RFC 9126): a client posts its authorization request to /par,
 * authenticated as at the token endpoint, and gets a request_uri that stands for it at the
 * authorization endpoint — once, for that client only, within a short lifetime.
 *
 * What is stored is the parameters as pushed (client credentials left out), not the request they
 * validated to: at use they are validated again, by the very rules of a plain request (RFC 9126
 * §4), so a client changed since the push is judged by its registration of now.
 */
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { digest } from '../crypto/digest.js';
import { randomSecret } from '../crypto/random.js';
import type { Client } from '../store/index.js';
import { parseAuthorizationRequest } from './authorization-request.js';
import { readParams, type Params } from './params.js';
import { userinfoEndpointOf } from './resource.js';

/** RFC 9126 §2.2: the form of request_uri this issuer hands out; the rest is 256 random bits. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

/**
 * Parameters that authenticate the client at /par and mean nothing to the authorization request
 * (RFC 9126 §2.1): never stored with it.
 */
const CLIENT_CREDENTIALS = ['client_secret', 'client_assertion', 'client_assertion_type'];

/** The success response of RFC 9126 §2.2. */
export interface PushedAuthorizationResponse {
  request_uri: string;
  expires_in: number;
}

/**
 * Validates and stores a request pushed by `client`, already authenticated (RFC 9126 §2.1). Any
 * refusal is an OAuthError with status 400 (§2.3), carrying the code a plain request would get.
 */
export async function pushAuthorizationRequest(
  ctx: IssuerContext,
  client: Client,
  params: Params,
): Promise<PushedAuthorizationResponse> {
  // RFC 9126 §2.1: a pushed request never refers to another one.
  if (params.has('request_uri')) throw new OAuthError('invalid_request', 'request_uri cannot be pushed');
  // RFC 9126 §2.1: client_id is required here as in any authorization request, and it is the client
  // that authenticated (whatever method did, so a request can never be pushed for another client).
  if (params.get('client_id') !== client.id)
    throw new OAuthError('invalid_request', 'client_id is required and must name the authenticated client');
  try {
    await parseAuthorizationRequest(params, ctx.store, userinfoEndpointOf(ctx.config.issuer), true);
  } catch (e) {
    // RFC 9126 §2.3: no redirect, no page — the error as JSON, 400, with the code the check chose.
    if (e instanceof OAuthError) throw new OAuthError(e.error, e.description, { status: 400, cause: e });
    throw e;
  }
  const reference = randomSecret();
  const now = ctx.clock.now();
  const ttl = ctx.config.pushedAuthorizationRequestTtl;
  await ctx.store.pushedAuthorizationRequests.create({
    digest: digest(reference),
    clientId: client.id,
    params: Object.fromEntries(
      params.names.filter((name) => !CLIENT_CREDENTIALS.includes(name)).map((name) => [name, params.get(name)!]),
    ),
    createdAt: now,
    expiresAt: now + ttl * 1000,
  });
  return { request_uri: REQUEST_URI_PREFIX + reference, expires_in: ttl };
}

/**
 * The parameters an authorization request stands for, and whether they were pushed. With a
 * request_uri (RFC 9126 §4) they are the ones its client pushed — every other parameter but
 * client_id is ignored — and the pushed request is used up: deleted by the one use that finds it
 * unexpired and pushed by this client, so of concurrent uses exactly one goes on. The refusals
 * here are never redirected: the redirect URI is in the pushed request, not yet trusted.
 */
export async function resolveAuthorizationParams(
  ctx: IssuerContext,
  params: Params,
): Promise<{ params: Params; pushed: boolean }> {
  if (!params.has('request_uri')) return { params, pushed: false };
  const requestUri = params.get('request_uri');
  if (requestUri === undefined) throw new OAuthError('invalid_request', 'request_uri is included more than once');
  // RFC 9101 §5 (RFC 9126 §4 builds on it): client_id is required beside request_uri.
  const clientId = params.get('client_id');
  if (!clientId) throw new OAuthError('invalid_request', 'client_id is missing or repeated');
  const client = await ctx.store.clients.findById(clientId);
  if (!client) throw new OAuthError('invalid_client', 'unknown client_id', { status: 400 });
  // A request object by reference (RFC 9101 §5.2) is not supported; only our own request_uri values are.
  if (!requestUri.startsWith(REQUEST_URI_PREFIX))
    throw new OAuthError('request_uri_not_supported', 'only request_uri values from the /par endpoint are accepted');
  const reference = digest(requestUri.slice(REQUEST_URI_PREFIX.length));
  const now = ctx.clock.now();
  const pushed = await ctx.store.pushedAuthorizationRequests.consume(reference, client.id, now);
  if (!pushed) throw new OAuthError('invalid_request_uri', await whyRefused(ctx, reference, client.id, now));
  return { params: readParams(new URLSearchParams(pushed.params)), pushed: true };
}

/** Why a request_uri found nothing to use (RFC 9101 §7 invalid_request_uri, RFC 9126 §2.2, §4). */
async function whyRefused(ctx: IssuerContext, reference: string, clientId: string, now: number): Promise<string> {
  const found = await ctx.store.pushedAuthorizationRequests.find(reference);
  if (!found) return 'request_uri is unknown or was already used';
  // RFC 9126 §2.2: it is bound to the client that pushed it.
  if (found.clientId !== clientId) return 'request_uri was pushed by another client';
  // RFC 9126 §4: an expired request_uri MUST be rejected.
  if (found.expiresAt <= now) return 'request_uri has expired';
  // Pushed by this client and unexpired, yet gone by the time of the delete: used meanwhile.
  return 'request_uri is unknown or was already used';
}
