/**
 * Signing in at the issuer's sign-in page: the password check under the throttle, the session it
 * starts, and where the interaction goes on from there (OIDC Core §3.1.2.3).
 */
import type { IssuerContext } from '../context.js';
import type { Interaction, SsoSession, User } from '../store/index.js';
import { audit } from './audit.js';
import { authorize, type AuthorizeOutcome } from './authorize.js';
import { BadCredentialsError } from './credentials.js';
import { attemptSignIn } from './sign-in-throttle.js';
import { findActiveSession, signInSession, type Device } from './sso-session.js';

/** A session and its cookie secret, or the one message every refusal shows. */
export type SignInResult = { ok: true; session: SsoSession; secret: string } | { ok: false; message: string };

/**
 * Where a signed-in interaction leads: with no app waiting, the issuer page it began at (the
 * device page), else the account page.
 */
export type AfterSignIn = AuthorizeOutcome | { kind: 'account' } | { kind: 'return'; to: string };

export async function signIn(
  ctx: IssuerContext,
  attempt: {
    email: string;
    password: string;
    device: Device;
    clientId: string | null;
    /** The session cookie this browser sent, if any: its session is renewed or replaced. */
    sessionSecret: string | undefined;
  },
): Promise<SignInResult> {
  const { email, device, clientId } = attempt;
  let user: User;
  try {
    user = await attemptSignIn(ctx, email, attempt.password, device.ip);
  } catch (e) {
    if (!(e instanceof BadCredentialsError)) throw e;
    // A throttled or locked attempt gets the very page, status and message of a wrong password:
    // the reason goes to the log and the audit trail only (OWASP Authentication Cheat Sheet).
    ctx.log.info('sign_in.failed', { ip: device.ip, reason: e.reason });
    await audit(ctx, 'sign_in.failed', { subject: e.subject, clientId, ip: device.ip, detail: { reason: e.reason } });
    return { ok: false, message: e.message };
  }
  const current = await findActiveSession(ctx, attempt.sessionSecret);
  const { session, secret } = await signInSession(ctx, user, device, current, ['pwd']);
  ctx.log.info('sign_in.succeeded', { sub: user.sub, sid: session.id });
  await audit(ctx, 'sign_in.succeeded', { subject: user.sub, clientId, ip: device.ip, detail: { sid: session.id } });
  return { ok: true, session, secret };
}

/** Goes on with the interaction the person just signed in for. */
export async function afterSignIn(
  ctx: IssuerContext,
  interaction: Interaction,
  session: SsoSession,
): Promise<AfterSignIn> {
  if (!interaction.request) {
    // No app is waiting: a sign-in at the issuer itself is for managing the account.
    await ctx.store.interactions.consume(interaction.id);
    return interaction.returnTo !== null ? { kind: 'return', to: interaction.returnTo } : { kind: 'account' };
  }
  await ctx.store.interactions.setSession(interaction.id, session.id);
  return authorize(ctx, interaction.request, session, interaction.browserDigest, {
    ...interaction,
    sessionId: session.id,
  });
}
