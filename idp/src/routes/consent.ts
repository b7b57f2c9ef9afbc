/** The consent page for third-party clients: the client's name, the scopes, Allow or Deny. */
import { Hono } from 'hono';
import { OAuthError } from '@tessera/shared';
import { allowFormRedirectTo } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { safeEqual } from '../crypto/digest.js';
import { errorRedirect } from '../protocol/authorization-response.js';
import { issueCode, needsSignIn } from '../protocol/authorize.js';
import { findActiveSession } from '../protocol/sso-session.js';
import { consentPage } from '../views/pages.js';
import { expiredInteraction, findBoundInteraction, forbiddenForm } from './interaction.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { noStore } from '../http/cache-control.js';
import { readForm } from '../http/forms.js';
import { readSessionCookie } from '../http/cookies.js';
import type { Env } from '../http/env.js';

const signInUrl = (interactionId: string) => `/sign-in?interaction=${encodeURIComponent(interactionId)}`;

export function consentRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();

  app.get('/consent', async function showConsent(c) {
    noStore(c);
    const interaction = await findBoundInteraction(c, ctx, c.req.query('interaction'));
    const session = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
    if (!interaction?.request || !session) return expiredInteraction(c);
    // prompt=login or max_age still wants a sign-in: consent must not stand in for it.
    if (needsSignIn(ctx, interaction.request, session, interaction)) return c.redirect(signInUrl(interaction.id), 302);
    const client = await ctx.store.clients.findById(interaction.request.clientId);
    const user = await ctx.store.users.findBySub(session.userId);
    if (!client || !user) return expiredInteraction(c);
    // Allow or Deny is answered with a redirect to the client (see allowFormRedirectTo).
    allowFormRedirectTo(interaction.request.redirectUri);
    return c.html(
      consentPage({
        interactionId: interaction.id,
        csrfToken: interaction.csrfToken,
        clientName: client.name,
        scopes: interaction.request.scope,
        userEmail: user.email,
      }),
    );
  });

  app.post('/consent', async function submitConsent(c) {
    noStore(c);
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const interaction = await findBoundInteraction(c, ctx, form.get('interaction'));
    const session = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
    if (!interaction?.request || !session) return expiredInteraction(c);
    if (!safeEqual(form.get('csrf_token') ?? '', interaction.csrfToken)) return forbiddenForm(c);
    const req = interaction.request;
    if (needsSignIn(ctx, req, session, interaction)) return c.redirect(signInUrl(interaction.id), 303);

    if (form.get('decision') !== 'allow') {
      // RFC 6749 §4.1.2.1: the resource owner denied the request.
      await ctx.store.interactions.consume(interaction.id);
      return c.redirect(
        errorRedirect(
          ctx.config.issuer,
          req.redirectUri,
          new OAuthError('access_denied', 'the person denied the request'),
          req.state,
        ),
        303,
      );
    }
    await ctx.store.consents.remember(session.userId, req.clientId, req.scope, ctx.clock.now());
    return c.redirect(await issueCode(ctx, req, session, interaction), 303);
  });

  return app;
}
