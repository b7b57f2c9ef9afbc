import type { JWTHeaderParameters } from 'jose';
import type { VerificationKey } from '../jwks/key-set.js';
import { TOKEN_TYPES, type AccessTokenClaims } from '../protocol.js';
import type { StatusListChecker } from '../status/status-list-checker.js';
import { TokenVerificationError } from './errors.js';
import {
  checkStringClaim,
  jwtCheckFor,
  normalizeTyp,
  requireAudience,
  verifyJwt,
  type JwtVerifyOptions,
  type VerifiedJwt,
} from './verify-jwt.js';

/** What {@link verifyAccessToken} checks a token against. */
export interface VerifyAccessTokenOptions extends JwtVerifyOptions {
  /** The issuer identifier, compared exactly with `iss` (RFC 9068 §4). */
  issuer: string;
  /** This resource server's identifier(s); `aud` must contain one of them (RFC 9068 §4). */
  audience: string | readonly string[];
  /** Scopes the token must all carry, else `ERR_TOKEN_SCOPE` (RFC 6750 §3.1 insufficient_scope). */
  requiredScopes?: readonly string[];
  /**
   * App-level revocation, asked after every other check passed (an ended `sid`, a blocked `sub`…).
   * Returning true refuses the token with `ERR_TOKEN_REVOKED`.
   */
  isRevoked?: (claims: AccessTokenClaims, header: JWTHeaderParameters) => boolean | Promise<boolean>;
  /**
   * Checks each token's `status` claim against the issuer's Token Status List
   * (draft-ietf-oauth-status-list-21 §8.3), on every use, after every other check but
   * `isRevoked`: a revoked token is refused with `ERR_TOKEN_REVOKED` within the list's `ttl`.
   * Off when absent. Build it once with {@link createStatusListChecker} and share it.
   */
  statusLists?: StatusListChecker;
}

/** A verified access token. */
export interface VerifiedAccessToken {
  claims: AccessTokenClaims;
  header: JWTHeaderParameters;
}

const ACCESS_TOKEN_TYP = normalizeTyp(TOKEN_TYPES.accessToken);
const KIND = 'access token';

/** Options of {@link createAccessTokenVerifier}: those of {@link verifyAccessToken}, plus its cache. */
export interface AccessTokenVerifierOptions extends VerifyAccessTokenOptions {
  /**
   * How many verified tokens to remember (default 1 000; 0 turns the cache off). A token seen
   * again skips parsing and the signature check, but its expiry, its key (still the same key in
   * the issuer's set), the required scopes and `isRevoked` are checked again every time.
   */
  cacheSize?: number;
}

interface CachedVerification {
  readonly result: VerifiedAccessToken;
  readonly key: VerificationKey;
  readonly exp: number;
}

/** Verified claims are shared between requests by the cache: nobody may change them. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const name in value) deepFreeze(value[name]);
  }
  return value;
}

/**
 * Checks the options once and returns a function that verifies access tokens as
 * {@link verifyAccessToken} does, remembering verified tokens so that one presented again (a
 * browser app calls its API many times with the same token) costs a map lookup instead of a
 * signature check. {@link requireBearer} uses it. The returned claims and header are frozen.
 *
 * @example
 * ```ts
 * const verifyToken = createAccessTokenVerifier({ issuer, audience: 'https://api.example.com', keySet });
 * const { claims } = await verifyToken(token);
 * ```
 */
export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): (token: string) => Promise<VerifiedAccessToken> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const requiredScopes = options.requiredScopes ?? [];
  if (
    !Array.isArray(requiredScopes) ||
    !requiredScopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s))
  ) {
    throw new TypeError('requiredScopes must be an array of scope tokens (RFC 6749 §3.3)');
  }
  const isRevoked = options.isRevoked;
  if (isRevoked !== undefined && typeof isRevoked !== 'function') throw new TypeError('isRevoked must be a function');
  const statusLists = options.statusLists;
  if (statusLists !== undefined && typeof statusLists?.check !== 'function')
    throw new TypeError('statusLists must be a StatusListChecker (createStatusListChecker)');
  const cacheSize = options.cacheSize ?? 1000;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new TypeError('cacheSize must be an integer >= 0');

  const check = jwtCheckFor(options, {
    audience: requireAudience(options.audience),
    // RFC 9068 §2.2 lists these as REQUIRED; Tessera always issues `scope` too.
    requiredClaims: ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti', 'scope'],
    // RFC 9068 §4: the resource server MUST check typ is at+jwt, so an ID token (same issuer,
    // same keys, possibly the same aud) is never taken for an access token. RFC 8725 §3.11.
    acceptsType: (typ) => typ === ACCESS_TOKEN_TYP,
    kind: KIND,
  });
  const cache = new Map<string, CachedVerification>();

  /** The RFC 9068 claims of a token whose signature, header and registered claims passed. */
  function checkedAccessToken({ payload, header, key }: VerifiedJwt): CachedVerification {
    for (const claim of ['sub', 'client_id', 'jti']) checkStringClaim(payload, claim, KIND, true);
    if (typeof payload.scope !== 'string') {
      throw new TokenVerificationError('ERR_TOKEN_CLAIM', 'the access token "scope" claim must be a string', {
        claim: 'scope',
      });
    }
    checkStringClaim(payload, 'sid', KIND, false);
    const result = deepFreeze({ claims: payload as unknown as AccessTokenClaims, header });
    return { result, key, exp: result.claims.exp };
  }

  /**
   * A remembered verification, if it still holds: not expired, and its key still the issuer's.
   * Answered at once unless the key set must be asked for the key (one not in hand), so a token
   * seen for the first time, or again, costs no promise here.
   */
  function remembered(token: string): CachedVerification | undefined | Promise<CachedVerification | undefined> {
    const entry = cache.get(token);
    if (entry === undefined) return undefined;
    const nowSec = Math.floor((check.now?.() ?? Date.now()) / 1000);
    const inHand = check.keySet.keyInHand?.(entry.key.kid);
    if (inHand !== undefined) return stillHolds(token, entry, nowSec, inHand);
    let lookup: Promise<VerificationKey>;
    try {
      lookup = check.keySet.getKey(entry.key.kid);
    } catch {
      return stillHolds(token, entry, nowSec, undefined);
    }
    // A key that cannot be had now sends the token back to full verification, which says why.
    return lookup.then(
      (current) => stillHolds(token, entry, nowSec, current),
      () => stillHolds(token, entry, nowSec, undefined),
    );
  }

  /** Same rule as jose's exp check; a removed or replaced key sends the token back to full verification. */
  function stillHolds(token: string, entry: CachedVerification, nowSec: number, current: VerificationKey | undefined) {
    if (entry.exp <= nowSec - check.clockToleranceSec || current !== entry.key) {
      cache.delete(token);
      return undefined;
    }
    return entry;
  }

  return async function verifyAccessTokenWithCache(token) {
    let entry =
      cacheSize > 0 && typeof token === 'string' && token.length <= check.maxTokenBytes ? remembered(token) : undefined;
    if (entry instanceof Promise) entry = await entry;
    if (entry === undefined) {
      entry = checkedAccessToken(await verifyJwt(token, check));
      if (cacheSize > 0) {
        // Oldest first: Map iteration follows insertion order.
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
        cache.set(token, entry);
      }
    }
    const { claims, header } = entry.result;

    // Checked on every use, cached or not: they depend on the route and on the app's state.
    if (requiredScopes.length > 0) {
      const granted = new Set(claims.scope.split(' '));
      const missing = requiredScopes.filter((scope) => !granted.has(scope));
      if (missing.length > 0) {
        throw new TokenVerificationError('ERR_TOKEN_SCOPE', `the access token lacks scope ${missing.join(' ')}`, {
          claim: 'scope',
        });
      }
    }
    // The list is cached for its ttl: a map lookup per use, a fetch per ttl.
    if (statusLists !== undefined) await statusLists.check(claims);
    if (isRevoked !== undefined && (await isRevoked(claims, header))) {
      throw new TokenVerificationError('ERR_TOKEN_REVOKED', 'the access token has been revoked');
    }
    return entry.result;
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
export async function verifyAccessToken(
  token: string,
  options: VerifyAccessTokenOptions,
): Promise<VerifiedAccessToken> {
  return createAccessTokenVerifier({ ...options, cacheSize: 0 })(token);
}
