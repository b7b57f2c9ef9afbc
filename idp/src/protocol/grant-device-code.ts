/**
 * The device code grant (RFC 8628 §3.4–3.5): the device polls the token endpoint with its device
 * code until the person has decided. Every poll is recorded, so a device polling faster than its
 * interval is told to slow down, and the interval grows for it (§3.5). Once approved, the device
 * code is redeemed exactly once, like an authorization code; a replay revokes what it gave.
 */
import { DEVICE_CODE_GRANT_TYPE, OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { digest } from '../crypto/digest.js';
import { randomId } from '../crypto/random.js';
import type { Client } from '../store/index.js';
import { audit } from './audit.js';
import type { Params } from './params.js';
import { isActive } from './sso-session.js';
import { mintTokenResponse, newRefreshToken, newGrant, type TokenResponse } from './token-response.js';

const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);

export async function redeemDeviceCode(
  ctx: IssuerContext,
  client: Client,
  params: Params,
  ip: string,
  /** The DPoP key the request proved (RFC 9449), to bind the tokens to. */
  jkt: string | undefined,
): Promise<TokenResponse> {
  if (!client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE))
    throw new OAuthError('unauthorized_client', 'this client may not use the device authorization grant');
  const deviceCode = params.get('device_code');
  if (!deviceCode) throw new OAuthError('invalid_request', 'device_code is required');
  if (deviceCode.length > 256) throw invalidGrant('the device code is invalid');

  const now = ctx.clock.now();
  const codeDigest = digest(deviceCode);
  // Another client's device code is as unknown as a made-up one, and its poll is not recorded.
  const polled = await ctx.store.deviceAuthorizations.poll(codeDigest, client.id, now);
  if (!polled) throw invalidGrant('the device code is invalid');
  const { authorization, tooSoon } = polled;

  if (authorization.status === 'redeemed') {
    const revoked = await ctx.store.grants.revokeByCode(codeDigest, now);
    await audit(ctx, 'device_code.replayed', {
      subject: authorization.userId,
      clientId: client.id,
      ip,
      detail: { grants_revoked: revoked },
    });
    throw invalidGrant('the device code has already been used');
  }
  // §3.5: expired_token once the device code is past its lifetime, whatever was decided.
  if (authorization.expiresAt <= now) throw new OAuthError('expired_token', 'the device code has expired');
  // §3.5 errors are token endpoint errors (RFC 6749 §5.2): 400, not access_denied's usual 403.
  if (authorization.status === 'denied')
    throw new OAuthError('access_denied', 'the person denied the request', { status: 400 });
  if (authorization.status === 'pending') {
    if (tooSoon) throw new OAuthError('slow_down', `poll at most every ${authorization.interval} seconds`);
    throw new OAuthError('authorization_pending', 'the person has not decided yet');
  }

  // Approved: the person, and the session they approved it in.
  const user = authorization.userId ? await ctx.store.users.findBySub(authorization.userId) : undefined;
  const session = authorization.sessionId ? await ctx.store.sessions.findById(authorization.sessionId) : undefined;
  // RFC 6749 §5.2 (RFC 8628 §3.5 defers to it): the approval is no longer valid once the account is
  // disabled, whether or not its session has ended yet.
  if (user && user.disabledAt !== null) throw invalidGrant('the account is disabled');
  if (!user || !session || !isActive(ctx, session))
    throw new OAuthError('access_denied', 'the session that approved the request has ended', { status: 400 });

  const scope = authorization.scope.split(' ');
  const refreshable = client.grantTypes.includes('refresh_token');
  const grantId = randomId();
  const refresh = refreshable ? await newRefreshToken(ctx, grantId) : undefined;
  const { response, issued } = await mintTokenResponse(
    ctx,
    {
      user,
      clientId: client.id,
      sessionId: session.id,
      scope,
      resource: authorization.resource,
      authTime: authorization.authTime ?? session.authTime,
      amr: authorization.amr ?? session.amr,
      ...(jkt === undefined ? {} : { jkt }),
    },
    { nonce: null, ...(refresh ? { refreshToken: refresh.token } : {}) },
  );
  const redeemed = await ctx.store.grants.redeemDeviceCode(
    codeDigest,
    (a) =>
      newGrant(
        ctx,
        client,
        jkt,
        {
          id: grantId,
          userId: user.sub,
          sessionId: session.id,
          codeDigest,
          scope: a.scope,
          resource: a.resource,
          amr: a.amr ?? session.amr,
        },
        now,
      ),
    { accessToken: issued, ...(refresh ? { refreshToken: refresh.row } : {}) },
  );
  if (!redeemed) {
    // Lost a race with another poll of the same approved code: that is a replay.
    await ctx.store.grants.revokeByCode(codeDigest, now);
    throw invalidGrant('the device code has already been used');
  }
  return response;
}
