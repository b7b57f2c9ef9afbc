/**
 * App B in the browser. On load: finish a sign-in coming back from the issuer, or recognise the
 * return from a sign-out, or else sign in silently: first through FedCM (the browser's automatic
 * re-authentication, for a person who signed in to app B through FedCM before), then by asking the
 * issuer with a redirect (`prompt=none`) whether the person is already signed in there. "Continue
 * with Tessera" signs in through FedCM's dialog; "Sign in", or any FedCM failure, by redirect.
 * While signed in, the API is asked every 2 s who the token belongs to: a 401 means the token was
 * revoked (back-channel logout) or expired. Shortly before expiry the access token is renewed with
 * the refresh token, one refresh at a time. Tokens are bound to the page's non-extractable key
 * (DPoP, RFC 9449): each call carries a proof signed with it.
 */
import type { DPoPProver } from '@tessera/shared';
import { fetchMe } from './api.js';
import { loadAppConfig, type AppConfig } from './app-config.js';
import { pageDPoPProver } from './dpop-key.js';
import { browserIdentityCredentials, signInWithFedCm } from './fedcm.js';
import { forgetFedCmConnection, hasFedCmConnection, rememberFedCmConnection } from './fedcm-memory.js';
import { discoverIssuer, type Issuer } from './issuer.js';
import { forgetSilentSignInFailed, silentSignInFailed, takeLogoutState } from './redirect-memory.js';
import { completeSignIn, isAuthorizationResponse, startSignIn } from './sign-in.js';
import { signOut } from './sign-out.js';
import { currentTokens, forgetTokens, keepTokens, type Tokens } from './token-memory.js';
import { createTokenRefresher } from './token-refresh.js';
import { offerFedCm, onFedCmSignIn, onSignIn, onSignOut, showSignedIn, showSignedOut, showWorking } from './view.js';

const POLL_INTERVAL_MS = 2_000;
/** A 401 this close to the token's expiry is taken for its expiry, and renewed silently. */
const EXPIRY_MARGIN_MS = 10_000;
/** Parameters of authorization and logout responses: read once, then taken out of the address bar. */
const RESPONSE_PARAMETERS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state'];
/**
 * How long a silent FedCM attempt may take before the redirect flow is tried instead. Automatic
 * re-authentication answers within a second or two; a browser that cannot re-authenticate may
 * hold its refusal back for many seconds (a privacy delay), which nobody should wait out.
 */
const SILENT_FEDCM_LIMIT_MS = 4_000;
/** The browser's FedCM, where it has one. */
const identityCredentials = browserIdentityCredentials();
offerFedCm(identityCredentials !== undefined);

/** The URL without response parameters: a code does not belong in the history, a bookmark or a shared link. */
function withoutResponseParameters(url: URL): string {
  const clean = new URL(url);
  for (const name of RESPONSE_PARAMETERS) clean.searchParams.delete(name);
  return clean.pathname + clean.search + clean.hash;
}

function watchSession(config: AppConfig, issuer: Issuer, dpop: DPoPProver): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const refresher = createTokenRefresher({
    dpop,
    tokenEndpoint: issuer.metadata.token_endpoint,
    clientId: config.clientId,
    resource: config.appUrl,
    current: currentTokens,
    keep: keepTokens,
    fetch: (input, init) => fetch(input, init),
  });
  const nearExpiry = (t: { accessTokenExpiresAt: number }) => Date.now() >= t.accessTokenExpiresAt - EXPIRY_MARGIN_MS;

  const check = async (): Promise<void> => {
    timer = undefined;
    // Renew shortly before expiry; every caller joins the one refresh in flight.
    const before = currentTokens();
    if (before?.refreshToken !== undefined && nearExpiry(before)) await refresher.refresh();
    const tokens = currentTokens();
    if (tokens === undefined) return showSignedOut();
    const result = await fetchMe(tokens.accessToken, dpop);
    if (currentTokens() !== tokens) return; // signed out meanwhile
    switch (result.kind) {
      case 'ok':
        showSignedIn(result.me);
        break;
      case 'unavailable':
        break; // the API is down or unreachable: not a reason to drop the tokens; ask again
      case 'unauthorized':
        // Expired rather than revoked: the refresh token may still be good.
        if (nearExpiry(tokens) && tokens.refreshToken !== undefined && (await refresher.refresh()).kind === 'refreshed')
          break;
        forgetTokens();
        if (nearExpiry(tokens) && !silentSignInFailed()) {
          // No refresh left, but the issuer session may well be alive: ask it silently.
          showWorking('Renewing your sign-in…');
          return signInSilently(config, issuer);
        }
        return showSignedOut();
    }
    timer = setTimeout(() => void check(), POLL_INTERVAL_MS);
  };

  // Browsers slow timers down in background tabs: a tab shown again checks at once.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && timer !== undefined) {
      clearTimeout(timer);
      void check();
    }
  });
  void check();
}

/** Signed in through FedCM or a redirect: keep the tokens and watch the session. */
async function signedIn(config: AppConfig, issuer: Issuer, tokens: Tokens): Promise<void> {
  forgetSilentSignInFailed();
  keepTokens(tokens);
  watchSession(config, issuer, await pageDPoPProver());
}

/** Signed in through FedCM's dialog or its automatic re-authentication. */
function signedInThroughFedCm(config: AppConfig, issuer: Issuer, tokens: Tokens): Promise<void> {
  rememberFedCmConnection();
  return signedIn(config, issuer, tokens);
}

/**
 * Signs in without asking the person anything: FedCM's automatic re-authentication where the
 * browser has FedCM and signed in to app B through it before (passive, `mediation: 'silent'`:
 * never a dialog), else — or when it gives no token in time — the redirect with `prompt=none`, as
 * before FedCM.
 */
async function signInSilently(config: AppConfig, issuer: Issuer): Promise<void> {
  if (identityCredentials !== undefined && hasFedCmConnection()) {
    const outcome = await signInWithFedCm(
      config,
      issuer,
      { mode: 'passive', mediation: 'silent', signal: AbortSignal.timeout(SILENT_FEDCM_LIMIT_MS) },
      { getCredential: identityCredentials },
    );
    if (outcome.kind === 'signed-in') return signedInThroughFedCm(config, issuer, outcome.tokens);
    if (outcome.kind === 'unavailable') {
      console.info('app-b: no silent FedCM sign-in:', outcome.reason);
      // Disconnected, or the browser's connection is gone: the next visit goes straight to the redirect.
      forgetFedCmConnection();
    }
  }
  await startSignIn(config, issuer, { silent: true });
}

/** Set once the settings and the issuer's metadata are in: the buttons need them. */
let ready: { config: AppConfig; issuer: Issuer } | undefined;

// Registered once, before anything can fail: without settings, "Sign in" reloads to try again.
onSignIn(() => {
  if (ready === undefined) return location.reload();
  void startSignIn(ready.config, ready.issuer, { silent: false });
});
// FedCM's dialog (active mode: the browser may open the issuer's sign-in pop-up first); whatever
// keeps it from giving a token goes on with the redirect flow, which always works.
onFedCmSignIn(() => {
  if (ready === undefined || identityCredentials === undefined) return location.reload();
  const { config, issuer } = ready;
  showWorking('Signing in…');
  void signInWithFedCm(config, issuer, { mode: 'active' }, { getCredential: identityCredentials }).then(
    (outcome) => {
      if (outcome.kind === 'signed-in') return signedInThroughFedCm(config, issuer, outcome.tokens);
      if (outcome.kind === 'failed') return showSignedOut({ problem: outcome.message });
      const reason = outcome.kind === 'unavailable' ? outcome.reason : outcome.kind;
      console.info('app-b: FedCM sign-in did not complete, using the redirect flow:', reason);
      return startSignIn(config, issuer, { silent: false });
    },
    (error: unknown) => {
      console.error('app-b: FedCM sign-in failed', error);
      return startSignIn(config, issuer, { silent: false });
    },
  );
});
onSignOut(() => {
  const tokens = currentTokens();
  if (ready !== undefined && tokens !== undefined) signOut(ready.config, ready.issuer, tokens);
  else showSignedOut();
});

async function start(): Promise<void> {
  showWorking('Loading…');
  const config = await loadAppConfig();
  const issuer = await discoverIssuer(config.issuer);
  ready = { config, issuer };

  const url = new URL(location.href);
  if (isAuthorizationResponse(url)) {
    history.replaceState(null, '', withoutResponseParameters(url));
    showWorking('Signing in…');
    const outcome = await completeSignIn(config, issuer, url);
    if (outcome.kind === 'signed-in') return signedIn(config, issuer, outcome.tokens);
    return showSignedOut(outcome.kind === 'failed' ? { problem: outcome.message } : {});
  }

  // Back from the issuer's end-session endpoint, with the state we sent (RP-Initiated Logout §3).
  const state = url.searchParams.get('state');
  if (state !== null) {
    history.replaceState(null, '', withoutResponseParameters(url));
    if (state === takeLogoutState()) return showSignedOut({ notice: 'You have signed out.' });
  }

  // Never twice in a row without the person asking: a failed silent attempt shows the button.
  if (silentSignInFailed()) return showSignedOut();
  showWorking('Checking your sign-in…');
  await signInSilently(config, issuer);
}

start().catch((error: unknown) => {
  console.error('app-b: could not start', error);
  showSignedOut({
    problem:
      ready === undefined
        ? 'App B could not reach the sign-in service. Try again in a moment.'
        : 'Something went wrong while signing in. Please sign in again.',
  });
});
