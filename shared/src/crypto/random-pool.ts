/**
 * Random bytes for secrets, identifiers and CSP nonces, base64url-encoded, from a pool that
 * node:crypto's CSPRNG fills 4 KiB at a time, as Node's own randomUUID() does. A request takes
 * several such values (a page its nonce; a grant a code, a refresh token, a grant id, a jti), and a
 * call into the CSPRNG for each costs about as much as encoding one. Each byte is handed out once,
 * and the pool is refilled before any is used again. (Cluster workers are new processes, not
 * copies of this one's memory, so no two processes share a pool.) Node-only: exported from
 * `@tessera/shared/node`.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let used = POOL_SIZE;

/** `bytes` fresh random bytes, base64url-encoded. */
export function randomBase64url(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes <= 0) throw new RangeError(`cannot take ${bytes} random bytes`);
  if (bytes > POOL_SIZE) return randomFillSync(Buffer.alloc(bytes)).toString('base64url');
  if (used + bytes > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const value = pool.toString('base64url', used, used + bytes);
  used += bytes;
  return value;
}
