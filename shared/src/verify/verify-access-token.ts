import type { JWTHeaderParameters } from 'jose';
import type { KeySet } from '../jwks/key-set.js';
import { TOKEN_TYPES, type AccessTokenClaims } from '../protocol.js';
import { TokenVerificationError } from './errors.js';
import {
  checkStringClaim,
  normalizeTyp,
  requireAudience,
  requireClockTolerance,
  requireKeySet,
  requireMaxTokenBytes,
  requireNonEmptyString,
  requireNow,
  verifyJwt,
  type JwtCheck,
} from './verify-jwt.js';

/** What {@link verifyAccessToken} checks a token against. */
export interface VerifyAccessTokenOptions {
  /** The issuer identifier, compared exactly with `iss` (RFC 9068 §4). */
  issuer: string;
  /** This resource server's identifier(s); `aud` must contain one of them (RFC 9068 §4). */
  audience: string | readonly string[];
  /** The issuer's keys, usually {@link createRemoteKeySet}. */
  keySet: KeySet;
  /** Leeway for `exp`, `nbf` and `iat`, in seconds: 0 by default, at most 60. */
  clockToleranceSec?: number;
  /** Scopes the token must all carry, else `ERR_TOKEN_SCOPE` (RFC 6750 §3.1 insufficient_scope). */
  requiredScopes?: readonly string[];
  /**
   * App-level revocation, asked after every other check passed (an ended `sid`, a blocked `sub`…).
   * Returning true refuses the token with `ERR_TOKEN_REVOKED`.
   */
  isRevoked?: (claims: AccessTokenClaims, header: JWTHeaderParameters) => boolean | Promise<boolean>;
  /** Tokens longer than this are refused before parsing (default 16 KiB). */
  maxTokenBytes?: number;
  /** The clock, in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
}

/** A verified access token. */
export interface VerifiedAccessToken {
  claims: AccessTokenClaims;
  header: JWTHeaderParameters;
}

const ACCESS_TOKEN_TYP = normalizeTyp(TOKEN_TYPES.accessToken);
const KIND = 'access token';

/** Options checked once; `verify` then does only per-token work (internal, used by requireBearer). */
export function compileAccessTokenVerifier(
  options: VerifyAccessTokenOptions,
): (token: unknown) => Promise<VerifiedAccessToken> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const requiredScopes = options.requiredScopes ?? [];
  if (!Array.isArray(requiredScopes) || !requiredScopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s))) {
    throw new TypeError('requiredScopes must be an array of scope tokens (RFC 6749 §3.3)');
  }
  const isRevoked = options.isRevoked;
  if (isRevoked !== undefined && typeof isRevoked !== 'function') throw new TypeError('isRevoked must be a function');

  const check: JwtCheck = {
    keySet: requireKeySet(options.keySet),
    issuer: requireNonEmptyString('issuer', options.issuer),
    audience: requireAudience(options.audience),
    clockToleranceSec: requireClockTolerance(options.clockToleranceSec),
    maxTokenBytes: requireMaxTokenBytes(options.maxTokenBytes),
    now: requireNow(options.now),
    // RFC 9068 §2.2 lists these as REQUIRED; Tessera always issues `scope` too.
    requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti', 'scope'],
    // RFC 9068 §4: the resource server MUST check typ is at+jwt, so an ID token (same issuer,
    // same keys, possibly the same aud) is never taken for an access token. RFC 8725 §3.11.
    acceptsType: (typ) => typ === ACCESS_TOKEN_TYP,
    kind: KIND,
  };

  return async function verify(token) {
    const { payload, header } = await verifyJwt(token, check);
    for (const claim of ['sub', 'client_id', 'jti']) checkStringClaim(payload, claim, KIND, true);
    if (typeof payload.scope !== 'string') {
      throw new TokenVerificationError('ERR_TOKEN_CLAIM', 'the access token "scope" claim must be a string', { claim: 'scope' });
    }
    checkStringClaim(payload, 'sid', KIND, false);
    const claims = payload as unknown as AccessTokenClaims;

    if (requiredScopes.length > 0) {
      const granted = new Set(claims.scope.split(' '));
      const missing = requiredScopes.filter((scope) => !granted.has(scope));
      if (missing.length > 0) {
        throw new TokenVerificationError('ERR_TOKEN_SCOPE', `the access token lacks scope ${missing.join(' ')}`, { claim: 'scope' });
      }
    }
    if (isRevoked !== undefined && (await isRevoked(claims, header))) {
      throw new TokenVerificationError('ERR_TOKEN_REVOKED', 'the access token has been revoked');
    }
    return { claims, header };
  };
}

/**
 * Verifies an RFC 9068 JWT access token: signature by the issuer's key chosen by `kid` alone and
 * checked with that key's own algorithm, `typ` `at+jwt`, `iss`, `aud`, `exp`, `nbf`, `iat`, the
 * required claims, then the optional scopes and revocation hook. Refusals are
 * {@link TokenVerificationError}s; misuse of the options is a `TypeError`.
 *
 * @example
 * ```ts
 * const keySet = createRemoteKeySet('https://idp.example.com/jwks');
 * const { claims } = await verifyAccessToken(token, {
 *   issuer: 'https://idp.example.com',
 *   audience: 'https://api.example.com',
 *   keySet,
 *   requiredScopes: ['profile'],
 * });
 * console.log(claims.sub, claims.scope);
 * ```
 */
export async function verifyAccessToken(token: string, options: VerifyAccessTokenOptions): Promise<VerifiedAccessToken> {
  return compileAccessTokenVerifier(options)(token);
}
