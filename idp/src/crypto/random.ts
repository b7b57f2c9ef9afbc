/**
 * Randomness for secrets and identifiers: the one place these are made.
 *
 * Every grant takes three or four values (a code, a refresh token, a grant id, a jti); a call to
 * the CSPRNG for each cost about as much as one of them takes to encode. So the bytes come from a
 * pool filled by node:crypto's CSPRNG 4 KiB at a time, as Node's own randomUUID() does: each byte
 * is handed out once, and the pool is refilled before any is used again. (Cluster workers are new
 * processes, not copies of this one's memory, so no two processes share a pool.)
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let used = POOL_SIZE;

/** `bytes` fresh random bytes, base64url-encoded. */
function take(bytes: number): string {
  if (bytes > POOL_SIZE) return randomFillSync(Buffer.alloc(bytes)).toString('base64url');
  if (used + bytes > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const value = pool.toString('base64url', used, used + bytes);
  used += bytes;
  return value;
}

/** A random secret of `bytes` bytes, base64url-encoded (32 bytes = 256 bits by default). */
export function randomSecret(bytes = 32): string {
  return take(bytes);
}

/** A random public identifier (128 bits): user `sub`, session `sid`, grant and token ids. */
export function randomId(): string {
  return take(16);
}
