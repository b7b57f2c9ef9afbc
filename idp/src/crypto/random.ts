/** Randomness and digests of bearer secrets: the one place these are made. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random secret of `bytes` bytes, base64url-encoded (32 bytes = 256 bits by default). */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** A random public identifier (128 bits): user `sub`, session `sid`, grant and token ids. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/** SHA-256 of a secret, base64url: what the store keeps instead of the secret. */
export function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** Constant-time equality of two strings (length is not secret). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
