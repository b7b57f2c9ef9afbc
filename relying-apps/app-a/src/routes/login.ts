/**
 * GET `/login`: starts the authorization code flow (OIDC Core §3.1.2.1) with PKCE S256, state and
 * nonce, remembering them server-side until the browser comes back.
 */
import { Hono } from 'hono';
import { IssuerUnavailableError, createAuthorizationRequest } from '@tessera/shared';
import type { AppContext } from '../context.js';
import { writeCookie } from '../http/cookies.js';
import { problemPage } from '../views/pages.js';

/** As long as the transaction is kept: a sign-in that takes longer starts over. */
const LOGIN_COOKIE_MAX_AGE_SEC = 600;

export function loginRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  app.get('/login', async function login(c) {
    let authorizationEndpoint: string;
    try {
      authorizationEndpoint = (await ctx.issuer.metadata()).authorization_endpoint;
    } catch (error) {
      if (!(error instanceof IssuerUnavailableError)) throw error;
      ctx.log.warn('login.issuer_unavailable', { message: error.message });
      return c.html(
        problemPage(
          'Sign-in is unavailable',
          'The sign-in service cannot be reached right now. Please try again shortly.',
          'temporarily_unavailable',
        ),
        503,
      );
    }
    const request = await createAuthorizationRequest({
      authorizationEndpoint,
      clientId: ctx.config.clientId,
      redirectUri: `${ctx.config.appUrl}/callback`,
      scope: ['openid', 'profile', 'email'],
      // RFC 8707: the access token is for app A itself; its aud is app A's URL.
      resource: ctx.config.appUrl,
    });
    const key = await ctx.loginTransactions.save({
      state: request.state,
      nonce: request.nonce,
      codeVerifier: request.codeVerifier,
    });
    writeCookie(c, ctx.config.appUrl, ctx.cookies.login, key, LOGIN_COOKIE_MAX_AGE_SEC);
    return c.redirect(request.url.href, 302);
  });
  return app;
}
