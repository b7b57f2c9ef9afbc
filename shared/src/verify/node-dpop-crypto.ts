/**
 * Node-only: the DPoP proof checks' cryptography through node:crypto, synchronously (see
 * {@link DPoPCrypto}). Each proof brings its own key, so each is imported here per proof; that is
 * still several times cheaper than Web Crypto's asynchronous import, check and digests.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { VerificationAlgorithm } from '../jwks/key-set.js';
import { nodeSignatureChecker } from '../jwks/node-signatures.js';
import type { DPoPCrypto } from './verify-dpop-proof.js';

/** The key each proof algorithm needs (RFC 7518 §3.1, RFC 8037 §3.1), as jose's importJWK asks it. */
function fitsAlgorithm(alg: string, key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails;
  switch (alg) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1';
    case 'ES384':
      return key.asymmetricKeyType === 'ec' && details?.namedCurve === 'secp384r1';
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519';
    case 'RS256':
    case 'PS256':
      // RFC 7518 §3.3, §3.5: 2048 bits at least.
      return key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) >= 2048;
    default:
      return false;
  }
}

/** DPoP proof cryptography for servers on Node: give it as `crypto` to verifyDPoPProof or requireBearer's `dpop`. */
export const nodeDPoPCrypto: DPoPCrypto = {
  verify(alg, jwk, data, signature) {
    const key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
    if (key.type !== 'public' || !fitsAlgorithm(alg, key)) throw new TypeError(`the jwk is not a key for ${alg}`);
    return nodeSignatureChecker(alg as VerificationAlgorithm, key)(data, signature);
  },
  sha256Base64url: (text) => createHash('sha256').update(text).digest('base64url'),
};
