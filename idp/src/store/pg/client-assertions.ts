/** Used client assertion `jti`s on PostgreSQL: the contract of ../client-assertions.ts. */
import { assertionKey, type ClientAssertionRepository } from '../client-assertions.js';
import type { PgDb } from './db.js';
import { deleteExpiredBatch } from './queries.js';
import { clientAssertions } from './schema.js';

export function clientAssertionRepository(db: PgDb): ClientAssertionRepository {
  const removeExpired = deleteExpiredBatch(db, clientAssertions, clientAssertions.key, clientAssertions.expiresAt);
  return {
    async use(clientId, jti, expiresAt) {
      // A concurrent insert of the same key waits for the first to commit, then inserts nothing.
      const r = await db
        .insert(clientAssertions)
        .values({ key: assertionKey(clientId, jti), expiresAt })
        .onConflictDoNothing();
      return r.rowCount === 1;
    },
    async deleteExpired(now, limit) {
      return removeExpired(now, limit);
    },
  };
}
