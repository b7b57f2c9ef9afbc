/** DPoP proofs already used (RFC 9449 §11.1), kept until they are too old to be taken anyway. */
import { sql } from 'drizzle-orm';
import { deleteExpiredBatch, type Db } from './database.js';
import { dpopProofs } from './schema.js';

export interface DPoPProofRepository {
  /**
   * Records the proof `key` (its key's thumbprint and its `jti`) as used until `expiresAt`. True for
   * exactly one caller on every node: the insert is the arbiter, a primary-key conflict the replay.
   */
  use(key: string, expiresAt: number): Promise<boolean>;
  /** Deletes up to `limit` records that expired before `now`; returns how many. */
  deleteExpired(now: number, limit: number): Promise<number>;
}

export function dpopProofRepository(db: Db): DPoPProofRepository {
  const insert = db
    .insert(dpopProofs)
    .values({ key: sql.placeholder('key'), expiresAt: sql.placeholder('expiresAt') })
    .onConflictDoNothing()
    .prepare();
  const removeExpired = deleteExpiredBatch(db, dpopProofs, dpopProofs.key, dpopProofs.expiresAt);
  return {
    async use(key, expiresAt) {
      return insert.run({ key, expiresAt }).changes === 1;
    },
    async deleteExpired(now, limit) {
      return removeExpired(now, limit);
    },
  };
}
