/**
 * Token introspection (RFC 7662). Only authenticated confidential clients may ask (§2.1). A
 * token is active only if we issued it, it is unexpired and unrevoked, and the asking client
 * may see it: its own tokens, or access tokens for one of its resources. Anything else is
 * `{ "active": false }` — the same answer for revoked, expired, unknown or foreign (§2.2).
 */
import { OAuthError, acrForMethods } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import type { Client } from '../store/index.js';
import { InvalidClientError } from './client-auth.js';
import { isActive } from './sso-session.js';
import { lookUpToken } from './token-lookup.js';

export type Introspection = { active: false } | ({ active: true } & Record<string, unknown>);

const INACTIVE: Introspection = { active: false };

/** A disabled person's tokens are as good as revoked. A machine client's token names no person. */
async function ofDisabledAccount(ctx: IssuerContext, sub: unknown): Promise<boolean> {
  if (typeof sub !== 'string') return false;
  const user = await ctx.store.users.findBySub(sub);
  return user !== undefined && user.disabledAt !== null;
}

/** Introspects `value` for an authenticated `client`; throws invalid_client or invalid_request. */
export async function introspectToken(
  ctx: IssuerContext,
  client: Client,
  value: string | undefined,
): Promise<Introspection> {
  // §2.1: the caller must authenticate; a public client cannot.
  if (client.type !== 'confidential')
    throw new InvalidClientError('introspection requires a confidential client', false);
  if (!value) throw new OAuthError('invalid_request', 'token is required');
  const found = await lookUpToken(ctx, value, { ignoreExpiry: false });
  if (found.kind === 'access_token') {
    const c = found.claims;
    const audiences = Array.isArray(c.aud) ? c.aud : c.aud ? [c.aud] : [];
    const visible = c.client_id === client.id || audiences.some((a) => client.allowedResources.includes(a));
    if (!visible || typeof c.jti !== 'string' || !(await ctx.store.grants.isAccessTokenActive(c.jti))) return INACTIVE;
    if (await ofDisabledAccount(ctx, c.sub)) return INACTIVE;
    return {
      active: true,
      token_type: 'Bearer',
      scope: c.scope,
      client_id: c.client_id,
      sub: c.sub,
      aud: c.aud,
      iss: c.iss,
      exp: c.exp,
      iat: c.iat,
      jti: c.jti,
      ...(c.sid ? { sid: c.sid } : {}),
      // RFC 9470 §6.2 (RFC 7662 §2.2 allows any claim): how the person signed in, as the token states it.
      ...(c.acr === undefined ? {} : { acr: c.acr, amr: c.amr, auth_time: c.auth_time }),
      // RFC 9449 §6.2: a resource that introspects learns the key the token is bound to.
      ...(c.cnf && typeof c.cnf === 'object' ? { cnf: c.cnf, token_type: 'DPoP' } : {}),
    };
  }
  if (found.kind === 'refresh_token') {
    const { token, grant } = found;
    const now = ctx.clock.now();
    if (
      grant.clientId !== client.id ||
      token.rotatedAt !== null ||
      token.revokedAt !== null ||
      grant.revokedAt !== null
    )
      return INACTIVE;
    if (token.expiresAt <= now || (grant.expiresAt !== null && grant.expiresAt <= now)) return INACTIVE;
    if (await ofDisabledAccount(ctx, grant.userId)) return INACTIVE;
    if (!grant.offline) {
      const session = await ctx.store.sessions.findById(grant.sessionId);
      if (!session || !isActive(ctx, session)) return INACTIVE;
    }
    const exp = Math.floor(Math.min(token.expiresAt, grant.expiresAt ?? Infinity) / 1000);
    return {
      active: true,
      token_type: 'refresh_token',
      scope: grant.scope,
      client_id: grant.clientId,
      sub: grant.userId,
      acr: acrForMethods(grant.amr),
      amr: grant.amr,
      iss: ctx.config.issuer,
      exp,
      iat: Math.floor(token.createdAt / 1000),
    };
  }
  return INACTIVE;
}
