/**
 * The sign-in page: email and password, or a passkey (WebAuthn, offered by the browser's autofill
 * and by a button), CSRF-protected, one generic message for any failure.
 */
import { Hono } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import { allowFormRedirectTo, renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { safeEqual } from '../crypto/digest.js';
import { noStore } from '../http/cache-control.js';
import { browserBinding, readSessionCookie, setSessionCookie } from '../http/cookies.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { signInErrors } from '../http/error-handlers.js';
import type { Context } from 'hono';
import { readForm } from '../http/forms.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { requestContext } from '../http/request-context.js';
import { startInteraction } from '../protocol/authorize.js';
import type { Params } from '../protocol/params.js';
import { signInWithPasskey } from '../protocol/passkey-sign-in.js';
import { startPasskeySignIn } from '../protocol/passkeys.js';
import { afterSignIn, signIn, type SignInResult } from '../protocol/sign-in.js';
import type { Interaction } from '../store/index.js';
import { signInPage } from '../views/pages.js';
import { respondToOutcome } from './authorize.js';
import { expiredInteraction, findBoundInteraction, forbiddenForm } from './interaction.js';
import { secondFactorUrl } from './paths.js';

export function signInRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(signInErrors(ctx.config.issuer));

  /** The sign-in page of `interaction`, with a new passkey challenge issued to it. */
  async function signInPageFor(
    interaction: Interaction,
    clientName: string | undefined,
    shown: { email?: string; error?: string } = {},
  ): Promise<() => string> {
    const passkeyOptions = await startPasskeySignIn(ctx, interaction.id);
    return () =>
      signInPage({
        interactionId: interaction.id,
        csrfToken: interaction.csrfToken,
        passkeyOptions,
        signUpOpen: ctx.config.signUp === 'open',
        ...(clientName !== undefined ? { clientName } : {}),
        ...shown,
      });
  }

  app.get(ISSUER_PATHS.signIn, async function showSignIn(c) {
    noStore(c);
    const id = c.req.query('interaction');
    if (id === undefined) {
      // A sign-in started at the issuer itself, with no app waiting.
      const interaction = await startInteraction(ctx, null, browserBinding(c, ctx.config));
      return renderPage(c, await signInPageFor(interaction, undefined));
    }
    const interaction = await findBoundInteraction(c, ctx, id);
    if (!interaction) return expiredInteraction(c);
    if (interaction.request) allowFormRedirectTo(c, interaction.request.redirectUri);
    const client = interaction.request ? await ctx.store.clients.findById(interaction.request.clientId) : undefined;
    return renderPage(c, await signInPageFor(interaction, client?.name));
  });

  /**
   * The checks both sign-in forms share: a same-site form for an interaction of this browser, with
   * its CSRF token. Returns the form and the interaction, or the response to send instead.
   */
  async function readSignInForm(c: Context<Env>): Promise<{ form: Params; interaction: Interaction } | Response> {
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const interaction = await findBoundInteraction(c, ctx, form.get('interaction'));
    if (!interaction) return expiredInteraction(c);
    // The form posts here, and its redirect ends at the client (see allowFormRedirectTo).
    if (interaction.request) allowFormRedirectTo(c, interaction.request.redirectUri);
    if (!safeEqual(form.get('csrf_token') ?? '', interaction.csrfToken)) return forbiddenForm(c);
    return { form, interaction };
  }

  /** Where a sign-in goes on to: the page again with the refusal, or on with the interaction. */
  async function answerSignIn(
    c: Context<Env>,
    interaction: Interaction,
    result: SignInResult,
    email: string | undefined,
  ): Promise<Response> {
    if (!result.ok) {
      const clientId = interaction.request?.clientId ?? null;
      const client = clientId !== null ? await ctx.store.clients.findById(clientId) : undefined;
      const shown = { error: result.message, ...(email !== undefined ? { email: email.slice(0, 320) } : {}) };
      return renderPage(c, await signInPageFor(interaction, client?.name, shown), 401);
    }
    if ('secondFactor' in result) return c.redirect(secondFactorUrl(interaction.id), 303);
    setSessionCookie(c, ctx.config, result.secret);
    const next = await afterSignIn(ctx, interaction, result.session, result.known);
    // GET /account sends a browser that is not signed in to a sign-in at the issuer, and back.
    if (next.kind === 'account') return c.redirect(ISSUER_PATHS.account, 303);
    // Only ever a path of the issuer's own that the issuer stored (see startInteraction).
    if (next.kind === 'return') return c.redirect(next.to, 303);
    return respondToOutcome(c, next, 303);
  }

  app.post(ISSUER_PATHS.signIn, async function submitSignIn(c) {
    noStore(c);
    const read = await readSignInForm(c);
    if (read instanceof Response) return read;
    const { form, interaction } = read;
    const email = form.get('email') ?? '';
    const result = await signIn(requestContext(c, ctx), {
      email,
      password: form.get('password') ?? '',
      device: deviceOf(c, ctx.config),
      clientId: interaction.request?.clientId ?? null,
      sessionSecret: readSessionCookie(c, ctx.config),
      interaction,
    });
    return answerSignIn(c, interaction, result, email);
  });

  app.post(`${ISSUER_PATHS.signIn}/passkey`, async function submitPasskeySignIn(c) {
    noStore(c);
    const read = await readSignInForm(c);
    if (read instanceof Response) return read;
    const { form, interaction } = read;
    const result = await signInWithPasskey(requestContext(c, ctx), {
      interaction,
      credential: form.get('credential') ?? '',
      device: deviceOf(c, ctx.config),
      sessionSecret: readSessionCookie(c, ctx.config),
    });
    return answerSignIn(c, interaction, result, undefined);
  });

  return app;
}
