/**
 * Signing in from the browser: the authorization code flow with PKCE (RFC 7636) for a public
 * client (RFC 9700 §2.1.1), by top-level navigation. No hidden iframe: browsers block the issuer's
 * cookie in a third-party frame, so a silent iframe sign-in would always fail.
 */
import {
  AuthorizationResponseError,
  createAuthorizationRequest,
  describeClockSkew,
  exchangeCode,
  issuedInTheFutureBy,
  validateAuthorizationResponse,
  verifyIdToken,
  type DPoPProver,
  type FetchLike,
} from '@tessera/shared';
import { redirectUri, type AppConfig } from './app-config.js';
import { pageDPoPProver } from './dpop-key.js';
import type { Issuer } from './issuer.js';
import {
  forgetSilentSignInFailed,
  rememberPendingSignIn,
  rememberSilentSignInFailed,
  takePendingSignIn,
  type PendingSignIn,
} from './redirect-memory.js';
import type { Tokens } from './token-memory.js';

/** Sends the browser to the issuer. With `silent`, `prompt=none`: the issuer answers at once, code or error. */
export async function startSignIn(config: AppConfig, issuer: Issuer, options: { silent: boolean }): Promise<never> {
  if (!options.silent) forgetSilentSignInFailed();
  const request = await createAuthorizationRequest({
    authorizationEndpoint: issuer.metadata.authorization_endpoint,
    clientId: config.clientId,
    redirectUri: redirectUri(config),
    scope: ['openid', 'profile', 'email'],
    // RFC 8707: the access token is for app B's API; its aud is app B's URL.
    resource: config.appUrl,
    ...(options.silent ? { prompt: 'none' } : {}),
  });
  rememberPendingSignIn({
    state: request.state,
    nonce: request.nonce,
    codeVerifier: request.codeVerifier,
    silent: options.silent,
  });
  location.assign(request.url.href);
  return new Promise<never>(() => {}); // the page is going away
}

/** Whether the address bar holds an authorization response (RFC 6749 §4.1.2, §4.1.2.1). */
export function isAuthorizationResponse(url: URL): boolean {
  return url.searchParams.has('code') || url.searchParams.has('error');
}

export type SignInOutcome =
  | { kind: 'signed-in'; tokens: Tokens }
  /** A silent attempt found no session at the issuer: show the sign-in button. */
  | { kind: 'signed-out' }
  /** `code` is `clock_skew` when the device's and the issuer's clocks are too far apart. */
  | { kind: 'failed'; message: string; code?: 'clock_skew' };

// OIDC Core §3.1.2.6: what prompt=none answers when the person would have to do something.
const NEEDS_INTERACTION = new Set([
  'login_required',
  'consent_required',
  'interaction_required',
  'account_selection_required',
]);

/** Finishes a sign-in from the authorization response in `url`: checks it, redeems the code, verifies the ID token. */
export async function completeSignIn(config: AppConfig, issuer: Issuer, url: URL): Promise<SignInOutcome> {
  const pending = takePendingSignIn();
  if (pending === undefined)
    return { kind: 'failed', message: 'This sign-in response was not expected in this tab. Please sign in again.' };

  let code: string;
  try {
    // RFC 6749 §10.12 (state), RFC 9207 §2.4 (iss), then the error or the code.
    code = validateAuthorizationResponse(url, { expectedState: pending.state, expectedIssuer: config.issuer });
  } catch (error) {
    if (!(error instanceof AuthorizationResponseError)) throw error;
    if (error.code === 'ERR_AUTHZ_ERROR_RESPONSE' && pending.silent && NEEDS_INTERACTION.has(error.error ?? '')) {
      rememberSilentSignInFailed();
      return { kind: 'signed-out' };
    }
    if (error.code === 'ERR_AUTHZ_ERROR_RESPONSE' && error.error === 'access_denied') {
      return { kind: 'failed', message: 'The sign-in was cancelled or not allowed.' };
    }
    return { kind: 'failed', message: 'The sign-in response could not be trusted. Please sign in again.' };
  }

  const outcome = await redeemAuthorizationResponse(config, issuer, code, pending);
  if (outcome.kind === 'signed-in') forgetSilentSignInFailed();
  return outcome;
}

/** What redeeming a code needs besides the settings: the browser's own, unless a test gives others. */
export interface RedeemDeps {
  fetch?: FetchLike;
  /** This device's clock, in milliseconds since the epoch. */
  now?: () => number;
  /** The key the tokens are bound to (RFC 9449); the page's own by default. */
  dpop?: DPoPProver;
  /**
   * The code came from a FedCM assertion (fedcm.ts): it was issued without a redirect URI, so none
   * is sent with it (RFC 6749 §4.1.3).
   */
  viaFedCm?: boolean;
}

/**
 * Redeems the code of a checked authorization response, or of a FedCM assertion, and verifies the
 * ID token (its nonce: the one this page made) against this device's clock. DOM-free: it runs
 * under test in Node as it does in the browser.
 */
export async function redeemAuthorizationResponse(
  config: AppConfig,
  issuer: Issuer,
  code: string,
  pending: Pick<PendingSignIn, 'nonce' | 'codeVerifier'>,
  deps: RedeemDeps = {},
): Promise<SignInOutcome> {
  const now = deps.now ?? Date.now;
  const fetchTokens: FetchLike = deps.fetch ?? ((input, init) => fetch(input, init));
  try {
    // Public client: client_id in the body and no secret; the PKCE verifier proves we made the request.
    // The tokens are bound to this page's key (RFC 9449 §5): a copy of them is useless without it.
    const tokens = await exchangeCode({
      dpop: deps.dpop ?? (await pageDPoPProver()),
      tokenEndpoint: issuer.metadata.token_endpoint,
      clientId: config.clientId,
      code,
      codeVerifier: pending.codeVerifier,
      ...(deps.viaFedCm ? {} : { redirectUri: redirectUri(config) }),
      resource: config.appUrl,
      fetch: fetchTokens,
    });
    if (tokens.id_token === undefined) return { kind: 'failed', message: 'The sign-in service sent no ID token.' };
    // OIDC Core §3.1.3.7: who signed in, for this client, in answer to this very request (nonce).
    await verifyIdToken(tokens.id_token, {
      issuer: config.issuer,
      audience: config.clientId,
      keySet: issuer.keySet,
      nonce: pending.nonce,
      now,
      clockToleranceSec: config.clockToleranceSec,
    });
    return {
      kind: 'signed-in',
      tokens: {
        accessToken: tokens.access_token,
        idToken: tokens.id_token,
        accessTokenExpiresAt: now() + (tokens.expires_in ?? 300) * 1000,
        ...(typeof tokens.refresh_token === 'string' ? { refreshToken: tokens.refresh_token } : {}),
      },
    };
  } catch (error) {
    console.warn('app-b: sign-in failed', error);
    // An ID token signed a moment ago, in this device's future past the leeway (the signature is
    // checked first): the clocks disagree, and signing in again cannot help until one is set right.
    const skew = issuedInTheFutureBy(error);
    if (skew !== undefined)
      return {
        kind: 'failed',
        message:
          `Sign-in failed: the clocks disagree — ${describeClockSkew(skew, DEVICE_AND_ISSUER)}. ` +
          'Set this device to take its time from the network, then sign in again; if its clock is right, ' +
          "the sign-in service's clock is wrong and its operator must set it.",
        code: 'clock_skew',
      };
    return { kind: 'failed', message: 'The sign-in could not be completed. Please sign in again.' };
  }
}

/** The clock that checked the ID token here is this device's (the person's), not a server's. */
const DEVICE_AND_ISSUER = { local: "this device's", issuer: "the sign-in service's" };
