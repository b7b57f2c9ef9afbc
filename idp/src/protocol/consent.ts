/**
 * Consent for third-party clients (OIDC Core §3.1.2.4): what the consent page asks, and where
 * the person's answer leads. A first-party client never gets here (authorize.ts needsConsent).
 */
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import type { Interaction, SsoSession } from '../store/index.js';
import type { AuthorizationRequest } from '../model/authorization-request.js';
import { errorRedirect } from './authorization-response.js';
import { issueCode, needsSecondFactor, needsSignIn } from './authorize.js';

/** What the consent page shows, unless the request needs a sign-in first or is gone. */
export type ConsentQuestion =
  | { kind: 'ask'; clientName: string; scopes: string[]; userEmail: string; redirectUri: string }
  | { kind: 'sign-in' }
  | { kind: 'factor' }
  | { kind: 'expired' };

/** Where the person's answer leads: a redirect to the client, or a sign-in still owed first. */
export type ConsentAnswer = { kind: 'redirect'; url: string } | { kind: 'sign-in' | 'factor' };

export async function consentQuestion(
  ctx: IssuerContext,
  req: AuthorizationRequest,
  session: SsoSession,
  interaction: Interaction,
): Promise<ConsentQuestion> {
  // prompt=login or max_age still wants a sign-in: consent must not stand in for it.
  if (needsSignIn(ctx, req, session, interaction)) return { kind: 'sign-in' };
  // Nor may it stand in for a second factor the request needs.
  if (await needsSecondFactor(ctx, req, session)) return { kind: 'factor' };
  const client = await ctx.store.clients.findById(req.clientId);
  const user = await ctx.store.users.findBySub(session.userId);
  if (!client || !user) return { kind: 'expired' };
  return {
    kind: 'ask',
    clientName: client.name,
    scopes: req.scope,
    userEmail: user.email,
    redirectUri: req.redirectUri,
  };
}

/** Anything but `allow` is a denial: the form's decision is untrusted input. */
export async function answerConsent(
  ctx: IssuerContext,
  req: AuthorizationRequest,
  session: SsoSession,
  interaction: Interaction,
  decision: string | undefined,
): Promise<ConsentAnswer> {
  if (needsSignIn(ctx, req, session, interaction)) return { kind: 'sign-in' };
  if (await needsSecondFactor(ctx, req, session)) return { kind: 'factor' };
  if (decision !== 'allow') {
    // RFC 6749 §4.1.2.1: the resource owner denied the request.
    await ctx.store.interactions.consume(interaction.id);
    const denied = new OAuthError('access_denied', 'the person denied the request');
    return { kind: 'redirect', url: errorRedirect(ctx.config.issuer, req.redirectUri, denied, req.state) };
  }
  await ctx.store.consents.remember(session.userId, req.clientId, req.scope, ctx.clock.now());
  return { kind: 'redirect', url: await issueCode(ctx, req, session, interaction) };
}
