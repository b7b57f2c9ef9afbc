/**
 * Single-use links mailed to a person: a random token in the link, only its SHA-256 digest in the
 * store (store/email-links.ts), an expiry per purpose, used once, and voided by a newer link of the
 * same purpose for the same person. Opening a link's page does not use it (mail scanners fetch
 * links); submitting that page's form does, by a conditional update that one request wins.
 *
 * Lifetimes (OWASP Forgot Password Cheat Sheet: short-lived, single-use tokens):
 * - password reset, 30 minutes: the link alone takes over the account, so it is good for as long
 *   as a person needs to open the mail they just asked for, no longer;
 * - a change of address, 1 hour: it moves the account's address (where the next reset link goes),
 *   but only for a person who signed in afresh to ask for it;
 * - verifying a new account's address, 24 hours: it grants nothing but proof that the address is
 *   the person's, and sign-up mail is often read later;
 * - an invitation, 7 days: an operator sends it, to someone who may be away; it lets that address
 *   sign up, nothing more.
 */
import type { IssuerContext } from '../context.js';
import { digest } from '../crypto/digest.js';
import { randomId, randomSecret } from '../crypto/random.js';
import { type EmailLink, type EmailLinkPurpose, normalizeEmail, type Store, type ThrottleKey } from '../store/index.js';
import { accountThrottleKey, ipThrottleKey, policyOf, type ThrottleRule } from './sign-in-throttle.js';

const MINUTE = 60;
const HOUR = 60 * MINUTE;

/** How long each kind of link works, in seconds (why: above). */
export const LINK_LIFETIMES: Record<EmailLinkPurpose, number> = {
  password_reset: 30 * MINUTE,
  email_change: HOUR,
  email_verification: 24 * HOUR,
  invitation: 7 * 24 * HOUR,
};

/** A token as links carry it: 32 random bytes, base64url. Anything else is no token of ours. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Makes a link's token and stores its digest for `purpose`, voiding the holder's older link of
 * that purpose. Returns the token, which only the mail will carry.
 */
export async function issueEmailLink(
  ctx: Pick<IssuerContext, 'store' | 'clock'>,
  link: { purpose: EmailLinkPurpose; userId: string | null; email: string },
): Promise<string> {
  const token = randomSecret();
  const now = ctx.clock.now();
  await ctx.store.emailLinks.issue({
    digest: digest(token),
    purpose: link.purpose,
    userId: link.userId,
    email: normalizeEmail(link.email),
    createdAt: now,
    expiresAt: now + LINK_LIFETIMES[link.purpose] * 1000,
  });
  return token;
}

/** The link `token` opens for `purpose`, if it is still good; it is not used by looking. */
export async function findEmailLink(
  ctx: IssuerContext,
  token: string | undefined,
  purpose: EmailLinkPurpose,
): Promise<EmailLink | undefined> {
  if (token === undefined || !TOKEN.test(token)) return undefined;
  return ctx.store.emailLinks.findUsable(digest(token), purpose, ctx.clock.now());
}

/** Uses the link `token` opens for `purpose`: it to one caller, undefined to every other. */
export async function useEmailLink(
  ctx: IssuerContext,
  token: string | undefined,
  purpose: EmailLinkPurpose,
): Promise<EmailLink | undefined> {
  if (token === undefined || !TOKEN.test(token)) return undefined;
  return ctx.store.emailLinks.use(digest(token), purpose, ctx.clock.now());
}

const MINUTE_MS = 60_000;

/**
 * Mail asked for, per address: three in a row (a mail that is slow, or in the spam folder), then a
 * growing wait, and a lock for an hour after ten: each request is a mail to someone's inbox, and
 * this keeps the issuer from being used to flood one.
 */
export const MAIL_ADDRESS_THROTTLE: ThrottleRule = {
  threshold: 3,
  baseDelay: MINUTE_MS,
  maxDelay: 15 * MINUTE_MS,
  lockAfter: 10,
  lockFor: 60 * MINUTE_MS,
  forgetAfter: 60 * MINUTE_MS,
};

/** Mail asked for, per IP (per /64): room for a shared address, not for walking a list of addresses. */
export const MAIL_IP_THROTTLE: ThrottleRule = {
  threshold: 10,
  baseDelay: MINUTE_MS,
  maxDelay: 15 * MINUTE_MS,
  lockAfter: 30,
  lockFor: 60 * MINUTE_MS,
  forgetAfter: 60 * MINUTE_MS,
};

/** What a request mails: each kind counted apart, so asking for one never blocks another. */
export type MailRequestKind = 'reset' | 'sign-up' | 'verify' | 'change';

const ADDRESS_POLICY = policyOf(MAIL_ADDRESS_THROTTLE);
const IP_POLICY = policyOf(MAIL_IP_THROTTLE);

/**
 * The keys, in namespaces of their own in the sign-in throttle's store: `<kind>-account:` + the
 * sign-in throttle's HMAC of the address (the table never holds an address), `<kind>-ip:` + the IP.
 */
const mailThrottleKeys = (ctx: IssuerContext, kind: MailRequestKind, email: string, ip: string): ThrottleKey[] => [
  { key: `${kind}-${accountThrottleKey(ctx.config, email)}`, policy: ADDRESS_POLICY },
  { key: `${kind}-${ipThrottleKey(ip)}`, policy: IP_POLICY },
];

const SWEEP_EVERY = 10 * MINUTE_MS;
const nextSweep = new WeakMap<Store, number>();

/** Forgotten counters go now and then, as the sign-in throttle's own do. */
async function sweepForgotten(ctx: IssuerContext, now: number): Promise<void> {
  if ((nextSweep.get(ctx.store) ?? 0) > now) return;
  nextSweep.set(ctx.store, now + SWEEP_EVERY);
  for (const kind of ['reset', 'sign-up', 'verify', 'change'] satisfies MailRequestKind[]) {
    await ctx.store.signInThrottles.deleteForgotten(`${kind}-account:`, ADDRESS_POLICY, now);
    await ctx.store.signInThrottles.deleteForgotten(`${kind}-ip:`, IP_POLICY, now);
  }
}

/**
 * Counts a request that may mail `email` from `ip`, and says whether it may: every request counts,
 * answered or not, since what is limited is mail sent, not failures.
 */
export async function mayMail(ctx: IssuerContext, kind: MailRequestKind, email: string, ip: string): Promise<boolean> {
  const now = ctx.clock.now();
  await sweepForgotten(ctx, now);
  const keys = mailThrottleKeys(ctx, kind, email, ip);
  const attempt = randomId();
  const reservation = await ctx.store.signInThrottles.reserve(attempt, keys, now, now + MINUTE_MS);
  if (reservation.outcome !== 'reserved') return false;
  await ctx.store.signInThrottles.countFailure(attempt, keys, ctx.clock.now());
  return true;
}
