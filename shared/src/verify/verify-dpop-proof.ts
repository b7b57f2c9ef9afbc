/**
 * DPoP proofs (RFC 9449 §4): a JWT the client signs, per request, with a private key it holds, whose
 * public key rides in the proof's header. Checked as §4.3 lists, for the authorization server's
 * token endpoint and for resource servers (§7.1, with `ath` and the token's `cnf.jkt`). A token
 * bound to a key is then useless to whoever copies it without the key.
 */
import { base64url, calculateJwkThumbprint, decodeProtectedHeader, errors, importJWK, jwtVerify, type JWK } from 'jose';
import { claimsSetOf, parseCompactJws, signatureHolds, type CompactJws } from './compact-jws.js';
import type { JtiStore } from './jti-store.js';

/** Why a proof was refused; stable, for matching (messages are for logs). */
export type DPoPProofErrorCode =
  | 'ERR_DPOP_MALFORMED'
  | 'ERR_DPOP_TYPE'
  | 'ERR_DPOP_ALG'
  | 'ERR_DPOP_KEY'
  | 'ERR_DPOP_SIGNATURE'
  | 'ERR_DPOP_CLAIM'
  | 'ERR_DPOP_METHOD'
  | 'ERR_DPOP_URL'
  | 'ERR_DPOP_IAT'
  | 'ERR_DPOP_ATH'
  | 'ERR_DPOP_BINDING'
  | 'ERR_DPOP_REPLAYED'
  /** The server's nonce is missing or stale: answer `use_dpop_nonce` with a fresh one (§8, §9). */
  | 'ERR_DPOP_NONCE';

export class DPoPProofError extends Error {
  readonly code: DPoPProofErrorCode;
  constructor(code: DPoPProofErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DPoPProofError';
    this.code = code;
  }
}

/** Asymmetric algorithms a proof may use (§4.2: never `none`, never a MAC). */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const;

/**
 * Synchronous cryptography for the proof checks, for servers: Web Crypto runs each import,
 * signature check and digest as an asynchronous job (about three times the work itself on Node);
 * `nodeDPoPCrypto` from `@tessera/shared/node` does them synchronously. Same checks either way.
 */
export interface DPoPCrypto {
  /**
   * Whether `signature` over `data` holds for the public `jwk` under `alg`. Throws when the jwk is
   * no usable public key of the kind `alg` needs (RFC 7518 §3.1: curve, key type, RSA size).
   */
  verify(alg: string, jwk: JWK, data: Uint8Array, signature: Uint8Array): boolean;
  /** base64url(SHA-256(UTF-8 bytes of `text`)), unpadded. */
  sha256Base64url(text: string): string;
}

export interface VerifyDPoPProofOptions {
  /** The request's method, compared with `htm` (§4.3 step 8). */
  method: string;
  /** The request's URL, compared with `htu` without query and fragment (§4.3 step 9). */
  url: string;
  /** At a resource: the access token the proof goes with; `ath` must be its SHA-256 (§4.3 step 11). */
  accessToken?: string;
  /** At a resource: the token's `cnf.jkt`; the proof's key must have this thumbprint (§7.1). */
  boundJkt?: string;
  /** Algorithms accepted (default {@link DPOP_ALGORITHMS}). */
  algorithms?: readonly string[];
  /** How old a proof's `iat` may be, in seconds (default 60): a proof is for one request, now. */
  maxAgeSec?: number;
  /** Leeway for clocks that disagree, in seconds (default 5), both ways. */
  clockToleranceSec?: number;
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
  /**
   * Where used proofs are remembered until they are too old to be taken (§11.1). Without it,
   * replays within the window are not detected: give one, shared by every instance.
   */
  jtiStore?: JtiStore;
  /**
   * The server's nonce check (§8, §9): given the proof's `nonce` (or undefined), whether it is
   * one the server issued and still takes. Without it, nonces are not required.
   */
  checkNonce?: (nonce: string | undefined) => boolean | Promise<boolean>;
  /** Synchronous signature checks and digests (see {@link DPoPCrypto}); Web Crypto through jose by default. */
  crypto?: DPoPCrypto;
}

export interface VerifiedDPoPProof {
  /** The JWK SHA-256 thumbprint of the proof's key (RFC 7638): what `cnf.jkt` binds to. */
  jkt: string;
  /** The proof's public key. */
  jwk: JWK;
  claims: { jti: string; htm: string; htu: string; iat: number; ath?: string; nonce?: string };
}

/** Members that only a private (or symmetric) JWK has (RFC 7518 §6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_PROOF_LENGTH = 8192;

/** `htu` and the request URL as compared: no query, no fragment, scheme and host normalized (RFC 3986 §6). */
function withoutQuery(value: string): string | undefined {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return undefined;
  }
}

/** The proof read by hand for the synchronous path: its header decoded, the rest left for the signature check. */
function parseProof(proof: string): CompactJws {
  try {
    return parseCompactJws(proof);
  } catch (cause) {
    throw new DPoPProofError('ERR_DPOP_MALFORMED', 'the DPoP proof header is not valid', { cause });
  }
}

/** Signature and claims through jose and Web Crypto (browsers, and servers by default). */
async function verifiedByJose(
  proof: string,
  alg: string,
  jwk: JWK,
  now: number,
  tolerance: number,
): Promise<Record<string, unknown>> {
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK(jwk, alg);
  } catch (cause) {
    // jose's own refusals and Web Crypto's (a curve that is not the alg's is a DataError).
    throw new DPoPProofError('ERR_DPOP_KEY', 'the proof jwk is not a usable key for its alg', { cause });
  }
  try {
    const { payload } = await jwtVerify(proof, key, {
      typ: 'dpop+jwt',
      algorithms: [alg],
      currentDate: new Date(now),
      clockTolerance: tolerance,
    });
    return payload;
  } catch (cause) {
    if (cause instanceof errors.JWSSignatureVerificationFailed)
      throw new DPoPProofError('ERR_DPOP_SIGNATURE', 'the proof signature does not verify', { cause });
    if (
      cause instanceof errors.JWTClaimValidationFailed ||
      cause instanceof errors.JWTExpired ||
      cause instanceof errors.JWTInvalid
    )
      throw new DPoPProofError('ERR_DPOP_CLAIM', 'the proof claims are not valid', { cause });
    throw new DPoPProofError('ERR_DPOP_KEY', 'the proof jwk is not a usable key for its alg', { cause });
  }
}

/**
 * Signature and claims with synchronous crypto: the same refusals as through jose — an unusable
 * key, a signature that does not hold, a claims set that is no JSON object, and `exp`/`nbf`
 * (optional in a proof) checked as jose checks them (RFC 7519 §4.1.4–4.1.5).
 */
function verifiedHere(
  jws: CompactJws,
  alg: string,
  jwk: JWK,
  sync: DPoPCrypto,
  now: number,
  tolerance: number,
): Record<string, unknown> {
  // RFC 7515 §4.1.11: an extension we would have to understand is one we refuse.
  if (jws.header.crit !== undefined || jws.header.b64 !== undefined)
    throw new DPoPProofError('ERR_DPOP_KEY', 'the proof uses a JWS extension');
  let holds: boolean;
  try {
    holds = signatureHolds(jws, (data, signature) => sync.verify(alg, jwk, data, signature));
  } catch (cause) {
    if (cause instanceof errors.JWSInvalid)
      throw new DPoPProofError('ERR_DPOP_MALFORMED', 'the proof signature is not base64url', { cause });
    throw new DPoPProofError('ERR_DPOP_KEY', 'the proof jwk is not a usable key for its alg', { cause });
  }
  if (!holds) throw new DPoPProofError('ERR_DPOP_SIGNATURE', 'the proof signature does not verify');
  let claims: Record<string, unknown>;
  try {
    claims = claimsSetOf(jws);
  } catch (cause) {
    throw new DPoPProofError('ERR_DPOP_CLAIM', 'the proof claims are not valid', { cause });
  }
  const nowSec = now / 1000;
  const { exp, nbf } = claims;
  if (exp !== undefined && (typeof exp !== 'number' || exp <= nowSec - tolerance))
    throw new DPoPProofError('ERR_DPOP_CLAIM', 'the proof claims are not valid (exp)');
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowSec + tolerance))
    throw new DPoPProofError('ERR_DPOP_CLAIM', 'the proof claims are not valid (nbf)');
  return claims;
}

/**
 * RFC 7638 §3.2: the thumbprint's input — the key type's required members only, in lexical order,
 * no whitespace. The key passed the signature check, so its members are those of a usable key.
 */
export function thumbprintInput(jwk: JWK): string {
  switch (jwk.kty) {
    case 'EC':
      return JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
    case 'OKP':
      return JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
    case 'RSA':
      return JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
    default:
      throw new DPoPProofError('ERR_DPOP_KEY', 'the proof jwk has no thumbprint (kty)');
  }
}

/** The `ath` of an access token (§4.2): base64url of the SHA-256 of its ASCII bytes. */
export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken));
  return base64url.encode(new Uint8Array(digest));
}

/** Checks one DPoP proof (the value of the `DPoP` header) for one request; throws DPoPProofError. */
export async function verifyDPoPProof(
  proof: string | undefined,
  options: VerifyDPoPProofOptions,
): Promise<VerifiedDPoPProof> {
  // §4.3 step 1: exactly one well-formed JWT (a repeated header arrives joined by a comma).
  if (
    typeof proof !== 'string' ||
    proof.length === 0 ||
    proof.length > MAX_PROOF_LENGTH ||
    !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(proof)
  )
    throw new DPoPProofError('ERR_DPOP_MALFORMED', 'the DPoP header is not one JWT');
  const parsed = options.crypto ? parseProof(proof) : undefined;
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = parsed?.header ?? decodeProtectedHeader(proof);
  } catch (cause) {
    throw new DPoPProofError('ERR_DPOP_MALFORMED', 'the DPoP proof header is not valid', { cause });
  }
  // §4.3 steps 4–7.
  if (header.typ !== 'dpop+jwt') throw new DPoPProofError('ERR_DPOP_TYPE', 'the proof typ must be dpop+jwt');
  const algorithms = options.algorithms ?? DPOP_ALGORITHMS;
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg))
    throw new DPoPProofError('ERR_DPOP_ALG', `the proof alg ${String(header.alg).slice(0, 16)} is not accepted`);
  const jwk = header.jwk;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk))
    throw new DPoPProofError('ERR_DPOP_KEY', 'the proof carries no public key (jwk)');
  if (PRIVATE_MEMBERS.some((m) => m in jwk))
    throw new DPoPProofError('ERR_DPOP_KEY', 'the proof jwk holds a private key');

  const now = (options.now ?? Date.now)();
  const tolerance = options.clockToleranceSec ?? 5;
  const maxAge = options.maxAgeSec ?? 60;
  const claims =
    parsed && options.crypto
      ? verifiedHere(parsed, header.alg, jwk as JWK, options.crypto, now, tolerance)
      : await verifiedByJose(proof, header.alg, jwk as JWK, now, tolerance);

  // §4.2: jti, htm, htu, iat are required.
  const { jti, htm, htu, iat, ath, nonce } = claims;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256)
    throw new DPoPProofError('ERR_DPOP_CLAIM', 'the proof needs a jti');
  if (typeof htm !== 'string' || typeof htu !== 'string' || typeof iat !== 'number')
    throw new DPoPProofError('ERR_DPOP_CLAIM', 'the proof needs htm, htu and iat');
  if (htm !== options.method) throw new DPoPProofError('ERR_DPOP_METHOD', 'the proof is for another method');
  const expected = withoutQuery(options.url);
  if (expected === undefined || withoutQuery(htu) !== expected)
    throw new DPoPProofError('ERR_DPOP_URL', 'the proof is for another URL');
  // §4.3 step 11: within a window around now (§11.1: short, since the jti is kept that long).
  const nowSec = now / 1000;
  if (iat > nowSec + tolerance || iat < nowSec - maxAge - tolerance)
    throw new DPoPProofError('ERR_DPOP_IAT', 'the proof was not made just now');
  if (options.accessToken !== undefined) {
    const expectedAth = options.crypto
      ? options.crypto.sha256Base64url(options.accessToken)
      : await accessTokenHash(options.accessToken);
    if (typeof ath !== 'string' || ath !== expectedAth)
      throw new DPoPProofError('ERR_DPOP_ATH', 'the proof is not for this access token (ath)');
  }
  const jkt = options.crypto
    ? options.crypto.sha256Base64url(thumbprintInput(jwk as JWK))
    : await calculateJwkThumbprint(jwk as JWK, 'sha256');
  if (options.boundJkt !== undefined && jkt !== options.boundJkt)
    throw new DPoPProofError('ERR_DPOP_BINDING', 'the proof key is not the key the token is bound to');
  if (options.checkNonce && !(await options.checkNonce(typeof nonce === 'string' ? nonce : undefined)))
    throw new DPoPProofError('ERR_DPOP_NONCE', 'a fresh server nonce is required');
  // Last: a proof refused for any other reason is not used up.
  if (options.jtiStore && !(await options.jtiStore.consume(`${jkt}.${jti}`, Math.ceil(iat + maxAge + tolerance))))
    throw new DPoPProofError('ERR_DPOP_REPLAYED', 'the proof was used before');
  return {
    jkt,
    jwk: jwk as JWK,
    claims: {
      jti,
      htm,
      htu,
      iat,
      ...(typeof ath === 'string' ? { ath } : {}),
      ...(typeof nonce === 'string' ? { nonce } : {}),
    },
  };
}
