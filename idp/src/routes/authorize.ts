/** The authorization endpoint (OIDC Core §3.1.2.1: GET and POST). */
import { Hono, type Context } from 'hono';
import { OAuthError } from '@tessera/shared';
import type { IssuerContext } from '../context.js';
import { digest } from '../crypto/digest.js';
import { randomSecret } from '../crypto/random.js';
import { readParams } from '../protocol/params.js';
import { RedirectableAuthorizationError, parseAuthorizationRequest } from '../protocol/authorization-request.js';
import { errorRedirect } from '../protocol/authorization-response.js';
import { authorize, type AuthorizeOutcome } from '../protocol/authorize.js';
import { findActiveSession } from '../protocol/sso-session.js';
import { errorPage } from '../views/pages.js';
import { noStore } from '../http/cache-control.js';
import { readBrowserCookie, readSessionCookie, setBrowserCookie } from '../http/cookies.js';
import { readForm } from '../http/forms.js';
import type { Env } from '../http/env.js';

/** The browser-binding secret, set on first visit. */
export function browserBinding(c: Context<Env>, ctx: IssuerContext): string {
  let browser = readBrowserCookie(c, ctx.config);
  if (!browser) {
    browser = randomSecret();
    setBrowserCookie(c, ctx.config, browser);
  }
  return digest(browser);
}

/** Turns an outcome into a response; after a form POST, 303 makes the browser follow with GET. */
export function respondToOutcome(c: Context<Env>, outcome: AuthorizeOutcome, status: 302 | 303): Response {
  if (outcome.kind === 'redirect') return c.redirect(outcome.url, status);
  return c.redirect(`/${outcome.kind}?interaction=${encodeURIComponent(outcome.interaction.id)}`, status);
}

/**
 * Errors of the authorization endpoint: back to the client once its redirect URI is trusted,
 * otherwise an HTML page at the issuer, never a redirect (RFC 6749 §4.1.2.1).
 */
export function authorizationErrorResponse(c: Context<Env>, ctx: IssuerContext, e: unknown): Response {
  if (e instanceof RedirectableAuthorizationError)
    return c.redirect(errorRedirect(ctx.config.issuer, e.redirectUri, e, e.state), 302);
  if (e instanceof OAuthError) {
    return c.html(
      errorPage('This sign-in request cannot be completed', e.error, e.description),
      e.status === 401 ? 400 : e.status,
    );
  }
  throw e;
}

export function authorizeRoutes(ctx: IssuerContext): Hono<Env> {
  const app = new Hono<Env>();
  const userinfoEndpoint = `${ctx.config.issuer}/userinfo`;
  app.on(['GET', 'POST'], '/authorize', async function authorizeEndpoint(c) {
    noStore(c);
    try {
      const params =
        c.req.method === 'GET'
          ? readParams(new URL(c.req.url).searchParams)
          : await readForm(c, { duplicates: 'keep' });
      const request = await parseAuthorizationRequest(params, ctx.store, userinfoEndpoint);
      const session = await findActiveSession(ctx, readSessionCookie(c, ctx.config));
      const outcome = await authorize(ctx, request, session, browserBinding(c, ctx));
      return respondToOutcome(c, outcome, 302);
    } catch (e) {
      return authorizationErrorResponse(c, ctx, e);
    }
  });
  return app;
}
