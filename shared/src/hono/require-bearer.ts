/**
 * Hono middleware for a resource server: takes the access token from the `Authorization` header —
 * an RFC 6750 bearer token, or an RFC 9449 DPoP-bound token with its proof — verifies it as an
 * RFC 9068 access token and exposes its claims.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { OAuthError } from '../errors.js';
import type { AccessTokenClaims } from '../protocol.js';
import { TokenVerificationError, type TokenVerificationErrorCode } from '../verify/errors.js';
import { createMemoryJtiStore, type JtiStore } from '../verify/jti-store.js';
import { createAccessTokenVerifier, type AccessTokenVerifierOptions } from '../verify/verify-access-token.js';
import { DPOP_ALGORITHMS, DPoPProofError, verifyDPoPProof, type DPoPCrypto } from '../verify/verify-dpop-proof.js';
import { userAuthenticationCheck, type UserAuthenticationRequirement } from './step-up.js';

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
  onError?: (error: TokenVerificationError | DPoPProofError, c: Context) => void;
  /**
   * Takes DPoP-bound tokens too (RFC 9449 §7): `Authorization: DPoP <token>` with a `DPoP` proof
   * made for this request by the key the token is bound to (`cnf.jkt`). Without this option such
   * tokens are refused all the same — a bound token is never taken as a bearer token (§7.2).
   */
  dpop?: RequireDPoPOptions;
  /**
   * What every route needs of the sign-in behind the token (RFC 9470): see
   * {@link requireUserAuthentication}, which does the same for one route.
   */
  userAuthentication?: UserAuthenticationRequirement;
}

/** How {@link requireBearer} checks DPoP proofs. */
export interface RequireDPoPOptions {
  /**
   * Where used proof `jti`s are kept until too old to be taken again (§11.1): share one between
   * every instance of the API. Default: in this process's memory.
   */
  jtiStore?: JtiStore;
  /** Proof algorithms accepted; default {@link DPOP_ALGORITHMS}. */
  algorithms?: readonly string[];
  /**
   * The URL the client addressed, to compare with the proof's `htu` (§4.3): by default the
   * request's own URL; behind a proxy that rewrites scheme or host, the public one.
   */
  requestUrl?: (c: Context) => string;
  /** Synchronous proof cryptography on servers: `nodeDPoPCrypto` from `@tessera/shared/node`. */
  crypto?: DPoPCrypto;
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

// RFC 9449 §7.1: a proof that does not hold is invalid_dpop_proof, with a fixed description each.
const PROOF_DESCRIPTIONS: Record<DPoPProofError['code'], string> = {
  ERR_DPOP_MALFORMED: 'The DPoP proof is missing or malformed',
  ERR_DPOP_TYPE: 'The DPoP proof is not of type dpop+jwt',
  ERR_DPOP_ALG: 'The DPoP proof algorithm is not accepted',
  ERR_DPOP_KEY: 'The DPoP proof key is not usable',
  ERR_DPOP_SIGNATURE: 'The DPoP proof signature is invalid',
  ERR_DPOP_CLAIM: 'The DPoP proof claims are invalid',
  ERR_DPOP_METHOD: 'The DPoP proof is for another method',
  ERR_DPOP_URL: 'The DPoP proof is for another URL',
  ERR_DPOP_IAT: 'The DPoP proof was not made just now',
  ERR_DPOP_ATH: 'The DPoP proof is not for this access token',
  ERR_DPOP_BINDING: 'The DPoP proof key is not the key the access token is bound to',
  ERR_DPOP_REPLAYED: 'The DPoP proof was used before',
  ERR_DPOP_NONCE: 'The DPoP proof needs a server nonce',
};

const BOUND_AS_BEARER = 'The access token is DPoP-bound and needs the DPoP scheme with a proof';

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
 * retry, not sign in again); a sign-in short of `userAuthentication` → 401
 * `insufficient_user_authentication` with what is needed (RFC 9470 §3). With `statusLists` (see
 * {@link createStatusListChecker}), a token revoked at the issuer is a 401 too, and a status list
 * that cannot be had a 503. Tokens in the query string or form body (RFC 6750 §2.2–2.3) are not
 * read: URLs leak into logs and histories (RFC 6750 §5.3).
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
  const { realm, onError, dpop } = options;
  if (realm !== undefined && (typeof realm !== 'string' || !QUOTABLE.test(realm))) {
    throw new TypeError('realm must be a string without quotes, backslashes or control characters');
  }
  if (onError !== undefined && typeof onError !== 'function') throw new TypeError('onError must be a function');
  if (dpop !== undefined && (typeof dpop !== 'object' || dpop === null)) throw new TypeError('dpop must be an object');
  const dpopAlgorithms = dpop?.algorithms ?? DPOP_ALGORITHMS;
  if (!Array.isArray(dpopAlgorithms) || dpopAlgorithms.some((alg) => !DPOP_ALGORITHMS.includes(alg))) {
    throw new TypeError(`dpop.algorithms must be among ${DPOP_ALGORITHMS.join(', ')}`);
  }
  const dpopJtis = dpop
    ? (dpop.jtiStore ?? createMemoryJtiStore({ ...(options.now ? { now: options.now } : {}) }))
    : undefined;
  const realmParam = realm === undefined ? [] : [`realm="${realm}"`];
  const stepUp = userAuthenticationCheck({
    ...options.userAuthentication,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.clockToleranceSec === undefined ? {} : { clockToleranceSec: options.clockToleranceSec }),
  });
  const scopeParam = options.requiredScopes?.length ? [`scope="${options.requiredScopes.join(' ')}"`] : [];

  type Scheme = 'bearer' | 'dpop';
  const challenge = (scheme: Scheme, params: string[]): string => {
    if (scheme === 'dpop') return `DPoP ${[...params, `algs="${dpopAlgorithms.join(' ')}"`].join(', ')}`;
    return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
  };
  // RFC 9449 §7.1: a resource that takes both schemes offers both.
  const noCredentials = dpop
    ? `${challenge('bearer', realmParam)}, ${challenge('dpop', realmParam)}`
    : challenge('bearer', realmParam);

  const answer = (c: Context<AccessTokenEnv>, scheme: Scheme, error: OAuthError, extra: string[] = []): Response => {
    const params = [...realmParam, `error="${error.error}"`, `error_description="${error.description}"`, ...extra];
    // A bound token sent as a bearer token is told which scheme it needs (§7.2), when this API takes it.
    const challenges = [
      challenge(scheme, params),
      ...(scheme === 'bearer' && dpop ? [challenge('dpop', realmParam)] : []),
    ];
    return c.json(error.toJSON(), error.status as 401 | 403, { 'WWW-Authenticate': challenges.join(', ') });
  };

  const refuse = (c: Context<AccessTokenEnv>, scheme: Scheme, error: TokenVerificationError): Response => {
    onError?.(error, c);
    const description = DESCRIPTIONS[error.code];
    if (error.code === 'ERR_JWKS_UNAVAILABLE') {
      return c.json(new OAuthError('temporarily_unavailable', description).toJSON(), 503);
    }
    if (error.code === 'ERR_TOKEN_SCOPE') {
      return answer(c, scheme, new OAuthError('insufficient_scope', description), scopeParam);
    }
    return answer(c, scheme, new OAuthError('invalid_token', description));
  };

  const refuseProof = (c: Context<AccessTokenEnv>, error: DPoPProofError): Response => {
    onError?.(error, c);
    // RFC 9449 §7.1: a proof that does not hold is invalid_dpop_proof; a key that is not the
    // token's is the token's problem (invalid_token), as in the RFC's own example.
    const code = error.code === 'ERR_DPOP_BINDING' ? 'invalid_token' : 'invalid_dpop_proof';
    return answer(c, 'dpop', new OAuthError(code, PROOF_DESCRIPTIONS[error.code], { status: 401 }));
  };

  return async function requireBearer(c, next) {
    const match = AUTHORIZATION.exec(c.req.header('authorization') ?? '');
    const scheme = match?.[1]?.toLowerCase();
    if (match === null || !(scheme === 'bearer' || (scheme === 'dpop' && dpop))) {
      // RFC 6750 §3.1: a request without credentials gets the challenge and no error code.
      return c.body(null, 401, { 'WWW-Authenticate': noCredentials });
    }
    const token = match[2] ?? '';
    if (!B64TOKEN.test(token)) {
      return refuse(
        c,
        scheme,
        new TokenVerificationError('ERR_TOKEN_MALFORMED', 'the Authorization header has no token'),
      );
    }
    let claims: AccessTokenClaims;
    try {
      ({ claims } = await verify(token));
    } catch (error) {
      if (error instanceof TokenVerificationError) return refuse(c, scheme, error);
      throw error; // not about the token (an isRevoked store down…): the app's error handler decides
    }
    const boundJkt = claims.cnf?.jkt;
    if (scheme === 'bearer' && boundJkt !== undefined) {
      // RFC 9449 §7.2: a DPoP-bound token is worthless without its key; taken as a bearer token,
      // whoever copied it could use it. Refused even by an API that takes no DPoP.
      onError?.(new DPoPProofError('ERR_DPOP_BINDING', 'a DPoP-bound token was sent as a bearer token'), c);
      return answer(c, dpop ? 'dpop' : 'bearer', new OAuthError('invalid_token', BOUND_AS_BEARER));
    }
    if (scheme === 'dpop' && dpop) {
      if (typeof boundJkt !== 'string') {
        return refuseProof(c, new DPoPProofError('ERR_DPOP_BINDING', 'the DPoP scheme with a token bound to no key'));
      }
      try {
        // §7.1: a proof for this request (htm, htu), this token (ath), by the token's key (cnf.jkt), once.
        await verifyDPoPProof(c.req.header('dpop'), {
          method: c.req.method,
          url: dpop.requestUrl?.(c) ?? c.req.url,
          accessToken: token,
          boundJkt,
          algorithms: dpopAlgorithms,
          ...(dpopJtis ? { jtiStore: dpopJtis } : {}),
          ...(dpop.crypto ? { crypto: dpop.crypto } : {}),
          ...(options.now ? { now: options.now } : {}),
          ...(options.clockToleranceSec !== undefined ? { clockToleranceSec: options.clockToleranceSec } : {}),
        });
      } catch (error) {
        if (error instanceof DPoPProofError) return refuseProof(c, error);
        throw error;
      }
    }
    const unmet = stepUp?.(claims);
    if (unmet !== undefined) return answer(c, scheme, unmet.error, unmet.params);
    c.set('accessToken', claims);
    await next();
    return undefined;
  };
}
