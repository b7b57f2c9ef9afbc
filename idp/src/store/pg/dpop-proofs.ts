/** Used DPoP proofs on PostgreSQL: the contract of ../dpop-proofs.ts. */
import type { DPoPProofRepository } from '../dpop-proofs.js';
import type { PgDb } from './db.js';
import { deleteExpiredBatch } from './queries.js';
import { dpopProofs } from './schema.js';

export function dpopProofRepository(db: PgDb): DPoPProofRepository {
  const removeExpired = deleteExpiredBatch(db, dpopProofs, dpopProofs.key, dpopProofs.expiresAt);
  return {
    async use(key, expiresAt) {
      // ON CONFLICT DO NOTHING: a concurrent insert of the same key on another node waits for the
      // first to commit, then inserts nothing.
      const r = await db.insert(dpopProofs).values({ key, expiresAt }).onConflictDoNothing();
      return r.rowCount === 1;
    },
    async deleteExpired(now, limit) {
      return removeExpired(now, limit);
    },
  };
}
