/**
 * Renewing the access token with the refresh token (RFC 6749 §6), one refresh at a time.
 *
 * The issuer rotates refresh tokens on every use and treats a rotated token presented again as
 * theft: it revokes the whole family (RFC 9700 §4.14.2). Two refreshes started together with the
 * same token — a poll and a button press, say — would trip that by themselves. So every caller
 * that needs a fresh token joins the one refresh in flight instead of starting its own. Each tab
 * signs in on its own (tokens are kept in memory), so each tab holds a family of its own and tabs
 * never share a refresh token.
 *
 * DOM-free, so it runs under test in Node as it does in the browser.
 */
import { withDPoP, type DPoPProver } from '@tessera/shared';
import type { Tokens } from './token-memory.js';

export interface TokenRefresherDeps {
  tokenEndpoint: string;
  clientId: string;
  /** RFC 8707: the access token stays for app B's API. */
  resource: string;
  current(): Tokens | undefined;
  keep(tokens: Tokens): void;
  fetch: (input: string, init: RequestInit) => Promise<Response>;
  /**
   * The key the tokens are bound to: a public client's refresh token is bound too, and the issuer
   * takes it only with a proof by the same key (RFC 9449 §5).
   */
  dpop?: DPoPProver;
  now?: () => number;
}

/** Why a refresh gave no tokens: the family was refused (sign in again) or the issuer was not reachable. */
export type RefreshOutcome = { kind: 'refreshed'; tokens: Tokens } | { kind: 'refused' } | { kind: 'unavailable' };

export interface TokenRefresher {
  /** Refreshes, or joins the refresh already in flight. */
  refresh(): Promise<RefreshOutcome>;
}

export function createTokenRefresher(deps: TokenRefresherDeps): TokenRefresher {
  const now = deps.now ?? Date.now;
  let inFlight: Promise<RefreshOutcome> | undefined;
  const send = deps.dpop
    ? withDPoP(deps.dpop, (input, init) => deps.fetch(String(input), init ?? {}))
    : (input: string, init: RequestInit) => deps.fetch(input, init);

  async function refreshOnce(): Promise<RefreshOutcome> {
    const tokens = deps.current();
    if (tokens?.refreshToken === undefined) return { kind: 'refused' };
    let response: Response;
    try {
      response = await send(deps.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        // Public client: client_id in the body, no secret (RFC 6749 §2.3, §6).
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.refreshToken,
          client_id: deps.clientId,
          resource: deps.resource,
        }).toString(),
        cache: 'no-store',
      });
    } catch {
      return { kind: 'unavailable' };
    }
    if (response.status >= 500) return { kind: 'unavailable' };
    if (!response.ok) return { kind: 'refused' };
    const body = (await response.json()) as {
      token_type?: string;
      access_token?: string;
      refresh_token?: string;
      id_token?: string;
      expires_in?: number;
    };
    if (typeof body.access_token !== 'string') return { kind: 'refused' };
    // RFC 9449 §5: a bound client takes nothing less than a bound token.
    if (deps.dpop && body.token_type?.toLowerCase() !== 'dpop') return { kind: 'refused' };
    const next: Tokens = {
      accessToken: body.access_token,
      // The ID token is the logout hint; a refresh may or may not send a new one (OIDC Core §12.2).
      idToken: body.id_token ?? tokens.idToken,
      accessTokenExpiresAt: now() + (body.expires_in ?? 300) * 1000,
      ...(body.refresh_token !== undefined ? { refreshToken: body.refresh_token } : {}),
    };
    // Signed out (or signed in afresh) while the request was out: keep what is there now.
    if (deps.current() !== tokens) return { kind: 'refused' };
    deps.keep(next);
    return { kind: 'refreshed', tokens: next };
  }

  return {
    refresh() {
      inFlight ??= refreshOnce().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
  };
}
