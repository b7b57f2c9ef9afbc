/**
 * Node-only: JWS signature checks through node:crypto instead of Web Crypto. Node runs a Web
 * Crypto verification as an asynchronous job on its thread pool, which costs about three times
 * the signature check itself; node:crypto checks synchronously. Keys are converted once per key
 * and kept with it. Everything else — the choice of key by `kid`, the algorithm taken from the
 * key, the claim checks — stays exactly as without it.
 */
import { KeyObject, verify as nodeVerify, constants } from 'node:crypto';
import type { KeySet, VerificationAlgorithm, VerificationKey } from './key-set.js';

/** RFC 7518 §3.1 and RFC 8037 §3.1: the digest and padding each algorithm uses. */
export function nodeSignatureChecker(
  alg: VerificationAlgorithm,
  key: KeyObject,
): (data: Uint8Array, signature: Uint8Array) => boolean {
  switch (alg) {
    case 'ES256':
    case 'ES384':
    case 'ES512': {
      // JWS carries R‖S, not DER (RFC 7518 §3.4).
      const digest = `sha${alg.slice(2)}`;
      return (data, signature) => nodeVerify(digest, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    case 'EdDSA':
    case 'Ed25519':
      return (data, signature) => nodeVerify(null, data, key, signature);
    case 'RS256':
    case 'RS384':
    case 'RS512': {
      const digest = `sha${alg.slice(2)}`;
      return (data, signature) => nodeVerify(digest, data, key, signature);
    }
    case 'PS256':
    case 'PS384':
    case 'PS512': {
      const digest = `sha${alg.slice(2)}`;
      // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the digest.
      const saltLength = Number(alg.slice(2)) / 8;
      return (data, signature) =>
        nodeVerify(digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, signature);
    }
  }
}

/**
 * Wraps a key set so its keys check signatures with node:crypto. Use it for server-side
 * verifiers on Node; browsers keep the plain key set.
 *
 * @example
 * ```ts
 * import { createRemoteKeySet, verifyAccessToken } from '@tessera/shared';
 * import { withNodeSignatures } from '@tessera/shared/node';
 * const keySet = withNodeSignatures(createRemoteKeySet('https://idp.example/jwks'));
 * await verifyAccessToken(token, { issuer, audience, keySet });
 * ```
 */
export function withNodeSignatures<T extends KeySet>(keySet: T): T {
  const converted = new WeakMap<VerificationKey, VerificationKey>();
  const withChecker = (key: VerificationKey): VerificationKey => {
    let fast = converted.get(key);
    if (!fast) {
      fast = { ...key, verifySignature: nodeSignatureChecker(key.alg, KeyObject.from(key.key)) };
      converted.set(key, fast);
    }
    return fast;
  };
  const getKey = async (kid: string): Promise<VerificationKey> => withChecker(await keySet.getKey(kid));
  const keyInHand = (kid: string): VerificationKey | undefined => {
    const key = keySet.keyInHand?.(kid);
    return key === undefined ? undefined : withChecker(key);
  };
  return new Proxy(keySet, {
    get(target, prop, receiver) {
      if (prop === 'getKey') return getKey;
      if (prop === 'keyInHand') return keyInHand;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
