/** Randomness for secrets and identifiers: the one place these are made. */
import { randomBytes } from 'node:crypto';

/** A random secret of `bytes` bytes, base64url-encoded (32 bytes = 256 bits by default). */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** A random public identifier (128 bits): user `sub`, session `sid`, grant and token ids. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}
