/**
 * Taking tokens back: a grant (its refresh-token family and access tokens), or everything tied
 * to an SSO session. Revoked access tokens are refused at userinfo and introspection, and their
 * bits are set in the token status lists, so stateless APIs refuse them too
 * (draft-ietf-oauth-status-list-21 §8.3).
 */
import type { IssuerContext } from '../context.js';

/** Revokes a grant and everything issued under it; returns the revoked access tokens' jtis. */
export async function revokeGrant(ctx: IssuerContext, grantId: string): Promise<string[]> {
  const jtis = await ctx.store.refreshTokens.revokeGrant(grantId, ctx.clock.now());
  await ctx.statusLists.revoked(jtis);
  return jtis;
}

/** Revokes the grants of an ended session, except those granted offline access. */
export async function revokeSessionGrants(ctx: IssuerContext, sessionId: string): Promise<string[]> {
  const jtis = await ctx.store.refreshTokens.revokeSessionGrants(sessionId, ctx.clock.now());
  await ctx.statusLists.revoked(jtis);
  return jtis;
}
