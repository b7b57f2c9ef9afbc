/**
 * The tokens, kept in this module's variables and nowhere else.
 *
 * Not in localStorage or sessionStorage: any script running on the page (an XSS payload, a
 * compromised dependency) can read those and send the tokens away, and localStorage keeps them
 * on disk after the tab is closed. A module variable is gone with the page, and a script injected
 * later cannot reach into this module's scope by name. The price is a redirect round trip to the
 * issuer after every reload, which single sign-on makes invisible (`prompt=none`).
 */

export interface Tokens {
  accessToken: string;
  /** Sent back as `id_token_hint` when signing out (RP-Initiated Logout §2). */
  idToken: string;
  /** Epoch milliseconds after which the access token is no longer accepted. */
  accessTokenExpiresAt: number;
  /** Rotated at every use (RFC 9700 §4.14.2); only the single-flight refresher spends it. */
  refreshToken?: string;
}

let tokens: Tokens | undefined;

export const currentTokens = (): Tokens | undefined => tokens;

export function keepTokens(value: Tokens): void {
  tokens = value;
}

export function forgetTokens(): void {
  tokens = undefined;
}
