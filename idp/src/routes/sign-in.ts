/** The sign-in page: email and password, CSRF-protected, one generic message for any failure. */
import { Hono } from 'hono';
import { allowFormRedirectTo } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { deviceOf } from '../http/device.js';
import type { User } from '../store/index.js';
import { safeEqual } from '../crypto/digest.js';
import { randomId, randomSecret } from '../crypto/random.js';
import { authorize } from '../protocol/authorize.js';
import { audit } from '../protocol/audit.js';
import { BadCredentialsError } from '../protocol/credentials.js';
import { attemptSignIn } from '../protocol/sign-in-throttle.js';
import { findActiveSession, signInSession } from '../protocol/sso-session.js';
import { signInPage } from '../views/pages.js';
import { respondToOutcome } from './authorize.js';
import { expiredInteraction, findBoundInteraction, forbiddenForm } from './interaction.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { noStore } from '../http/cache-control.js';
import { readForm } from '../http/forms.js';
import { browserBinding, readSessionCookie, setSessionCookie } from '../http/cookies.js';
import type { Env } from '../http/env.js';
import { signInErrors } from '../http/error-handlers.js';

export function signInRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(signInErrors(ctx.config.issuer));

  app.get('/sign-in', async function showSignIn(c) {
    noStore(c);
    const id = c.req.query('interaction');
    if (id === undefined) {
      // A sign-in started at the issuer itself, with no app waiting.
      const now = ctx.clock.now();
      const interaction = await ctx.store.interactions.create({
        id: randomId(),
        browserDigest: browserBinding(c, ctx.config),
        csrfToken: randomSecret(),
        request: null,
        sessionId: null,
        createdAt: now,
        expiresAt: now + ctx.config.interactionTtl * 1000,
      });
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

  app.post('/sign-in', async function submitSignIn(c) {
    noStore(c);
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const interaction = await findBoundInteraction(c, ctx, form.get('interaction'));
    if (!interaction) return expiredInteraction(c);
    // The form posts here, and its redirect ends at the client (see allowFormRedirectTo).
    if (interaction.request) allowFormRedirectTo(interaction.request.redirectUri);
    if (!safeEqual(form.get('csrf_token') ?? '', interaction.csrfToken)) return forbiddenForm(c);

    const email = form.get('email') ?? '';
    const device = deviceOf(c, ctx.config);
    const clientId = interaction.request?.clientId ?? null;
    let user: User;
    try {
      user = await attemptSignIn(ctx, email, form.get('password') ?? '', device.ip);
    } catch (e) {
      if (!(e instanceof BadCredentialsError)) throw e;
      // A throttled or locked attempt gets this very page, status and message too: the reason
      // goes to the log and the audit trail only (OWASP Authentication Cheat Sheet).
      const client = clientId !== null ? await ctx.store.clients.findById(clientId) : undefined;
      ctx.log.info('sign_in.failed', { ip: device.ip, reason: e.reason });
      await audit(ctx, 'sign_in.failed', { subject: e.subject, clientId, ip: device.ip, detail: { reason: e.reason } });
      return c.html(
        signInPage({
          interactionId: interaction.id,
          csrfToken: interaction.csrfToken,
          email: email.slice(0, 320),
          error: e.message,
          ...(client ? { clientName: client.name } : {}),
        }),
        401,
      );
    }

    const current = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
    const { session, secret } = await signInSession(ctx, user, device, current);
    setSessionCookie(c, ctx.config, secret);
    ctx.log.info('sign_in.succeeded', { sub: user.sub, sid: session.id });
    await audit(ctx, 'sign_in.succeeded', { subject: user.sub, clientId, ip: device.ip, detail: { sid: session.id } });

    if (!interaction.request) {
      await ctx.store.interactions.consume(interaction.id);
      // No app is waiting: a sign-in at the issuer itself is for managing the account (and is
      // where GET /account sends a browser that is not signed in).
      return c.redirect('/account', 303);
    }
    await ctx.store.interactions.setSession(interaction.id, session.id);
    const outcome = await authorize(ctx, interaction.request, session, interaction.browserDigest, {
      ...interaction,
      sessionId: session.id,
    });
    return respondToOutcome(c, outcome, 303);
  });

  return app;
}
