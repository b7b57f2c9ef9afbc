/**
 * Pushed authorization requests on PostgreSQL: the contract of ../pushed-authorization-requests.ts.
 * A use is `DELETE … RETURNING`: under READ COMMITTED a concurrent use on any node waits for the
 * row lock, then finds the row gone and deletes nothing, so exactly one use gets the request.
 */
import { and, eq, gt } from 'drizzle-orm';
import type {
  PushedAuthorizationRequest,
  PushedAuthorizationRequestRepository,
} from '../pushed-authorization-requests.js';
import type { PgDb } from './db.js';
import { deleteExpiredBatch, lookupBy } from './queries.js';
import { pushedAuthorizationRequests } from './schema.js';

export function pushedAuthorizationRequestRepository(db: PgDb): PushedAuthorizationRequestRepository {
  const t = pushedAuthorizationRequests;
  const byDigest = lookupBy(db, 'tessera_pushed_authorization_requests_by_digest', t, t.digest);
  const removeExpired = deleteExpiredBatch(db, t, t.digest, t.expiresAt);
  return {
    async create(request) {
      await db.insert(t).values(request);
    },
    async find(digest) {
      return byDigest(digest);
    },
    async consume(digest, clientId, now) {
      const [row] = await db
        .delete(t)
        .where(and(eq(t.digest, digest), eq(t.clientId, clientId), gt(t.expiresAt, now)))
        .returning();
      return row as PushedAuthorizationRequest | undefined;
    },
    async deleteExpired(before, limit) {
      return removeExpired(before, limit);
    },
  };
}
