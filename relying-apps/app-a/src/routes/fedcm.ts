/**
 * Signing in through FedCM (issue 16), the server's half; the page's half is views/fedcm-script.ts.
 *
 * GET `/fedcm/start` makes a login transaction as `/login` does (nonce and PKCE verifier, kept
 * server-side under a short-lived cookie) and hands the page what it passes to
 * `navigator.credentials.get`: the issuer's config URL (from discovery), app A's client id and the
 * `params` with the nonce and the S256 challenge. POST `/fedcm/complete` takes the token the
 * browser got from the issuer's assertion endpoint — an authorization code with no redirect URI —
 * and finishes the sign-in as `/callback` does: redeemed with the verifier, the ID token's iss, aud
 * and nonce checked, the same session opened.
 */
import { Hono, type Context } from 'hono';
import { IssuerUnavailableError, createFedCmRequest, describeError, fedcmConfigUrl } from '@tessera/shared';
import { randomSecret } from '@tessera/shared/node';
import type { AppContext } from '../context.js';
import { clearCookie, readCookie, writeCookie } from '../http/cookies.js';
import { isSameOrigin } from '../http/forms.js';
import { finishSignIn } from './finish-sign-in.js';
import { describeSignInFailure } from './sign-in-failure.js';
import { LOGIN_COOKIE_MAX_AGE_SEC } from './start-sign-in.js';

/** Tessera's codes are random base64url; anything else is not worth a token request. */
const TOKEN = /^[A-Za-z0-9_-]{16,512}$/;

type JsonError = { error: string; error_description: string };
const refusal = (error: string, description: string): JsonError => ({ error, error_description: description });

/**
 * Whether the POST comes from a page of app A itself: app A's own rule (http/forms.ts isSameOrigin),
 * except that no Origin at all is refused too. Browsers send `Origin` on every POST, so such a
 * request is no browser's, and this route has no other CSRF token.
 */
function fromOwnPage(c: Context, appOrigin: string): boolean {
  return c.req.header('origin') !== undefined && isSameOrigin(c, appOrigin);
}

/** The JSON body `{"token": "…"}`, or undefined when the body is anything else. */
async function readToken(c: Context): Promise<string | undefined> {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? '')) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { token } = body as { token?: unknown };
  return typeof token === 'string' && TOKEN.test(token) ? token : undefined;
}

export function fedcmRoutes(ctx: AppContext): Hono {
  const { config } = ctx;
  const app = new Hono();

  app.get('/fedcm/start', async function fedcmStart(c) {
    let configURL: string | undefined;
    try {
      configURL = fedcmConfigUrl(await ctx.issuer.metadata());
    } catch (error) {
      if (!(error instanceof IssuerUnavailableError)) throw error;
      ctx.log.warn('fedcm.issuer_unavailable', { message: error.message });
      return c.json(refusal('temporarily_unavailable', 'the sign-in service cannot be reached'), 503);
    }
    // An issuer that offers no FedCM: the page falls back to the redirect flow (/login).
    if (configURL === undefined) return c.json(refusal('not_found', 'the sign-in service offers no FedCM'), 404);

    const request = await createFedCmRequest({
      configUrl: configURL,
      clientId: config.clientId,
      scope: ['openid', 'profile', 'email'],
      // RFC 8707: the access token is for app A itself, as with /login.
      resource: config.appUrl,
    });
    const key = await ctx.loginTransactions.save({
      // FedCM has no state (the browser gives the token to the page that asked); a random one that
      // no response carries, so that `/callback` can never take this transaction for its own.
      state: randomSecret(),
      nonce: request.nonce,
      codeVerifier: request.codeVerifier,
    });
    writeCookie(c, config.appUrl, ctx.cookies.fedcmLogin, key, LOGIN_COOKIE_MAX_AGE_SEC);
    return c.json(request.provider);
  });

  app.post('/fedcm/complete', async function fedcmComplete(c) {
    // Another site must not be able to sign this browser in to an account of its choosing (login CSRF).
    if (!fromOwnPage(c, config.appUrl)) {
      ctx.log.warn('fedcm.refused', { reason: 'cross_origin' });
      return c.json(refusal('access_denied', 'this request did not come from a page of App A'), 403);
    }
    const token = await readToken(c);
    if (token === undefined) return c.json(refusal('invalid_request', 'send {"token": "<the FedCM token>"}'), 400);

    // The transaction is single-use whatever happens next: a token is never tried twice.
    const key = readCookie(c, ctx.cookies.fedcmLogin);
    clearCookie(c, config.appUrl, ctx.cookies.fedcmLogin);
    const transaction = key === undefined ? undefined : await ctx.loginTransactions.take(key);
    if (transaction === undefined) {
      return c.json(refusal('invalid_request', 'no sign-in was started in this browser, or it took too long'), 400);
    }

    try {
      // RFC 6749 §4.1.3: the assertion endpoint issued the code without a redirect_uri.
      const landing = await finishSignIn(c, ctx, transaction, { code: token });
      return c.json({ location: landing });
    } catch (error) {
      const failure = describeSignInFailure(error);
      if (failure === undefined) throw error;
      ctx.log.warn('sign_in.failed', { via: 'fedcm', reason: failure.code, ...describeError(error) });
      ctx.clockSkew.observeRefusal(error);
      return c.json(refusal(failure.code, failure.message), failure.status);
    }
  });
  return app;
}
