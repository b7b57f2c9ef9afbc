/**
 * Creating an account at /sign-up, as the policy allows (TESSERA_SIGN_UP): anyone (`open`), only
 * an address an invitation was mailed to, through its link (`invite`), or nobody (`closed`).
 *
 * An address is verified before the account can sign in to anything: a new account's address is
 * unverified until the person follows the link mailed there, and sign-in refuses it until then
 * (sign-in.ts), sending a new link. Letting it in with `email_verified: false` instead would leave
 * each app to check the claim, and one that did not would take the address as proof: an attacker
 * could create an account with a victim's address before the victim does (account
 * pre-hijacking) and sit in it. An invited account is verified at once: its link went to the address.
 *
 * No enumeration: signing up with an address that has an account answers the same page as a new
 * one, after the same work (the password is hashed either way), and the mail tells the owner
 * instead ("you already have an account").
 */
import type { IssuerContext } from '../context.js';
import { randomId } from '../crypto/random.js';
import { accountExistsMessage, emailVerificationMessage, invitationMessage, issuerLink } from '../mail/messages.js';
import { EmailTakenError, type User } from '../store/index.js';
import { audit } from './audit.js';
import { findEmailLink, issueEmailLink, LINK_LIFETIMES, mayMail, useEmailLink } from './email-links.js';
import { PASSWORD_FORGOT_PATH } from './password-reset.js';
import { checkNewPassword } from './password-policy.js';
import { RegistrationError } from './registration.js';
import type { Mailer } from '../mail/mailer.js';

export const SIGN_UP_PATH = '/sign-up';
export const VERIFY_EMAIL_PATH = '/email/verify';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

/** Whether /sign-up shows a form: always when open; with an invitation's link when by invitation. */
export async function signUpInvitation(
  ctx: IssuerContext,
  invitation: string | undefined,
): Promise<{ kind: 'closed' } | { kind: 'open' } | { kind: 'invited'; email: string } | { kind: 'bad-invitation' }> {
  if (ctx.config.signUp === 'closed') return { kind: 'closed' };
  if (invitation === undefined && ctx.config.signUp === 'open') return { kind: 'open' };
  const link = await findEmailLink(ctx, invitation, 'invitation');
  return link ? { kind: 'invited', email: link.email } : { kind: 'bad-invitation' };
}

export type SignUpResult =
  | { kind: 'closed' }
  | { kind: 'bad-invitation' }
  /** The form's values are refused: nothing was stored. */
  | { kind: 'refused'; message: string }
  /** The one answer whatever the address: a link is on its way (or the owner was told). */
  | { kind: 'check-email' }
  /** An invited account, verified by its invitation: it may sign in now. */
  | { kind: 'ready'; user: User };

export async function signUp(
  ctx: IssuerContext,
  form: { name: string; email: string; password: string; invitation?: string | undefined; ip: string },
): Promise<SignUpResult> {
  const opened = await signUpInvitation(ctx, form.invitation);
  if (opened.kind === 'closed' || opened.kind === 'bad-invitation') return opened;
  // An invitation is for the address it was mailed to, whatever the form says.
  const email = opened.kind === 'invited' ? opened.email : form.email.trim();
  const name = form.name.trim();
  if (name.length < 1 || name.length > 200)
    return { kind: 'refused', message: 'Enter your name (at most 200 characters).' };
  if (email.length > 320 || !EMAIL.test(email)) return { kind: 'refused', message: 'Enter a valid email address.' };
  const refusal = checkNewPassword(form.password, { email, displayName: name });
  if (refusal) return { kind: 'refused', message: refusal.reason };
  if (!(await mayMail(ctx, 'sign-up', email, form.ip))) {
    await audit(ctx, 'sign_up.throttled', { ip: form.ip });
    return { kind: 'check-email' };
  }
  // Hashed whether or not the address has an account: the same work either way.
  const passwordHash = await ctx.passwords.hash(form.password);
  const existing = await ctx.store.users.findByEmail(email);
  if (existing) return tellOwner(ctx, existing, form.ip);
  if (opened.kind === 'invited' && !(await useEmailLink(ctx, form.invitation, 'invitation')))
    return { kind: 'bad-invitation' };
  let user: User;
  try {
    user = await ctx.store.users.create({
      sub: randomId(),
      email,
      displayName: name,
      passwordHash,
      emailVerified: opened.kind === 'invited',
      now: ctx.clock.now(),
    });
  } catch (e) {
    // Another sign-up took the address between the read and the insert: its owner is told.
    if (!(e instanceof EmailTakenError)) throw e;
    const owner = await ctx.store.users.findByEmail(email);
    return owner ? tellOwner(ctx, owner, form.ip) : { kind: 'check-email' };
  }
  await audit(ctx, 'user.signed_up', { subject: user.sub, ip: form.ip, detail: { policy: ctx.config.signUp } });
  if (opened.kind === 'invited') return { kind: 'ready', user };
  await mailVerificationLink(ctx, user);
  return { kind: 'check-email' };
}

async function tellOwner(ctx: IssuerContext, owner: User, ip: string): Promise<SignUpResult> {
  await audit(ctx, 'sign_up.address_taken', { subject: owner.sub, ip });
  ctx.mailer.send(
    accountExistsMessage({
      to: owner.email,
      signInUrl: issuerLink(ctx.config.issuer, '/account'),
      resetUrl: issuerLink(ctx.config.issuer, PASSWORD_FORGOT_PATH),
    }),
    ctx.log,
  );
  return { kind: 'check-email' };
}

/** Mails `user` a new link to verify their address, voiding the one before. */
export async function mailVerificationLink(ctx: IssuerContext, user: User): Promise<void> {
  const token = await issueEmailLink(ctx, { purpose: 'email_verification', userId: user.sub, email: user.email });
  ctx.mailer.send(
    emailVerificationMessage({
      to: user.email,
      name: user.displayName,
      url: issuerLink(ctx.config.issuer, VERIFY_EMAIL_PATH, { token }),
      lifetime: LINK_LIFETIMES.email_verification,
    }),
    ctx.log,
  );
}

/**
 * A person with an unverified address gave the right password: they are refused, and sent a new
 * link, as often as the mail throttle allows (a lost first mail is the usual reason to be here).
 */
export async function refuseUnverified(ctx: IssuerContext, user: User, ip: string): Promise<string> {
  await audit(ctx, 'sign_in.unverified', { subject: user.sub, ip });
  if (await mayMail(ctx, 'verify', user.email, ip)) await mailVerificationLink(ctx, user);
  return 'Confirm your email address first: we have mailed you a link to do it. Follow it, then sign in.';
}

/** Whether a verification link is good (looking does not use it). */
export async function verificationLinkIsGood(ctx: IssuerContext, token: string | undefined): Promise<boolean> {
  return (await findEmailLink(ctx, token, 'email_verification')) !== undefined;
}

/** Uses a verification link: the address is verified if it is still the account's. */
export async function verifyEmail(ctx: IssuerContext, token: string | undefined): Promise<boolean> {
  const link = await useEmailLink(ctx, token, 'email_verification');
  if (!link?.userId) return false;
  if (!(await ctx.store.users.markEmailVerified(link.userId, link.email, ctx.clock.now()))) return false;
  await audit(ctx, 'email.verified', { subject: link.userId });
  return true;
}

/**
 * Mails `email` an invitation to sign up (the CLI's `users invite`, and the admin console's):
 * refused when sign-up is closed, or when the address has an account already.
 */
export async function inviteByEmail(
  deps: Pick<IssuerContext, 'store' | 'clock' | 'config'> & { mailer: Mailer },
  email: string,
  actor: string,
): Promise<void> {
  if (deps.config.signUp === 'closed')
    throw new RegistrationError('sign-up is closed (TESSERA_SIGN_UP=closed): an invitation could not be used');
  const address = email.trim();
  if (address.length > 320 || !EMAIL.test(address)) throw new RegistrationError('email is not a valid address');
  if (await deps.store.users.findByEmail(address)) throw new RegistrationError(`${address} has an account already`);
  const token = await issueEmailLink(deps, { purpose: 'invitation', userId: null, email: address });
  deps.mailer.send(
    invitationMessage({
      to: address,
      url: issuerLink(deps.config.issuer, SIGN_UP_PATH, { invitation: token }),
      lifetime: LINK_LIFETIMES.invitation,
    }),
  );
  await audit(deps, 'user.invited', { detail: { actor } });
}
