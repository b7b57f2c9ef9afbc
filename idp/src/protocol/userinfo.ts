/** The UserInfo endpoint (OIDC Core §5.3): claims about the person an access token names. */
import { OAuthError, TOKEN_TYPES } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { checkPossession, type PresentedToken } from './dpop.js';
import { userinfoEndpointOf } from './resource.js';

export interface UserInfo {
  sub: string;
  name?: string;
  email?: string;
  email_verified?: boolean;
}

/**
 * Verifies the access token — our signature, `typ: at+jwt`, issuer, expiry, an audience naming
 * this endpoint or the issuer, a proof of its DPoP key if it is bound to one — and that neither it
 * nor its grant was revoked, then
 * answers with the claims its scopes allow.
 */
export async function userinfo(ctx: IssuerContext, accessToken: string, presented: PresentedToken): Promise<UserInfo> {
  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await ctx.keys.verify(accessToken, {
      issuer: ctx.config.issuer,
      typ: TOKEN_TYPES.accessToken,
    }));
  } catch (cause) {
    throw new OAuthError('invalid_token', 'the access token is invalid or expired', { cause });
  }
  // OIDC Core §5.3, RFC 9068 §4: a token is taken only where its audience says it is for. A token
  // minted for an API alone is that API's, not a pass to the user's claims here.
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const endpoint = userinfoEndpointOf(ctx.config.issuer);
  if (!audiences.some((a) => a === endpoint || a === ctx.config.issuer))
    throw new OAuthError('invalid_token', 'the access token is not for the userinfo endpoint');
  // RFC 9449 §7.1: a bound token only with a proof of its key.
  await checkPossession(ctx, claims, accessToken, presented, endpoint);
  const jti = typeof claims.jti === 'string' ? claims.jti : '';
  if (!(await ctx.store.grants.isAccessTokenActive(jti)))
    throw new OAuthError('invalid_token', 'the access token has been revoked');
  const scope = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  // OIDC Core §5.3: the UserInfo endpoint serves tokens issued for an OpenID Connect request.
  if (!scope.includes('openid')) throw new OAuthError('insufficient_scope', 'the access token lacks the openid scope');
  const user = await ctx.store.users.findBySub(String(claims.sub));
  if (!user) throw new OAuthError('invalid_token', 'the access token names no known user');
  // RFC 6750 §3.1: a disabled account's tokens are as good as revoked.
  if (user.disabledAt !== null) throw new OAuthError('invalid_token', 'the access token has been revoked');
  const info: UserInfo = { sub: user.sub };
  if (scope.includes('profile')) info.name = user.displayName;
  if (scope.includes('email')) Object.assign(info, { email: user.email, email_verified: user.emailVerified });
  return info;
}
