/**
 * What must survive the round trip to the issuer, which unloads this page: the PKCE verifier,
 * state and nonce of the request under way. sessionStorage is per tab and per origin, and each
 * entry is removed as soon as the browser is back. Tokens never go here (see token-memory.ts).
 */

export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Whether this was a `prompt=none` attempt. */
  silent: boolean;
}

const PENDING = 'app-b.pending-sign-in';
const SILENT_FAILED = 'app-b.silent-sign-in-failed';
const LOGOUT_STATE = 'app-b.logout-state';

export function rememberPendingSignIn(pending: PendingSignIn): void {
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
}

/** The request under way, removed from storage: a response is processed once. */
export function takePendingSignIn(): PendingSignIn | undefined {
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<PendingSignIn>;
    if (typeof value.state !== 'string' || typeof value.nonce !== 'string' || typeof value.codeVerifier !== 'string')
      return undefined;
    return { state: value.state, nonce: value.nonce, codeVerifier: value.codeVerifier, silent: value.silent === true };
  } catch {
    return undefined;
  }
}

/**
 * A silent sign-in has just failed (or the person signed out): until they ask to sign in, loading
 * the page shows the sign-in button instead of going to the issuer again, so the page can never
 * bounce between the two.
 */
export function rememberSilentSignInFailed(): void {
  sessionStorage.setItem(SILENT_FAILED, '1');
}

export const silentSignInFailed = (): boolean => sessionStorage.getItem(SILENT_FAILED) !== null;

export function forgetSilentSignInFailed(): void {
  sessionStorage.removeItem(SILENT_FAILED);
}

/** The state sent with a sign-out (RP-Initiated Logout §3), to recognise the issuer's redirect back. */
export function rememberLogoutState(state: string): void {
  sessionStorage.setItem(LOGOUT_STATE, state);
}

export function takeLogoutState(): string | undefined {
  const state = sessionStorage.getItem(LOGOUT_STATE) ?? undefined;
  sessionStorage.removeItem(LOGOUT_STATE);
  return state;
}
