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
import { randomSecret } from '../crypto/random.js';
import { type EmailLink, type EmailLinkPurpose, normalizeEmail } from '../store/index.js';

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
  ctx: IssuerContext,
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
