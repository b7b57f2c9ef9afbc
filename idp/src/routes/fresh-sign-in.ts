/**
 * The fresh sign-in gate of the account page's security changes (a second factor, a passkey,
 * recovery codes): a session signed in too long ago is sent to sign in again — the password, or
 * whatever sign-in the page offers — and comes back to the page it was on.
 */
import type { Context } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { browserBinding } from '../http/cookies.js';
import type { Env } from '../http/env.js';
import { startInteraction } from '../protocol/authorize.js';
import { hasEnrolledSecondFactor } from '../protocol/second-factor.js';
import { isFreshSignIn } from '../protocol/sso-session.js';
import type { SsoSession } from '../store/index.js';

/**
 * Undefined when `session` signed in recently enough; else the redirect to a sign-in that returns
 * to `returnTo`. `returnTo` must be a path of the issuer's own (the sign-in redirects to it as
 * stored): callers pass a constant, never a request's value.
 */
export async function requireFreshSignIn(
  c: Context<Env>,
  ctx: IssuerContext,
  session: SsoSession,
  returnTo: string,
): Promise<Response | undefined> {
  // A session of a person with a second factor counts only if it was signed in with it.
  const complete = session.amr.includes('mfa') || !(await hasEnrolledSecondFactor(ctx, session.userId));
  if (isFreshSignIn(ctx, session) && complete) return undefined;
  const interaction = await startInteraction(ctx, null, browserBinding(c, ctx.config), returnTo);
  return c.redirect(`${ISSUER_PATHS.signIn}?interaction=${encodeURIComponent(interaction.id)}`, 303);
}
