/**
 * The OAuth 2.0 error vocabulary (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; OIDC Core §3.1.2.6).
 *
 * An `OAuthError` carries what the client may see (`error`, `description`) apart from what only
 * the log may see (`cause`). Each of the issuer's endpoints has one error handler that turns it
 * into the response the spec asks for there: JSON at the token endpoint, a Bearer challenge at
 * UserInfo, a redirect once the redirect URI is trusted, an HTML page when it is not.
 */
import type { ClientErrorStatusCode, ServerErrorStatusCode } from 'hono/utils/http-status';

/** Every error code Tessera answers with. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'insufficient_user_authentication'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'unmet_authentication_requirements'
  | 'invalid_target'
  | 'invalid_request_uri'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  | 'registration_not_supported'
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

/** An error's HTTP status: always one a response body may carry (so `c.json(…, status)` takes it as is). */
export type OAuthErrorStatus = ClientErrorStatusCode | ServerErrorStatusCode;

/** The HTTP status each code is answered with when it is not a redirect. */
const STATUS: Record<OAuthErrorCode, OAuthErrorStatus> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  server_error: 500,
  temporarily_unavailable: 503,
  invalid_token: 401,
  insufficient_scope: 403,
  // RFC 9470 §3: the token is good, the sign-in behind it is not enough.
  insufficient_user_authentication: 401,
  login_required: 400,
  consent_required: 400,
  interaction_required: 400,
  // OpenID Connect Core Error Code unmet_authentication_requirements 1.0 §2.
  unmet_authentication_requirements: 400,
  invalid_target: 400,
  invalid_request_uri: 400,
  request_not_supported: 400,
  request_uri_not_supported: 400,
  registration_not_supported: 400,
  // RFC 8628 §3.5: answered at the token endpoint as RFC 6749 §5.2 errors, with 400.
  authorization_pending: 400,
  slow_down: 400,
  expired_token: 400,
  // RFC 9449 §5, §8: at the token endpoint, 400; a resource answers them with 401 and a challenge.
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
};

/** An OAuth protocol error: `description` is safe for the client, `cause` is for the log only. */
export class OAuthError extends Error {
  readonly error: OAuthErrorCode;
  readonly description: string;
  readonly status: OAuthErrorStatus;

  constructor(error: OAuthErrorCode, description: string, options?: { cause?: unknown; status?: OAuthErrorStatus }) {
    super(`${error}: ${description}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OAuthError';
    this.error = error;
    this.description = description;
    this.status = options?.status ?? STATUS[error];
  }

  /** The JSON body of RFC 6749 §5.2. */
  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}
