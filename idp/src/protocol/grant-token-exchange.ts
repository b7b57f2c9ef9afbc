/**
 * Token exchange (RFC 8693) for calls across sites on a person's behalf: a client's server trades
 * the person's access token it holds (audience: its own API) for one whose audience is another API
 * it was registered to reach, with an `act` claim naming the client. Only what is registered is
 * allowed; the new token lives no longer than the old one and is revoked with the grant the old
 * one came from.
 */
import { OAuthError, TOKEN_EXCHANGE_GRANT_TYPE, TOKEN_TYPE_IDENTIFIERS } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import type { Client } from '../store/index.js';
import { audit } from './audit.js';
import type { Params } from './params.js';
import { lookUpToken } from './token-lookup.js';
import { mintExchangedAccessToken } from './tokens.js';

export interface TokenExchangeResponse {
  access_token: string;
  issued_token_type: typeof TOKEN_TYPE_IDENTIFIERS.accessToken;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
}

/** RFC 8693 §2.2.2: a subject token that is invalid or unacceptable for any reason is invalid_request. */
const unacceptable = (description: string) => new OAuthError('invalid_request', description);

/** Scopes that mean nothing in a token for another API: it is not an OpenID request, nor offline. */
const NOT_EXCHANGED = new Set(['openid', 'offline_access']);

export async function exchangeToken(
  ctx: IssuerContext,
  client: Client,
  params: Params,
  ip: string,
  /** The DPoP key the request proved (RFC 9449), to bind the new token to. */
  jkt: string | undefined,
): Promise<TokenExchangeResponse> {
  if (client.type !== 'confidential' || !client.grantTypes.includes(TOKEN_EXCHANGE_GRANT_TYPE))
    throw new OAuthError('unauthorized_client', 'this client may not exchange tokens');
  const subjectToken = params.get('subject_token');
  const subjectTokenType = params.get('subject_token_type');
  if (!subjectToken || !subjectTokenType)
    throw new OAuthError('invalid_request', 'subject_token and subject_token_type are required');
  // An ID token tells a client who signed in; it authorizes nothing, so nothing is got for it.
  if (subjectTokenType !== TOKEN_TYPE_IDENTIFIERS.accessToken)
    throw unacceptable(`subject_token_type must be ${TOKEN_TYPE_IDENTIFIERS.accessToken}`);
  // The actor is the authenticated client itself; a token of another actor is not taken (§2.1).
  if (params.has('actor_token') || params.has('actor_token_type'))
    throw new OAuthError('invalid_request', 'actor_token is not supported: the client is the actor');
  const requestedType = params.get('requested_token_type');
  if (requestedType !== undefined && requestedType !== TOKEN_TYPE_IDENTIFIERS.accessToken)
    throw new OAuthError('invalid_request', `requested_token_type must be ${TOKEN_TYPE_IDENTIFIERS.accessToken}`);
  const target = targetOf(client, params);

  const found = await lookUpToken(ctx, subjectToken, { ignoreExpiry: false });
  if (found.kind !== 'access_token')
    throw unacceptable('subject_token is not an unexpired access token of this issuer');
  const claims = found.claims;
  // A client exchanges only what was issued to it: an API that received a token cannot turn it
  // into a token for somewhere else.
  if (claims.client_id !== client.id) throw unacceptable('subject_token was not issued to this client');
  if (typeof claims.jti !== 'string' || typeof claims.sub !== 'string' || typeof claims.exp !== 'number')
    throw unacceptable('subject_token is not an unexpired access token of this issuer');
  // Only a person's token, under a grant still in force: a revoked one, or a machine client's own
  // (it has no person to act for), gives nothing.
  const grantId = await ctx.store.grants.activeGrantOfAccessToken(claims.jti);
  if (grantId === undefined) throw unacceptable('subject_token is revoked or is not a person’s access token');
  const user = await ctx.store.users.findBySub(claims.sub);
  // A disabled account's tokens are as good as revoked.
  if (!user || user.disabledAt !== null)
    throw unacceptable('subject_token is revoked or is not a person’s access token');

  const scope = scopeOf(String(claims.scope ?? ''), params.get('scope'));
  const minted = await mintExchangedAccessToken(ctx, {
    user,
    clientId: client.id,
    sessionId: String(claims.sid ?? ''),
    scope,
    resource: target,
    authTime: typeof claims.auth_time === 'number' ? claims.auth_time * 1000 : ctx.clock.now(),
    // The subject token states its grant's methods, signed by this issuer: the new token says no more.
    amr: methodsOf(claims.amr),
    // §4.1: the current actor outermost, any earlier one inside it.
    actor: claims.act && typeof claims.act === 'object' ? { sub: client.id, act: claims.act } : { sub: client.id },
    notAfter: claims.exp,
    ...(jkt === undefined ? {} : { jkt }),
  });
  if (!(await ctx.store.grants.recordExchangedAccessToken(grantId, minted)))
    throw unacceptable('subject_token is revoked or is not a person’s access token');
  await audit(ctx, 'token.exchanged', {
    subject: user.sub,
    clientId: client.id,
    ip,
    detail: { audience: target, subject_jti: claims.jti, jti: minted.jti },
  });
  return {
    access_token: minted.token,
    issued_token_type: TOKEN_TYPE_IDENTIFIERS.accessToken,
    token_type: jkt === undefined ? 'Bearer' : 'DPoP',
    expires_in: Math.max(0, Math.round((minted.expiresAt - ctx.clock.now()) / 1000)),
    scope: scope.join(' '),
  };
}

/**
 * The API the new token is for (§2.1): named by `resource` (its URI) or `audience` (the same
 * identifier), one at a time, and registered for this client — else invalid_target (§2.2.2).
 * A client registered for only one needs not name it.
 */
function targetOf(client: Client, params: Params): string {
  const named = [...new Set([params.get('resource'), params.get('audience')].filter((v) => v !== undefined))];
  // A repeated parameter never gets here (RFC 6749 §3.1: the form reader refuses it).
  if (named.length > 1) throw new OAuthError('invalid_target', 'one target at a time');
  const target = named[0] ?? (client.exchangeTargets.length === 1 ? client.exchangeTargets[0] : undefined);
  if (target === undefined) throw new OAuthError('invalid_target', 'name the resource to exchange for');
  if (!client.exchangeTargets.includes(target))
    throw new OAuthError('invalid_target', 'this client may not exchange tokens for that resource');
  return target;
}

/** The `amr` of a token this issuer signed; one signed before amr was stated claims a password only. */
function methodsOf(amr: unknown): string[] {
  return Array.isArray(amr) && amr.every((m) => typeof m === 'string') ? amr : ['pwd'];
}

/** The subject token's scopes, or fewer (RFC 8693 §2.1, RFC 6749 §3.3), never more. */
function scopeOf(granted: string, requested: string | undefined): string[] {
  const held = granted.split(' ').filter((s) => s && !NOT_EXCHANGED.has(s));
  if (requested === undefined) return held;
  const asked = [...new Set(requested.split(' ').filter(Boolean))];
  const refused = asked.find((s) => !held.includes(s));
  if (refused !== undefined || asked.length === 0)
    throw new OAuthError('invalid_scope', `scope ${(refused ?? '').slice(0, 64)} exceeds the subject token's`);
  return asked;
}
