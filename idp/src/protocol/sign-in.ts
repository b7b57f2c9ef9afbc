/**
 * Signing in at the issuer's sign-in page: the password check under the throttle, the session it
 * starts, and where the interaction goes on from there (OIDC Core §3.1.2.3).
 */
import { OAuthError, type AuthenticationMethod } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import type { Interaction, SsoSession, User } from '../store/index.js';
import { refuseDisabledSignIn } from './account-status.js';
import { audit } from './audit.js';
import { authorize, type AuthorizeOutcome, type KnownForSecondFactor } from './authorize.js';
import { BadCredentialsError } from './credentials.js';
import { errorRedirect } from './authorization-response.js';
import { PasskeyRefused, provePasskeyFactor } from './passkeys.js';
import {
  canGiveSecondFactor,
  hasEnrolledSecondFactor,
  secondFactorsOf,
  verifySecondFactor,
  type GivenFactor,
  type SecondFactors,
} from './second-factor.js';
import { attemptSignIn } from './sign-in-throttle.js';
import { refuseUnverified } from './sign-up.js';
import { addFactorToSession, findActiveSession, signInSession, type Device } from './sso-session.js';

/**
 * A session and its cookie secret; or, for a person with a second factor, no session yet — the
 * interaction records who they are and they are asked for it; or the one message every refusal shows.
 */
export type SignInResult =
  | {
      ok: true;
      session: SsoSession;
      secret: string;
      /** What the sign-in found out that the authorization it goes on to would otherwise read again. */
      known?: KnownForSecondFactor;
    }
  | { ok: true; secondFactor: true }
  | { ok: false; message: string };

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
    interaction: Interaction;
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
    ctx.metrics.signIns.inc({ result: e.reason });
    await audit(ctx, 'sign_in.failed', { subject: e.subject, clientId, ip: device.ip, detail: { reason: e.reason } });
    return { ok: false, message: e.message };
  }
  const disabled = await refuseDisabledSignIn(ctx, user, { clientId, ip: device.ip, method: 'password' });
  if (disabled) return { ok: false, message: disabled };
  // Only an address shown to be the person's signs in (sign-up.ts says why).
  if (!user.emailVerified) return { ok: false, message: await refuseUnverified(ctx, user, device.ip) };
  if (await hasEnrolledSecondFactor(ctx, user.sub)) {
    // No session before the second factor: a password alone opens nothing, not even the account page.
    await ctx.store.interactions.setPendingUser(attempt.interaction.id, user.sub);
    ctx.log.info('sign_in.second_factor_asked', { sub: user.sub });
    return { ok: true, secondFactor: true };
  }
  const current = await findActiveSession(ctx, attempt.sessionSecret);
  const { session, secret } = await signInSession(ctx, user, device, current, ['pwd']);
  ctx.log.info('sign_in.succeeded', { sub: user.sub, sid: session.id });
  ctx.metrics.signIns.inc({ result: 'success' });
  await audit(ctx, 'sign_in.succeeded', { subject: user.sub, clientId, ip: device.ip, detail: { sid: session.id } });
  // The person has no second factor (asked above): the authorization need not ask again.
  return { ok: true, session, secret, known: { secondFactorEnrolled: false } };
}

/** Goes on with the interaction the person just signed in for. */
export async function afterSignIn(
  ctx: IssuerContext,
  interaction: Interaction,
  session: SsoSession,
  known: KnownForSecondFactor = {},
): Promise<AfterSignIn> {
  if (!interaction.request) {
    // No app is waiting: a sign-in at the issuer itself is for managing the account.
    await ctx.store.interactions.consume(interaction.id);
    return interaction.returnTo !== null ? { kind: 'return', to: interaction.returnTo } : { kind: 'account' };
  }
  const signedIn = { ...interaction, sessionId: session.id };
  const next = await authorize(ctx, interaction.request, session, interaction.browserDigest, signedIn, known);
  // The interaction records the sign-in (prompt=login and max_age are then satisfied) only when it
  // goes on to another page: a code issued here has consumed it, and an update of it would be one
  // more write per sign-in for nothing.
  if (next.kind !== 'redirect') await ctx.store.interactions.setSession(interaction.id, session.id);
  return next;
}

/** What the factor page shows: the factors the person can give, or that they have none. */
export type FactorQuestion =
  | { kind: 'ask'; user: User; factors: SecondFactors; clientName?: string }
  | { kind: 'none-available'; user: User; clientName?: string }
  | { kind: 'expired' };

/**
 * Who the factor page is for: the person whose password was right in this interaction, or else
 * the signed-in person whose session is weaker than the request needs (a step-up).
 */
async function factorSubject(
  ctx: IssuerContext,
  interaction: Interaction,
  current: SsoSession | undefined,
): Promise<User | undefined> {
  const userId = interaction.pendingUserId ?? current?.userId;
  return userId === undefined ? undefined : ctx.store.users.findBySub(userId);
}

export async function secondFactorQuestion(
  ctx: IssuerContext,
  interaction: Interaction,
  current: SsoSession | undefined,
): Promise<FactorQuestion> {
  const user = await factorSubject(ctx, interaction, current);
  if (!user) return { kind: 'expired' };
  const client = interaction.request ? await ctx.store.clients.findById(interaction.request.clientId) : undefined;
  const named = client ? { clientName: client.name } : {};
  const factors = await secondFactorsOf(ctx, user.sub);
  if (!canGiveSecondFactor(factors)) {
    await audit(ctx, 'second_factor.unavailable', { subject: user.sub, clientId: client?.id ?? null });
    return { kind: 'none-available', user, ...named };
  }
  return { kind: 'ask', user, factors, ...named };
}

export type SecondFactorResult =
  | { ok: true; session: SsoSession; secret: string; recoveryCodesLeft?: number }
  | { ok: false; message: string }
  | { ok: false; expired: true };

/** The one message a refused code shows: wrong, used already, or throttled look alike. */
const REFUSED = 'That code is not right, or it was used already. Check it and try again.';
/** The one message a refused passkey shows; the reason goes to the audit trail. */
const PASSKEY_REFUSED = 'That passkey could not confirm it’s you. Try again.';

/** What a factor proved (RFC 8176 methods), and recovery codes left if one was used; or the refusal's message. */
type FactorProof = { amr: AuthenticationMethod[]; recoveryCodesLeft?: number } | { refused: string };

async function proveFactor(
  ctx: IssuerContext,
  interaction: Interaction,
  user: User,
  factor: GivenFactor,
  ip: string,
): Promise<FactorProof> {
  if (factor.method === 'passkey') {
    try {
      const binding = { interactionId: interaction.id, userId: user.sub };
      return { amr: await provePasskeyFactor(ctx, binding, { credential: factor.credential, ip }) };
    } catch (e) {
      if (!(e instanceof PasskeyRefused)) throw e;
      return { refused: PASSKEY_REFUSED };
    }
  }
  const result = await verifySecondFactor(ctx, user, factor, ip);
  return typeof result === 'string' ? { refused: REFUSED } : result;
}

/**
 * Checks the second factor given at the factor page and signs the person in with it: a new session
 * with both factors after a password (the interaction's pending person), or the factor added to
 * the current session (a step-up: same sid, new secret).
 */
export async function giveSecondFactor(
  ctx: IssuerContext,
  attempt: { interaction: Interaction; factor: GivenFactor; device: Device; sessionSecret: string | undefined },
): Promise<SecondFactorResult> {
  const { interaction, device } = attempt;
  const current = await findActiveSession(ctx, attempt.sessionSecret);
  const user = await factorSubject(ctx, interaction, current);
  if (!user) return { ok: false, expired: true };
  const result = await proveFactor(ctx, interaction, user, attempt.factor, device.ip);
  if ('refused' in result) return { ok: false, message: result.refused };
  const left = result.recoveryCodesLeft === undefined ? {} : { recoveryCodesLeft: result.recoveryCodesLeft };
  const clientId = interaction.request?.clientId ?? null;
  // Disabled between the password and the code.
  const disabled = await refuseDisabledSignIn(ctx, user, { clientId, ip: device.ip, method: 'second_factor' });
  if (disabled) return { ok: false, message: disabled };
  if (interaction.pendingUserId !== null) {
    const { session, secret } = await signInSession(ctx, user, device, current, ['pwd', ...result.amr, 'mfa']);
    ctx.log.info('sign_in.succeeded', { sub: user.sub, sid: session.id });
    ctx.metrics.signIns.inc({ result: 'success' });
    await audit(ctx, 'sign_in.succeeded', {
      subject: user.sub,
      clientId,
      ip: device.ip,
      detail: { sid: session.id, amr: session.amr },
    });
    return { ok: true, session, secret, ...left };
  }
  const { session, secret } = await addFactorToSession(ctx, current!, result.amr);
  return { ok: true, session, secret, ...left };
}

/**
 * The person left the factor page without giving a factor: the app is told, per OpenID Connect
 * Core Error Code unmet_authentication_requirements 1.0 §2 when the person has no factor that
 * could meet the request, else access_denied (RFC 6749 §4.1.2.1: the person declined).
 */
export async function cancelSecondFactor(
  ctx: IssuerContext,
  interaction: Interaction,
  current: SsoSession | undefined,
): Promise<{ kind: 'redirect'; url: string } | { kind: 'account' }> {
  await ctx.store.interactions.consume(interaction.id);
  const req = interaction.request;
  if (!req) return { kind: 'account' };
  const user = await factorSubject(ctx, interaction, current);
  const refusal =
    user && canGiveSecondFactor(await secondFactorsOf(ctx, user.sub))
      ? new OAuthError('access_denied', 'the person did not give a second factor')
      : new OAuthError('unmet_authentication_requirements', 'the person has no second factor to give');
  return { kind: 'redirect', url: errorRedirect(ctx.config.issuer, req.redirectUri, refusal, req.state) };
}
