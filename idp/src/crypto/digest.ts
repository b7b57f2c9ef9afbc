/** Digests of bearer secrets, and comparing secrets without a timing side channel. */
import { createHash, timingSafeEqual } from 'node:crypto';

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
