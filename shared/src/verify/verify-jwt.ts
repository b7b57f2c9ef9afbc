/**
 * The part every Tessera token verification shares (internal): size bound, explicit type, key by
 * `kid` only with that key's own algorithm, the signature and the registered claims — by jose
 * through Web Crypto, or, when the key checks signatures synchronously (node:crypto), by
 * compact-jws.ts and registered-claims.ts with jose's rules and errors — and one mapping of jose's
 * errors onto {@link TokenVerificationError} codes.
 */
import { errors, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { VERIFICATION_ALGORITHMS, type KeySet, type VerificationKey } from '../jwks/key-set.js';
import { requireClockTolerance } from '../time/clock-tolerance.js';
import { claimsSetOf, parseCompactJws, rememberGenuineHeader, signatureHolds, type CompactJws } from './compact-jws.js';
import { TokenVerificationError } from './errors.js';
import { checkRegisteredClaims, claimPresenceOrder, type RegisteredClaimsCheck } from './registered-claims.js';

/** Default bound on a compact JWT, in bytes, checked before any parsing. */
const DEFAULT_MAX_TOKEN_BYTES = 16 * 1024;

/** What one kind of token is checked against (built once per options object). */
export interface JwtCheck extends RegisteredClaimsCheck {
  readonly keySet: KeySet;
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly clockToleranceSec: number;
  readonly maxTokenBytes: number;
  readonly now: (() => number) | undefined;
  readonly requiredClaims: readonly string[];
  /** Whether the header `typ`, normalized (RFC 8725 §3.11), names the kind of token expected. */
  readonly acceptsType: (normalizedTyp: string | undefined) => boolean;
  /** What the token is, for messages: "access token", "ID token", "logout token". */
  readonly kind: string;
}

/** The options every verifier takes: whose tokens, with which keys, on which clock. */
export interface JwtVerifyOptions {
  /** The issuer identifier, compared exactly with `iss`. */
  issuer: string;
  /** The issuer's keys, usually {@link createRemoteKeySet}. */
  keySet: KeySet;
  /**
   * Leeway for `exp`, `nbf` and `iat` (and `auth_time` with `max_age`), in seconds: 60 by default
   * ({@link DEFAULT_CLOCK_TOLERANCE_SEC}), 0 for strict, at most 300.
   */
  clockToleranceSec?: number;
  /** Tokens longer than this are refused before parsing (default 16 KiB). */
  maxTokenBytes?: number;
  /** The clock, in milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
}

/** A JWT whose signature and registered claims passed. */
export interface VerifiedJwt {
  readonly payload: JWTPayload;
  readonly header: JWTHeaderParameters;
  /** The key that verified the signature. */
  readonly key: VerificationKey;
}

/**
 * `typ` as jose compares it: case-insensitive, `application/` implied (RFC 7515 §4.1.9), so
 * `at+jwt` and `application/at+jwt` are the same type.
 */
export function normalizeTyp(typ: unknown): string | undefined {
  if (typeof typ !== 'string') return undefined;
  const lower = typ.toLowerCase();
  return lower.includes('/') ? lower : `application/${lower}`;
}

const ALLOWED_ALGORITHMS: string[] = [...VERIFICATION_ALGORITHMS];

// ---- option checks shared by the verifiers (misuse of the API is a TypeError) ----

/** A non-empty string option. */
export function requireNonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return value;
}

/** An audience option: one identifier or a non-empty list of them. */
export function requireAudience(value: unknown): string | readonly string[] {
  if (typeof value === 'string' && value !== '') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((a) => typeof a === 'string' && a !== '')) {
    return [...(value as string[])];
  }
  throw new TypeError('audience must be a non-empty string or a non-empty array of them');
}

/** A KeySet option. */
export function requireKeySet(value: unknown): KeySet {
  if (typeof value !== 'object' || value === null || typeof (value as KeySet).getKey !== 'function') {
    throw new TypeError('keySet must be a KeySet (createRemoteKeySet / createLocalKeySet)');
  }
  return value as KeySet;
}

/** A token size bound option (16 KiB when absent). */
export function requireMaxTokenBytes(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_TOKEN_BYTES;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new TypeError('maxTokenBytes must be a positive integer');
  }
  return value;
}

/** An optional clock option. */
export function requireNow(value: unknown): (() => number) | undefined {
  if (value !== undefined && typeof value !== 'function') throw new TypeError('now must be a function');
  return value as (() => number) | undefined;
}

/**
 * Checks the options every verifier takes and completes them with what `kind` of token is
 * expected (its audience already checked by the verifier, as the rule differs by kind).
 */
export function jwtCheckFor(
  options: JwtVerifyOptions,
  kind: Pick<JwtCheck, 'audience' | 'requiredClaims' | 'acceptsType' | 'kind'>,
): JwtCheck {
  return {
    keySet: requireKeySet(options.keySet),
    issuer: requireNonEmptyString('issuer', options.issuer),
    clockToleranceSec: requireClockTolerance(options.clockToleranceSec),
    maxTokenBytes: requireMaxTokenBytes(options.maxTokenBytes),
    now: requireNow(options.now),
    presenceOrder: claimPresenceOrder(kind.requiredClaims),
    ...kind,
  };
}

// ---- the verification ----

function fromJoseError(error: unknown, kind: string): TokenVerificationError {
  if (error instanceof TokenVerificationError) return error;
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new TokenVerificationError('ERR_TOKEN_ALG', `the ${kind} algorithm is not allowed`, {
      claim: 'alg',
      cause: error,
    });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenVerificationError('ERR_TOKEN_SIGNATURE', `the ${kind} signature is invalid`, { cause: error });
  }
  if (error instanceof errors.JWTExpired) {
    return new TokenVerificationError('ERR_TOKEN_EXPIRED', `the ${kind} has expired`, {
      claim: error.claim,
      cause: error,
    });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return new TokenVerificationError('ERR_TOKEN_ISSUER', `the ${kind} issuer is not the expected one`, {
          claim: 'iss',
          cause: error,
        });
      case 'aud':
        return new TokenVerificationError('ERR_TOKEN_AUDIENCE', `the ${kind} is not for this audience`, {
          claim: 'aud',
          cause: error,
        });
      case 'nbf':
        return new TokenVerificationError('ERR_TOKEN_NOT_YET_VALID', `the ${kind} is not valid yet`, {
          claim: 'nbf',
          cause: error,
        });
      case 'typ':
        return new TokenVerificationError('ERR_TOKEN_TYPE', `the token is not an ${kind}`, {
          claim: 'typ',
          cause: error,
        });
      default:
        return new TokenVerificationError('ERR_TOKEN_CLAIM', `the ${kind} "${error.claim}" claim is invalid`, {
          claim: error.claim,
          cause: error,
        });
    }
  }
  // JWSInvalid, JWTInvalid, JOSENotSupported (unknown crit, b64:false…) and anything jose could not
  // make sense of: a token we cannot parse is refused, never half-trusted.
  return new TokenVerificationError('ERR_TOKEN_MALFORMED', `the ${kind} is malformed`, { cause: error });
}

/**
 * The `kid` to look the token's key up by, once its explicit type is the expected one. The key
 * then comes from the issuer's set by `kid` alone, with its own algorithm — never the token's choice.
 */
function kidToLookUp(header: JWTHeaderParameters, check: JwtCheck): string {
  const { kind } = check;
  // RFC 8725 §3.11: explicit typing keeps one kind of token from passing for another. Checked
  // before the key lookup, so a wrong-type token never costs a JWKS refetch.
  if (!check.acceptsType(normalizeTyp(header.typ))) {
    throw new TokenVerificationError('ERR_TOKEN_TYPE', `the token is not an ${kind}`, { claim: 'typ' });
  }
  // The key is chosen by kid alone, from the issuer's set. jku, x5u, jwk and x5c headers are
  // never read: a token must not name its own key (RFC 8725 §3.10, RFC 7515 §4.1.2–4.1.6).
  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '') {
    throw new TokenVerificationError('ERR_TOKEN_KID_UNKNOWN', `the ${kind} has no kid`, { claim: 'kid' });
  }
  return kid;
}

/** Signature and claims through jose and Web Crypto: the path without a synchronous signature check. */
async function verifiedByJose(
  token: string,
  key: VerificationKey,
  check: JwtCheck,
  now: number | undefined,
): Promise<VerifiedJwt> {
  const result = await jwtVerify(token, () => key.key, {
    issuer: check.issuer,
    audience: check.audience as string | string[],
    clockTolerance: check.clockToleranceSec,
    requiredClaims: [...check.requiredClaims],
    ...(now === undefined ? {} : { currentDate: new Date(now) }),
    algorithms: ALLOWED_ALGORITHMS,
  });
  return { payload: result.payload, header: result.protectedHeader, key };
}

/**
 * Signature and claims when the key brings its own synchronous signature check (node:crypto, see
 * withNodeSignatures): the signature checked with it over the parts compact-jws.ts read, the
 * claims by registered-claims.ts — jose's rules without its generic JWS and JWT layers.
 */
function verifiedHere(
  jws: CompactJws,
  key: VerificationKey,
  verifySignature: NonNullable<VerificationKey['verifySignature']>,
  check: JwtCheck,
  now: number | undefined,
): VerifiedJwt {
  const { header } = jws;
  // RFC 7515 §4.1.11: an extension we would have to understand is one we refuse; `b64` (RFC 7797)
  // with it, whatever its value: a JWT's payload is always base64url (RFC 7797 §7).
  if (header.crit !== undefined || header.b64 !== undefined)
    throw new errors.JOSENotSupported('unsupported JWS header extension');
  // RFC 7515 §5.2 step 8.
  if (!signatureHolds(jws, verifySignature)) throw new errors.JWSSignatureVerificationFailed();
  rememberGenuineHeader(jws);
  const payload: JWTPayload = claimsSetOf(jws);
  checkRegisteredClaims(payload, check, now ?? Date.now());
  return { payload, header, key };
}

/** The signature and claims of `jws` checked with `key`, the issuer's key for its `kid`. */
function verifiedWith(
  jws: CompactJws,
  key: VerificationKey,
  check: JwtCheck,
  now: number | undefined,
): VerifiedJwt | Promise<VerifiedJwt> {
  // RFC 8725 §3.1: the algorithm is the key's own, never taken from the token.
  if (jws.header.alg !== key.alg) {
    throw new TokenVerificationError('ERR_TOKEN_ALG', `the ${check.kind} algorithm does not match its key`, {
      claim: 'alg',
    });
  }
  const { verifySignature } = key;
  return verifySignature === undefined
    ? verifiedByJose(jws.token, key, check, now)
    : verifiedHere(jws, key, verifySignature, check, now);
}

/**
 * Verifies a compact JWS JWT against `check`; every failure is a {@link TokenVerificationError},
 * thrown or as the rejection: callers `await` it. It answers synchronously when the key set has
 * the key in hand and the key checks signatures itself (node:crypto), so a server's usual
 * verification makes no promise: each costs a few percent of the signature check.
 */
export function verifyJwt(token: unknown, check: JwtCheck): VerifiedJwt | Promise<VerifiedJwt> {
  const { kind } = check;
  if (typeof token !== 'string' || token === '')
    throw new TokenVerificationError('ERR_TOKEN_MALFORMED', `the ${kind} is not a string`);
  // Bound the work an attacker can cause before any base64 or JSON decoding: Tessera's tokens are
  // well under 2 KiB, so a 1 MB "token" is an attack, not a token.
  if (token.length > check.maxTokenBytes) {
    throw new TokenVerificationError('ERR_TOKEN_TOO_LARGE', `the ${kind} is larger than ${check.maxTokenBytes} bytes`);
  }

  const now = check.now?.();
  let verified: VerifiedJwt | Promise<VerifiedJwt>;
  try {
    const jws = parseCompactJws(token);
    const { header } = jws;
    // Refused before any key lookup, so `alg: none` or `HS256` never costs a JWKS fetch.
    if (typeof header.alg !== 'string' || !(ALLOWED_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    }
    const kid = kidToLookUp(header, check);
    const key = check.keySet.keyInHand?.(kid);
    verified =
      key === undefined
        ? Promise.resolve(check.keySet.getKey(kid)).then((found) => verifiedWith(jws, found, check, now))
        : verifiedWith(jws, key, check, now);
  } catch (error) {
    throw refusal(error, check, now);
  }
  return verified instanceof Promise
    ? verified.then(
        (result) => issuedByNow(result, check, now),
        (error: unknown) => {
          throw refusal(error, check, now);
        },
      )
    : issuedByNow(verified, check, now);
}

/** What a failure of the signature or claims checks is reported as. */
const refusal = (error: unknown, check: JwtCheck, now: number | undefined) =>
  withIssuedAtOffset(fromJoseError(error, check.kind), error, now ?? Date.now());

/**
 * jose checks iat in the future only together with maxTokenAge; a token issued "later" is one
 * whose issuer clock is off, or one minted ahead of time (RFC 7519 §4.1.6). Compared at the
 * precision the data has: `iat` is a whole second no later than the instant of signing, so on
 * agreeing clocks it never exceeds now, wherever the second boundary falls; the leeway is applied
 * once.
 */
function issuedByNow(verified: VerifiedJwt, check: JwtCheck, now: number | undefined): VerifiedJwt {
  const { iat } = verified.payload;
  const nowMs = now ?? Date.now();
  if (typeof iat === 'number' && iat * 1000 > nowMs + check.clockToleranceSec * 1000) {
    throw new TokenVerificationError('ERR_TOKEN_NOT_YET_VALID', `the ${check.kind} was issued in the future`, {
      claim: 'iat',
      issuedAtOffsetSec: issuedAtOffset(iat, nowMs),
    });
  }
  return verified;
}

/**
 * `iat` minus this server's clock, in whole seconds. `iat` is the issuer's clock truncated to the
 * second, so it is read as the middle of that second: a token signed 90 s ahead reads 90, not 89.
 */
const issuedAtOffset = (iat: number, nowMs: number): number => Math.round(iat + 0.5 - nowMs / 1000);

/**
 * A time-check refusal says how far the token's `iat` lay from this server's clock: for a token
 * that was just issued (an ID token at the callback), that is the clock difference to the issuer.
 * jose reports the refusal only after the signature passed, so the `iat` read here is the issuer's.
 */
function withIssuedAtOffset(refusal: TokenVerificationError, joseError: unknown, nowMs: number) {
  if (refusal.code !== 'ERR_TOKEN_EXPIRED' && refusal.code !== 'ERR_TOKEN_NOT_YET_VALID') return refusal;
  const iat = (joseError as { payload?: JWTPayload }).payload?.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return refusal;
  return new TokenVerificationError(refusal.code, refusal.message, {
    ...(refusal.claim === undefined ? {} : { claim: refusal.claim }),
    cause: refusal.cause,
    issuedAtOffsetSec: issuedAtOffset(iat, nowMs),
  });
}

/** Refuses a claim that is present but not a non-empty string. */
export function checkStringClaim(payload: JWTPayload, claim: string, kind: string, required: boolean): void {
  const value = payload[claim];
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || value === '') {
    throw new TokenVerificationError('ERR_TOKEN_CLAIM', `the ${kind} "${claim}" claim must be a non-empty string`, {
      claim,
    });
  }
}
