/**
 * Hono middleware for a resource server: takes the RFC 6750 bearer token from the
 * `Authorization` header, verifies it as an RFC 9068 access token and exposes its claims.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { OAuthError } from '../errors.js';
import type { AccessTokenClaims } from '../protocol.js';
import { TokenVerificationError, type TokenVerificationErrorCode } from '../verify/errors.js';
import { createAccessTokenVerifier, type AccessTokenVerifierOptions } from '../verify/verify-access-token.js';

/** Context variables set by {@link requireBearer}: `c.get('accessToken')`. */
export interface AccessTokenVariables {
  /** The verified access token's claims. */
  accessToken: AccessTokenClaims;
}

/** The Hono `Env` of routes behind {@link requireBearer}: `new Hono<AccessTokenEnv>()`. */
export type AccessTokenEnv = { Variables: AccessTokenVariables };

/** Options of {@link requireBearer}: those of {@link createAccessTokenVerifier}, plus how to answer. */
export interface RequireBearerOptions extends AccessTokenVerifierOptions {
  /** The `realm` auth-param of `WWW-Authenticate` (RFC 6750 §3). */
  realm?: string;
  /** Called with every refusal, for the log: the client only ever sees the generic description. */
  onError?: (error: TokenVerificationError, c: Context) => void;
}

// Descriptions are fixed strings: safe to show a client, and within the characters RFC 6750 §3
// allows in error_description (%x20-21 / %x23-5B / %x5D-7E: no quote, no backslash).
const DESCRIPTIONS: Record<TokenVerificationErrorCode, string> = {
  ERR_TOKEN_MALFORMED: 'The access token is malformed',
  ERR_TOKEN_TOO_LARGE: 'The access token is too large',
  ERR_TOKEN_SIGNATURE: 'The access token signature is invalid',
  ERR_TOKEN_ALG: 'The access token algorithm is not accepted',
  ERR_TOKEN_KID_UNKNOWN: 'The access token was signed with an unknown key',
  ERR_TOKEN_TYPE: 'The token is not an access token',
  ERR_TOKEN_ISSUER: 'The access token was issued by an untrusted issuer',
  ERR_TOKEN_AUDIENCE: 'The access token is not meant for this resource',
  ERR_TOKEN_EXPIRED: 'The access token expired',
  ERR_TOKEN_NOT_YET_VALID: 'The access token is not valid yet',
  ERR_TOKEN_CLAIM: 'The access token claims are invalid',
  ERR_TOKEN_SCOPE: 'The access token lacks a required scope',
  ERR_TOKEN_REPLAYED: 'The access token was replayed',
  ERR_TOKEN_REVOKED: 'The access token was revoked',
  ERR_JWKS_UNAVAILABLE: 'The issuer keys are unavailable, try again later',
};

// An auth-scheme token (RFC 9110 §11.1) and its credentials; RFC 6750 §2.1 b64token for Bearer.
const AUTHORIZATION = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: +(.*))?$/;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const QUOTABLE = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

/**
 * Builds middleware that lets a request through only with a valid access token in
 * `Authorization: Bearer <token>` (RFC 6750 §2.1; the scheme is case-insensitive, RFC 9110 §11.1),
 * and puts its claims in `c.get('accessToken')`. Options are checked here, once; a misuse is a
 * `TypeError` at start-up rather than on the first request.
 *
 * Answers (RFC 6750 §3): no bearer token → 401 with a bare `WWW-Authenticate: Bearer`; a refused
 * token → 401 `invalid_token`; missing `requiredScopes` → 403 `insufficient_scope`; issuer keys
 * unavailable → 503 `temporarily_unavailable` (the token may well be good: the client should
 * retry, not sign in again). With `statusLists` (see {@link createStatusListChecker}), a token
 * revoked at the issuer is a 401 too, and a status list that cannot be had a 503. Tokens in the
 * query string or form body (RFC 6750 §2.2–2.3) are not read: URLs leak into logs and histories
 * (RFC 6750 §5.3).
 *
 * @example
 * ```ts
 * const app = new Hono<AccessTokenEnv>();
 * app.use('/api/*', requireBearer({
 *   issuer: 'https://idp.example.com',
 *   audience: 'https://api.example.com',
 *   keySet: createRemoteKeySet('https://idp.example.com/jwks'),
 * }));
 * app.get('/api/me', (c) => c.json({ sub: c.get('accessToken').sub }));
 * ```
 */
export function requireBearer(options: RequireBearerOptions): MiddlewareHandler<AccessTokenEnv> {
  const verify = createAccessTokenVerifier(options);
  const { realm, onError } = options;
  if (realm !== undefined && (typeof realm !== 'string' || !QUOTABLE.test(realm))) {
    throw new TypeError('realm must be a string without quotes, backslashes or control characters');
  }
  if (onError !== undefined && typeof onError !== 'function') throw new TypeError('onError must be a function');
  const realmParam = realm === undefined ? [] : [`realm="${realm}"`];
  const scopeParam = options.requiredScopes?.length ? [`scope="${options.requiredScopes.join(' ')}"`] : [];

  const challenge = (params: string[]): string => (params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`);

  const refuse = (c: Context<AccessTokenEnv>, error: TokenVerificationError): Response => {
    onError?.(error, c);
    const description = DESCRIPTIONS[error.code];
    if (error.code === 'ERR_JWKS_UNAVAILABLE') {
      return c.json(new OAuthError('temporarily_unavailable', description).toJSON(), 503);
    }
    const oauthError =
      error.code === 'ERR_TOKEN_SCOPE'
        ? new OAuthError('insufficient_scope', description)
        : new OAuthError('invalid_token', description);
    const params = [...realmParam, `error="${oauthError.error}"`, `error_description="${description}"`];
    if (error.code === 'ERR_TOKEN_SCOPE') params.push(...scopeParam);
    return c.json(oauthError.toJSON(), oauthError.status as 401 | 403, { 'WWW-Authenticate': challenge(params) });
  };

  return async function requireBearer(c, next) {
    const match = AUTHORIZATION.exec(c.req.header('authorization') ?? '');
    if (match === null || match[1]?.toLowerCase() !== 'bearer') {
      // RFC 6750 §3.1: a request without credentials gets the challenge and no error code.
      return c.body(null, 401, { 'WWW-Authenticate': challenge(realmParam) });
    }
    const token = match[2] ?? '';
    if (!B64TOKEN.test(token)) {
      return refuse(
        c,
        new TokenVerificationError('ERR_TOKEN_MALFORMED', 'the Authorization header is not a bearer token'),
      );
    }
    let claims: AccessTokenClaims;
    try {
      ({ claims } = await verify(token));
    } catch (error) {
      if (error instanceof TokenVerificationError) return refuse(c, error);
      throw error; // not about the token (an isRevoked store down…): the app's error handler decides
    }
    c.set('accessToken', claims);
    await next();
    return undefined;
  };
}
