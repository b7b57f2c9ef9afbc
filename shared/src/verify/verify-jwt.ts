/**
 * The part every Tessera token verification shares (internal): size bound, explicit type, key by
 * `kid` only with that key's own algorithm, jose's signature and claim checks, and one mapping of
 * jose's errors onto {@link TokenVerificationError} codes.
 */
import { UnsecuredJWT, base64url, errors, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { VERIFICATION_ALGORITHMS, type KeySet, type VerificationKey } from '../jwks/key-set.js';
import { requireClockTolerance } from '../time/clock-tolerance.js';
import { TokenVerificationError } from './errors.js';

/** Default bound on a compact JWT, in bytes, checked before any parsing. */
const DEFAULT_MAX_TOKEN_BYTES = 16 * 1024;

/** What one kind of token is checked against (built once per options object). */
export interface JwtCheck {
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
 * Picks the key for a token's header: explicit type first, then the key by `kid` alone from the
 * issuer's set, then the key's own algorithm — never the token's choice.
 */
async function keyFor(header: JWTHeaderParameters, check: JwtCheck): Promise<VerificationKey> {
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
  const key = await check.keySet.getKey(kid);
  // RFC 8725 §3.1: the algorithm is the key's own, never taken from the token.
  if (header.alg !== key.alg) {
    throw new TokenVerificationError('ERR_TOKEN_ALG', `the ${kind} algorithm does not match its key`, { claim: 'alg' });
  }
  return key;
}

const UNSECURED_HEADER = base64url.encode('{"alg":"none"}');
const textDecoder = new TextDecoder('utf-8', { fatal: true });
const textEncoder = new TextEncoder();

/** Decodes a compact JWS protected header; anything but a JSON object is malformed. */
function decodeHeader(segment: string): JWTHeaderParameters {
  const header: unknown = JSON.parse(textDecoder.decode(base64url.decode(segment)));
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new errors.JWSInvalid('the protected header is not an object');
  return header as JWTHeaderParameters;
}

/**
 * The signature and the registered claims. When the key brings its own synchronous signature
 * check (node:crypto, see withNodeSignatures), we check the signature with it and let jose check
 * the claims: `UnsecuredJWT.decode` runs jose's own claim-set validation on the payload whose
 * signature we have just verified — it never sees the original header, so it cannot be talked
 * into anything by it. Otherwise jose does both, through Web Crypto.
 */
async function verifySignatureAndClaims(token: string, check: JwtCheck, now: number | undefined): Promise<VerifiedJwt> {
  const claimOptions = {
    issuer: check.issuer,
    audience: check.audience as string | string[],
    clockTolerance: check.clockToleranceSec,
    requiredClaims: [...check.requiredClaims],
    ...(now === undefined ? {} : { currentDate: new Date(now) }),
  };
  const parts = token.split('.');
  // An empty signature is still a JWS shape: `alg: none` and stripped signatures are refused below,
  // for what they are.
  if (
    parts.length !== 3 ||
    !/^[A-Za-z0-9_-]+$/.test(parts[0]!) ||
    !/^[A-Za-z0-9_-]+$/.test(parts[1]!) ||
    !/^[A-Za-z0-9_-]*$/.test(parts[2]!)
  ) {
    throw new errors.JWSInvalid('not a compact JWS');
  }
  const header = decodeHeader(parts[0]!);
  // Refused before any key lookup, so `alg: none` or `HS256` never costs a JWKS fetch.
  if (typeof header.alg !== 'string' || !(ALLOWED_ALGORITHMS as readonly string[]).includes(header.alg)) {
    throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
  }
  const key = await keyFor(header, check);
  if (key.verifySignature === undefined) {
    const result = await jwtVerify(token, () => key.key, { ...claimOptions, algorithms: ALLOWED_ALGORITHMS });
    return { payload: result.payload, header: result.protectedHeader, key };
  }
  // RFC 7515 §4.1.11: an extension we would have to understand is one we refuse.
  if (header.crit !== undefined || header.b64 !== undefined)
    throw new errors.JOSENotSupported('unsupported JWS header extension');
  if (!key.verifySignature(textEncoder.encode(`${parts[0]}.${parts[1]}`), base64url.decode(parts[2]!))) {
    throw new errors.JWSSignatureVerificationFailed();
  }
  const { payload } = UnsecuredJWT.decode(`${UNSECURED_HEADER}.${parts[1]}.`, claimOptions);
  return { payload, header, key };
}

/** Verifies a compact JWS JWT against `check`; every failure is a {@link TokenVerificationError}. */
export async function verifyJwt(token: unknown, check: JwtCheck): Promise<VerifiedJwt> {
  const { kind } = check;
  if (typeof token !== 'string' || token === '')
    throw new TokenVerificationError('ERR_TOKEN_MALFORMED', `the ${kind} is not a string`);
  // Bound the work an attacker can cause before any base64 or JSON decoding: Tessera's tokens are
  // well under 2 KiB, so a 1 MB "token" is an attack, not a token.
  if (token.length > check.maxTokenBytes) {
    throw new TokenVerificationError('ERR_TOKEN_TOO_LARGE', `the ${kind} is larger than ${check.maxTokenBytes} bytes`);
  }

  const now = check.now?.();
  let verified: VerifiedJwt;
  try {
    verified = await verifySignatureAndClaims(token, check, now);
  } catch (error) {
    throw withIssuedAtOffset(fromJoseError(error, kind), error, now ?? Date.now());
  }

  // jose checks iat in the future only together with maxTokenAge; a token issued "later" is one
  // whose issuer clock is off, or one minted ahead of time (RFC 7519 §4.1.6). Compared at the
  // precision the data has: `iat` is a whole second no later than the instant of signing, so on
  // agreeing clocks it never exceeds now, wherever the second boundary falls; the leeway is
  // applied once.
  const { iat } = verified.payload;
  const nowMs = now ?? Date.now();
  if (typeof iat === 'number' && iat * 1000 > nowMs + check.clockToleranceSec * 1000) {
    throw new TokenVerificationError('ERR_TOKEN_NOT_YET_VALID', `the ${kind} was issued in the future`, {
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
