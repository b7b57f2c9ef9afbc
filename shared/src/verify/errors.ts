/**
 * Errors of token verification. Callers match on `code`, never on the message: the codes are
 * stable, the messages are for logs and developers.
 */

/** Every reason a token can be refused, plus the one reason the verifier itself can fail. */
export type TokenVerificationErrorCode =
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_TOO_LARGE'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_ALG'
  | 'ERR_TOKEN_KID_UNKNOWN'
  | 'ERR_TOKEN_TYPE'
  | 'ERR_TOKEN_ISSUER'
  | 'ERR_TOKEN_AUDIENCE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_CLAIM'
  | 'ERR_TOKEN_SCOPE'
  | 'ERR_TOKEN_REPLAYED'
  | 'ERR_TOKEN_REVOKED'
  | 'ERR_JWKS_UNAVAILABLE';

/**
 * A token was refused (every code but `ERR_JWKS_UNAVAILABLE`), or could not be checked because the
 * issuer's keys are unavailable (`ERR_JWKS_UNAVAILABLE`: not the token's fault, so a resource
 * server should answer 503 rather than 401).
 *
 * @example
 * ```ts
 * try { await verifyAccessToken(token, options) }
 * catch (e) { if (e instanceof TokenVerificationError && e.code === 'ERR_TOKEN_EXPIRED') … }
 * ```
 */
export class TokenVerificationError extends Error {
  /** The stable reason; see {@link TokenVerificationErrorCode}. */
  readonly code: TokenVerificationErrorCode;
  /** The claim or header parameter the refusal is about, when there is one (`exp`, `typ`, `kid`…). */
  readonly claim: string | undefined;
  /**
   * For a refusal by a time check (`ERR_TOKEN_EXPIRED`, `ERR_TOKEN_NOT_YET_VALID`) of a token that
   * carries `iat`: that `iat` minus this server's clock, in whole seconds. For a token issued a
   * moment ago (an ID token at the callback) it is the issuer's clock ahead of this server's — see
   * {@link describeClockSkew}; for an old token it is only its age, negated.
   */
  readonly issuedAtOffsetSec: number | undefined;

  constructor(
    code: TokenVerificationErrorCode,
    message: string,
    options?: { claim?: string; cause?: unknown; issuedAtOffsetSec?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TokenVerificationError';
    this.code = code;
    this.claim = options?.claim;
    this.issuedAtOffsetSec = options?.issuedAtOffsetSec;
  }
}
