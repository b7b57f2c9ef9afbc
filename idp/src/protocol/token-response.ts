/** The successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3), shared by every grant. */
import type { IssuerContext } from '../context.js';
import type { Client, Grant, RefreshToken } from '../store/index.js';
import { digest } from '../crypto/digest.js';
import { randomSecret } from '../crypto/random.js';
import { mintAccessToken, mintIdToken, type TokenSubject } from './tokens.js';

export interface TokenResponse {
  access_token: string;
  /** RFC 9449 §5.1: DPoP when the access token is bound to the request's proof key. */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  id_token?: string;
  refresh_token?: string;
}

/** A new refresh token of a grant's family: 256 random bits, only the digest stored. */
export async function newRefreshToken(
  ctx: IssuerContext,
  grantId: string,
): Promise<{ token: string; row: RefreshToken }> {
  const now = ctx.clock.now();
  const token = randomSecret(32);
  return {
    token,
    row: {
      digest: digest(token),
      grantId,
      createdAt: now,
      expiresAt: now + ctx.config.refreshTokenIdleTtl * 1000,
      rotatedAt: null,
      revokedAt: null,
    },
  };
}

/**
 * The record of a grant redeemed from a code (an authorization code or an approved device code):
 * what was granted, and the rules every such grant shares — its refresh family's absolute end, the
 * session it ends with unless offline_access was granted (OIDC Core §11), and, for a public
 * client that proved a DPoP key, that key (RFC 9449 §5: a refresh token copied out of it is then
 * useless; a confidential client's refresh tokens are already bound to its authentication).
 */
export function newGrant(
  ctx: IssuerContext,
  client: Client,
  jkt: string | undefined,
  granted: Pick<Grant, 'id' | 'userId' | 'sessionId' | 'codeDigest' | 'scope' | 'resource' | 'amr'>,
  now: number,
): Grant {
  const refreshable = client.grantTypes.includes('refresh_token');
  return {
    ...granted,
    clientId: client.id,
    createdAt: now,
    expiresAt: refreshable ? now + ctx.config.refreshTokenAbsoluteTtl * 1000 : null,
    dpopJkt: client.type === 'public' && jkt !== undefined ? jkt : null,
    offline: refreshable && granted.scope.split(' ').includes('offline_access'),
    revokedAt: null,
  };
}

/** What the store records of an issued access token: its id, expiry and status-list place. */
export interface IssuedAccessToken {
  jti: string;
  expiresAt: number;
  status: { list: number; index: number };
}

/**
 * Mints the access token and, for openid requests, the ID token — before anything is stored, so
 * each grant records the access token in the same transaction as the rest of its writes (one
 * commit per grant). A grant that then loses its race (a replayed code, a reused refresh token)
 * simply never sends what was minted.
 */
export async function mintTokenResponse(
  ctx: IssuerContext,
  subject: TokenSubject,
  opts: { nonce: string | null; refreshToken?: string },
): Promise<{ response: TokenResponse; issued: IssuedAccessToken }> {
  const access = await mintAccessToken(ctx, subject);
  const response: TokenResponse = {
    access_token: access.token,
    token_type: subject.jkt === undefined ? 'Bearer' : 'DPoP',
    expires_in: ctx.config.accessTokenTtl,
    scope: subject.scope.join(' '),
  };
  if (subject.scope.includes('openid'))
    response.id_token = await mintIdToken(ctx, subject, { nonce: opts.nonce, accessToken: access.token });
  if (opts.refreshToken) response.refresh_token = opts.refreshToken;
  return { response, issued: { jti: access.jti, expiresAt: access.expiresAt, status: access.status } };
}
