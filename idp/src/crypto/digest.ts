/**
 * Digests of bearer secrets, and comparing secrets without a timing side channel: the shared kit's
 * (@tessera/shared/node), under the names the issuer uses, and the FedCM cookie's derivation.
 */
import { createHash } from 'node:crypto';

// `digest(secret)`: SHA-256, base64url, what the store keeps instead of the secret; `safeEqual`:
// constant-time equality. One implementation with the kit's stores and the apps.
export { secretDigest as digest, safeEqual } from '@tessera/shared/node';

/**
 * The FedCM cookie's value, derived from the session secret (docs/architecture.md, "FedCM"): one
 * secret sets both cookies, and a stolen FedCM cookie cannot be turned back into the session
 * secret (SHA-256 is one-way), so it opens only the FedCM endpoints. The label keeps it apart
 * from `digest(secret)`, which the store keeps for the session cookie.
 */
export function fedcmSecret(sessionSecret: string): string {
  return createHash('sha256').update(`tessera fedcm cookie\0${sessionSecret}`).digest('base64url');
}
