/**
 * Resetting a forgotten password by a link mailed to the account's address (OWASP Forgot Password
 * Cheat Sheet). Asking for a link answers the same whatever the address — an account or not,
 * throttled or not — and does the same work for a known and an unknown address (a link is stored
 * either way; only the mail differs, and it leaves in the background), so neither the page nor
 * its timing tells whether an account exists. Using the link sets the new password, voids every
 * reset link of the account, and ends all of the person's access (account-access.ts): whoever
 * knew the old password is signed out of every app, their refresh tokens revoked.
 */
import type { IssuerContext } from '../context.js';
import { issuerLink, passwordResetMessage } from '../mail/messages.js';
import type { User } from '../store/index.js';
import { endAccountAccess } from './account-access.js';
import { audit } from './audit.js';
import { findEmailLink, issueEmailLink, LINK_LIFETIMES, mayMail, useEmailLink } from './email-links.js';
import { checkNewPassword } from './password-policy.js';
import { accountThrottleKey } from './sign-in-throttle.js';

export const PASSWORD_FORGOT_PATH = '/password/forgot';
export const PASSWORD_RESET_PATH = '/password/reset';

/** An address as the request form takes it; anything else is refused before any work. */
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export type ResetRequestResult = { ok: true } | { ok: false; message: string };

/**
 * Asks for a reset link for `email`. The answer is `{ ok: true }` for any well-formed address:
 * mailed when it is an account's and the throttle allows, otherwise not, and nothing says which.
 */
export async function requestPasswordReset(
  ctx: IssuerContext,
  request: { email: string; ip: string; clientName?: string | undefined },
): Promise<ResetRequestResult> {
  const email = request.email.trim();
  if (!EMAIL.test(email)) return { ok: false, message: 'Enter the email address you sign in with.' };
  if (!(await mayMail(ctx, 'reset', email, request.ip))) {
    await audit(ctx, 'password_reset.throttled', { ip: request.ip });
    return { ok: true };
  }

  const user = await ctx.store.users.findByEmail(email);
  // A link is stored for an unknown address too (it resets nobody): the same writes either way.
  if (user) await mailPasswordResetLink(ctx, user, request.clientName);
  else await issueEmailLink(ctx, { purpose: 'password_reset', userId: null, email });
  await audit(ctx, 'password_reset.requested', {
    subject: user?.sub ?? null,
    ip: request.ip,
    detail: { account: user !== undefined },
  });
  return { ok: true };
}

/**
 * Mails `user` a new reset link (voiding the one before): the person asked for it on the forgot
 * page, or an administrator sent it from the console.
 */
export async function mailPasswordResetLink(ctx: IssuerContext, user: User, appName?: string): Promise<void> {
  const token = await issueEmailLink(ctx, { purpose: 'password_reset', userId: user.sub, email: user.email });
  ctx.mailer.send(
    passwordResetMessage({
      to: user.email,
      url: issuerLink(ctx.config.issuer, PASSWORD_RESET_PATH, { token }),
      lifetime: LINK_LIFETIMES.password_reset,
      ...(appName !== undefined ? { appName } : {}),
    }),
    ctx.log,
  );
}

/** The account a reset link opens, if the link is still good (looking does not use it). */
export async function passwordResetFor(ctx: IssuerContext, token: string | undefined): Promise<User | undefined> {
  const link = await findEmailLink(ctx, token, 'password_reset');
  return link?.userId ? ctx.store.users.findBySub(link.userId) : undefined;
}

export type ResetResult =
  | { kind: 'done'; user: User }
  /** Used, expired, voided by a newer link or by a reset, or never ours. */
  | { kind: 'invalid-link' }
  /** The new password was refused; the link is still good. */
  | { kind: 'refused'; message: string };

/** Sets the new password through the link `token`, ending all of the person's access. */
export async function resetPassword(
  ctx: IssuerContext,
  reset: { token: string | undefined; password: string; confirmation: string; ip: string },
): Promise<ResetResult> {
  const user = await passwordResetFor(ctx, reset.token);
  if (!user) return { kind: 'invalid-link' };
  if (reset.password !== reset.confirmation)
    return { kind: 'refused', message: 'The two passwords are not the same. Type the new password twice.' };
  const refusal = checkNewPassword(reset.password, { email: user.email, displayName: user.displayName });
  if (refusal) return { kind: 'refused', message: refusal.reason };
  // Hashed before the link is used, so the use and the change are as close together as can be.
  const passwordHash = await ctx.passwords.hash(reset.password);
  // The conditional update decides: of two submissions of one link, one sets a password.
  if (!(await useEmailLink(ctx, reset.token, 'password_reset'))) return { kind: 'invalid-link' };
  const now = ctx.clock.now();
  await ctx.store.users.updatePasswordHash(user.sub, passwordHash, now);
  // Any other reset link (one asked for twice) would set the password again: none is left.
  await ctx.store.emailLinks.voidForUser(user.sub, 'password_reset', now);
  // The person proved they hold the address: failed guesses on the account no longer block them.
  await ctx.store.signInThrottles.clear(accountThrottleKey(ctx.config, user.email));
  const ended = await endAccountAccess(ctx, user.sub, { ip: reset.ip, actor: user.sub, reason: 'password_reset' });
  await audit(ctx, 'password.reset', { subject: user.sub, ip: reset.ip, detail: { ...ended } });
  return { kind: 'done', user };
}
