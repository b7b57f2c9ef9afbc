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
import { ACR_MFA, ISSUER_PATHS, acrForMethods, acrSatisfies } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { browserBinding } from '../http/cookies.js';
import type { Env } from '../http/env.js';
import { startInteraction } from '../protocol/authorize.js';
import { hasEnrolledSecondFactor } from '../protocol/second-factor.js';
import { isFreshSignIn } from '../protocol/sso-session.js';
import type { SsoSession } from '../store/index.js';
import { secondFactorUrl } from './paths.js';

/**
 * The redirect to a sign-in at the issuer that comes back to `returnTo`, a path of the issuer's
 * own (the sign-in redirects to it as stored): callers pass a constant, never a request's value.
 */
export async function signInFirst(c: Context<Env>, ctx: IssuerContext, returnTo: string): Promise<Response> {
  const interaction = await startInteraction(ctx, null, browserBinding(c, ctx.config), returnTo);
  return c.redirect(`${ISSUER_PATHS.signIn}?interaction=${encodeURIComponent(interaction.id)}`, 303);
}

/** The query parameter of a page returned to after a change it posted was stopped by the gate. */
export const INTERRUPTED_CHANGE = 'again';

/** `returnTo`, marked when the request stopped was a change (a POST): see INTERRUPTED_CHANGE. */
const comeBackTo = (c: Context<Env>, returnTo: string) =>
  c.req.method === 'POST' ? `${returnTo}${returnTo.includes('?') ? '&' : '?'}${INTERRUPTED_CHANGE}=1` : returnTo;

/**
 * Undefined when `session` signed in recently enough; else the redirect to a sign-in that returns
 * to `returnTo` (see signInFirst). With `secondFactor`, the session must also have been signed in
 * with two factors or a passkey (acr `urn:tessera:acr:mfa` or stronger) whether or not the person
 * enrolled one: a fresh session without is sent to the factor page for the missing factor only
 * (the step-up of routes/second-factor.ts), and back.
 */
export async function requireFreshSignIn(
  c: Context<Env>,
  ctx: IssuerContext,
  session: SsoSession,
  returnTo: string,
  options: { secondFactor?: boolean } = {},
): Promise<Response | undefined> {
  const fresh = isFreshSignIn(ctx, session);
  if (options.secondFactor) {
    if (!fresh) return signInFirst(c, ctx, comeBackTo(c, returnTo));
    if (acrSatisfies(acrForMethods(session.amr), ACR_MFA)) return undefined;
    const interaction = await startInteraction(ctx, null, browserBinding(c, ctx.config), comeBackTo(c, returnTo));
    return c.redirect(secondFactorUrl(interaction.id), 303);
  }
  // A session of a person with a second factor counts only if it was signed in with it.
  const complete = session.amr.includes('mfa') || !(await hasEnrolledSecondFactor(ctx, session.userId));
  if (fresh && complete) return undefined;
  return signInFirst(c, ctx, comeBackTo(c, returnTo));
}
