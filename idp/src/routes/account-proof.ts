/**
 * What the account's password change and deletion share: the signed-in person for a page, an
 * account form's checks (readAccountForm: the CSRF token bound to the session and a same-origin
 * check), and the proof that it is them — their current password, or, left empty as someone who
 * signs in with a passkey leaves it, a fresh sign-in (routes/fresh-sign-in.ts).
 */
import { ISSUER_PATHS } from '@tessera/shared';
import type { Context } from 'hono';
import type { IssuerContext } from '../context.js';
import { readSessionCookie } from '../http/cookies.js';
import type { Env } from '../http/env.js';
import type { CurrentPasswordRefused } from '../protocol/current-password.js';
import type { Params } from '../protocol/params.js';
import { findActiveSession } from '../protocol/sso-session.js';
import type { SsoSession, User } from '../store/index.js';
import { accountCsrfToken, readAccountForm } from './account.js';
import { requireFreshSignIn } from './fresh-sign-in.js';

/** RFC 6585 §4 for a throttled current password; 401 for a wrong one, as at sign-in. */
export const statusOf = (e: CurrentPasswordRefused) => (e.reason === 'bad_credentials' ? 401 : 429);

/** The signed-in person and their CSRF token, for a page; or the redirect to sign in. */
export async function signedIn(
  ctx: IssuerContext,
  c: Context<Env>,
): Promise<{ user: User; csrfToken: string } | Response> {
  const secret = readSessionCookie(c, ctx.config);
  const session = await findActiveSession(ctx, secret);
  const user = session && (await ctx.store.users.findBySub(session.userId));
  if (!user) return c.redirect(ISSUER_PATHS.signIn, 303);
  return { user, csrfToken: accountCsrfToken(secret!) };
}

/** An account form's checks, and the person it is from. */
export async function readPersonForm(
  ctx: IssuerContext,
  c: Context<Env>,
): Promise<{ session: SsoSession; form: Params; user: User; csrfToken: string } | Response> {
  const read = await readAccountForm(ctx, c);
  if (read instanceof Response) return read;
  const user = await ctx.store.users.findBySub(read.session.userId);
  if (!user) return c.redirect(ISSUER_PATHS.signIn, 303);
  return { ...read, user, csrfToken: accountCsrfToken(readSessionCookie(c, ctx.config)!) };
}

/**
 * The current password as given, or null when left empty and the session's sign-in is fresh;
 * a Response (to the sign-in, back to `returnTo`, a constant path of ours) when it is not.
 */
export async function currentPasswordOrFresh(
  ctx: IssuerContext,
  c: Context<Env>,
  session: SsoSession,
  given: string,
  returnTo: string,
): Promise<string | null | Response> {
  if (given !== '') return given;
  return (await requireFreshSignIn(c, ctx, session, returnTo)) ?? null;
}
