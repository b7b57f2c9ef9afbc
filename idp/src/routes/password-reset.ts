/**
 * The password reset pages: /password/forgot asks for a link, /password/reset?token=… chooses the
 * new password. The forms post only from the issuer's own pages (isSameOriginForm); the reset
 * form's token is itself the secret no other site can know.
 */
import { Hono } from 'hono';
import { renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { noStore } from '../http/cache-control.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { readForm } from '../http/forms.js';
import { requestContext } from '../http/request-context.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { LINK_LIFETIMES } from '../protocol/email-links.js';
import {
  PASSWORD_FORGOT_PATH,
  PASSWORD_RESET_PATH,
  passwordResetFor,
  requestPasswordReset,
  resetPassword,
} from '../protocol/password-reset.js';
import {
  deadResetLinkPage,
  forgotPasswordPage,
  newPasswordPage,
  passwordResetDonePage,
  resetLinkSentPage,
} from '../views/password-reset-pages.js';
import { findBoundInteraction, forbiddenForm } from './interaction.js';

export function passwordResetRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();

  app.get(PASSWORD_FORGOT_PATH, async function showForgotPassword(c) {
    noStore(c);
    const interaction = await findBoundInteraction(c, ctx, c.req.query('interaction'));
    return renderPage(c, () => forgotPasswordPage(interaction ? { interactionId: interaction.id } : {}));
  });

  app.post(PASSWORD_FORGOT_PATH, async function submitForgotPassword(c) {
    noStore(c);
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const email = (form.get('email') ?? '').slice(0, 320);
    // The app the person came from, named in the mail: only one this browser is signing in to.
    const interaction = await findBoundInteraction(c, ctx, form.get('interaction'));
    const client = interaction?.request ? await ctx.store.clients.findById(interaction.request.clientId) : undefined;
    const result = await requestPasswordReset(requestContext(c, ctx), {
      email,
      ip: deviceOf(c, ctx.config).ip,
      clientName: client?.name,
    });
    if (!result.ok) {
      const shown = { email, error: result.message, ...(interaction ? { interactionId: interaction.id } : {}) };
      return renderPage(c, () => forgotPasswordPage(shown), 400);
    }
    return renderPage(c, () => resetLinkSentPage({ minutes: LINK_LIFETIMES.password_reset / 60 }));
  });

  app.get(PASSWORD_RESET_PATH, async function showNewPassword(c) {
    noStore(c);
    const token = c.req.query('token');
    const user = await passwordResetFor(ctx, token);
    if (!user || token === undefined) return renderPage(c, () => deadResetLinkPage(), 400);
    return renderPage(c, () => newPasswordPage({ token, email: user.email }));
  });

  app.post(PASSWORD_RESET_PATH, async function submitNewPassword(c) {
    noStore(c);
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const token = form.get('token');
    const result = await resetPassword(ctx, {
      token,
      password: form.get('password') ?? '',
      confirmation: form.get('password_confirmation') ?? '',
      ip: deviceOf(c, ctx.config).ip,
    });
    if (result.kind === 'invalid-link') return renderPage(c, () => deadResetLinkPage(), 400);
    if (result.kind === 'refused') {
      const user = await passwordResetFor(ctx, token);
      if (!user || token === undefined) return renderPage(c, () => deadResetLinkPage(), 400);
      return renderPage(c, () => newPasswordPage({ token, email: user.email, error: result.message }), 400);
    }
    return renderPage(c, () => passwordResetDonePage());
  });

  return app;
}
