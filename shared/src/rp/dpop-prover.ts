/**
 * The client's side of DPoP (RFC 9449): a key pair the client holds, and a proof JWT signed with
 * it for each request (§4.2) — to the token endpoint, which binds the tokens to the key (§5), and
 * to a resource server with the bound access token (§7). Browser-safe: Web Crypto and jose.
 *
 * The private key is generated non-extractable (Web Crypto `extractable: false`): a script that
 * runs on the page later can ask the key to sign while the page lives, but can never copy it out,
 * so a stolen token is useless elsewhere.
 */
import { SignJWT, base64url, calculateJwkThumbprint, exportJWK, type JWK } from 'jose';
import type { FetchLike } from '../http/fetch-like.js';
import { accessTokenHash } from '../verify/verify-dpop-proof.js';

/** What one proof is for. */
export interface DPoPProofRequest {
  /** The HTTP method of the request (`htm`). */
  method: string;
  /** The request URL (`htu`: sent without query and fragment, §4.2). */
  url: string | URL;
  /** With a request to a resource server: the DPoP-bound access token the proof goes with (`ath`). */
  accessToken?: string;
  /** The server's latest `DPoP-Nonce` (§8, §9). */
  nonce?: string;
}

export interface DPoPProver {
  /** The public key's JWK SHA-256 thumbprint (RFC 7638): the `cnf.jkt` of tokens bound to it. */
  readonly jkt: string;
  /** Signs a proof for one request. */
  proof(request: DPoPProofRequest): Promise<string>;
  /** The nonce a server (by origin) last gave in `DPoP-Nonce`, if any. */
  nonceFor(url: string | URL): string | undefined;
  /** Keeps a `DPoP-Nonce` the server at `url` sent; the next proofs to that server carry it. */
  rememberNonce(url: string | URL, nonce: string): void;
}

export interface DPoPProverOptions {
  /** A key pair of the client's own (ES256: ECDSA on P-256). Default: a new non-extractable one. */
  keyPair?: CryptoKeyPair;
  /** Milliseconds since the epoch, for `iat` (default Date.now). */
  now?: () => number;
}

/** A `DPoP-Nonce` value (RFC 9449 §8.1: NQCHAR, at least one). */
const NONCE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Creates a prover with a fresh ES256 key (or the one given). */
export async function createDPoPProver(options: DPoPProverOptions = {}): Promise<DPoPProver> {
  const keyPair =
    options.keyPair ??
    ((await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair);
  const now = options.now ?? Date.now;
  const { kty, crv, x, y } = await exportJWK(keyPair.publicKey);
  // Only the public members go into the header (§4.2: jwk is the public key).
  const jwk: JWK = { kty, crv, x, y } as JWK;
  const jkt = await calculateJwkThumbprint(jwk, 'sha256');
  const nonces = new Map<string, string>();

  return {
    jkt,
    async proof(request) {
      const url = new URL(request.url);
      const claims: Record<string, string> = {
        htm: request.method.toUpperCase(),
        htu: `${url.origin}${url.pathname}`,
      };
      if (request.accessToken !== undefined) claims.ath = await accessTokenHash(request.accessToken);
      const nonce = request.nonce ?? nonces.get(url.origin);
      if (nonce !== undefined) claims.nonce = nonce;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .setJti(base64url.encode(crypto.getRandomValues(new Uint8Array(16))))
        .setIssuedAt(Math.floor(now() / 1000))
        .sign(keyPair.privateKey);
    },
    nonceFor: (url) => nonces.get(new URL(url).origin),
    rememberNonce(url, nonce) {
      if (NONCE.test(nonce)) nonces.set(new URL(url).origin, nonce);
    },
  };
}

/** Whether a refusal asks for a fresh server nonce: `use_dpop_nonce` (RFC 9449 §8 token endpoint, §9 API). */
async function asksForNonce(response: Response): Promise<boolean> {
  if (!response.headers.has('dpop-nonce')) return false;
  if (response.status === 401) return /\berror="use_dpop_nonce"/.test(response.headers.get('www-authenticate') ?? '');
  if (response.status !== 400) return false;
  try {
    const body = (await response.clone().json()) as { error?: unknown };
    return body.error === 'use_dpop_nonce';
  } catch {
    return false;
  }
}

/**
 * A fetch that adds a DPoP proof to every request: with `ath` when the request carries
 * `Authorization: DPoP <token>` (§7.1). It keeps every `DPoP-Nonce` a server sends and, when a
 * server refuses a proof for want of a fresh nonce, sends the request once more with it (§8, §9).
 * Request bodies must be strings (they are sent twice at most).
 */
export function withDPoP(prover: DPoPProver, fetchImpl: FetchLike): FetchLike {
  return async function dpopFetch(input, init = {}) {
    const url = typeof input === 'string' || input instanceof URL ? new URL(input) : new URL(input.url);
    const method = init.method ?? (input instanceof Request ? input.method : 'GET');
    const headers = new Headers(init.headers);
    const authorization = /^DPoP (.+)$/i.exec(headers.get('authorization') ?? '');
    const send = async (): Promise<Response> => {
      headers.set(
        'dpop',
        await prover.proof({ method, url, ...(authorization?.[1] ? { accessToken: authorization[1] } : {}) }),
      );
      const response = await fetchImpl(input, { ...init, headers });
      const nonce = response.headers.get('dpop-nonce');
      if (nonce !== null) prover.rememberNonce(url, nonce);
      return response;
    };
    const first = await send();
    if (!(await asksForNonce(first))) return first;
    return send();
  };
}
