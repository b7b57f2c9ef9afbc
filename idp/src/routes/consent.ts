/** The consent page for third-party clients: the client's name, the scopes, Allow or Deny. */
import { Hono } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import { allowFormRedirectTo, renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import { readSessionCookie } from '../http/cookies.js';
import type { Env } from '../http/env.js';
import { readForm } from '../http/forms.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { safeEqual } from '../crypto/digest.js';
import { answerConsent, consentQuestion } from '../protocol/consent.js';
import { findActiveSession } from '../protocol/sso-session.js';
import { consentPage } from '../views/pages.js';
import { expiredInteraction, findBoundInteraction, forbiddenForm } from './interaction.js';
import { SECOND_FACTOR_PATH } from './paths.js';

/** The page a consent still owes first: a sign-in, or a second factor. */
const pageUrl = (kind: 'sign-in' | 'factor', interactionId: string) =>
  `${kind === 'sign-in' ? ISSUER_PATHS.signIn : SECOND_FACTOR_PATH}?interaction=${encodeURIComponent(interactionId)}`;

export function consentRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();

  app.get(ISSUER_PATHS.consent, async function showConsent(c) {
    noStore(c);
    const interaction = await findBoundInteraction(c, ctx, c.req.query('interaction'));
    const session = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
    if (!interaction?.request || !session) return expiredInteraction(c);
    const question = await consentQuestion(ctx, interaction.request, session, interaction);
    if (question.kind === 'sign-in' || question.kind === 'factor')
      return c.redirect(pageUrl(question.kind, interaction.id), 302);
    if (question.kind === 'expired') return expiredInteraction(c);
    // Allow or Deny is answered with a redirect to the client (see allowFormRedirectTo).
    allowFormRedirectTo(c, question.redirectUri);
    return renderPage(c, () =>
      consentPage({
        interactionId: interaction.id,
        csrfToken: interaction.csrfToken,
        clientName: question.clientName,
        scopes: question.scopes,
        userEmail: question.userEmail,
      }),
    );
  });

  app.post(ISSUER_PATHS.consent, async function submitConsent(c) {
    noStore(c);
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const interaction = await findBoundInteraction(c, ctx, form.get('interaction'));
    const session = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
    if (!interaction?.request || !session) return expiredInteraction(c);
    if (!safeEqual(form.get('csrf_token') ?? '', interaction.csrfToken)) return forbiddenForm(c);
    const answer = await answerConsent(ctx, interaction.request, session, interaction, form.get('decision'));
    if (answer.kind !== 'redirect') return c.redirect(pageUrl(answer.kind, interaction.id), 303);
    return c.redirect(answer.url, 303);
  });

  return app;
}
