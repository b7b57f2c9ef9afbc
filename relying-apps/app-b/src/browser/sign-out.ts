/** Signing out: at the issuer, by top-level navigation (OIDC RP-Initiated Logout 1.0 §2). */
import { buildEndSessionUrl } from '@tessera/shared';
import { redirectUri, type AppConfig } from './app-config.js';
import type { Issuer } from './issuer.js';
import { rememberLogoutState, rememberSilentSignInFailed } from './redirect-memory.js';
import { forgetTokens, type Tokens } from './token-memory.js';

export function signOut(config: AppConfig, issuer: Issuer, tokens: Tokens): void {
  forgetTokens();
  // The session is about to end: coming back, the page shows the sign-in button at once rather
  // than asking the issuer silently for a session it no longer has.
  rememberSilentSignInFailed();
  const endSessionEndpoint = issuer.metadata.end_session_endpoint;
  if (endSessionEndpoint === undefined) {
    location.assign(redirectUri(config));
    return;
  }
  const state = crypto.randomUUID();
  rememberLogoutState(state);
  location.assign(
    buildEndSessionUrl({
      endSessionEndpoint,
      // The hint proves which session we mean, so the issuer signs out without asking.
      idTokenHint: tokens.idToken,
      clientId: config.clientId,
      postLogoutRedirectUri: redirectUri(config),
      state,
    }).href,
  );
}
