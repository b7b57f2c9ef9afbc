/**
 * The end of every sign-in of app A, whichever way the code came — the redirect to `/callback` or
 * a FedCM assertion posted to `/fedcm/complete`: redeem the code, verify both tokens, and only then
 * open app A's own session. One path, so the two ways cannot drift apart in what they check.
 */
import type { Context } from 'hono';
import { acrMeetsRequest, exchangeCode, verifyAccessToken, verifyIdToken } from '@tessera/shared';
import type { AppContext } from '../context.js';
import { readCookie, writeCookie } from '../http/cookies.js';
import type { LoginTransaction } from '../sessions/login-transactions.js';
import { SignInError } from './sign-in-failure.js';

/** Where to land: an app A path its routes chose, or home. Never another site (no open redirect). */
export function ownPath(returnTo: string | undefined): string {
  return returnTo !== undefined && /^\/(?![/\\])/.test(returnTo) ? returnTo : '/';
}

/** The code to redeem, and the `redirect_uri` it was issued for (none for a FedCM code). */
export interface IssuedCode {
  code: string;
  redirectUri?: string;
}

/**
 * Redeems the code of `transaction`, verifies the tokens and opens a new session (its cookie set
 * on `c`). Returns the app A path to land on. Throws what describeSignInFailure turns into words;
 * the session the browser had stays as it was until every check has passed.
 */
export async function finishSignIn(
  c: Context,
  ctx: AppContext,
  transaction: LoginTransaction,
  issued: IssuedCode,
): Promise<string> {
  const { config } = ctx;
  const now = () => ctx.clock.now();
  const metadata = await ctx.issuer.metadata();
  const tokens = await exchangeCode({
    tokenEndpoint: metadata.token_endpoint,
    clientId: config.clientId,
    clientSecret: config.clientSecret, // client_secret_basic
    code: issued.code,
    codeVerifier: transaction.codeVerifier, // RFC 7636 §4.5
    // RFC 6749 §4.1.3: the same as in the request, when the request had one.
    ...(issued.redirectUri === undefined ? {} : { redirectUri: issued.redirectUri }),
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
  return ownPath(transaction.returnTo);
}
