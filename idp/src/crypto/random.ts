/**
 * Randomness for secrets and identifiers: the one place the issuer makes these. The bytes come from
 * the shared kit's pool (@tessera/shared/node), filled by node:crypto's CSPRNG.
 */
import { randomBase64url } from '@tessera/shared/node';

// `randomSecret(bytes = 32)`: a random secret, base64url (256 bits by default).
export { randomSecret } from '@tessera/shared/node';

/** A random public identifier (128 bits): user `sub`, session `sid`, grant and token ids. */
export function randomId(): string {
  return randomBase64url(16);
}
