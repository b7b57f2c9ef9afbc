/**
 * The inserts of refresh and access tokens on PostgreSQL (the twin of ../token-writes.ts), written
 * by the code redemption (grants.ts) and the refresh rotation (refresh-tokens.ts) inside their own
 * transaction, so each grant costs one commit; and the status-list version bump a revocation inside
 * such a transaction makes.
 */
import { inArray, sql } from 'drizzle-orm';
import { accessTokenRow, type IssuedAccessTokenRow, type RefreshToken } from '../token-writes.js';
import type { PgDb } from './db.js';
import type { PgTx } from './queries.js';
import { accessTokens, refreshTokens, statusLists } from './schema.js';

export async function insertRefreshToken(tx: PgDb | PgTx, token: RefreshToken): Promise<void> {
  await tx.insert(refreshTokens).values(token);
}

export async function insertAccessToken(
  tx: PgDb | PgTx,
  owner: { grantId: string | null; clientId: string | null },
  t: IssuedAccessTokenRow,
): Promise<void> {
  await tx.insert(accessTokens).values(accessTokenRow(t, owner));
}

/** A list's next version: strictly forward, so two changes within one millisecond are still two versions. */
export const nextStatusListVersion = (now: number) => sql`greatest(${statusLists.updatedAt} + 1, ${now}::bigint)`;

/**
 * Moves the version of lists whose tokens were revoked inside a caller's transaction (the twin of
 * touchStatusLists in ../status-lists.ts). The lists are locked in id order first: two revocations
 * touching the same lists take their locks in one order, so they never deadlock.
 */
export async function touchStatusLists(tx: PgDb | PgTx, ids: Iterable<number | null>, now: number): Promise<void> {
  const distinct = [...new Set([...ids].filter((id): id is number => id !== null))].sort((a, b) => a - b);
  if (distinct.length === 0) return;
  await tx
    .select({ id: statusLists.id })
    .from(statusLists)
    .where(inArray(statusLists.id, distinct))
    .orderBy(statusLists.id)
    .for('update');
  await tx
    .update(statusLists)
    .set({ updatedAt: nextStatusListVersion(now) })
    .where(inArray(statusLists.id, distinct));
}
