/**
 * GET `/callback`: the redirect back from the issuer. Checks the response (state, iss), redeems
 * the code, verifies both tokens, and only then opens app A's own session.
 */
import { Hono } from 'hono';
import {
  acrMeetsRequest,
  exchangeCode,
  validateAuthorizationResponse,
  verifyAccessToken,
  verifyIdToken,
} from '@tessera/shared';
import type { AppContext } from '../context.js';
import { clearCookie, readCookie, writeCookie } from '../http/cookies.js';
import { describeError } from '@tessera/shared';
import { problemPage } from '../views/pages.js';
import { describeSignInFailure, SignInError } from './sign-in-failure.js';

/** Where to land: an app A path its routes chose, or home. Never another site (no open redirect). */
function ownPath(returnTo: string | undefined): string {
  return returnTo !== undefined && /^\/(?![/\\])/.test(returnTo) ? returnTo : '/';
}

export function callbackRoutes(ctx: AppContext): Hono {
  const { config } = ctx;
  const now = () => ctx.clock.now();
  const app = new Hono();

  app.get('/callback', async function callback(c) {
    // The transaction is single-use whatever happens next: a response is never tried twice.
    const key = readCookie(c, ctx.cookies.login);
    clearCookie(c, config.appUrl, ctx.cookies.login);
    const transaction = key === undefined ? undefined : await ctx.loginTransactions.take(key);
    if (transaction === undefined) {
      return c.html(
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
      const metadata = await ctx.issuer.metadata();
      const tokens = await exchangeCode({
        tokenEndpoint: metadata.token_endpoint,
        clientId: config.clientId,
        clientSecret: config.clientSecret, // client_secret_basic
        code,
        codeVerifier: transaction.codeVerifier, // RFC 7636 §4.5
        redirectUri: `${config.appUrl}/callback`, // RFC 6749 §4.1.3: the same as in the request
        resource: config.appUrl,
        fetch: ctx.fetch,
      });
      if (tokens.id_token === undefined) {
        // OIDC Core §3.1.3.3: a successful response to an openid request carries an ID token.
        throw new SignInError({
          status: 502,
          title: 'Sign-in failed',
          message: 'The sign-in service sent no ID token.',
          code: 'invalid_token',
        });
      }
      // OIDC Core §3.1.3.7: issuer, audience = our client_id, signature, expiry, and our nonce.
      const { claims: id } = await verifyIdToken(tokens.id_token, {
        issuer: config.issuer,
        audience: config.clientId,
        keySet: ctx.issuer.keySet,
        nonce: transaction.nonce,
        // OIDC Core §3.1.3.7 step 13: asked for max_age, so auth_time must be that recent.
        ...(transaction.maxAgeSec === undefined ? {} : { maxAgeSec: transaction.maxAgeSec }),
        now,
        clockToleranceSec: config.clockToleranceSec,
      });
      // OIDC Core §3.1.3.7 step 12, §5.5.1.1: acr_values are a request the issuer may not meet, so
      // app A checks the acr it got; the session it has stays as it was.
      if (!acrMeetsRequest(id.acr, transaction.acrValues ?? [])) {
        throw new SignInError({
          status: 403,
          title: 'Stronger sign-in needed',
          message:
            'This page needs you to sign in with a second factor, and the sign-in service did not confirm one. ' +
            'Set one up on your account page at the sign-in service, then try again.',
          // OpenID Connect Core Error Code unmet_authentication_requirements 1.0 §2.
          code: 'unmet_authentication_requirements',
        });
      }
      // RFC 9068 §4: app A is the resource this access token is for; it carries name and email.
      const { claims: access } = await verifyAccessToken(tokens.access_token, {
        issuer: config.issuer,
        audience: config.appUrl,
        keySet: ctx.issuer.keySet,
        now,
        clockToleranceSec: config.clockToleranceSec,
      });
      // Both were signed a moment ago: their iat is the issuer's clock now.
      ctx.clockSkew.observeIssuedAt(id.iat);
      if (access.sub !== id.sub || (id.sid !== undefined && access.sid !== undefined && access.sid !== id.sid)) {
        throw new SignInError({
          status: 502,
          title: 'Sign-in failed',
          message: 'The sign-in service sent tokens about different people.',
          code: 'invalid_token',
        });
      }

      // A new id at every sign-in, and the old session gone (no session fixation: OWASP ASVS V3.2.1).
      const previous = readCookie(c, ctx.cookies.session);
      if (previous !== undefined) await ctx.sessions.destroy(previous);
      const sessionId = await ctx.sessions.create({
        sub: id.sub,
        sid: id.sid,
        email: access.email ?? id.email ?? '',
        name: access.name ?? id.name ?? '',
        idToken: tokens.id_token,
        // Kept server-side only, to exchange for a token for app B's API (RFC 8693); it lives no
        // longer than its exp, which the home page checks before using it.
        accessToken: tokens.access_token,
        accessTokenExpiresAt: access.exp * 1000,
        // How the person signed in, as the verified ID token states it: pages that need more ask again.
        ...(typeof id.acr === 'string' ? { acr: id.acr } : {}),
        ...(Array.isArray(id.amr) && id.amr.every((v) => typeof v === 'string') ? { amr: id.amr } : {}),
        ...(typeof id.auth_time === 'number' ? { authTime: id.auth_time } : {}),
      });
      writeCookie(c, config.appUrl, ctx.cookies.session, sessionId);
      ctx.log.info('sign_in', { sub: id.sub, sid: id.sid, acr: id.acr });
      return c.redirect(ownPath(transaction.returnTo), 303);
    } catch (error) {
      const failure = describeSignInFailure(error);
      if (failure === undefined) throw error;
      ctx.log.warn('sign_in.failed', { reason: failure.code, ...describeError(error) });
      // Tokens from the future: the monitor logs `clock.skew`, naming the cause the page names.
      ctx.clockSkew.observeRefusal(error);
      return c.html(problemPage(failure.title, failure.message, failure.code), failure.status);
    }
  });
  return app;
}
