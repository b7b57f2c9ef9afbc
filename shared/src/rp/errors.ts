/**
 * Errors of the relying-party helpers. As everywhere in Tessera, callers match on `code`.
 */

/** Why an authorization response was refused. */
export type AuthorizationResponseErrorCode =
  /** The authorization server answered with an error (RFC 6749 §4.1.2.1): see `error`. */
  | 'ERR_AUTHZ_ERROR_RESPONSE'
  /** `state` is missing or not the one this browser was given: possible CSRF (RFC 6749 §10.12). */
  | 'ERR_AUTHZ_STATE'
  /** `iss` is missing or names another issuer: possible mix-up attack (RFC 9207 §2.4). */
  | 'ERR_AUTHZ_ISSUER'
  /** No `code`, or a parameter repeated (RFC 6749 §3.1). */
  | 'ERR_AUTHZ_MALFORMED';

/**
 * An authorization response that must not be used. For `ERR_AUTHZ_ERROR_RESPONSE`, `error` holds
 * the authorization server's error code (`access_denied`, `login_required`…).
 */
export class AuthorizationResponseError extends Error {
  /** The stable reason. */
  readonly code: AuthorizationResponseErrorCode;
  /** The OAuth `error` parameter, for `ERR_AUTHZ_ERROR_RESPONSE`. */
  readonly error: string | undefined;
  /** The OAuth `error_description` parameter, when sent. Attacker-controllable text: escape it. */
  readonly errorDescription: string | undefined;

  constructor(
    code: AuthorizationResponseErrorCode,
    message: string,
    options?: { error?: string; errorDescription?: string; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuthorizationResponseError';
    this.code = code;
    this.error = options?.error;
    this.errorDescription = options?.errorDescription;
  }
}

/** Why a code exchange failed. */
export type CodeExchangeErrorCode =
  /** The token endpoint refused the grant (RFC 6749 §5.2): see `error` and `status`. */
  | 'ERR_CODE_EXCHANGE_REJECTED'
  /** The token endpoint could not be reached, or answered with something that is not a token response. */
  | 'ERR_CODE_EXCHANGE_RESPONSE';

/** A failed authorization code exchange at the token endpoint. */
export class CodeExchangeError extends Error {
  /** The stable reason. */
  readonly code: CodeExchangeErrorCode;
  /** The OAuth `error` code from the token endpoint, for `ERR_CODE_EXCHANGE_REJECTED`. */
  readonly error: string | undefined;
  /** The OAuth `error_description` from the token endpoint, when sent. */
  readonly errorDescription: string | undefined;
  /** The HTTP status of the token endpoint's answer, when there was one. */
  readonly status: number | undefined;

  constructor(
    code: CodeExchangeErrorCode,
    message: string,
    options?: { error?: string; errorDescription?: string; status?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CodeExchangeError';
    this.code = code;
    this.error = options?.error;
    this.errorDescription = options?.errorDescription;
    this.status = options?.status;
  }
}

/** Why a token exchange failed. */
export type TokenExchangeErrorCode =
  /** The token endpoint refused the exchange (RFC 8693 §2.2.2, RFC 6749 §5.2): see `error` and `status`. */
  | 'ERR_TOKEN_EXCHANGE_REJECTED'
  /** The token endpoint could not be reached, or answered with something that is not a token exchange response. */
  | 'ERR_TOKEN_EXCHANGE_RESPONSE';

/** A failed token exchange (RFC 8693) at the token endpoint. */
export class TokenExchangeError extends Error {
  /** The stable reason. */
  readonly code: TokenExchangeErrorCode;
  /** The OAuth `error` from the token endpoint (`invalid_target`…), for `ERR_TOKEN_EXCHANGE_REJECTED`. */
  readonly error: string | undefined;
  /** The OAuth `error_description` from the token endpoint, when sent. */
  readonly errorDescription: string | undefined;
  /** The HTTP status of the token endpoint's answer, when there was one. */
  readonly status: number | undefined;

  constructor(
    code: TokenExchangeErrorCode,
    message: string,
    options?: { error?: string; errorDescription?: string; status?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenExchangeError';
    this.code = code;
    this.error = options?.error;
    this.errorDescription = options?.errorDescription;
    this.status = options?.status;
  }
}

/**
 * The issuer could not be reached, or its metadata is unusable (OIDC Discovery 1.0 §4). Not the
 * fault of whoever made the request: answer 503, not 4xx.
 */
export class IssuerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IssuerUnavailableError';
  }
}
