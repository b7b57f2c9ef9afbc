/**
 * Ending all of a person's access at once: when their password was reset, their account disabled
 * or deleted. Every SSO session ends (each app told by back-channel logout, OIDC Back-Channel
 * Logout 1.0 §2.5) and every grant is revoked, offline ones too (RFC 6749 §10.4: a refresh token
 * outlives no change that says its holder may no longer be the person).
 */
import type { IssuerContext } from '../context.js';
import { audit } from './audit.js';
import { endSsoSession } from './end-session.js';

/** Why a person's access ended; recorded in the audit trail. */
export type AccessEndReason = 'password_reset' | 'account_disabled' | 'account_deleted' | 'ended_by_admin';

export interface AccessEnded {
  /** Sessions that were active and are now ended. */
  sessions: number;
  /** Access tokens revoked with their grants (their status-list bits set). */
  accessTokens: number;
}

/**
 * Ends every session of `sub` and revokes all their grants. `actor` is who asked: the person
 * themselves, or an administrator's `sub`. Safe to run twice or concurrently: each session and
 * grant ends once (the store's conditional updates), and a second run finds nothing left.
 */
export async function endAccountAccess(
  ctx: IssuerContext,
  sub: string,
  how: { ip: string | null; actor: string; reason: AccessEndReason },
): Promise<AccessEnded> {
  // Tokens first, so none is honoured while the sessions end; then the sessions (whose own
  // revocation finds their grants revoked already), each app told.
  const jtis = await ctx.store.refreshTokens.revokeUserGrants(sub, ctx.clock.now());
  await ctx.statusLists.revoked(jtis);
  let sessions = 0;
  for (const session of await ctx.store.sessions.listActiveForUser(sub)) {
    if (await endSsoSession(ctx, session)) sessions++;
  }
  await audit(ctx, 'account.access_ended', {
    subject: sub,
    ip: how.ip,
    detail: { reason: how.reason, actor: how.actor, sessions, accessTokens: jtis.length },
  });
  return { sessions, accessTokens: jtis.length };
}
