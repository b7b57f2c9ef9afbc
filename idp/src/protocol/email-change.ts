/**
 * Changing a person's email address from the account page (after a fresh sign-in): a link is
 * mailed to the new address, and the change happens only when it is followed, so an account never
 * moves to an address nobody proved is theirs. Once it moves, the old address is told, without a
 * link (see emailChangedNotice), every pending reset or change link is voided (a reset link mailed
 * to the old address would otherwise still open the account), and two people claiming one address
 * are decided by the unique index on users.email: one moves, the other is told the address is taken.
 */
import type { IssuerContext } from '../context.js';
import { emailChangedNotice, emailChangeMessage, issuerLink } from '../mail/messages.js';
import { EmailTakenError, normalizeEmail, type User } from '../store/index.js';
import { audit } from './audit.js';
import { findEmailLink, issueEmailLink, LINK_LIFETIMES, mayMail, useEmailLink } from './email-links.js';

export const EMAIL_CHANGE_PATH = '/account/email';
export const EMAIL_CHANGE_CONFIRM_PATH = '/account/email/confirm';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export type EmailChangeRequest = { ok: true; email: string } | { ok: false; message: string };

/**
 * Mails the new address a link. An address that is another account's is answered the same and
 * mailed nothing: the page does not tell a signed-in person which addresses have accounts.
 */
export async function requestEmailChange(
  ctx: IssuerContext,
  user: User,
  newEmail: string,
  ip: string,
): Promise<EmailChangeRequest> {
  const email = newEmail.trim();
  if (email.length > 320 || !EMAIL.test(email)) return { ok: false, message: 'Enter a valid email address.' };
  if (normalizeEmail(email) === user.email) return { ok: false, message: 'That is your address already.' };
  if (!(await mayMail(ctx, 'change', email, ip))) return { ok: true, email };
  const token = await issueEmailLink(ctx, { purpose: 'email_change', userId: user.sub, email });
  await audit(ctx, 'email.change_requested', { subject: user.sub, ip });
  if (!(await ctx.store.users.findByEmail(email)))
    ctx.mailer.send(
      emailChangeMessage({
        to: email,
        name: user.displayName,
        url: issuerLink(ctx.config.issuer, EMAIL_CHANGE_CONFIRM_PATH, { token }),
        lifetime: LINK_LIFETIMES.email_change,
      }),
      ctx.log,
    );
  return { ok: true, email };
}

/** Whether a change link is good (looking does not use it). */
export async function emailChangeLinkIsGood(ctx: IssuerContext, token: string | undefined): Promise<boolean> {
  return (await findEmailLink(ctx, token, 'email_change')) !== undefined;
}

export type EmailChangeResult = { kind: 'done'; email: string } | { kind: 'invalid-link' } | { kind: 'taken' };

/** Follows a change link: the account moves to the address it was mailed to. */
export async function confirmEmailChange(
  ctx: IssuerContext,
  token: string | undefined,
  ip: string,
): Promise<EmailChangeResult> {
  const link = await useEmailLink(ctx, token, 'email_change');
  if (!link?.userId) return { kind: 'invalid-link' };
  const user = await ctx.store.users.findBySub(link.userId);
  if (!user) return { kind: 'invalid-link' };
  const now = ctx.clock.now();
  try {
    if (!(await ctx.store.users.changeEmail(user.sub, user.email, link.email, now))) return { kind: 'invalid-link' };
  } catch (e) {
    if (e instanceof EmailTakenError) return { kind: 'taken' };
    throw e;
  }
  await ctx.store.emailLinks.voidForUser(user.sub, 'email_change', now);
  await ctx.store.emailLinks.voidForUser(user.sub, 'password_reset', now);
  await audit(ctx, 'email.changed', { subject: user.sub, ip });
  ctx.mailer.send(emailChangedNotice({ to: user.email, newEmail: link.email, name: user.displayName }), ctx.log);
  return { kind: 'done', email: link.email };
}
