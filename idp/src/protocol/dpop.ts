/**
 * DPoP at the issuer (RFC 9449): the token endpoint checks a token request's proof, binds what it
 * issues to the proof's key, and hands out nonces (§8) so that a proof cannot be made in advance.
 *
 * Nonces are a time slot and its HMAC under a key derived from the key-encryption key: every node
 * makes and checks the same ones with nothing stored. A nonce is taken in its slot and the next,
 * so it lives one to two minutes. Used proofs are remembered in the store (an insert is the
 * arbiter on every node) until they are too old to be taken anyway (§11.1).
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import {
  DPOP_ALGORITHMS,
  DPoPProofError,
  ISSUER_PATHS,
  OAuthError,
  verifyDPoPProof,
  DEFAULT_CLOCK_TOLERANCE_SEC,
  type JtiStore,
} from '@tessera/shared';
import { nodeDPoPCrypto } from '@tessera/shared/node';
import type { Config } from '../config/config.js';
import type { IssuerContext } from '../context.js';
import type { Client } from '../store/index.js';

/**
 * How far a proof's `iat` may stray from this server's clock: the client's device sets it, and
 * phones and laptops drift by tens of seconds. The same leeway as for what the issuer signs (and
 * for client assertions); the window stays bounded, the jti store covers all of it, and at the
 * token endpoint the server's nonce proves freshness on its own clock (RFC 9449 §11.1).
 */
const PROOF_CLOCK_SKEW_SEC = DEFAULT_CLOCK_TOLERANCE_SEC;

/** The algorithms proofs may use, as discovery lists them (`dpop_signing_alg_values_supported`). */
export const DPOP_SIGNING_ALGORITHMS: string[] = [...DPOP_ALGORITHMS];

const NONCE_SLOT_MS = 60_000;
const nonceKeys = new WeakMap<Config, Buffer>();

function nonceKey(config: Config): Buffer {
  let key = nonceKeys.get(config);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', config.keyEncryptionKey, new Uint8Array(0), 'tessera dpop nonce key', 32));
    nonceKeys.set(config, key);
  }
  return key;
}

const nonceFor = (config: Config, slot: number): string => {
  const mac = createHmac('sha256', nonceKey(config)).update(String(slot)).digest().subarray(0, 16);
  return `${slot.toString(36)}.${mac.toString('base64url')}`;
};

/** A fresh server nonce (§8.1): what the client must put in its next proof's `nonce`. */
export const issueDPoPNonce = (config: Config, now: number): string =>
  nonceFor(config, Math.floor(now / NONCE_SLOT_MS));

/** Whether `nonce` is one of ours from this slot or the one before. */
export function isFreshDPoPNonce(config: Config, nonce: string | undefined, now: number): boolean {
  if (nonce === undefined || nonce.length > 64) return false;
  const slot = Number.parseInt(nonce.split('.')[0] ?? '', 36);
  const current = Math.floor(now / NONCE_SLOT_MS);
  if (!Number.isSafeInteger(slot) || (slot !== current && slot !== current - 1)) return false;
  const expected = Buffer.from(nonceFor(config, slot));
  const given = Buffer.from(nonce);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** §8: the proof lacks a fresh nonce; the answer carries one in its `DPoP-Nonce` header. */
export class DPoPNonceRequired extends OAuthError {
  constructor(readonly nonce: string) {
    super('use_dpop_nonce', 'the DPoP proof must carry the nonce this response gives');
  }
}

/** The store's record of used proofs, as the shared kit's verifier takes it. */
const usedProofs = (ctx: IssuerContext): JtiStore => ({
  consume: (key, expiresAtSec) => ctx.store.dpopProofs.use(key, expiresAtSec * 1000),
});

/**
 * The key (its RFC 7638 thumbprint) a token request's DPoP proof was made with, or undefined when
 * it sent none and may send none. Throws invalid_dpop_proof (§5) or use_dpop_nonce (§8).
 */
export async function tokenRequestKey(
  ctx: IssuerContext,
  proof: string | undefined,
  client: Client,
): Promise<string | undefined> {
  if (proof === undefined) {
    // §5.2: a client registered with dpop_bound_access_tokens always sends a proof.
    if (client.dpopBound) throw new OAuthError('invalid_dpop_proof', 'this client must send a DPoP proof');
    return undefined;
  }
  const now = () => ctx.clock.now();
  try {
    const verified = await verifyDPoPProof(proof, {
      method: 'POST',
      url: ctx.config.issuer + ISSUER_PATHS.token,
      algorithms: DPOP_SIGNING_ALGORITHMS,
      now,
      clockToleranceSec: PROOF_CLOCK_SKEW_SEC,
      crypto: nodeDPoPCrypto,
      jtiStore: usedProofs(ctx),
      checkNonce: (nonce) => isFreshDPoPNonce(ctx.config, nonce, now()),
    });
    return verified.jkt;
  } catch (e) {
    if (!(e instanceof DPoPProofError)) throw e;
    if (e.code === 'ERR_DPOP_NONCE') throw new DPoPNonceRequired(issueDPoPNonce(ctx.config, now()));
    throw new OAuthError('invalid_dpop_proof', `the DPoP proof is not valid: ${e.message}`);
  }
}

/**
 * A refusal at a resource of ours (the UserInfo endpoint) that concerns DPoP: answered 401 with a
 * DPoP challenge naming the algorithms taken (RFC 9449 §7.1).
 */
export class DPoPResourceError extends OAuthError {
  constructor(error: 'invalid_token' | 'invalid_dpop_proof', description: string) {
    super(error, description, { status: 401 });
  }
}

/** How an access token came to a resource of ours: its scheme, and the DPoP proof sent with it. */
export interface PresentedToken {
  scheme: 'Bearer' | 'DPoP';
  proof: string | undefined;
  method: string;
}

/**
 * Checks that a token bound to a key (`cnf.jkt`) came with the DPoP scheme and a proof for this
 * very request, token and key (RFC 9449 §7.1), and that an unbound token did not claim the DPoP
 * scheme. A bound token sent as a Bearer token is refused: copied, it must be worth nothing.
 */
export async function checkPossession(
  ctx: IssuerContext,
  claims: Record<string, unknown>,
  accessToken: string,
  presented: PresentedToken,
  url: string,
): Promise<void> {
  const cnf = claims.cnf as { jkt?: unknown } | undefined;
  const jkt = cnf && typeof cnf === 'object' && typeof cnf.jkt === 'string' ? cnf.jkt : undefined;
  if (jkt === undefined) {
    if (presented.scheme === 'DPoP') throw new DPoPResourceError('invalid_token', 'the access token is not DPoP-bound');
    return;
  }
  if (presented.scheme !== 'DPoP')
    throw new DPoPResourceError('invalid_token', 'the access token is DPoP-bound: send it with the DPoP scheme');
  try {
    await verifyDPoPProof(presented.proof, {
      method: presented.method,
      url,
      accessToken,
      boundJkt: jkt,
      algorithms: DPOP_SIGNING_ALGORITHMS,
      now: () => ctx.clock.now(),
      clockToleranceSec: PROOF_CLOCK_SKEW_SEC,
      crypto: nodeDPoPCrypto,
      jtiStore: usedProofs(ctx),
    });
  } catch (e) {
    if (!(e instanceof DPoPProofError)) throw e;
    throw new DPoPResourceError('invalid_dpop_proof', `the DPoP proof is not valid: ${e.message}`);
  }
}
