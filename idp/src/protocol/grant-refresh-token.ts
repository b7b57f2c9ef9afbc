/**
 * The refresh_token grant (RFC 6749 §6) with rotation on every use and reuse detection
 * (RFC 9700 §4.14.2): a refresh token that was already exchanged, presented again, means two
 * parties hold it, so the whole family and its grant are revoked.
 */
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { digest } from '../crypto/digest.js';
import type { Params } from './params.js';
import type { Client } from '../store/index.js';
import { audit } from './audit.js';
import { revokeGrant } from './grant-revocation.js';
import { resolveResource, userinfoEndpointOf } from './resource.js';
import { isActive, recordSessionUse } from './sso-session.js';
import { mintTokenResponse, newRefreshToken, type TokenResponse } from './token-response.js';

const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);

export async function redeemRefreshToken(
  ctx: IssuerContext,
  client: Client,
  params: Params,
  ip: string,
  /** The DPoP key the request proved (RFC 9449), to bind the new access token to. */
  jkt: string | undefined,
): Promise<TokenResponse> {
  if (!client.grantTypes.includes('refresh_token'))
    throw new OAuthError('unauthorized_client', 'this client may not use refresh tokens');
  const presented = params.get('refresh_token');
  if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required');
  if (presented.length > 256) throw invalidGrant('the refresh token is invalid');

  const now = ctx.clock.now();
  const presentedDigest = digest(presented);
  const found = await ctx.store.refreshTokens.find(presentedDigest);
  // RFC 6749 §6: the token must have been issued to this client.
  if (!found || found.grant.clientId !== client.id) throw invalidGrant('the refresh token is invalid');
  const { token, grant } = found;

  if (token.rotatedAt !== null && token.revokedAt === null && grant.revokedAt === null) {
    await revokeGrant(ctx, grant.id);
    ctx.metrics.refreshTokenReuse.inc();
    await audit(ctx, 'refresh_token.reused', {
      subject: grant.userId,
      clientId: client.id,
      ip,
      detail: { grant: grant.id },
    });
    throw invalidGrant('the refresh token was already used; its family has been revoked');
  }
  if (token.revokedAt !== null || grant.revokedAt !== null || token.rotatedAt !== null)
    throw invalidGrant('the refresh token has been revoked');
  if (token.expiresAt <= now || (grant.expiresAt !== null && grant.expiresAt <= now))
    throw invalidGrant('the refresh token has expired');
  // RFC 9449 §5: a public client's refresh token is good only with a proof made with its key.
  if (grant.dpopJkt !== null && jkt !== grant.dpopJkt)
    throw invalidGrant('the refresh token is bound to another DPoP key');

  // Without offline_access, a grant lives only as long as its SSO session.
  const session = await ctx.store.sessions.findById(grant.sessionId);
  if (!grant.offline && (!session || !isActive(ctx, session)))
    throw invalidGrant('the session this refresh token belongs to has ended');

  // RFC 6749 §6: a narrower scope may be asked for, never a wider one.
  let scope = grant.scope.split(' ');
  const scopeParam = params.get('scope');
  if (scopeParam !== undefined) {
    const asked = [...new Set(scopeParam.split(' ').filter(Boolean))];
    if (asked.some((s) => !scope.includes(s))) throw new OAuthError('invalid_scope', 'scope exceeds what was granted');
    scope = asked;
  }
  // RFC 8707 §2.2: the token may be for another of the client's resources.
  const resource =
    params.get('resource') === undefined
      ? grant.resource
      : resolveResource(client, params.get('resource'), userinfoEndpointOf(ctx.config.issuer));

  const user = await ctx.store.users.findBySub(grant.userId);
  if (!user) throw invalidGrant('the refresh token is invalid');
  // RFC 6749 §5.2: a disabled account's grants are no longer valid, offline ones included.
  if (user.disabledAt !== null) throw invalidGrant('the account is disabled');

  const next = await newRefreshToken(ctx, grant.id);
  const { response, issued } = await mintTokenResponse(
    ctx,
    {
      user,
      clientId: client.id,
      sessionId: grant.sessionId,
      scope,
      resource,
      authTime: session?.authTime ?? grant.createdAt,
      amr: grant.amr,
      ...(jkt === undefined ? {} : { jkt }),
    },
    { nonce: null, refreshToken: next.token },
  );
  if (!(await ctx.store.refreshTokens.rotate(presentedDigest, now, next.row, issued))) {
    // Lost a race with another use of the same token: that is reuse too.
    await revokeGrant(ctx, grant.id);
    ctx.metrics.refreshTokenReuse.inc();
    await audit(ctx, 'refresh_token.reused', {
      subject: grant.userId,
      clientId: client.id,
      ip,
      detail: { grant: grant.id, concurrent: true },
    });
    throw invalidGrant('the refresh token was already used; its family has been revoked');
  }
  if (session && !grant.offline) await recordSessionUse(ctx, session, now);
  return response;
}
