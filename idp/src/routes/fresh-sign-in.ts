/**
 * The fresh sign-in gate of the account page's security changes (a second factor, a passkey,
 * recovery codes): a session signed in too long ago is sent to sign in again — the password, or
 * whatever sign-in the page offers — and comes back to the page it was on.
 *
 * A change posted with such a session is not made, and it is never replayed after the sign-in: a
 * change is made only by a request the person sends with a fresh sign-in, from a page they see (a
 * stored POST replayed later would act on a form they may have left long ago, or never sent). The
 * page they come back to is told (`?again=1`, INTERRUPTED_CHANGE) so it can say what to do.
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

/** The query parameter of a page returned to after a change it posted was stopped by the gate. */
export const INTERRUPTED_CHANGE = 'again';

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
  const back =
    c.req.method === 'POST' ? `${returnTo}${returnTo.includes('?') ? '&' : '?'}${INTERRUPTED_CHANGE}=1` : returnTo;
  const interaction = await startInteraction(ctx, null, browserBinding(c, ctx.config), back);
  return c.redirect(`${ISSUER_PATHS.signIn}?interaction=${encodeURIComponent(interaction.id)}`, 303);
}
