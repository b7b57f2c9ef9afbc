/**
 * Pushed authorization requests (RFC 9126), found by the digest of their request_uri's reference.
 * A request is used by deleting it (`DELETE … WHERE digest = ? AND client_id = ? AND expires_at > ?
 * RETURNING`): of any number of concurrent uses exactly one gets it, and a use by another client or
 * after expiry deletes nothing.
 */
import { and, eq, gt, sql } from 'drizzle-orm';
import { deleteExpiredBatch, insertInto, lookupBy, type Db } from './database.js';
import { pushedAuthorizationRequests } from './schema.js';

export interface PushedAuthorizationRequest {
  /** SHA-256 of the request_uri's reference. */
  digest: string;
  clientId: string;
  /** The authorization request's parameters, each name once. */
  params: Record<string, string>;
  createdAt: number;
  expiresAt: number;
}

export interface PushedAuthorizationRequestRepository {
  create(request: PushedAuthorizationRequest): Promise<void>;
  /** The request, used or not yet, expired or not (to tell a refused use why). */
  find(digest: string): Promise<PushedAuthorizationRequest | undefined>;
  /** Deletes and returns it if `clientId` pushed it and it is unexpired at `now`: once, for one caller. */
  consume(digest: string, clientId: string, now: number): Promise<PushedAuthorizationRequest | undefined>;
  /** Deletes up to `limit` requests that expired before `before`; returns how many. */
  deleteExpired(before: number, limit: number): Promise<number>;
}

export function pushedAuthorizationRequestRepository(db: Db): PushedAuthorizationRequestRepository {
  const t = pushedAuthorizationRequests;
  const insert = insertInto(db, t);
  const byDigest = lookupBy(db, t, t.digest);
  const p = sql.placeholder;
  const consume = db
    .delete(t)
    .where(and(eq(t.digest, p('digest')), eq(t.clientId, p('clientId')), gt(t.expiresAt, p('now'))))
    .returning()
    .prepare();
  const removeExpired = deleteExpiredBatch(db, t, t.digest, t.expiresAt);
  return {
    async create(request) {
      insert(request);
    },
    async find(digest) {
      return byDigest(digest);
    },
    async consume(digest, clientId, now) {
      return consume.get({ digest, clientId, now });
    },
    async deleteExpired(before, limit) {
      return removeExpired(before, limit);
    },
  };
}
