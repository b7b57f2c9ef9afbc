import { AuthorizationResponseError } from './errors.js';

/** What an authorization response must match. */
export interface AuthorizationResponseExpectations {
  /** The `state` created with the request (createAuthorizationRequest). */
  expectedState: string;
  /** The issuer identifier the request was sent to; `iss` must equal it exactly (RFC 9207 §2.4). */
  expectedIssuer: string;
  /**
   * Whether `iss` must be present (default true). Tessera always sends it and advertises
   * `authorization_response_iss_parameter_supported`, in which case RFC 9207 §2.4 requires it.
   */
  requireIssuer?: boolean;
}

/** Constant-time comparison, so `state` cannot be guessed byte by byte from response timing. */
function sameString(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  if (left.length !== right.length) return false; // the length of a state is no secret
  let difference = 0;
  for (let i = 0; i < left.length; i++) difference |= left[i]! ^ right[i]!;
  return difference === 0;
}

/**
 * Checks the redirect back from the authorization server and returns the authorization code.
 * In order: no repeated parameter (RFC 6749 §3.1); `state` equal to the one issued (RFC 6749
 * §10.12 — checked first, so an injected error response is not believed either); `iss` equal to
 * the expected issuer (RFC 9207 §2.4, mix-up defence; also on error responses); then an `error`
 * response (RFC 6749 §4.1.2.1) becomes `ERR_AUTHZ_ERROR_RESPONSE`; else the `code` is returned.
 *
 * @example
 * ```ts
 * const code = validateAuthorizationResponse(c.req.url, {
 *   expectedState: session.state,
 *   expectedIssuer: 'https://idp.example.com',
 * });
 * ```
 */
export function validateAuthorizationResponse(
  callbackUrl: string | URL | URLSearchParams,
  expectations: AuthorizationResponseExpectations,
): string {
  if (typeof expectations !== 'object' || expectations === null) throw new TypeError('expectations must be an object');
  const { expectedState, expectedIssuer, requireIssuer = true } = expectations;
  if (typeof expectedState !== 'string' || expectedState === '')
    throw new TypeError('expectedState must be a non-empty string');
  if (typeof expectedIssuer !== 'string' || expectedIssuer === '')
    throw new TypeError('expectedIssuer must be a non-empty string');

  let params: URLSearchParams;
  if (callbackUrl instanceof URLSearchParams) params = callbackUrl;
  else {
    try {
      params = new URL(callbackUrl).searchParams;
    } catch (cause) {
      throw new TypeError('callbackUrl must be an absolute URL', { cause });
    }
  }

  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name))
      throw new AuthorizationResponseError('ERR_AUTHZ_MALFORMED', `the parameter ${name} is repeated`);
    seen.add(name);
  }

  const state = params.get('state');
  if (state === null || !sameString(state, expectedState)) {
    throw new AuthorizationResponseError('ERR_AUTHZ_STATE', 'the state does not match the one issued with the request');
  }

  const iss = params.get('iss');
  if (iss === null ? requireIssuer : iss !== expectedIssuer) {
    // RFC 9207 §2.4: simple string comparison, no normalization.
    throw new AuthorizationResponseError(
      'ERR_AUTHZ_ISSUER',
      iss === null ? 'the response has no iss' : 'the response comes from another issuer',
    );
  }

  const error = params.get('error');
  if (error !== null) {
    const description = params.get('error_description') ?? undefined;
    throw new AuthorizationResponseError('ERR_AUTHZ_ERROR_RESPONSE', `the authorization server answered ${error}`, {
      error,
      ...(description === undefined ? {} : { errorDescription: description }),
    });
  }

  const code = params.get('code');
  if (code === null || code === '')
    throw new AuthorizationResponseError('ERR_AUTHZ_MALFORMED', 'the response has no code');
  return code;
}
