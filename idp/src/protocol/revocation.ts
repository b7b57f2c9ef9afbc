/**
 * Taking tokens back: a grant (its refresh-token family and access tokens), or everything tied
 * to an SSO session. Revoked access tokens are refused at userinfo and introspection.
 */
import type { IssuerContext } from '../context.js';

/** Revokes a grant and everything issued under it; returns the revoked access tokens' jtis. */
export async function revokeGrant(ctx: IssuerContext, grantId: string): Promise<string[]> {
  return ctx.store.refreshTokens.revokeGrant(grantId, ctx.clock.now());
}

/** Revokes the grants of an ended session, except those granted offline access. */
export async function revokeSessionGrants(ctx: IssuerContext, sessionId: string): Promise<string[]> {
  return ctx.store.refreshTokens.revokeSessionGrants(sessionId, ctx.clock.now());
}
