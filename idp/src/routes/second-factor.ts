/**
 * The factor page: after a correct password a person with a second factor gives it here, and a
 * signed-in person whose session is weaker than an app asks gives the missing factor (a step-up).
 * A code is posted to the page itself; a passkey's answer (a WebAuthn assertion to the challenge
 * the page carries, run by the page script) to its `/passkey`. CSRF-protected as the sign-in form
 * is; every refusal shows one message.
 */
import { Hono, type Context } from 'hono';
import { ISSUER_PATHS } from '@tessera/shared';
import { allowFormRedirectTo, renderPage } from '@tessera/shared/node';
import type { IssuerContext } from '../context.js';
import { safeEqual } from '../crypto/digest.js';
import { noStore } from '../http/cache-control.js';
import { readSessionCookie, setSessionCookie } from '../http/cookies.js';
import { deviceOf } from '../http/device.js';
import type { Env } from '../http/env.js';
import { signInErrors } from '../http/error-handlers.js';
import { readForm } from '../http/forms.js';
import { requestContext } from '../http/request-context.js';
import { isSameOriginForm } from '../http/same-origin.js';
import { startPasskeyFactor } from '../protocol/passkeys.js';
import type { FactorCode, GivenFactor } from '../protocol/second-factor.js';
import { afterSignIn, cancelSecondFactor, giveSecondFactor, secondFactorQuestion } from '../protocol/sign-in.js';
import { findActiveSession } from '../protocol/sso-session.js';
import type { Params } from '../protocol/params.js';
import type { Interaction } from '../store/index.js';
import { noSecondFactorPage, recoveryCodeUsedPage, secondFactorPage } from '../views/second-factor-pages.js';
import { outcomeLocation } from './authorize.js';
import { expiredInteraction, findBoundInteraction, forbiddenForm } from './interaction.js';
import { SECOND_FACTOR_PATH } from './paths.js';

/** Where the page's passkey form posts the assertion. */
const PASSKEY_FACTOR_PATH = `${SECOND_FACTOR_PATH}/passkey`;

/** A code as typed: digits for TOTP, letters and dashes for a recovery code; anything longer is no code. */
function factorOf(method: string | undefined, code: string | undefined): FactorCode | undefined {
  if (code === undefined || code.length > 64) return undefined;
  if (method === 'totp') return { method, code };
  if (method === 'recovery') return { method, code };
  return undefined;
}

export function secondFactorRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  app.onError(signInErrors(ctx.config.issuer));

  async function showPage(c: Context<Env>, interaction: Interaction, error?: string): Promise<Response> {
    const current = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
    const question = await secondFactorQuestion(ctx, interaction, current);
    if (question.kind === 'expired') return expiredInteraction(c);
    const common = { interactionId: interaction.id, csrfToken: interaction.csrfToken, action: SECOND_FACTOR_PATH };
    const named = question.clientName === undefined ? {} : { clientName: question.clientName };
    if (question.kind === 'none-available') return renderPage(c, () => noSecondFactorPage({ ...common, ...named }));
    // A new challenge with each showing, bound to this interaction and its person.
    const passkeyOptions =
      question.factors.passkeys > 0
        ? await startPasskeyFactor(ctx, { interactionId: interaction.id, userId: question.user.sub })
        : undefined;
    return renderPage(
      c,
      () =>
        secondFactorPage({
          ...common,
          ...named,
          totp: question.factors.totp,
          recoveryCodes: question.factors.recoveryCodes,
          ...(passkeyOptions === undefined
            ? {}
            : { passkey: { action: PASSKEY_FACTOR_PATH, options: passkeyOptions } }),
          ...(error === undefined ? {} : { error }),
        }),
      error === undefined ? 200 : 401,
    );
  }

  app.get(SECOND_FACTOR_PATH, async function showSecondFactor(c) {
    noStore(c);
    const interaction = await findBoundInteraction(c, ctx, c.req.query('interaction'));
    if (!interaction) return expiredInteraction(c);
    // Cancel answers with a redirect to the client (see allowFormRedirectTo).
    if (interaction.request) allowFormRedirectTo(c, interaction.request.redirectUri);
    return showPage(c, interaction);
  });

  /**
   * The checks both factor forms share: a same-site form for an interaction of this browser, with
   * its CSRF token. Returns the form and the interaction, or the response to send instead.
   */
  async function readFactorForm(c: Context<Env>): Promise<{ form: Params; interaction: Interaction } | Response> {
    const form = await readForm(c);
    if (!isSameOriginForm(c, ctx.config)) return forbiddenForm(c);
    const interaction = await findBoundInteraction(c, ctx, form.get('interaction'));
    if (!interaction) return expiredInteraction(c);
    if (interaction.request) allowFormRedirectTo(c, interaction.request.redirectUri);
    if (!safeEqual(form.get('csrf_token') ?? '', interaction.csrfToken)) return forbiddenForm(c);
    return { form, interaction };
  }

  /** Gives the factor: the page again with the one message of a refusal, or on with the sign-in. */
  async function answerFactor(c: Context<Env>, interaction: Interaction, factor: GivenFactor): Promise<Response> {
    const result = await giveSecondFactor(requestContext(c, ctx), {
      interaction,
      factor,
      device: deviceOf(c, ctx.config),
      sessionSecret: readSessionCookie(c, ctx.config),
    });
    if (!result.ok) return 'expired' in result ? expiredInteraction(c) : showPage(c, interaction, result.message);
    setSessionCookie(c, ctx.config, result.secret);
    const next = await afterSignIn(ctx, interaction, result.session);
    // Only ever the client's registered redirect URI or a path of the issuer's own.
    const to =
      next.kind === 'account' ? ISSUER_PATHS.account : next.kind === 'return' ? next.to : outcomeLocation(next);
    // A recovery code used: the person is told how many remain before going on.
    const remaining = result.recoveryCodesLeft;
    if (remaining !== undefined) return renderPage(c, () => recoveryCodeUsedPage({ remaining, next: to }));
    return c.redirect(to, 303);
  }

  app.post(SECOND_FACTOR_PATH, async function submitSecondFactor(c) {
    noStore(c);
    const read = await readFactorForm(c);
    if (read instanceof Response) return read;
    const { form, interaction } = read;
    if (form.get('cancel') !== undefined) {
      const current = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
      const next = await cancelSecondFactor(ctx, interaction, current);
      return next.kind === 'account' ? c.redirect(ISSUER_PATHS.account, 303) : c.redirect(next.url, 303);
    }
    const factor = factorOf(form.get('method'), form.get('code'));
    if (!factor) return showPage(c, interaction, 'Enter the code.');
    return answerFactor(c, interaction, factor);
  });

  app.post(PASSKEY_FACTOR_PATH, async function submitPasskeyFactor(c) {
    noStore(c);
    const read = await readFactorForm(c);
    if (read instanceof Response) return read;
    const { form, interaction } = read;
    return answerFactor(c, interaction, { method: 'passkey', credential: form.get('credential') ?? '' });
  });

  return app;
}
