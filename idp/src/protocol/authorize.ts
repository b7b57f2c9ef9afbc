/**
 * The authorization decision (OIDC Core §3.1.2.2–3.1.2.5): sign in if needed, ask consent
 * if needed, then issue a single-use code. `prompt=none` never shows a page: it answers
 * `login_required` or `consent_required` instead (OIDC Core §3.1.2.6).
 */
import { ACR_MFA, ACR_PASSWORD, OAuthError, acrForMethods, acrSatisfies } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { digest } from '../crypto/digest.js';
import { randomId, randomSecret } from '../crypto/random.js';
import type { Client, Interaction, SsoSession } from '../store/index.js';
import type { AuthorizationRequest } from '../model/authorization-request.js';
import { RedirectableAuthorizationError } from './authorization-request.js';
import { successRedirect } from './authorization-response.js';
import { hasEnrolledSecondFactor } from './second-factor.js';
import { recordSessionUse } from './sso-session.js';

export type AuthorizeOutcome =
  | { kind: 'redirect'; url: string }
  | { kind: 'sign-in' | 'factor' | 'consent'; interaction: Interaction };

/** True while the request still needs the person to sign in (again) before anything is issued. */
export function needsSignIn(
  ctx: IssuerContext,
  req: AuthorizationRequest,
  session: SsoSession | undefined,
  interaction?: Interaction,
): boolean {
  if (!session) return true;
  const signedInJustNow = interaction?.sessionId === session.id;
  if (signedInJustNow) return false;
  if (req.prompt.includes('login')) return true;
  // OIDC Core §3.1.2.1: max_age — re-authenticate when the last sign-in is older.
  if (req.maxAge !== undefined && ctx.clock.now() - session.authTime > req.maxAge * 1000) return true;
  return false;
}

/** What a caller may already know for the second-factor question, so it is not asked of the store again. */
export interface KnownForSecondFactor {
  /** The request's client, when the caller has just read it (the authorization endpoint). */
  client?: Client | undefined;
  /** Whether the person has enrolled a second factor, when the caller has just found out (a password sign-in). */
  secondFactorEnrolled?: boolean;
}

/**
 * True while the session is weaker than the request needs: the person is then asked for the
 * missing factor only, not for the whole sign-in. The session's own record decides (acrForMethods
 * of its amr), never the request. What the request needs is the strongest of what it asked for
 * (`acr_values`), what its client requires (`--require-mfa`), and what the person chose by
 * enrolling a second factor (a password alone no longer signs them in); the classes are ordered,
 * so a session at ACR_MFA or above needs only to meet what was asked for, and the client and the
 * enrolment are read only for a session below it.
 */
export async function needsSecondFactor(
  ctx: IssuerContext,
  req: AuthorizationRequest,
  session: SsoSession,
  known: KnownForSecondFactor = {},
): Promise<boolean> {
  const actual = acrForMethods(session.amr);
  if (!acrSatisfies(actual, req.acr ?? ACR_PASSWORD)) return true;
  if (acrSatisfies(actual, ACR_MFA)) return false;
  const client = known.client ?? (await ctx.store.clients.findById(req.clientId));
  if (client?.requireMfa) return true;
  return known.secondFactorEnrolled ?? (await hasEnrolledSecondFactor(ctx, session.userId));
}

async function needsConsent(
  ctx: IssuerContext,
  req: AuthorizationRequest,
  session: SsoSession,
  client: Client | undefined,
): Promise<boolean> {
  if (!client || client.party === 'first') return false;
  if (req.prompt.includes('consent')) return true;
  const granted = await ctx.store.consents.grantedScopes(session.userId, client.id);
  return req.scope.some((s) => !granted.includes(s));
}

/**
 * Starts the interaction that carries a request through sign-in and consent: bound to the browser
 * that began it, with its own CSRF token. `null` is a sign-in at the issuer itself, no app waiting.
 */
export async function startInteraction(
  ctx: IssuerContext,
  req: AuthorizationRequest | null,
  browserDigest: string,
  /** With no request: the issuer page the sign-in continues at (default: the account page). */
  returnTo: string | null = null,
): Promise<Interaction> {
  const now = ctx.clock.now();
  return ctx.store.interactions.create({
    id: randomId(),
    browserDigest,
    csrfToken: randomSecret(),
    request: req,
    sessionId: null,
    returnTo,
    pendingUserId: null,
    createdAt: now,
    expiresAt: now + ctx.config.interactionTtl * 1000,
  });
}

/** The interaction a request already has, or a new one. */
async function interactionFor(
  ctx: IssuerContext,
  req: AuthorizationRequest,
  browserDigest: string,
  existing?: Interaction,
): Promise<Interaction> {
  return existing ?? startInteraction(ctx, req, browserDigest);
}

/** Decides what an authorization request leads to, given the browser's session. */
export async function authorize(
  ctx: IssuerContext,
  req: AuthorizationRequest,
  session: SsoSession | undefined,
  browserDigest: string,
  interaction?: Interaction,
  /** What the caller has just read or found out (the authorization endpoint, a password sign-in). */
  known: KnownForSecondFactor = {},
): Promise<AuthorizeOutcome> {
  // OIDC Core §3.1.2.1: with prompt=none, a page the person would have to see is this error instead.
  // The error is made only then: an Error captures a stack trace, a cost every sign-in would pay.
  const page = async (kind: 'sign-in' | 'factor' | 'consent', refusal: () => OAuthError): Promise<AuthorizeOutcome> => {
    if (req.prompt.includes('none')) throw new RedirectableAuthorizationError(refusal(), req.redirectUri, req.state);
    return { kind, interaction: await interactionFor(ctx, req, browserDigest, interaction) };
  };
  if (needsSignIn(ctx, req, session, interaction)) {
    return page('sign-in', () => new OAuthError('login_required', 'the person is not signed in'));
  }
  const active = session as SsoSession;
  // Read once for both questions below: an SSO visit is mostly lookups like this one.
  const client = known.client ?? (await ctx.store.clients.findById(req.clientId));
  if (await needsSecondFactor(ctx, req, active, { ...known, client })) {
    // OIDC Core §3.1.2.6: the person must interact (give a second factor); the factor page tells
    // one who has none how to set one up.
    return page('factor', () => new OAuthError('interaction_required', 'a second factor is needed'));
  }
  if (await needsConsent(ctx, req, active, client)) {
    return page('consent', () => new OAuthError('consent_required', 'the person has not allowed this client'));
  }
  return { kind: 'redirect', url: await issueCode(ctx, req, active, interaction) };
}

/** Issues the authorization code and returns the success redirect (RFC 6749 §4.1.2). */
export async function issueCode(
  ctx: IssuerContext,
  req: AuthorizationRequest,
  session: SsoSession,
  interaction?: Interaction,
): Promise<string> {
  const code = await createAuthorizationCode(ctx, req, session, null);
  if (interaction) await ctx.store.interactions.consume(interaction.id);
  return successRedirect(ctx.config.issuer, req.redirectUri, code, req.state);
}

/**
 * Stores a new single-use code for `req` in `session` and records the session's use; returns the
 * code. `origin`: the page a FedCM assertion issued it to (protocol/fedcm-assertion.ts), whose
 * request has no redirect URI; null for the authorization endpoint's codes.
 */
export async function createAuthorizationCode(
  ctx: IssuerContext,
  req: AuthorizationRequest,
  session: SsoSession,
  origin: string | null,
): Promise<string> {
  const now = ctx.clock.now();
  const code = randomSecret();
  await ctx.store.grants.createCode({
    digest: digest(code),
    clientId: req.clientId,
    userId: session.userId,
    sessionId: session.id,
    redirectUri: req.redirectUri,
    scope: req.scope.join(' '),
    resource: req.resource,
    nonce: req.nonce ?? null,
    codeChallenge: req.codeChallenge,
    authTime: session.authTime,
    amr: session.amr,
    createdAt: now,
    // RFC 6749 §4.1.2: short-lived, single use.
    expiresAt: now + ctx.config.authorizationCodeTtl * 1000,
    consumedAt: null,
    origin,
  });
  await recordSessionUse(ctx, session, now);
  return code;
}
