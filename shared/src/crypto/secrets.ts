/**
 * Bearer secrets (session ids, login-transaction keys, CSRF tokens, logout states): made from the
 * CSPRNG pool, kept as their SHA-256 so a dump of a store holds no usable value, and compared in
 * constant time. The one implementation the issuer, the kit's stores and the apps share.
 * Node-only: exported from `@tessera/shared/node`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBase64url } from './random-pool.js';

/** A random secret of `bytes` bytes, base64url (32 bytes = 256 bits, OWASP ASVS V3.2.2). */
export function randomSecret(bytes = 32): string {
  return randomBase64url(bytes);
}

/** SHA-256 of a secret, base64url: what a store keeps, and keys rows on, instead of the secret. */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** Constant-time equality of two strings (their length is no secret). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
