/**
 * Signing in through FedCM from the page (issue 16): the browser asks the issuer itself, with its
 * own account chooser, and hands this page a token — an authorization code bound to the nonce and
 * PKCE challenge made here. The code is redeemed from the page at the token endpoint (CORS) with
 * the verifier that never left the page, and no redirect URI (RFC 6749 §4.1.3); the ID token's
 * nonce is checked as after a redirect. Nothing survives the page: no sessionStorage round trip.
 *
 * DOM-free: `navigator.credentials.get` comes in as a function, so tests run this in Node against
 * a real issuer with a stand-in for the browser's part.
 */
import {
  createFedCmRequest,
  fedcmConfigUrl,
  fedcmFailureReason,
  identityCredentialToken,
  type FedCmProvider,
} from '@tessera/shared';
import type { AppConfig } from './app-config.js';
import type { Issuer } from './issuer.js';
import { redeemAuthorizationResponse, type RedeemDeps, type SignInOutcome } from './sign-in.js';

/** What `navigator.credentials.get` is given for a FedCM request. */
export interface IdentityRequest {
  identity: { providers: FedCmProvider[]; mode?: 'active' };
  /** `silent`: only the browser's automatic re-authentication, never a dialog. */
  mediation?: 'silent' | 'optional';
  signal?: AbortSignal;
}

/** `navigator.credentials.get` as FedCM uses it. */
export type GetIdentityCredential = (request: IdentityRequest) => Promise<unknown>;

/** How to ask: on a click (`active`: the browser may open the issuer's sign-in pop-up), or on load. */
export type FedCmAsk = { mode: 'active' } | { mode: 'passive'; mediation: 'silent' | 'optional'; signal?: AbortSignal };

export type FedCmOutcome =
  | SignInOutcome
  /** FedCM gave no token (not offered, refused, dismissed, timed out): use the redirect flow. */
  | { kind: 'unavailable'; reason: string };

/** The browser's FedCM, or undefined where it has none. */
export function browserIdentityCredentials(): GetIdentityCredential | undefined {
  if (!('IdentityCredential' in globalThis) || typeof navigator?.credentials?.get !== 'function') return undefined;
  return (request) => navigator.credentials.get(request as CredentialRequestOptions);
}

/**
 * Asks the browser for a FedCM token for app B and redeems it. `unavailable` when the issuer names
 * no FedCM config or the browser gives no token: the caller goes on with the redirect flow.
 */
export async function signInWithFedCm(
  config: AppConfig,
  issuer: Issuer,
  ask: FedCmAsk,
  deps: RedeemDeps & { getCredential: GetIdentityCredential },
): Promise<FedCmOutcome> {
  const configUrl = fedcmConfigUrl(issuer.metadata);
  if (configUrl === undefined) return { kind: 'unavailable', reason: 'no_fedcm_config' };
  const request = await createFedCmRequest({
    configUrl,
    clientId: config.clientId,
    scope: ['openid', 'profile', 'email'],
    // RFC 8707: the access token is for app B's API, as with the redirect flow.
    resource: config.appUrl,
  });
  let credential: unknown;
  try {
    credential = await deps.getCredential({
      identity: { providers: [request.provider], ...(ask.mode === 'active' ? { mode: 'active' as const } : {}) },
      ...(ask.mode === 'passive' ? { mediation: ask.mediation } : {}),
      ...(ask.mode === 'passive' && ask.signal !== undefined ? { signal: ask.signal } : {}),
    });
  } catch (error) {
    return { kind: 'unavailable', reason: fedcmFailureReason(error) };
  }
  const code = identityCredentialToken(credential);
  if (code === undefined) return { kind: 'unavailable', reason: 'no_credential' };
  return redeemAuthorizationResponse(config, issuer, code, request, { ...deps, viaFedCm: true });
}
