/**
 * POST `/logout`: ends app A's session, then sends the browser to the issuer's end-session
 * endpoint (OIDC RP-Initiated Logout 1.0 §2) so the SSO session ends too.
 */
import { Hono } from 'hono';
import { IssuerUnavailableError, buildEndSessionUrl } from '@tessera/shared';
import { randomSecret, renderPage, safeEqual } from '@tessera/shared/node';
import type { AppContext } from '../context.js';
import { clearCookie, readCookie, writeCookie } from '../http/cookies.js';
import { isSameOrigin, readForm } from '../http/forms.js';
import { problemPage } from '../views/pages.js';
import { currentSession } from './current-session.js';

export function logoutRoutes(ctx: AppContext): Hono {
  const { config } = ctx;
  const app = new Hono();

  app.post('/logout', async function logout(c) {
    const form = await readForm(c);
    const session = await currentSession(c, ctx);
    if (session === undefined) return c.redirect('/', 303); // nothing to end here
    // Logout CSRF (RP-Initiated Logout §6): another site must not be able to sign people out.
    if (
      !isSameOrigin(c, config.appUrl) ||
      form === undefined ||
      !safeEqual(form.get('csrf_token') ?? '', session.csrfToken)
    ) {
      ctx.log.warn('logout.refused', { reason: 'csrf' });
      return renderPage(
        c,
        () =>
          problemPage(
            'Sign-out refused',
            'This sign-out request did not come from App A. Nothing was changed.',
            'forbidden',
          ),
        403,
      );
    }

    await ctx.sessions.destroy(readCookie(c, ctx.cookies.session)!);
    clearCookie(c, config.appUrl, ctx.cookies.session);
    ctx.log.info('sign_out', { sub: session.sub, sid: session.sid });

    let endSessionEndpoint: string | undefined;
    try {
      endSessionEndpoint = (await ctx.issuer.metadata()).end_session_endpoint;
    } catch (error) {
      if (!(error instanceof IssuerUnavailableError)) throw error;
      ctx.log.warn('logout.issuer_unavailable', { message: error.message });
    }
    // Signed out here in any case; without the issuer's endpoint the SSO session outlives us.
    if (endSessionEndpoint === undefined) return c.redirect('/', 303);

    const state = randomSecret();
    writeCookie(c, config.appUrl, ctx.cookies.logout, state, 600);
    const url = buildEndSessionUrl({
      endSessionEndpoint,
      // §2: the hint lets the issuer sign out without asking, since it proves which session we mean.
      idTokenHint: session.idToken,
      clientId: config.clientId,
      postLogoutRedirectUri: `${config.appUrl}/`,
      state,
    });
    // 303: the browser follows with a GET, not a repeat of this POST.
    return c.redirect(url.href, 303);
  });
  return app;
}
