/** Random secrets, their digests, and comparing them without a timing side channel. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBase64url } from '@tessera/shared/node';

/** 32 bytes from the CSPRNG (the shared kit's pool), base64url: 256 bits (OWASP ASVS V3.2.2). */
export const randomSecret = (): string => randomBase64url(32);

/** SHA-256, base64url: stores key on it, so a dump of the store holds no usable cookie value. */
export const digest = (secret: string): string => createHash('sha256').update(secret).digest('base64url');

/** Constant-time comparison of two secrets (their length is no secret). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
