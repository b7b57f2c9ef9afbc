/**
 * Sending the browser to the issuer: the authorization code flow (OIDC Core §3.1.2.1) with PKCE
 * S256, state and nonce, remembered server-side until the browser comes back to `/callback`. A
 * plain sign-in starts at `/login`; a page that needs a stronger sign-in starts one with what it
 * needs (`acr_values`, `max_age`) and where to come back to.
 */
import type { Context } from 'hono';
import { IssuerUnavailableError, createAuthorizationRequest } from '@tessera/shared';
import { renderPage } from '@tessera/shared/node';
import type { AppContext } from '../context.js';
import { writeCookie } from '../http/cookies.js';
import { problemPage } from '../views/pages.js';

/** As long as the transaction is kept: a sign-in that takes longer starts over. */
export const LOGIN_COOKIE_MAX_AGE_SEC = 600;

/** What a page asks of the sign-in it starts. */
export interface SignInNeeds {
  /** `acr_values`, in order of preference; the callback refuses an ID token whose `acr` meets none. */
  acrValues?: string[];
  /** `max_age`, in seconds; the callback refuses an older `auth_time`. */
  maxAgeSec?: number;
  /** App A's own path to land on after the callback (set by app A's routes, never read from a request). */
  returnTo?: string;
}

export async function startSignIn(c: Context, ctx: AppContext, needs: SignInNeeds = {}): Promise<Response> {
  let authorizationEndpoint: string;
  try {
    authorizationEndpoint = (await ctx.issuer.metadata()).authorization_endpoint;
  } catch (error) {
    if (!(error instanceof IssuerUnavailableError)) throw error;
    ctx.log.warn('login.issuer_unavailable', { message: error.message });
    return renderPage(
      c,
      () =>
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
    ...(needs.acrValues === undefined ? {} : { acrValues: needs.acrValues }),
    ...(needs.maxAgeSec === undefined ? {} : { maxAgeSec: needs.maxAgeSec }),
  });
  const key = await ctx.loginTransactions.save({
    state: request.state,
    nonce: request.nonce,
    codeVerifier: request.codeVerifier,
    ...needs,
  });
  writeCookie(c, ctx.config.appUrl, ctx.cookies.login, key, LOGIN_COOKIE_MAX_AGE_SEC);
  return c.redirect(request.url.href, 302);
}
