/** Minting the ID token (OIDC Core §2, §3.1.3.6) and the access token (RFC 9068). */
import { TOKEN_TYPES } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { epochSeconds } from '@tessera/shared';
import { randomId } from '../crypto/random.js';
import type { StatusListPosition, User } from '../store/index.js';
import { accessTokenAudience, userinfoEndpointOf } from './resource.js';

export interface TokenSubject {
  user: User;
  clientId: string;
  sessionId: string;
  scope: string[];
  resource: string;
  /** Milliseconds. */
  authTime: number;
}

/**
 * RFC 9068 §2.2: iss, exp, aud (see accessTokenAudience), sub, client_id, iat, jti, plus scope and
 * session, and where the token's status lives (draft-ietf-oauth-status-list-21 §6.1).
 */
export async function mintAccessToken(
  ctx: IssuerContext,
  s: TokenSubject,
): Promise<{ token: string; jti: string; expiresAt: number; status: StatusListPosition }> {
  const iat = epochSeconds(ctx.clock);
  const exp = iat + ctx.config.accessTokenTtl;
  const jti = randomId();
  const status = await ctx.statusLists.allocate();
  const claims: Record<string, unknown> = {
    iss: ctx.config.issuer,
    sub: s.user.sub,
    aud: accessTokenAudience(s.resource, s.scope, userinfoEndpointOf(ctx.config.issuer)),
    client_id: s.clientId,
    scope: s.scope.join(' '),
    sid: s.sessionId,
    auth_time: Math.floor(s.authTime / 1000),
    jti,
    iat,
    exp,
    // draft-ietf-oauth-status-list-21 §6.2: a stateless API learns of a revocation from this list.
    status: { status_list: { idx: status.index, uri: status.uri } },
  };
  // So an API can show who is calling without a call back to the issuer.
  if (s.scope.includes('email')) Object.assign(claims, { email: s.user.email, email_verified: false });
  if (s.scope.includes('profile')) claims.name = s.user.displayName;
  const token = await ctx.keys.sign(claims, TOKEN_TYPES.accessToken);
  return { token, jti, expiresAt: exp * 1000, status: { list: status.list, index: status.index } };
}

/** OIDC Core §2: the ID token; `at_hash` binds it to the access token issued with it. */
export async function mintIdToken(
  ctx: IssuerContext,
  s: TokenSubject,
  extra: { nonce: string | null; accessToken: string },
): Promise<string> {
  const iat = epochSeconds(ctx.clock);
  const claims: Record<string, unknown> = {
    iss: ctx.config.issuer,
    sub: s.user.sub,
    aud: s.clientId,
    exp: iat + ctx.config.idTokenTtl,
    iat,
    auth_time: Math.floor(s.authTime / 1000),
    sid: s.sessionId,
    at_hash: ctx.keys.tokenHash(extra.accessToken),
  };
  if (extra.nonce !== null) claims.nonce = extra.nonce;
  return ctx.keys.sign(claims, 'JWT');
}
