/**
 * A person changing their own password on the account page. The current password proves it is
 * them (checked under the sign-in throttle), or, for someone who signs in without one (a passkey),
 * a fresh sign-in the route asks for first (routes/fresh-sign-in.ts). The new password meets the
 * policy (password-policy.ts). Other sessions end only if the person asks: a change made because
 * the password may be known to someone else should end what that someone opened with it.
 */
import type { IssuerContext } from '../context.js';
import type { SsoSession, User } from '../store/index.js';
import { audit } from './audit.js';
import { checkCurrentPassword } from './current-password.js';
import { endOtherDevices } from './devices.js';
import { checkNewPassword } from './password-policy.js';
import { isFreshSignIn } from './sso-session.js';

/** The new password cannot be set as given; `message` says why, for the person. */
export class NewPasswordRefused extends Error {
  constructor(
    readonly rule: 'mismatch' | 'policy',
    message: string,
  ) {
    super(message);
    this.name = 'NewPasswordRefused';
  }
}

export interface PasswordChange {
  /** Null when the session's fresh sign-in stands for it (no password-only sign-in to give). */
  currentPassword: string | null;
  newPassword: string;
  /** The new password typed again: a typo in a hidden field would lock the person out. */
  repeated: string;
  /** "Sign out my other devices": their sessions end, and every grant but this session's is revoked. */
  endOtherSessions: boolean;
  ip: string;
}

export interface PasswordChanged {
  /** Other sessions ended (each app told by back-channel logout). */
  endedSessions: number;
  /** Access tokens revoked with the other grants (their status-list bits set). */
  revokedAccessTokens: number;
}

/**
 * Changes `user`'s password from `session`. Throws NewPasswordRefused or CurrentPasswordRefused,
 * changing nothing; the new password is checked before the current one, so a refused new password
 * costs no attempt of the throttle.
 */
export async function changePassword(
  ctx: IssuerContext,
  session: SsoSession,
  user: User,
  change: PasswordChange,
): Promise<PasswordChanged> {
  if (session.userId !== user.sub) throw new Error('the session is not this person’s');
  if (change.newPassword !== change.repeated)
    throw new NewPasswordRefused('mismatch', 'The two new passwords differ. Type the same new password twice.');
  const refusal = checkNewPassword(change.newPassword, user);
  if (refusal) throw new NewPasswordRefused('policy', refusal.reason);
  if (change.currentPassword !== null)
    await checkCurrentPassword(ctx, user, change.currentPassword, change.ip, 'password_change');
  // The route's gate (requireFreshSignIn) answered already; this guards a caller that forgot it.
  else if (!isFreshSignIn(ctx, session))
    throw new Error('a password change without the current password needs a fresh sign-in');

  await ctx.store.users.updatePasswordHash(user.sub, await ctx.passwords.hash(change.newPassword), ctx.clock.now());
  let changed: PasswordChanged = { endedSessions: 0, revokedAccessTokens: 0 };
  if (change.endOtherSessions) {
    // Tokens first, offline ones too (RFC 6749 §10.4: a refresh token outlives no change that
    // says its holder may not be the person); this session's grants are the person's own.
    const jtis = await ctx.store.refreshTokens.revokeUserGrants(user.sub, ctx.clock.now(), { sessionId: session.id });
    await ctx.statusLists.revoked(jtis);
    changed = { endedSessions: await endOtherDevices(ctx, session, change.ip), revokedAccessTokens: jtis.length };
  }
  await audit(ctx, 'password.changed', {
    subject: user.sub,
    ip: change.ip,
    detail: {
      proof: change.currentPassword === null ? 'fresh_sign_in' : 'current_password',
      other_sessions_ended: changed.endedSessions,
      access_tokens_revoked: changed.revokedAccessTokens,
    },
  });
  return changed;
}
