/** The sign-in page: email and password, CSRF-protected, one generic message for any failure. */
import { Hono } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import { allowFormRedirectTo } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { safeEqual } from '../crypto/digest.js';
import { noStore } from '../http/cache-control.js';
import { browserBinding, readSessionCookie, setSessionCookie } from '../http/cookies.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { signInErrors } from '../http/error-handlers.js';
import { readForm } from '../http/forms.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { startInteraction } from '../protocol/authorize.js';
import { afterSignIn, signIn } from '../protocol/sign-in.js';
import { signInPage } from '../views/pages.js';
import { respondToOutcome } from './authorize.js';
import { expiredInteraction, findBoundInteraction, forbiddenForm } from './interaction.js';

export function signInRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(signInErrors(ctx.config.issuer));

  app.get(ISSUER_PATHS.signIn, async function showSignIn(c) {
    noStore(c);
    const id = c.req.query('interaction');
    if (id === undefined) {
      // A sign-in started at the issuer itself, with no app waiting.
      const interaction = await startInteraction(ctx, null, browserBinding(c, ctx.config));
      return c.html(signInPage({ interactionId: interaction.id, csrfToken: interaction.csrfToken }));
    }
    const interaction = await findBoundInteraction(c, ctx, id);
    if (!interaction) return expiredInteraction(c);
    if (interaction.request) allowFormRedirectTo(interaction.request.redirectUri);
    const client = interaction.request ? await ctx.store.clients.findById(interaction.request.clientId) : undefined;
    return c.html(
      signInPage({
        interactionId: interaction.id,
        csrfToken: interaction.csrfToken,
        ...(client ? { clientName: client.name } : {}),
      }),
    );
  });

  app.post(ISSUER_PATHS.signIn, async function submitSignIn(c) {
    noStore(c);
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const interaction = await findBoundInteraction(c, ctx, form.get('interaction'));
    if (!interaction) return expiredInteraction(c);
    // The form posts here, and its redirect ends at the client (see allowFormRedirectTo).
    if (interaction.request) allowFormRedirectTo(interaction.request.redirectUri);
    if (!safeEqual(form.get('csrf_token') ?? '', interaction.csrfToken)) return forbiddenForm(c);

    const email = form.get('email') ?? '';
    const clientId = interaction.request?.clientId ?? null;
    const result = await signIn(ctx, {
      email,
      password: form.get('password') ?? '',
      device: deviceOf(c, ctx.config),
      clientId,
      sessionSecret: readSessionCookie(c, ctx.config),
    });
    if (!result.ok) {
      const client = clientId !== null ? await ctx.store.clients.findById(clientId) : undefined;
      return c.html(
        signInPage({
          interactionId: interaction.id,
          csrfToken: interaction.csrfToken,
          email: email.slice(0, 320),
          error: result.message,
          ...(client ? { clientName: client.name } : {}),
        }),
        401,
      );
    }
    setSessionCookie(c, ctx.config, result.secret);
    const next = await afterSignIn(ctx, interaction, result.session);
    // GET /account sends a browser that is not signed in to a sign-in at the issuer, and back.
    if (next.kind === 'account') return c.redirect(ISSUER_PATHS.account, 303);
    // Only ever a path of the issuer's own that the issuer stored (see startInteraction).
    if (next.kind === 'return') return c.redirect(next.to, 303);
    return respondToOutcome(c, next, 303);
  });

  return app;
}
