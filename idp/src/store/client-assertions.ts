/** The `jti`s of client assertions already used (RFC 7523 §3 item 7), until each assertion expires. */
import { sql } from 'drizzle-orm';
import { deleteExpiredBatch, type Db } from './database.js';
import { clientAssertions } from './schema.js';

export interface ClientAssertionRepository {
  /**
   * Records that `clientId` used the assertion `jti`, kept until `expiresAt`. True for exactly one
   * caller on every node: the insert is the arbiter, a primary-key conflict the replay.
   */
  use(clientId: string, jti: string, expiresAt: number): Promise<boolean>;
  /** Deletes up to `limit` records that expired before `now`; returns how many. */
  deleteExpired(now: number, limit: number): Promise<number>;
}

/** The row key: client ids have no space (protocol/registration.ts), so the pair cannot be confused. */
export const assertionKey = (clientId: string, jti: string) => `${clientId} ${jti}`;

export function clientAssertionRepository(db: Db): ClientAssertionRepository {
  const insert = db
    .insert(clientAssertions)
    .values({ key: sql.placeholder('key'), expiresAt: sql.placeholder('expiresAt') })
    .onConflictDoNothing()
    .prepare();
  const removeExpired = deleteExpiredBatch(db, clientAssertions, clientAssertions.key, clientAssertions.expiresAt);
  return {
    async use(clientId, jti, expiresAt) {
      return insert.run({ key: assertionKey(clientId, jti), expiresAt }).changes === 1;
    },
    async deleteExpired(now, limit) {
      return removeExpired(now, limit);
    },
  };
}
