/** The redirect back to the client (RFC 6749 §4.1.2), with `iss` (RFC 9207 §2). */
import type { OAuthError } from '@tessera/shared';

/** RFC 6749 §3.1.2: the redirect URI's own query is kept; our parameters are added to it. */
function withParams(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
  return url.toString();
}

export function successRedirect(issuer: string, redirectUri: string, code: string, state: string | undefined): string {
  return withParams(redirectUri, { code, state, iss: issuer });
}

export function errorRedirect(
  issuer: string,
  redirectUri: string,
  error: OAuthError,
  state: string | undefined,
): string {
  return withParams(redirectUri, { error: error.error, error_description: error.description, state, iss: issuer });
}
