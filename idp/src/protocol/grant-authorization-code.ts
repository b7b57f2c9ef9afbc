/**
 * The authorization_code grant (RFC 6749 §4.1.3, OIDC Core §3.1.3.2, RFC 7636 §4.6).
 * A code is good once, for 60 s at most, for the client it was issued to; a replayed code is
 * refused and revokes every token issued from it (RFC 6749 §4.1.2, RFC 9700 §4.2.4).
 */
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { digest } from '../crypto/digest.js';
import { randomId } from '../crypto/random.js';
import type { Params } from './params.js';
import type { Client } from '../store/index.js';
import { verifierMatches } from './pkce.js';
import { audit } from './audit.js';
import { mintTokenResponse, newRefreshToken, newGrant, type TokenResponse } from './token-response.js';

const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);

export async function redeemAuthorizationCode(
  ctx: IssuerContext,
  client: Client,
  params: Params,
  /** The DPoP key the request proved (RFC 9449), to bind the tokens to. */
  jkt: string | undefined,
): Promise<TokenResponse> {
  const code = params.get('code');
  if (!code) throw new OAuthError('invalid_request', 'code is required');
  const verifier = params.get('code_verifier');
  // RFC 9700 §2.1.1: PKCE for every client, so a verifier is always required.
  if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE)');
  const redirectUri = params.get('redirect_uri');

  const now = ctx.clock.now();
  const codeDigest = digest(code);
  const stored = await ctx.store.grants.findCode(codeDigest);
  if (!stored) throw invalidGrant('the authorization code is invalid');
  if (stored.consumedAt !== null) {
    const revoked = await ctx.store.grants.revokeByCode(codeDigest, now);
    await audit(ctx, 'authorization_code.replayed', {
      subject: stored.userId,
      clientId: client.id,
      detail: { grants_revoked: revoked },
    });
    throw invalidGrant('the authorization code has already been used');
  }
  // RFC 6749 §4.1.3: the code was issued to this client, for this redirect URI.
  if (stored.clientId !== client.id) throw invalidGrant('the authorization code was issued to another client');
  if (stored.expiresAt <= now) throw invalidGrant('the authorization code has expired');
  if (stored.origin !== null) {
    // A FedCM code (protocol/fedcm-assertion.ts) had no redirect URI in its request, so none is
    // sent (RFC 6749 §4.1.3: required only when the authorization request had one); one sent
    // anyway is not this code's.
    if (redirectUri !== undefined) throw invalidGrant('this code was issued through FedCM, with no redirect_uri');
  } else {
    if (!redirectUri) throw new OAuthError('invalid_request', 'redirect_uri is required');
    if (stored.redirectUri !== redirectUri) throw invalidGrant('redirect_uri does not match the authorization request');
  }
  if (!verifierMatches(verifier, stored.codeChallenge))
    throw invalidGrant('code_verifier does not match the code_challenge');
  const resourceParam = params.get('resource');
  // RFC 8707 §2.2: the token request may name the resource, which must be the one authorized.
  if (resourceParam !== undefined && resourceParam !== stored.resource)
    throw new OAuthError('invalid_target', 'resource differs from the one authorized');

  const user = await ctx.store.users.findBySub(stored.userId);
  const session = await ctx.store.sessions.findById(stored.sessionId);
  // RFC 6749 §5.2: the authorization grant is no longer valid once the account is disabled.
  if (user && user.disabledAt !== null) throw invalidGrant('the account is disabled');
  if (!user || !session || session.endedAt !== null)
    throw invalidGrant('the session this code was issued in has ended');

  const scope = stored.scope.split(' ');
  const refreshable = client.grantTypes.includes('refresh_token');
  const grantId = randomId();
  const refresh = refreshable ? await newRefreshToken(ctx, grantId) : undefined;
  const subject = {
    user,
    clientId: client.id,
    sessionId: stored.sessionId,
    scope,
    resource: stored.resource,
    authTime: stored.authTime,
    amr: stored.amr,
    ...(jkt === undefined ? {} : { jkt }),
  };
  const { response, issued } = await mintTokenResponse(ctx, subject, {
    nonce: stored.nonce,
    ...(refresh ? { refreshToken: refresh.token } : {}),
  });
  // Exactly one concurrent redemption wins; a loser is a replay. The grant is built from the code
  // as read above: nothing of a code changes but its consumption.
  const consumed = await ctx.store.grants.redeemCode(
    codeDigest,
    now,
    newGrant(
      ctx,
      client,
      jkt,
      {
        id: grantId,
        userId: stored.userId,
        sessionId: stored.sessionId,
        codeDigest,
        scope: stored.scope,
        resource: stored.resource,
        amr: stored.amr,
      },
      now,
    ),
    { accessToken: issued, ...(refresh ? { refreshToken: refresh.row } : {}) },
  );
  if (!consumed) {
    await ctx.store.grants.revokeByCode(codeDigest, now);
    throw invalidGrant('the authorization code has already been used');
  }
  return response;
}
