import type { JSONWebKeySet } from 'jose';
import { TokenVerificationError } from '../verify/errors.js';
import { importKeySet, type KeySet, type VerificationKey } from './key-set.js';

/**
 * A fixed key set from a JWKS already in hand (configuration, the issuer's own key ring, tests).
 * Keys are imported once, here.
 *
 * @example
 * ```ts
 * const keySet = await createLocalKeySet({ keys: [publicJwk] });
 * await verifyAccessToken(token, { issuer, audience, keySet });
 * ```
 */
export async function createLocalKeySet(jwks: JSONWebKeySet): Promise<KeySet> {
  const keys = await importKeySet(jwks);
  return {
    async getKey(kid: string): Promise<VerificationKey> {
      const key = keys.get(kid);
      if (key === undefined)
        throw new TokenVerificationError('ERR_TOKEN_KID_UNKNOWN', 'no key with this kid', { claim: 'kid' });
      return key;
    },
    keyInHand: (kid) => keys.get(kid),
  };
}
