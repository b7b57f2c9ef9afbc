/**
 * GET `/callback`: the redirect back from the issuer. Checks the response (state, iss), then
 * finishes the sign-in as every sign-in of app A ends (finish-sign-in.ts).
 */
import { Hono } from 'hono';
import { validateAuthorizationResponse } from '@tessera/shared';
import type { AppContext } from '../context.js';
import { clearCookie, readCookie } from '../http/cookies.js';
import { describeError } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import { problemPage } from '../views/pages.js';
import { finishSignIn } from './finish-sign-in.js';
import { describeSignInFailure } from './sign-in-failure.js';

export function callbackRoutes(ctx: AppContext): Hono {
  const { config } = ctx;
  const app = new Hono();

  app.get('/callback', async function callback(c) {
    // The transaction is single-use whatever happens next: a response is never tried twice.
    const key = readCookie(c, ctx.cookies.login);
    clearCookie(c, config.appUrl, ctx.cookies.login);
    const transaction = key === undefined ? undefined : await ctx.loginTransactions.take(key);
    if (transaction === undefined) {
      return renderPage(
        c,
        () =>
          problemPage(
            'Sign-in expired',
            'This sign-in was not started in this browser, or took too long. Please sign in again.',
            'no_login_in_progress',
          ),
        400,
      );
    }

    try {
      // RFC 6749 §10.12 (state bound to this browser by the cookie), RFC 9207 §2.4 (iss).
      const code = validateAuthorizationResponse(c.req.url, {
        expectedState: transaction.state,
        expectedIssuer: config.issuer,
      });
      // RFC 6749 §4.1.3: the same redirect_uri as in the request.
      const landing = await finishSignIn(c, ctx, transaction, { code, redirectUri: `${config.appUrl}/callback` });
      return c.redirect(landing, 303);
    } catch (error) {
      const failure = describeSignInFailure(error);
      if (failure === undefined) throw error;
      ctx.log.warn('sign_in.failed', { reason: failure.code, ...describeError(error) });
      // Tokens from the future: the monitor logs `clock.skew`, naming the cause the page names.
      ctx.clockSkew.observeRefusal(error);
      return renderPage(c, () => problemPage(failure.title, failure.message, failure.code), failure.status);
    }
  });
  return app;
}
